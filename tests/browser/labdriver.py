"""Driving JupyterLab in headless Chromium: the Lab server, a notebook page, pixel checks.

Used by conftest.py (fixtures) and test_e2e.py. The tests need Debian's Chromium
(``apt-get install chromium``: /usr/bin/chromium) and the Python ``playwright`` package (the
``test`` extra); Playwright's own browser downloads are never used. Without either, the tests are
skipped with a message, unless ``REACHKIT_REQUIRE_BROWSER=1`` (set by ``.ci/run``): then they fail.

JupyterLab runs on a temporary copy of ``notebooks/`` (autosave off: a test's cells stay out of the files) and of
``tests/browser/synthetic/`` (served as ``synthetic/``), with temporary workspaces, settings and
runtime folders, on a free loopback port with a random token.

``LabNotebook(browser, lab, name, folder="notebooks", viewport=None)`` opens, runs and inspects one
notebook (and records the kernel's traffic: ``kernel_messages(since, until)``; ``append_and_run(code)``
adds and runs a cell). ``ViewDriver(nb, output)`` drives one explorer view (reachkit/view.py) like a user:
buttons by accessible name, ``type_step``, ``type_setting``, ``settle``, and the measurements
``measure_play``, ``measure_sweep``, ``measure_drag``, ``measure_step_latency``;
``record_measurement`` writes them to results/browser/<kind>.json.

Environment:
    REACHKIT_REQUIRE_BROWSER=1      fail instead of skip when Chromium or playwright is missing
    REACHKIT_CHROMIUM=/path         the Chromium binary (default: ``chromium`` on PATH, /usr/bin/chromium)
    REACHKIT_BROWSER_TIMEOUT=300    seconds a notebook may take to run all its cells
    REACHKIT_BROWSER_NOTEBOOKS=dir  run the suite over another folder (used to check the checks)
"""

from __future__ import annotations

import asyncio
import contextlib
import io
import json
import os
import re
import secrets
import shutil
import socket
import subprocess
import sys
import tempfile
import time
import urllib.error
import urllib.request
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
NOTEBOOK_DIR = Path(os.environ.get("REACHKIT_BROWSER_NOTEBOOKS", ROOT / "notebooks")).resolve()
SYNTHETIC_DIR = Path(__file__).resolve().parent / "synthetic"  # served as synthetic/ (the view alone)
RESULTS = ROOT / "results" / "browser"
RUN_TIMEOUT = float(os.environ.get("REACHKIT_BROWSER_TIMEOUT", "300"))
RENDER_TIMEOUT = 60.0
CHROMIUM_ARGS = ["--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage", "--disable-background-networking",
                 "--disable-component-update", "--disable-sync", "--no-first-run"]
VIEWPORT = {"width": 1500, "height": 1000}
HOW_TO = ("install Debian's Chromium (`apt-get update && apt-get install -y chromium`, gives /usr/bin/chromium) "
          "and the test extra (`pip install -e '.[test]'`, provides playwright; no `playwright install` needed)")


def notebooks() -> list[Path]:
    """The teaching notebooks the suite runs (those that exist now)."""
    return sorted(NOTEBOOK_DIR.glob("[0-9][0-9]_*.ipynb"))


def chromium_path() -> str | None:
    explicit = os.environ.get("REACHKIT_CHROMIUM")
    if explicit:
        return explicit if os.access(explicit, os.X_OK) else None
    for name in ("chromium", "chromium-browser"):
        found = shutil.which(name)
        if found:
            return found
    return "/usr/bin/chromium" if os.access("/usr/bin/chromium", os.X_OK) else None


@contextlib.contextmanager
def launched_chromium():
    """Headless system Chromium through Playwright (never Playwright's own download); on exit the
    browser closes and Playwright's asyncio loop is taken down with it, so it does not leak into
    later tests."""
    from playwright.sync_api import sync_playwright

    pw = sync_playwright().start()
    try:
        b = pw.chromium.launch(executable_path=chromium_path(), headless=True, args=CHROMIUM_ARGS)
    except Exception:
        pw.stop()
        raise
    try:
        yield b
    finally:
        try:
            b.close()
        finally:
            pw.stop()
            if asyncio._get_running_loop() is not None:  # Playwright's loop must not outlive it
                asyncio._set_running_loop(None)


def browser_unavailable() -> str | None:
    """Why the browser tests cannot run here, or None."""
    missing = []
    if chromium_path() is None:
        missing.append("no Chromium (looked for `chromium` on PATH and /usr/bin/chromium)")
    try:
        import playwright.sync_api  # noqa: F401
    except ImportError:
        missing.append("no `playwright` Python package")
    if not missing:
        return None
    return "browser tests need a real browser: " + "; ".join(missing) + ". To run them, " + HOW_TO + "."


def require_browser() -> bool:
    return os.environ.get("REACHKIT_REQUIRE_BROWSER", "").strip().lower() not in ("", "0", "false", "no")


# -- JupyterLab server ----------------------------------------------------------------------------

