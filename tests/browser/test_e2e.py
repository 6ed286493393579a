"""The notebooks in a real browser: JupyterLab + headless Chromium, end to end.

For every ``notebooks/NN_*.ipynb``: open it in JupyterLab, run all cells, and check that no cell
raised, nothing printed a traceback, and every figure (each explorer's ipympl canvas) is on the
page with a size and pixels. A screenshot of each notebook's first explorer goes to
``results/browser/NN_name.png``.

On the 2-D explorer of ``rk.explore(rk.landscapes.sharp_flat_2d(...))`` (00_start_here or
01_flow_and_descent): a drag on the step slider, a click on the plot and Play must change the
picture, and ``results/browser/latency.json`` gets the key-press-to-new-pixels latency of the step
slider (``benchmarks/bench_browser.py`` prints it).

Run: ``make test PYTEST_ARGS="-m browser"`` (skipped without Chromium; see conftest.py).
"""

from __future__ import annotations

import json
import os
import re
import statistics
import time

import pytest
from labdriver import (
    RESULTS,
    LabNotebook,
    looks_drawn,
    notebooks,
    pixels_changed,
    png_stats,
    record_timing,
    require_browser,
)

pytestmark = pytest.mark.browser

NOTEBOOKS = notebooks()
EXPLORE_CALL = re.compile(r"\bexplore\(\s*([A-Za-z_][\w.]*)(\()?")
ASSIGN = re.compile(r"^([A-Za-z_]\w*)\s*=(?!=)(.*)$", re.M)
LATENCY_MOVES = 30
TARGET_MEDIAN_MS = 150
KEEP: dict[str, LabNotebook] = {}  # the 2-D explorer's notebook, left open for the interaction tests


def _code_cells(path):
    nb = json.loads(path.read_text())
    return [(i, "".join(c["source"])) for i, c in enumerate(nb["cells"]) if c["cell_type"] == "code"]


def _explores_sharp_flat_2d(code: str, names: set[str]) -> bool:
    """Does the cell call explore() on sharp_flat_2d(...), directly or through a variable set to it?"""
    for m in EXPLORE_CALL.finditer(code):
        arg, call = m.group(1), m.group(2)
        if (call and arg.split(".")[-1] == "sharp_flat_2d") or (not call and arg in names):
            return True
    return False


def find_2d_explorer():
    """(notebook name, cell index) of the first cell calling explore(...sharp_flat_2d(...)).

    Looks in 00_start_here and 01_flow_and_descent first, then in the other notebooks. A variable
    assigned ``...sharp_flat_2d(...)`` in an earlier cell (``ls = rk.landscapes.sharp_flat_2d()``)
    counts as the landscape.
    """
    ordered = sorted(NOTEBOOKS, key=lambda p: (p.name[:2] not in ("00", "01"), p.name))
    for path in ordered:
        names: set[str] = set()  # variables currently holding a sharp_flat_2d landscape
        for i, src in _code_cells(path):
            code = "\n".join(line.split("#", 1)[0] for line in src.splitlines())
            if _explores_sharp_flat_2d(code, names):
                return path.name, i
            for name, rhs in ASSIGN.findall(code):
                if re.search(r"(?<![\w])(?:[A-Za-z_][\w.]*\.)?sharp_flat_2d\(", rhs):
                    names.add(name)
                else:
                    names.discard(name)
    return None, None


TARGET_NB, TARGET_CELL = find_2d_explorer()


# -- every notebook ------------------------------------------------------------------------------

