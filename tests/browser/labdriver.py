"""Driving JupyterLab in headless Chromium: the Lab server, a notebook page, pixel checks.

Used by conftest.py (fixtures) and test_e2e.py. The tests need Debian's Chromium
(``apt-get install chromium``: /usr/bin/chromium) and the Python ``playwright`` package (the
``test`` extra); Playwright's own browser downloads are never used. Without either, the tests are
skipped with a message, unless ``REACHKIT_REQUIRE_BROWSER=1`` (set by ``.ci/run``): then they fail.

JupyterLab runs on a temporary copy of ``notebooks/`` (Lab autosaves executed notebooks), with
temporary workspaces, settings and runtime folders, on a free loopback port with a random token.

Environment:
    REACHKIT_REQUIRE_BROWSER=1      fail instead of skip when Chromium or playwright is missing
    REACHKIT_CHROMIUM=/path         the Chromium binary (default: ``chromium`` on PATH, /usr/bin/chromium)
    REACHKIT_BROWSER_TIMEOUT=300    seconds a notebook may take to run all its cells
    REACHKIT_BROWSER_NOTEBOOKS=dir  run the suite over another folder (used to check the checks)
"""

from __future__ import annotations

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
        dirs = {k: self.base / k for k in ("workspaces", "settings", "config", "data", "runtime", "ipython")}
        for d in dirs.values():
            d.mkdir(parents=True, exist_ok=True)
        # No "Jupyter news" toast over the figures, no update checks.
        notif = dirs["settings"] / "@jupyterlab" / "apputils-extension" / "notification.jupyterlab-settings"
        notif.parent.mkdir(parents=True)
        notif.write_text(json.dumps({"fetchNews": "false", "checkForUpdates": False}))
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

    def notebook_url(self, name: str) -> str:
        return f"{self.url}/lab/tree/notebooks/{name}?reset&token={self.token}"

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
        // reachkit's explorers display a widget plus a static PNG and a text description; a bare
        // ipympl figure (fig.canvas) also carries a PNG, but its text is "Canvas(...)".
        const plain = String(data['text/plain'] || '');
        const explorer = ('application/vnd.jupyter.widget-view+json' in data) && ('image/png' in data)
                         && !plain.startsWith('Canvas(');
        const view = views[j];
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
  window.__rk = {done: false, iopub: []};
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

    def __init__(self, browser, lab: LabServer, name: str):
        self.lab, self.name = lab, name
        self.context = browser.new_context(viewport=VIEWPORT, device_scale_factor=1)
        self.page = self.context.new_page()
        self.page.set_default_timeout(30_000)
        self.page_errors: list[str] = []
        self.console_errors: list[str] = []
        self.page.on("pageerror", lambda e: self.page_errors.append(str(e)))
        self.page.on("console", lambda m: m.type == "error" and self.console_errors.append(m.text))
        self.log_offset = lab.log_size()
        self.timings: dict[str, float] = {}
        self.cells: list[dict] = []
        self._t0 = time.monotonic()

    def _lap(self, key):
        self.timings[key] = round(time.monotonic() - self._t0, 2)

    def open(self):
        self.page.goto(self.lab.notebook_url(self.name))
        self.page.wait_for_selector(".jp-Notebook .jp-Cell", timeout=60_000)
        self.wait_idle(90)
        self.page.evaluate(_JS_LISTEN)
        self._lap("kernel_idle_s")

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