def _free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class LabServer:
    """A `jupyter lab` process on a temporary copy of the notebooks."""

    def __init__(self, base: Path):
        self.base = base
        self.root = base / "root"
        self.token = secrets.token_hex(16)
        self.port = _free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        self.log_path = base / "lab.log"
        self.proc: subprocess.Popen | None = None
        self._log = None

    def start(self, timeout: float = 90.0):
        if NOTEBOOK_DIR.is_dir():
            shutil.copytree(NOTEBOOK_DIR, self.root / "notebooks",
                            ignore=shutil.ignore_patterns(".ipynb_checkpoints", "__pycache__"))
        else:
            (self.root / "notebooks").mkdir(parents=True)
        shutil.copytree(SYNTHETIC_DIR, self.root / "synthetic", ignore=shutil.ignore_patterns(".ipynb_checkpoints"))
        dirs = {k: self.base / k for k in ("workspaces", "settings", "config", "data", "runtime", "ipython")}
        for d in dirs.values():
            d.mkdir(parents=True, exist_ok=True)
        # No "Jupyter news" toast over the figures, no update checks.
        notif = dirs["settings"] / "@jupyterlab" / "apputils-extension" / "notification.jupyterlab-settings"
        notif.parent.mkdir(parents=True)
        notif.write_text(json.dumps({"fetchNews": "false", "checkForUpdates": False}))
        # No autosave: a test's appended cells would reach the file, and the next page opening it (a
        # module's explorer may still be open beside it) would run them again.
        docs = dirs["settings"] / "@jupyterlab" / "docmanager-extension" / "plugin.jupyterlab-settings"
        docs.parent.mkdir(parents=True)
        docs.write_text(json.dumps({"autosave": False}))
        env = dict(os.environ,
                   JUPYTER_CONFIG_DIR=str(dirs["config"]), JUPYTERLAB_SETTINGS_DIR=str(dirs["settings"]),
                   JUPYTERLAB_WORKSPACES_DIR=str(dirs["workspaces"]), JUPYTER_RUNTIME_DIR=str(dirs["runtime"]),
                   JUPYTER_DATA_DIR=str(dirs["data"]),
                   IPYTHONDIR=str(dirs["ipython"]), JUPYTER_PLATFORM_DIRS="1", PYTHONUNBUFFERED="1")
        env.pop("MPLBACKEND", None)
        cmd = [sys.executable, "-m", "jupyter", "lab", "--no-browser", "--ip=127.0.0.1", f"--port={self.port}",
               "--port-retries=0", f"--IdentityProvider.token={self.token}", f"--ServerApp.root_dir={self.root}",
               "--LabApp.expose_app_in_browser=True", "--ServerApp.allow_root=True",
               f"--LabApp.workspaces_dir={dirs['workspaces']}", "--LabApp.news_url=None",
               "--LabApp.check_for_updates_class=jupyterlab.NeverCheckForUpdate"]
        self._log = open(self.log_path, "w")
        self.proc = subprocess.Popen(cmd, stdout=self._log, stderr=subprocess.STDOUT, env=env, cwd=self.root)
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                raise RuntimeError(f"jupyter lab exited with {self.proc.returncode}:\n{self.log_tail()}")
            try:
                self.api("GET", "/api/status", timeout=2)
                return
            except (OSError, urllib.error.URLError):
                time.sleep(0.3)
        raise RuntimeError(f"jupyter lab did not answer within {timeout:.0f} s:\n{self.log_tail()}")

    def api(self, method: str, path: str, timeout: float = 10):
        req = urllib.request.Request(self.url + path, method=method,
                                     headers={"Authorization": f"token {self.token}"})
        with urllib.request.urlopen(req, timeout=timeout) as r:
            body = r.read()
        return json.loads(body) if body else None

    def notebook_url(self, name: str, folder: str = "notebooks") -> str:
        return f"{self.url}/lab/tree/{folder}/{name}?reset&token={self.token}"

    def shutdown_kernels(self, name: str | None = None):
        """Stop the kernel of notebook `name` (default: every kernel); the machine is small."""
        try:
            for s in self.api("GET", "/api/sessions"):
                if name is None or s.get("path", "").endswith("/" + name):
                    self.api("DELETE", f"/api/sessions/{s['id']}")
        except (OSError, urllib.error.URLError):
            pass

    def log_size(self) -> int:
        self._log.flush()
        return self.log_path.stat().st_size

    def log_since(self, offset: int) -> str:
        self._log.flush()
        with open(self.log_path, errors="replace") as f:
            f.seek(offset)
            return f.read()

    def log_tail(self, n: int = 60) -> str:
        self._log.flush()
        return "\n".join(self.log_path.read_text(errors="replace").splitlines()[-n:])

    def stop(self):
        if self.proc is not None and self.proc.poll() is None:
            self.shutdown_kernels()
            self.proc.terminate()
            try:
                self.proc.wait(15)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait(5)
        if self._log is not None:
            self._log.close()


# -- a notebook open in JupyterLab ------------------------------------------------------------------

# Marks each output of each code cell with data-rk-* attributes and describes the cells.
_JS_CELLS = r"""
() => {
  const nb = window.jupyterapp.shell.currentWidget;
  const out = [];
  nb.content.widgets.forEach((cell, i) => {
    const m = cell.model;
    const src = m.sharedModel.getSource();
    const tags = (m.getMetadata && m.getMetadata('tags')) || [];
    const rec = {index: i, type: m.type, source: src, tags: tags, executionCount: null, outputs: []};
    if (m.type === 'code') {
      rec.executionCount = m.executionCount;
      const views = cell.outputArea ? cell.outputArea.widgets : [];
      for (let j = 0; j < m.outputs.length; j++) {
        const o = m.outputs.get(j).toJSON();
        const data = o.data || {};
        // reachkit's explorers display a widget with a still picture (<figure class='rk-still'>) in the
        // same output or in the next one (reachkit.explorers.view.fallback_bundle / display_view).
        const still = (k) => k < m.outputs.length && String((m.outputs.get(k).toJSON().data || {})['text/html'] || '')
                                                     .includes('rk-still');
        const view = views[j];
        const explorer = ('application/vnd.jupyter.widget-view+json' in data)
                         && (still(j) || still(j + 1) || !!(view && view.node.querySelector('.rk-view')));
        if (view) {
          view.node.setAttribute('data-rk-cell', String(i));
          view.node.setAttribute('data-rk-output', String(j));
          if (explorer) view.node.setAttribute('data-rk-explorer', '1');
        }
        rec.outputs.push({
          output_type: o.output_type, name: o.name || null, ename: o.ename || null, evalue: o.evalue || null,
          traceback: (o.traceback || []).join('\n'), text: Array.isArray(o.text) ? o.text.join('') : (o.text || ''),
          mimetypes: Object.keys(data), widget: 'application/vnd.jupyter.widget-view+json' in data,
          explorer: explorer, rendered: !!view,
        });
      }
    }
    out.push(rec);
  });
  return out;
}
"""

# Every ipympl canvas (and explorer image) inside `root`: its size and whether it has been drawn.
_JS_FIGURES = r"""
(root) => {
  const scope = root || document;
  const drawn = (c) => {
    const w = c.width, h = c.height;
    if (!w || !h) return false;
    let d;
    try { d = c.getContext('2d').getImageData(0, 0, w, h).data; } catch (e) { return false; }
    const r0 = d[0], g0 = d[1], b0 = d[2], a0 = d[3];
    let n = 0, total = 0;
    for (let k = 0; k < d.length; k += 4 * 7) {
      total++;
      if (Math.abs(d[k] - r0) + Math.abs(d[k + 1] - g0) + Math.abs(d[k + 2] - b0) + Math.abs(d[k + 3] - a0) > 30) n++;
    }
    return n > 0.005 * total;
  };
  const figs = [];
  scope.querySelectorAll('.jupyter-matplotlib-canvas-div').forEach((div) => {
    const c = div.querySelector('canvas');
    const r = c ? c.getBoundingClientRect() : {width: 0, height: 0};
    const ok = !!c && r.width > 0 && r.height > 0 && drawn(c);
    figs.push({kind: 'ipympl', width: r.width, height: r.height, drawn: ok});
  });
  scope.querySelectorAll('.rk-figure').forEach((fig) => {
    const img = fig.querySelector('img'), c = fig.querySelector('canvas.rk-paths');
    const sc = fig.querySelector('canvas.rk-scene');   // the landscape drawn from the kernel's scene data
    const r = fig.getBoundingClientRect();
    const painted = (cv) => {   // anything drawn on the transparent overlay (paths, markers)
      if (!cv || !cv.width || !cv.height) return false;
      const d = cv.getContext('2d').getImageData(0, 0, cv.width, cv.height).data;
      for (let k = 3; k < d.length; k += 4 * 3) if (d[k] > 0) return true;
      return false;
    };
    figs.push({kind: 'view', width: r.width, height: r.height,
               drawn: r.width > 0 && r.height > 0 && !!img && img.complete && img.naturalWidth > 0 && painted(c)
                      && (!sc || !sc.dataset.scene || painted(sc))});
  });
  scope.querySelectorAll('.widget-image').forEach((img) => {
    const r = img.getBoundingClientRect();
    figs.push({kind: 'image', width: r.width, height: r.height, drawn: img.complete && img.naturalWidth > 0});
  });
  return figs;
}
"""