@pytest.mark.parametrize("name", [p.name for p in NOTEBOOKS])
def test_notebook_runs_and_draws(browser, lab, results_dir, name):
    nb = LabNotebook(browser, lab, name)
    keep = False
    t0 = time.monotonic()
    try:
        nb.open()
        state = nb.run_all()
        assert not state.get("error"), f"run-all failed in the front end: {state['error']}"
        errors = nb.errors()
        assert not errors, f"{name}: error output\n" + "\n\n".join(errors)
        skipped = nb.not_executed()
        assert not skipped, f"{name}: cells that did not run: {skipped}"

        # Every figure on the page (explorers and plain %matplotlib widget figures) gets drawn.
        figs = nb.wait_drawn(nb.page.locator(".jp-Notebook"))
        nb._lap("drawn_s")
        undrawn = [f for f in figs if not f["drawn"]]
        assert not undrawn, f"{name}: {len(undrawn)} of {len(figs)} figures never drew: {undrawn}\n" \
                            + nb.describe_failure()

        explorers = nb.explorer_outputs()
        for k, out in enumerate(explorers):
            inner = out.evaluate("(el) => el.querySelectorAll('.jupyter-matplotlib-canvas-div, .widget-image').length")
            where = out.evaluate("(el) => el.closest('[data-rk-cell]').getAttribute('data-rk-cell')")
            assert inner >= 1, f"{name}: explorer {k} (cell {where}) shows no figure: " \
                               + out.inner_text()[:300] + "\n" + nb.describe_failure()

        # The pixels, as a screenshot sees them: each figure has a size and is not blank.
        canvases = nb.page.locator(".jupyter-matplotlib-canvas-div, .widget-image").all()
        for k, c in enumerate(canvases):
            stats = png_stats(nb.screenshot(c))
            assert looks_drawn(stats), f"{name}: figure {k} looks blank in a screenshot: {stats}"

        problems = nb.background_errors()
        assert not problems, f"{name}: errors outside the cell outputs:\n" + "\n".join(problems) + "\n" \
                             + nb.describe_failure()

        # What a student sees: the first explorer (or, in a notebook without one, the first figure).
        shown = explorers[0] if explorers else (canvases[0] if canvases else None)
        if shown is not None:
            (results_dir / f"{name.removesuffix('.ipynb')}.png").write_bytes(nb.screenshot(shown))
        nb.timings.update(explorers=len(explorers), figures=len(figs), total_s=round(time.monotonic() - t0, 1),
                          screenshot="first explorer" if explorers else ("first figure" if canvases else "none"))
        keep = name == TARGET_NB
    except BaseException:
        try:
            nb.page.screenshot(path=str(results_dir / f"{name.removesuffix('.ipynb')}-FAILED.png"))
        except Exception:
            pass
        raise
    finally:
        nb.timings.setdefault("total_s", round(time.monotonic() - t0, 1))
        record_timing(name, nb.timings)
        if keep:
            KEEP[name] = nb
        else:
            nb.close()


# -- the 2-D explorer, driven like a student ----------------------------------------------------------

class Explorer:
    """Locators of one explorer output in an open notebook."""

    def __init__(self, nb: LabNotebook, root):
        self.nb, self.page, self.root = nb, nb.page, root
        self.canvas = root.locator(".jupyter-matplotlib-canvas-div").first
        self.image = self.canvas.locator("canvas").first

    def slider(self, label: str):
        lab = self.page.locator("label.widget-label", has_text=re.compile(rf"^\s*{re.escape(label)}\s*$"))
        return self.root.locator(".widget-slider").filter(has=lab).first

    def readout(self, label: str) -> str:
        return self.slider(label).locator(".widget-readout").inner_text().strip().replace("\u2212", "-")

    def value(self, label: str) -> float:
        return float(self.readout(label))

    def has_slider(self, label: str) -> bool:
        return self.slider(label).count() > 0

    def text(self) -> str:
        """The explorer's read-out and status text (what the kernel last sent)."""
        return " ".join(self.root.locator(".widget-html-content").all_inner_texts())

    def shot(self) -> bytes:
        return self.nb.screenshot(self.canvas)

    def data_url(self) -> str:
        return self.image.evaluate("(c) => c.toDataURL()")

    def settle(self, timeout: float = 15.0, quiet: float = 0.4):
        """Wait until the kernel is idle and the canvas has not changed for `quiet` seconds."""
        deadline = time.monotonic() + timeout
        self.nb.wait_idle(timeout)
        last, since = self.data_url(), time.monotonic()
        while time.monotonic() < deadline:
            time.sleep(0.1)
            now = self.data_url()
            if now != last:
                last, since = now, time.monotonic()
            elif time.monotonic() - since >= quiet:
                break
        self.nb.wait_idle(timeout)