_JS_WIDGET_ERRORS = r"""
() => {
  const found = [];
  document.querySelectorAll('.jp-Notebook .jp-OutputArea-output').forEach((el) => {
    const cell = el.closest('[data-rk-cell]');
    const where = cell ? 'cell ' + cell.getAttribute('data-rk-cell') : 'an output';
    const t = el.textContent || '';
    if (el.querySelector('.jupyter-widgets-error-widget'))
      found.push(where + ': widget error view: ' + t.trim().slice(0, 300));
    for (const needle of ['Error displaying widget', 'Failed to create view', 'Failed to load model class',
                          'Could not update:', 'Could not redraw:'])
      if (t.includes(needle)) {
        const k = t.indexOf(needle);
        found.push(where + ': ' + t.slice(k, k + 300).trim());
      }
  });
  return found;
}
"""

_JS_KERNEL_IDLE = r"""
() => {
  const w = window.jupyterapp && window.jupyterapp.shell.currentWidget;
  const ctx = w && w.sessionContext;
  const k = ctx && ctx.session && ctx.session.kernel;
  return !!(k && ctx.isReady && k.connectionStatus === 'connected' && k.status === 'idle'
            && ctx.kernelDisplayStatus === 'idle');
}
"""

# Records IOPub errors and stderr tracebacks that do not belong to a cell (widget callbacks).
_JS_LISTEN = r"""
() => {
  const ctx = window.jupyterapp.shell.currentWidget.sessionContext;
  window.__rk = {done: false, iopub: [], messages: []};
  ctx.session.kernel.anyMessage.connect((_k, a) => {
    window.__rk.messages.push([performance.now(), a.direction, a.msg.header.msg_type]);
  });
  ctx.session.kernel.iopubMessage.connect((_k, msg) => {
    const t = msg.header.msg_type, c = msg.content || {};
    const parent = (msg.parent_header || {}).msg_type;
    if (parent === 'execute_request') return;  // a cell's own output: checked in the cell outputs
    if (t === 'error') window.__rk.iopub.push(c.ename + ': ' + c.evalue);
    if (t === 'stream' && c.name === 'stderr' && /Traceback \(most recent call last\)/.test(c.text))
      window.__rk.iopub.push(c.text.slice(-2000));
  });
}
"""

# True while a code cell is queued or running ("[*]" prompt).
_JS_CELLS_PENDING = r"""
() => {
  const nb = window.jupyterapp.shell.currentWidget;
  return nb.content.widgets.some((cell) => cell.model.type === 'code' && (
    cell.model.executionState === 'running' ||
    (cell.promptNode && /\[\*\]/.test(cell.promptNode.textContent || ''))));
}
"""

_JS_RUN_ALL = r"""
() => {
  window.__rk.done = false;
  window.jupyterapp.commands.execute('notebook:run-all-cells').then(
    (r) => { window.__rk.result = r; window.__rk.done = true; },
    (e) => { window.__rk.error = String(e); window.__rk.done = true; });
}
"""

# Appends a code cell holding `code` at the end of the open notebook and runs it.
_JS_APPEND_RUN = r"""
(code) => {
  const nb = window.jupyterapp.shell.currentWidget;
  const n = nb.content.model.cells.length;
  nb.content.model.sharedModel.insertCell(n, {cell_type: 'code', source: code});
  nb.content.activeCellIndex = n;
  window.__rk.appended = false;
  window.jupyterapp.commands.execute('notebook:run-cell').then(
    () => { window.__rk.appended = true; }, (e) => { window.__rk.error = String(e); window.__rk.appended = true; });
  return n;
}
"""

RAISES_MARKERS = ("NBVAL_RAISES_EXCEPTION",)
RAISES_TAGS = {"raises-exception", "nbval-raises-exception"}
TRACEBACK = "Traceback (most recent call last)"


def png_stats(png: bytes) -> dict:
    """Size, grey-level spread and share of pixels away from the most common colour (the background)."""
    import numpy as np
    from PIL import Image

    im = Image.open(io.BytesIO(png)).convert("RGB")
    a = np.asarray(im).reshape(-1, 3).astype(np.int16)
    colours, counts = np.unique(a, axis=0, return_counts=True)
    bg = colours[counts.argmax()]
    away = np.abs(a - bg).sum(axis=1) > 30
    return {"width": im.width, "height": im.height, "std": float(np.asarray(im.convert("L")).std()),
            "non_background": float(away.mean())}


def looks_drawn(stats: dict) -> bool:
    return stats["width"] > 0 and stats["height"] > 0 and stats["std"] > 3 and stats["non_background"] > 0.005


def pixels_changed(png_a: bytes, png_b: bytes) -> int:
    """Number of pixels that differ between two screenshots of the same element."""
    from PIL import Image, ImageChops

    a, b = (Image.open(io.BytesIO(p)).convert("RGB") for p in (png_a, png_b))
    if a.size != b.size:
        return a.width * a.height
    diff = ImageChops.difference(a, b).convert("L").point(lambda v: 255 if v > 8 else 0)
    return int(diff.histogram()[255])


class LabNotebook:
    """One notebook open in its own page: open, run all, inspect outputs and figures."""

    def __init__(self, browser, lab: LabServer, name: str, folder: str = "notebooks", viewport: dict | None = None):
        self.lab, self.name, self.folder = lab, name, folder
        self.context = browser.new_context(viewport=viewport or VIEWPORT, device_scale_factor=1)
        self.page = self.context.new_page()
        self.page.set_default_timeout(30_000)
        self.page_errors: list[str] = []
        self.console_errors: list[str] = []
        self.page.on("pageerror", lambda e: self.page_errors.append(str(e)))
        self.page.on("console", lambda m: m.type == "error" and self.console_errors.append(m.text))
        self.kernel_frames: list[tuple[float, str]] = []  # (time.monotonic(), "sent"/"received"), kernel sockets
        self.page.on("websocket", self._watch_socket)
        self.log_offset = lab.log_size()
        self.timings: dict[str, float] = {}
        self.cells: list[dict] = []
        self._t0 = time.monotonic()

    def _lap(self, key):
        self.timings[key] = round(time.monotonic() - self._t0, 2)

    def _watch_socket(self, ws):
        if "/api/kernels/" in ws.url and "/channels" in ws.url:
            ws.on("framesent", lambda _p: self.kernel_frames.append((time.monotonic(), "sent")))
            ws.on("framereceived", lambda _p: self.kernel_frames.append((time.monotonic(), "received")))

    def open(self):
        self.page.goto(self.lab.notebook_url(self.name, self.folder))
        self.page.wait_for_selector(".jp-Notebook .jp-Cell", timeout=60_000)
        self.wait_idle(90)
        self.page.evaluate(_JS_LISTEN)
        self._lap("kernel_idle_s")

    def kernel_messages(self, since: float, until: float) -> dict:
        """Kernel traffic between two time.monotonic() instants: websocket frames on the kernel's
        channels socket (Playwright) and messages through Lab's kernel connection (anyMessage)."""
        frames = [d for t, d in self.kernel_frames if since <= t <= until]
        now_ms, now = self.page.evaluate("performance.now()"), time.monotonic()
        lo, hi = now_ms - (now - since) * 1000, now_ms - (now - until) * 1000
        msgs = self.page.evaluate("([lo, hi]) => window.__rk.messages.filter((m) => m[0] >= lo && m[0] <= hi)",
                                  [lo, hi])
        return {"websocket_frames": len(frames), "kernel_messages": len(msgs),
                "message_types": sorted({f"{m[1]} {m[2]}" for m in msgs})}

    @contextlib.contextmanager
    def added_latency(self, one_way_ms: float):
        """Every message on the kernel's websocket delayed by `one_way_ms` in each direction, in order
        (setTimeout on send and on receive of Lab's socket): a round trip `2 * one_way_ms` longer.
        Chromium's network emulation (CDP Network.emulateNetworkConditions) delays HTTP requests but
        not the frames of an open WebSocket (measured here: a start drag drew 11.6 answers/s without
        and 13.4/s with 1000 ms of emulated latency), so the delay is added here."""
        self.page.evaluate("""(ms) => {
          const ws = window.jupyterapp.shell.currentWidget.sessionContext.session.kernel._ws;
          ws.__rkSend = ws.send; ws.__rkOnMessage = ws.onmessage;
          ws.send = (d) => setTimeout(() => ws.__rkSend(d), ms);
          ws.onmessage = (e) => setTimeout(() => ws.__rkOnMessage.call(ws, e), ms);
        }""", one_way_ms)
        try:
            yield
        finally:
            self.page.wait_for_timeout(3 * one_way_ms)  # what is delayed arrives first
            self.page.evaluate("""() => {
              const ws = window.jupyterapp.shell.currentWidget.sessionContext.session.kernel._ws;
              ws.send = ws.__rkSend; ws.onmessage = ws.__rkOnMessage;
            }""")

    def append_and_run(self, code: str, timeout: float = 120):
        """Add a code cell at the end of the notebook, run it, wait for the kernel; return its index."""
        index = self.page.evaluate(_JS_APPEND_RUN, code)
        self.page.wait_for_function("window.__rk.appended === true", timeout=timeout * 1000, polling=200)
        self.wait_idle(timeout)
        self.refresh_cells()
        return index

    def wait_idle(self, timeout: float):
        self.page.wait_for_function(_JS_KERNEL_IDLE, timeout=timeout * 1000, polling=200)

    def run_all(self, timeout: float = RUN_TIMEOUT):
        """Run all cells; return when no cell is queued or running and the kernel is idle."""
        deadline = time.monotonic() + timeout
        self.page.evaluate(_JS_RUN_ALL)
        self.page.wait_for_function("window.__rk.done === true", timeout=timeout * 1000, polling=250)
        quiet_since = None
        while True:  # the command resolves early when a cell raises: wait for the queue to drain
            busy = self.page.evaluate(_JS_CELLS_PENDING) or not self.page.evaluate(_JS_KERNEL_IDLE)
            now = time.monotonic()
            if busy:
                quiet_since = None
            elif quiet_since is None:
                quiet_since = now
            elif now - quiet_since > 1.0:
                break
            if now > deadline:
                raise TimeoutError(f"{self.name}: cells still running after {timeout:.0f} s")
            time.sleep(0.2)
        self._lap("run_all_s")
        self.cells = self.page.evaluate(_JS_CELLS)
        return self.page.evaluate("window.__rk")

    def refresh_cells(self):
        self.cells = self.page.evaluate(_JS_CELLS)
        return self.cells

    # -- errors --------------------------------------------------------------------------------
    def errors(self) -> list[str]:
        """Everything that counts as an error; warnings on stderr do not."""
        found = []
        for c in self.cells:
            if c["type"] != "code":
                continue
            expected = set(c["tags"]) & RAISES_TAGS or any(m in c["source"] for m in RAISES_MARKERS)
            head = c["source"].strip().splitlines()[0][:80] if c["source"].strip() else ""
            where = f"cell {c['index']} ({head!r})"
            for o in c["outputs"]:
                if o["output_type"] == "error" and not expected:
                    tb = _strip_ansi(o["traceback"])
                    found.append(f"{where}: {o['ename']}: {o['evalue']}\n{tb[-1500:]}")
                elif o["output_type"] == "stream" and o["name"] == "stderr" and TRACEBACK in o["text"]:
                    found.append(f"{where}: traceback on stderr:\n{o['text'][-1500:]}")
        return found

    def not_executed(self) -> list[str]:
        """Code cells Run All did not reach, with the reason when a cell raised on purpose."""
        missing = [f"cell {c['index']} ({c['source'].strip()[:60]!r})" for c in self.cells
                   if c["type"] == "code" and c["source"].strip() and c["executionCount"] is None]
        for c in self.cells:
            raised = any(o["output_type"] == "error" for o in c["outputs"] or [])
            if missing and raised and not set(c["tags"]) & {"raises-exception"}:
                missing.append(f"(Run All stopped at cell {c['index']}, which raises on purpose: JupyterLab "
                               "continues only past cells tagged 'raises-exception'; the NBVAL comment "
                               "marker is not enough)")
                break
        return missing

    def background_errors(self) -> list[str]:
        """Errors from outside the cells: kernel messages for no cell, widget error views, the kernel log."""
        found = [f"kernel: {e}" for e in self.page.evaluate("window.__rk ? window.__rk.iopub : []")]
        found += self.page.evaluate(_JS_WIDGET_ERRORS)
        log = self.lab.log_since(self.log_offset)
        for m in re.finditer(r"(Exception in comm_msg.*?|Traceback \(most recent call last\):)\n"
                             r"(?:[ \t].*\n|\S.*Error.*\n)*", log):
            found.append("kernel log: " + m.group(0)[-1500:])
        return found

    # -- figures -------------------------------------------------------------------------------
    def explorer_outputs(self):
        """Locators of every explorer output (the rich display of reachkit's explorers)."""
        return self.page.locator(".jp-OutputArea-child[data-rk-explorer] .jp-OutputArea-output").all()

    def wait_drawn(self, root_locator, timeout: float = RENDER_TIMEOUT) -> list[dict]:
        """Wait until every figure inside the element has a size and pixels; return their state."""
        deadline = time.monotonic() + timeout
        while True:
            figs = root_locator.evaluate(_JS_FIGURES)
            if figs and all(f["drawn"] for f in figs):
                return figs
            if time.monotonic() > deadline:
                return figs
            time.sleep(0.25)

    def screenshot(self, locator) -> bytes:
        return locator.screenshot(animations="disabled", caret="hide")

    def close(self):
        try:
            self.context.close()
        finally:
            self.lab.shutdown_kernels(self.name)

    def describe_failure(self) -> str:
        lines = []
        if self.page_errors:
            lines.append("page errors: " + " | ".join(self.page_errors[-5:]))
        if self.console_errors:
            lines.append("console errors: " + " | ".join(e[:200] for e in self.console_errors[-5:]))
        return "\n".join(lines)