@pytest.fixture(scope="module")
def explorer2d(browser, lab, results_dir):
    if TARGET_NB is None:
        msg = ("no notebook calls rk.explore(rk.landscapes.sharp_flat_2d(...)) "
               "(expected in 00_start_here or 01_flow_and_descent)")
        if require_browser() and NOTEBOOKS:
            pytest.fail(msg, pytrace=False)
        pytest.skip(msg)
    nb = KEEP.pop(TARGET_NB, None)
    if nb is None:  # the notebook test did not run (-k) or failed: open it here
        nb = LabNotebook(browser, lab, TARGET_NB)
        nb.open()
        nb.run_all()
        assert not nb.errors(), nb.errors()
    try:
        nb.refresh_cells()
        cell = nb.page.locator(f".jp-OutputArea-child[data-rk-explorer][data-rk-cell='{TARGET_CELL}']")
        if cell.count() == 0:  # explorer made in that cell and shown by a later one
            later = [c["index"] for c in nb.cells if c["index"] > TARGET_CELL
                     and any(o["explorer"] for o in c["outputs"])]
            assert later, f"{TARGET_NB}: cell {TARGET_CELL} makes a 2-D explorer but no output shows one"
            cell = nb.page.locator(f".jp-OutputArea-child[data-rk-explorer][data-rk-cell='{later[0]}']")
        root = cell.first.locator(".jp-OutputArea-output").first
        root.scroll_into_view_if_needed()
        figs = nb.wait_drawn(root)
        assert figs and all(f["drawn"] for f in figs), f"2-D explorer not drawn: {figs}"
        ex = Explorer(nb, root)
        ex.settle()
        yield ex
    finally:
        nb.close()


def _changed(ex: Explorer, before_png: bytes, before_url: str, timeout: float = 15.0) -> tuple[bytes, int]:
    """Wait for the canvas to change from `before_url`, let it settle, return (png, changed pixels)."""
    try:
        ex.page.wait_for_function("([c, u]) => c.toDataURL() !== u", arg=[ex.image.element_handle(), before_url],
                                  timeout=timeout * 1000, polling=50)
    except Exception:
        pass  # reported below as "0 pixels changed"
    ex.settle()
    after = ex.shot()
    return after, pixels_changed(before_png, after)


def test_step_slider_drag_redraws(explorer2d):
    ex = explorer2d
    assert ex.has_slider("step a"), "the 2-D explorer has no 'step a' slider"
    before_png, before_url = ex.shot(), ex.data_url()
    before_value, before_text = ex.value("step a"), ex.text()
    handle = ex.slider("step a").locator(".noUi-handle")
    handle.scroll_into_view_if_needed()
    box = handle.bounding_box()
    x, y = box["x"] + box["width"] / 2, box["y"] + box["height"] / 2
    ex.page.mouse.move(x, y)
    ex.page.mouse.down()
    ex.page.mouse.move(x + 40, y, steps=12)
    ex.page.mouse.up()
    after_png, changed = _changed(ex, before_png, before_url)
    after_value = ex.value("step a")
    assert after_value > before_value, f"dragging the step handle right did not raise the step ({before_value})"
    assert changed > 30, f"step {before_value} -> {after_value}: the figure did not change ({changed} px)"
    assert ex.text() != before_text, "the read-out text did not follow the step"
    m = re.search(r"Step a_k = ([0-9.eE+-]+)", ex.text())
    if m:
        assert float(m.group(1)) == pytest.approx(after_value, rel=2e-3), ex.text()
    (RESULTS / "explorer2d-step-drag.png").write_bytes(after_png)


def test_step_slider_keys_redraw(explorer2d):
    ex = explorer2d
    before_png, before_url = ex.shot(), ex.data_url()
    before_value = ex.value("step a")
    ex.slider("step a").locator(".noUi-handle").focus()
    for _ in range(4):
        ex.page.keyboard.press("ArrowLeft")
    _, changed = _changed(ex, before_png, before_url)
    assert ex.value("step a") < before_value
    assert changed > 30, f"arrow keys on the step slider did not change the figure ({changed} px)"


def test_click_on_plot_moves_start(explorer2d):
    ex = explorer2d
    ex.canvas.scroll_into_view_if_needed()
    box = ex.canvas.bounding_box()
    has_start = ex.has_slider("start x0") and ex.has_slider("start y0")
    starts, changes = [], []
    for fx, fy in [(0.30, 0.62), (0.62, 0.38)]:  # left-low, then right-high, both inside the axes
        before_png, before_url = ex.shot(), ex.data_url()
        before_start = (ex.value("start x0"), ex.value("start y0")) if has_start else None
        ex.page.mouse.click(box["x"] + fx * box["width"], box["y"] + fy * box["height"])
        after_png, changed = _changed(ex, before_png, before_url)
        changes.append(changed)
        if has_start:
            start = (ex.value("start x0"), ex.value("start y0"))
            assert start != before_start, f"click at ({fx}, {fy}) of the plot did not move the start {before_start}"
            starts.append(start)
    assert min(changes) > 30, f"clicks on the plot did not change the figure: {changes} px"
    if has_start:
        (x1, y1), (x2, y2) = starts
        assert x2 > x1 and y2 > y1, f"start sliders do not follow the clicks: {starts}"
    (RESULTS / "explorer2d-click.png").write_bytes(after_png)