def _strip_ansi(s: str) -> str:
    return re.sub(r"\x1b\[[0-9;]*m", "", s)


def record_timing(name: str, timings: dict):
    RESULTS.mkdir(parents=True, exist_ok=True)
    path = RESULTS / "timings.json"
    try:
        data = json.loads(path.read_text())
    except (OSError, ValueError):
        data = {}
    data[name] = timings
    fd, tmp = tempfile.mkstemp(dir=RESULTS, suffix=".json")
    with os.fdopen(fd, "w") as f:
        json.dump(data, f, indent=1, sort_keys=True)
    os.replace(tmp, path)


# -- reachkit's explorer view (reachkit/view.py + static/view.js), driven like a user ------------------

# In-page helpers: a cheap checksum of a canvas (sampled pixels) and a counter of visibly new frames.
_JS_VIEW_HELPERS = r"""
() => {
  if (window.__rkView) return;
  const sum = (c) => {
    const d = c.getContext('2d').getImageData(0, 0, c.width, c.height).data;
    let h = 0;
    for (let i = 0; i < d.length; i += 4 * 3) {
      h = (Math.imul(h, 31) + d[i] + 3 * d[i + 1] + 7 * d[i + 2] + 11 * d[i + 3]) | 0;
    }
    return h;
  };
  // Count animation frames whose canvas differs from the previous frame's, for `ms` milliseconds.
  // With `label`, also count frames whose text changed (the view's "iterate k of n" read-out).
  const count = (c, ms, label) => new Promise((resolve) => {
    window.__rkStop = false;
    let last = sum(c), text = label ? label.textContent : '', changes = 0, advances = 0, ticks = 0;
    const t0 = performance.now();
    const f = () => {
      ticks++;
      const s = sum(c);
      if (s !== last) { changes++; last = s; }
      if (label && label.textContent !== text) { advances++; text = label.textContent; }
      if (performance.now() - t0 < ms && !window.__rkStop) requestAnimationFrame(f);
      else resolve({changes, advances, ticks, seconds: (performance.now() - t0) / 1000});
    };
    requestAnimationFrame(f);
  });
  // Key press on `target` -> first animation frame whose canvas differs (ms), or null after timeoutMs.
  const latency = (c, target, timeoutMs) => new Promise((resolve) => {
    const base = sum(c);
    let t0 = null;
    target.addEventListener('keydown', () => { t0 = performance.now(); }, {once: true, capture: true});
    const start = performance.now();
    const f = () => {
      const now = performance.now();
      if (t0 !== null && sum(c) !== base) { resolve(now - t0); return; }
      if (now - start > timeoutMs) { resolve(null); return; }
      requestAnimationFrame(f);
    };
    requestAnimationFrame(f);
  });
  // A drag at display rate: every animation frame the range input moves one position (sweeping back and
  // forth) and fires 'input', as a pointer drag does; counts frames whose canvas differs from the last.
  const sweep = (c, range, ms) => new Promise((resolve) => {
    const top = Number(range.max);
    let i = Number(range.value), dir = i < top / 2 ? 1 : -1, last = sum(c), changes = 0, moves = 0;
    const t0 = performance.now();
    const f = () => {
      const s = sum(c);
      if (s !== last) { changes++; last = s; }
      if (performance.now() - t0 >= ms) { resolve({changes, moves, seconds: (performance.now() - t0) / 1000}); return; }
      if (i + dir < 0 || i + dir > top) dir = -dir;
      i += dir;
      range.value = String(i);
      range.dispatchEvent(new Event('input', {bubbles: true}));
      moves++;
      requestAnimationFrame(f);
    };
    requestAnimationFrame(f);
  });
  // During a live drag (parameter or start): per animation frame, whether the canvas changed, whether a
  // new kernel answer was drawn (the view's data-answers; two answers in one frame count once there, and
  // `answers` counts every answer received).
  // With a scene canvas (the landscape drawn from data), also the answers drawn with a new path but the
  // landscape unchanged since the answer before (`pathOnly`: a parameter drag must have none).
  const live = (c, root, fig, ms) => new Promise((resolve) => {
    window.__rkStop = false;
    const sc = fig.querySelector('canvas.rk-scene');
    let last = sum(c), lastA = root.dataset.answers || '0', changes = 0, answered = 0;
    const a0 = Number(lastA);
    let lastScene = sc ? sum(sc) : 0, pathOnly = 0, lastPath = last;
    const t0 = performance.now();
    const f = () => {
      const s = sum(c), a = root.dataset.answers || '0';
      if (s !== last) { changes++; last = s; }
      if (a !== lastA) {
        answered++; lastA = a;
        const sNow = sc ? sum(sc) : 0;
        if (sc && s !== lastPath && sNow === lastScene) pathOnly++;
        lastScene = sNow; lastPath = s;
      }
      if (performance.now() - t0 < ms && !window.__rkStop) requestAnimationFrame(f);
      else resolve({changes, answered, answers: Number(root.dataset.answers || '0') - a0,
                    pathOnly: sc ? pathOnly : null, seconds: (performance.now() - t0) / 1000});
    };
    requestAnimationFrame(f);
  });
  // A click at (x, y) on `fig` -> the first animation frame whose figure label (the alt text of the
  // run drawn, "GD path from (x, y) ...") differs: the new path is drawn (ms), or null.
  const clickToPath = (fig, timeoutMs) => new Promise((resolve) => {
    const before = fig.getAttribute('aria-label');
    let t0 = null;
    fig.addEventListener('pointerdown', () => { t0 = performance.now(); }, {once: true, capture: true});
    const start = performance.now();
    const f = () => {
      if (t0 !== null && fig.getAttribute('aria-label') !== before) { resolve(performance.now() - t0); return; }
      if (performance.now() - start > timeoutMs) { resolve(null); return; }
      requestAnimationFrame(f);
    };
    requestAnimationFrame(f);
  });
  window.__rkView = {sum, count, latency, sweep, live, clickToPath};
}
"""