def test_play_animates(explorer2d):
    ex = explorer2d
    play = ex.root.locator(".widget-play button").first
    frame = "iterate k" if ex.has_slider("iterate k") else None
    ex.canvas.scroll_into_view_if_needed()
    # The notebook's settings (earlier tests raised the step), then a start high on the right: a
    # long, slow run into the flat minimum, so the marker keeps moving for seconds.
    reset = ex.root.locator("button", has_text=re.compile(r"^\s*reset\s*$"))
    if reset.count():
        reset.first.click()
        ex.settle()
    box = ex.canvas.bounding_box()
    before_png, before_url = ex.shot(), ex.data_url()
    ex.page.mouse.click(box["x"] + 0.85 * box["width"], box["y"] + 0.15 * box["height"])
    _changed(ex, before_png, before_url)
    play.click()
    shots, frames = [], []
    try:
        for _ in range(6):
            ex.page.wait_for_timeout(250)
            shots.append(ex.shot())
            if frame:
                frames.append(ex.readout(frame))
    finally:
        if "fa-pause" in (play.locator("i").get_attribute("class") or ""):
            play.click()  # pause
        if frame:  # back to the last iterate, where a step change shows
            ex.slider(frame).locator(".noUi-handle").focus()
            ex.page.keyboard.press("End")
        ex.settle()
    for k, png in enumerate(shots):
        (RESULTS / f"explorer2d-play-{k}.png").write_bytes(png)
    moving = sum(pixels_changed(a, b) > 30 for a, b in zip(shots, shots[1:], strict=False))
    assert moving >= 3, f"Play: only {moving} of {len(shots) - 1} screenshot pairs 250 ms apart differ"
    if frame:
        assert len(set(frames)) >= 4, f"Play: the iterate read-out did not advance: {frames}"
        last = ex.slider(frame).locator(".noUi-handle").get_attribute("aria-valuemax")
        assert ex.value(frame) == float(last), "End did not bring the iterate back to the last one"


_JS_ARM = r"""
([canvas, handle, timeoutMs]) => {
  const base = canvas.toDataURL();
  window.__rkLatency = new Promise((resolve) => {
    let t0 = null;
    handle.addEventListener('keydown', () => { t0 = performance.now(); }, {once: true, capture: true});
    const start = performance.now();
    const tick = () => {
      const now = performance.now();
      if (t0 !== null && canvas.toDataURL() !== base) { resolve(now - t0); return; }
      if (now - start > timeoutMs) { resolve(null); return; }
      requestAnimationFrame(tick);
    };
    requestAnimationFrame(tick);
  });
}
"""


def test_step_slider_latency(explorer2d):
    """Key press on the step slider -> new pixels on the canvas, over a few dozen moves."""
    ex = explorer2d
    handle = ex.slider("step a").locator(".noUi-handle")
    ex.canvas.scroll_into_view_if_needed()
    ex.page.bring_to_front()
    handle.focus()
    canvas_h, handle_h = ex.image.element_handle(), handle.element_handle()
    samples, missed = [], 0
    for i in range(LATENCY_MOVES + 2):
        ex.page.evaluate(_JS_ARM, [canvas_h, handle_h, 10_000])
        ex.page.keyboard.press("ArrowRight" if i % 2 == 0 else "ArrowLeft")
        ms = ex.page.evaluate("window.__rkLatency")
        ex.settle(quiet=0.25)
        if i < 2:
            continue  # warm-up
        if ms is None:
            missed += 1
        else:
            samples.append(round(ms, 1))
    assert samples, "no key press on the step slider ever changed the canvas"
    q = statistics.quantiles(samples, n=10, method="inclusive") if len(samples) > 1 else samples * 9
    result = {
        "median": statistics.median(samples), "p90": q[8], "n": len(samples), "missed": missed,
        "samples": samples, "target_median_ms": TARGET_MEDIAN_MS, "unit": "ms",
        "what": "key press (ArrowRight/ArrowLeft) on the step slider of the 2-D explorer to the first changed "
                "canvas pixels (rAF loop comparing canvas.toDataURL()), headless Chromium + JupyterLab on localhost",
        "notebook": TARGET_NB, "cell": TARGET_CELL,
        "measured": time.strftime("%Y-%m-%d %H:%M:%S"), "load_average": round(os.getloadavg()[0], 2),
        "cpus": os.cpu_count(),
    }
    (RESULTS / "latency.json").write_text(json.dumps(result, indent=1))
    assert missed == 0, f"{missed} of {LATENCY_MOVES} key presses did not redraw the canvas within 10 s"