# Armed before a typed value's Enter: resolves with the ms from the Enter keydown to the first animation
# frame where both the scene canvas and the paths canvas differ from before, and the number of frames in
# between where only one of them did.
_JS_TYPED_WATCH = r"""
(fig) => {
  const scene = fig.querySelector('canvas.rk-scene'), paths = fig.querySelector('canvas.rk-paths');
  const sum = window.__rkView.sum, s0 = sum(scene), p0 = sum(paths);
  let t0 = null, split = 0;
  window.addEventListener('keydown', (e) => { if (e.key === 'Enter') t0 = performance.now(); },
                          {capture: true, once: true});
  window.__rkTyped = new Promise((resolve) => {
    const tick = () => {
      const now = performance.now();
      if (t0 !== null) {
        const s = sum(scene) !== s0, p = sum(paths) !== p0;
        if (s && p) { resolve({ms: now - t0, split_frames: split}); return; }
        if (s !== p) split++;
        if (now - t0 > 10000) { resolve({ms: null, split_frames: split}); return; }
      }
      requestAnimationFrame(tick);
    };
    requestAnimationFrame(tick);
  });
}
"""


class ViewDriver:
    """One explorer view inside an output (``root``: a locator holding one ``.rk-view``)."""

    def __init__(self, nb: LabNotebook, root):
        self.nb, self.page = nb, nb.page
        self.output = root
        self.root = root.locator(".rk-view").first
        self.figure = self.root.locator(".rk-figure")
        self.canvas = self.figure.locator("canvas.rk-paths")
        self.scene_canvas = self.figure.locator("canvas.rk-scene")
        self.status = self.root.locator(".rk-status")
        self.step_slider = self.root.locator("input.rk-step")
        self.step_box = self.root.locator("input.rk-stepbox")
        self.scrubber = self.root.locator("input.rk-scrubber")
        self.speed = self.root.locator(".rk-speed input")
        self.readout = self.root.locator(".rk-frame-readout")
        self.page.evaluate(_JS_VIEW_HELPERS)

    def button(self, name: str):
        return self.root.get_by_role("button", name=name, exact=True)

    def checksum(self) -> int:
        return self.canvas.evaluate("(c) => window.__rkView.sum(c)")

    def computing(self) -> bool:
        return self.root.locator(".rk-busy").is_visible()

    def settle(self, timeout: float = 30.0, quiet: float = 0.3):
        """Wait until the kernel is idle, the view shows a run for its step and the canvas is still."""
        deadline = time.monotonic() + timeout
        self.nb.wait_idle(timeout)
        last, since = None, time.monotonic()
        while time.monotonic() < deadline:
            now = (self.checksum(), self.computing(), self.status.text_content())
            if now != last:
                last, since = now, time.monotonic()
            elif not now[1] and time.monotonic() - since >= quiet:
                break
            time.sleep(0.05)
        self.nb.wait_idle(timeout)

    def show_whole_path(self):
        """Move the iterate scrubber to the last iterate (End key), as a student does before comparing
        two steps: near iterate 0 the paths of two steps coincide."""
        self.scrubber.focus()
        self.page.keyboard.press("End")
        self.settle()

    def step(self) -> str:
        return self.step_box.input_value()

    def type_step(self, value) -> str:
        """Type `value` (exactly as given) into the step box, press Enter; the status once settled."""
        self.step_box.fill("")
        self.step_box.press_sequentially(str(value))  # key by key, as a user types
        self.step_box.press("Enter")
        time.sleep(0.2)
        self.settle()
        return self.status.text_content()

    def param(self, label: str):
        """The row of the view's live slider labelled `label` (its .rk-paramslider and .rk-parambox)."""
        name = self.page.locator(".rk-paramlabel", has_text=re.compile(rf"^\s*{re.escape(label)}\s*$"))
        return self.root.locator(".rk-param").filter(has=name)

    def setting(self, label: str):
        """The input of the explorer's control labelled `label` ("start x0", "steps", "sharp"...):
        a number box of the panel, or the exact box of one of the view's live sliders."""
        live = self.param(label)
        if live.count():
            return live.locator(".rk-parambox")
        name = self.page.locator("label.widget-label", has_text=re.compile(rf"^\s*{re.escape(label)}\s*$"))
        return self.output.locator(".widget-inline-hbox").filter(has=name).locator("input").first

    def type_setting(self, label: str, value) -> str:
        """Type `value` into the control labelled `label`, press Enter; the status once settled."""
        box = self.setting(label)
        box.fill("")
        box.press_sequentially(str(value))
        box.press("Enter")
        time.sleep(0.2)
        self.settle()
        return self.status.text_content()

    def measure_typed_parameter(self, label: str, values) -> dict:
        """Type each of ``values`` into the control ``label`` and press Enter: the time (ms) from the Enter
        key to the first animation frame in which BOTH the landscape (the scene canvas) and the paths
        have changed, and the frames in which only one of them had (a path over a landscape of another
        value: must be none)."""
        samples, split = [], 0
        self.page.evaluate(_JS_VIEW_HELPERS)
        for value in values:
            box = self.setting(label)
            box.fill("")
            box.press_sequentially(str(value))
            self.figure.evaluate(_JS_TYPED_WATCH)
            box.press("Enter")
            got = self.page.evaluate("window.__rkTyped")
            self.settle()
            if got["ms"] is not None:
                samples.append(got["ms"])
            split += got["split_frames"]
        return {"samples": samples, "missed": len(values) - len(samples), "split_frames": split,
                "values": [str(v) for v in values], "setting": label}

    def set_speed(self, fps: int):
        self.speed.evaluate("(s, v) => { s.value = String(v); s.dispatchEvent(new Event('input', {bubbles: true}));"
                            " s.dispatchEvent(new Event('change', {bubbles: true})); }", fps)

    def frames(self) -> int:
        """Iterates in the shown run (the scrubber's max + 1)."""
        return int(self.scrubber.get_attribute("max")) + 1

    def measure_play(self, seconds: float = 5.0, warmup: float = 0.5, speed: int = 60) -> dict:
        """Rewind, Play at `speed` frames/s: visibly new canvas frames per second (a path that has
        converged stops changing the pixels), iterates drawn per second, and the kernel traffic
        (websocket frames, messages) during `seconds` of Play, after `warmup` seconds."""
        self.root.scroll_into_view_if_needed()
        self.set_speed(speed)
        self.button("Rewind").click()
        self.settle()
        # the live region must not speak during Play: count changes to the status line
        self.status.evaluate("(s) => { window.__rkStatusChanges = 0; window.__rkStatusObserver = new MutationObserver("
                             "() => { window.__rkStatusChanges++; }); window.__rkStatusObserver.observe(s, "
                             "{childList: true, characterData: true, subtree: true}); }")
        self.button("Play").click()
        t_play = time.monotonic()
        time.sleep(warmup)
        t0 = time.monotonic()
        counted = self.canvas.evaluate("(c, [ms, label]) => window.__rkView.count(c, ms, label)",
                                       [seconds * 1000, self.readout.element_handle()])
        t1 = time.monotonic()
        still_playing = self.button("Pause").count() == 1
        traffic = self.nb.kernel_messages(t0, t1)
        traffic["status_changes"] = self.page.evaluate(
            "() => { window.__rkStatusObserver.disconnect(); return window.__rkStatusChanges; }")
        if still_playing:
            self.button("Pause").click()
        self.settle()
        return {"new_frames_per_s": round(counted["changes"] / counted["seconds"], 1),
                "iterates_drawn_per_s": round(counted["advances"] / counted["seconds"], 1),
                "display_frames_per_s": round(counted["ticks"] / counted["seconds"], 1),
                "seconds": round(counted["seconds"], 2), "speed_setting": speed, "iterates": self.frames(),
                "still_playing_at_end": still_playing, "play_to_count_s": round(t0 - t_play, 2), **traffic}

    def _thumb_x(self) -> tuple[float, float]:
        box = self.step_slider.bounding_box()
        frac = float(self.step_slider.input_value()) / max(1.0, float(self.step_slider.get_attribute("max")))
        thumb = 0.6 * box["height"]  # view.css: thumb = 0.6 x the control height
        return box["x"] + thumb / 2 + frac * (box["width"] - thumb), box["y"] + box["height"] / 2

    def measure_drag(self, seconds: float = 1.0, moves: int = 90) -> dict:
        """Drag the step slider's thumb to the far end in `seconds`: visibly new frames per second and
        how many slider positions the drag crossed."""
        self.step_slider.scroll_into_view_if_needed()
        self.settle()
        first = int(self.step_slider.input_value())
        top = int(self.step_slider.get_attribute("max"))
        x, y = self._thumb_x()
        box = self.step_slider.bounding_box()
        end = box["x"] + (box["width"] if first < top / 2 else 0)
        self.page.mouse.move(x, y)
        self.page.mouse.down()
        self.canvas.evaluate("(c) => { window.__rkDrag = window.__rkView.count(c, 60000); }")
        t0 = time.monotonic()
        for k in range(1, moves + 1):
            self.page.mouse.move(x + (end - x) * k / moves, y)
            time.sleep(max(0.0, t0 + seconds * k / moves - time.monotonic()))
        self.page.mouse.up()
        drag_s = time.monotonic() - t0
        self.page.evaluate("() => { window.__rkStop = true; }")
        counted = self.page.evaluate("window.__rkDrag")
        last = int(self.step_slider.input_value())
        self.settle()
        return {"new_frames_per_s": round(counted["changes"] / counted["seconds"], 1),
                "new_frames": counted["changes"], "positions_crossed": abs(last - first),
                "positions_per_s": round(abs(last - first) / drag_s, 1), "drag_s": round(drag_s, 2),
                "seconds": round(counted["seconds"], 2), "mouse_moves": moves,
                "note": "new frames/s cannot exceed positions crossed/s: compare new_frames with positions_crossed"}

    def answers(self) -> int:
        """Kernel answers to live requests the view has drawn so far."""
        return int(self.root.get_attribute("data-answers") or 0)

    def measure_live_drag(self, press: tuple, to: tuple, seconds: float = 1.5, moves: int = 90) -> dict:
        """Press at `press` (page px), move in a straight line to `to` in `seconds`, release: canvas
        frames changed, kernel answers drawn (frames with a new path), answers whose path changed on an
        unchanged landscape (scene canvas), per second of drag, and the answers received (the view keeps
        two requests in flight, so two answers may arrive within one frame); then wait until it has settled."""
        self.settle()
        self.page.mouse.move(*press)
        self.page.mouse.down()
        self.canvas.evaluate("(c, [r, f]) => { window.__rkLive = window.__rkView.live(c, r, f, 60000); }",
                             [self.root.element_handle(), self.figure.element_handle()])
        t0 = time.monotonic()
        for k in range(1, moves + 1):
            self.page.mouse.move(press[0] + (to[0] - press[0]) * k / moves, press[1] + (to[1] - press[1]) * k / moves)
            time.sleep(max(0.0, t0 + seconds * k / moves - time.monotonic()))
        t_release = time.monotonic()
        self.page.mouse.up()
        self.page.evaluate("() => { window.__rkStop = true; }")
        counted = self.page.evaluate("window.__rkLive")
        # release -> the kernel's answer to the last request drawn (nothing in flight or waiting)
        self.root.evaluate("(r) => new Promise((ok) => { const t0 = performance.now(); const f = () => "
                           "r.dataset.pending === '0' ? ok() : performance.now() - t0 > 20000 ? ok() : "
                           "requestAnimationFrame(f); requestAnimationFrame(f); })")
        released_ms = (time.monotonic() - t_release) * 1000
        sent = sum(1 for t, d in self.nb.kernel_frames if t0 <= t <= t_release and d == "sent")
        self.settle()
        s = counted["seconds"]
        return {"changed_frames_per_s": round(counted["changes"] / s, 1),
                "path_frames_per_s": round(counted["answered"] / s, 1), "paths_drawn": counted["answered"],
                "answers_received": counted["answers"], "new_path_on_unchanged_landscape": counted["pathOnly"],
                "pointer_moves": moves, "websocket_frames_sent": sent, "seconds": round(s, 2),
                "release_to_answer_drawn_ms": round(released_ms, 1)}

    def measure_click_to_path(self, points: list) -> dict:
        """Clicks on the plot at `points` (page px): click -> the new path drawn (ms) for each."""
        samples, missed = [], 0
        for x, y in points:
            self.settle(quiet=0.15)
            self.figure.evaluate("(f) => { window.__rkClick = window.__rkView.clickToPath(f, 10000); }")
            self.page.mouse.click(x, y)
            ms = self.page.evaluate("window.__rkClick")
            if ms is None:
                missed += 1
            else:
                samples.append(round(ms, 1))
        self.settle()
        return {"samples": samples, "missed": missed}

    def measure_sweep(self, seconds: float = 3.0) -> dict:
        """The step slider moved one position per animation frame for `seconds` (a drag at display
        rate, in the page): visibly new frames per second."""
        self.step_slider.scroll_into_view_if_needed()
        self.settle()
        counted = self.canvas.evaluate("(c, [r, ms]) => window.__rkView.sweep(c, r, ms)",
                                       [self.step_slider.element_handle(), seconds * 1000])
        self.settle()
        return {"new_frames_per_s": round(counted["changes"] / counted["seconds"], 1),
                "slider_moves_per_s": round(counted["moves"] / counted["seconds"], 1),
                "seconds": round(counted["seconds"], 2)}

    def measure_step_latency(self, moves: int = 30, warmup: int = 2) -> dict:
        """Arrow key on the step slider -> first changed canvas pixels (ms), alternating right/left,
        from a third of the way along the slider (at the top end every run may diverge at once and
        look the same)."""
        self.step_slider.scroll_into_view_if_needed()
        self.settle()
        self.step_slider.focus()
        self.page.keyboard.press("Home")
        for _ in range(int(self.step_slider.get_attribute("max")) // 3):
            self.page.keyboard.press("ArrowRight")
        self.settle()
        self.step_slider.focus()
        samples, missed = [], 0
        for i in range(moves + warmup):
            self.canvas.evaluate("(c, s) => { window.__rkLat = window.__rkView.latency(c, s, 10000); }",
                                 self.step_slider.element_handle())
            self.page.keyboard.press("ArrowRight" if i % 2 == 0 else "ArrowLeft")
            ms = self.page.evaluate("window.__rkLat")
            self.settle(quiet=0.15)
            self.step_slider.focus()
            if i < warmup:
                continue
            if ms is None:
                missed += 1
            else:
                samples.append(round(ms, 1))
        return {"samples": samples, "missed": missed}


def record_measurement(kind: str, data: dict, explorer: str):
    """Write results/browser/<kind>.json (play, drag, latency) with where and when it was measured."""
    import statistics

    out = dict(data)
    samples = out.get("samples")
    if samples:
        q = statistics.quantiles(samples, n=10, method="inclusive") if len(samples) > 1 else samples * 9
        out.update(median=statistics.median(samples), p90=q[8], n=len(samples), unit="ms")
    out.update(explorer=explorer, measured=time.strftime("%Y-%m-%d %H:%M:%S"),
               load_average=round(os.getloadavg()[0], 2), cpus=os.cpu_count(),
               browser="headless Chromium (software rendering), JupyterLab on localhost")
    RESULTS.mkdir(parents=True, exist_ok=True)
    (RESULTS / f"{kind}.json").write_text(json.dumps(out, indent=1))
    return out


def measurement_lines(since: float = 0.0) -> list[str]:
    """One line per measurement in results/browser/[synthetic-]{play,drag,latency}.json and
    typed-parameter.json written after
    `since` (benchmarks/bench_browser.py has its own copy: it must not import the tests)."""
    lines = []
    for name in ("play", "drag", "latency", "typed-parameter", "synthetic-play", "synthetic-drag", "synthetic-latency"):
        path, kind = RESULTS / f"{name}.json", name.removeprefix("synthetic-")
        if not path.exists() or path.stat().st_mtime < since:
            continue
        d = json.loads(path.read_text())
        if kind == "play":
            lines.append(f"Play: {d['new_frames_per_s']:.0f} visibly new frames/s ({d['iterates_drawn_per_s']:.0f} "
                         f"iterates drawn/s, display {d['display_frames_per_s']:.0f} frames/s, speed setting "
                         f"{d['speed_setting']}); kernel traffic during {d['seconds']:.0f} s of Play: "
                         f"{d['websocket_frames']} websocket frames, {d['kernel_messages']} messages")
        elif kind == "drag":
            sw, mo = d["display_rate_drag"], d["mouse_drag"]
            lines.append(f"step drag: {sw['new_frames_per_s']:.0f} new frames/s at {sw['slider_moves_per_s']:.0f} "
                         f"slider moves/s (display rate); mouse drag: {mo['new_frames']} new frames for "
                         f"{mo['positions_crossed']} positions crossed in {mo['drag_s']:.1f} s")
        elif kind == "typed-parameter":
            lines.append(f"typed parameter {d['setting']!r} -> landscape and path redrawn: median "
                         f"{d.get('median', float('nan')):.0f} ms, p90 {d.get('p90', float('nan')):.0f} ms "
                         f"(n={len(d['samples'])}, {d['missed']} missed, {d['split_frames']} split frames)")
        elif d.get("samples"):
            lines.append(f"arrow key on the step slider -> changed pixels: median {d['median']:.0f} ms, "
                         f"p90 {d['p90']:.0f} ms (n={d['n']}, {d['missed']} missed)")
        else:
            lines.append(f"arrow key on the step slider -> changed pixels: no sample ({d['missed']} missed)")
        lines[-1] += f"   [{d.get('explorer', '?')}; load {d.get('load_average', '?')}]"
    for name in ("live-param-drag", "live-start-drag", "live-slow-connection"):
        path = RESULTS / f"{name}.json"
        if path.exists() and path.stat().st_mtime >= since:
            d = json.loads(path.read_text())
            lines.append(f"{name}: {d['path_frames_per_s']:.0f} frames/s with a new answer, "
                         f"{d['websocket_frames_sent']} requests for {d['answers_received']} answers, release -> "
                         f"answer {d['release_to_answer_drawn_ms']:.0f} ms")
    return lines
