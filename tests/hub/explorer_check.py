"""The explorer-specific part of the hub and Voila tests, in one place: swap the selectors here
when the explorer's view changes. Two views are known:

- ``ipywidgets``: today's explorer, an ipympl canvas (or a PNG image) with ipywidgets sliders
  ("iterate k", "step a") and an ipywidgets Play button;
- ``anywidget``: the browser-drawn ExplorerView (reachkit/view.py, reachkit/static/view.js): a
  ``.rk-figure`` with a ``.rk-scrubber``, a Play button and a ``.rk-step`` slider of its own.
"""

from __future__ import annotations

import re
import time

from labdriver import looks_drawn, pixels_changed, png_stats

VIEWS = {
    "anywidget": {"root": ".rk-view", "figure": ".rk-figure", "play": ".rk-transport button[aria-label=Play]"},
    "ipywidgets": {"root": ".widget-play", "figure": ".jupyter-matplotlib-canvas-div, .widget-image",
                   "play": ".widget-play button"},
}


def explorer_roots(page):
    """Every output that shows an explorer (a figure and a Play button): anywidget views first."""
    outputs = page.locator(".jp-OutputArea-output")
    found = []
    for sel in VIEWS.values():
        found += outputs.filter(has=page.locator(sel["root"])).filter(has=page.locator(sel["figure"])).all()
    return found


def _kind(root) -> str:
    return "anywidget" if root.locator(VIEWS["anywidget"]["root"]).count() else "ipywidgets"


def _slider(root, label: str):
    lab = root.page.locator("label.widget-label", has_text=re.compile(rf"^\s*{re.escape(label)}\s*$"))
    return root.locator(".widget-slider").filter(has=lab).first


def _frame(root, kind: str) -> str:
    """The iterate shown now."""
    if kind == "anywidget":
        return root.locator(".rk-scrubber").first.input_value()
    return _slider(root, "iterate k").locator(".widget-readout").inner_text().strip()


def _step(root, kind: str):
    """(the step in use as text, the element that takes arrow keys)."""
    if kind == "anywidget":
        return root.locator(".rk-stepbox").first.input_value(), root.locator(".rk-step").first
    s = _slider(root, "step a")
    return s.locator(".widget-readout").inner_text().strip(), s.locator(".noUi-handle")


def _shot(figure) -> bytes:
    return figure.screenshot(animations="disabled", caret="hide")


def _wait_change(figure, before: bytes, timeout: float = 15.0) -> int:
    deadline = time.monotonic() + timeout
    changed = 0
    while time.monotonic() < deadline and changed <= 30:
        time.sleep(0.25)
        changed = pixels_changed(before, _shot(figure))
    time.sleep(0.5)  # let the last redraw land
    return changed


def _is_playing(play, kind: str) -> bool:
    if kind == "anywidget":
        return play.get_attribute("aria-label") == "Pause"
    return "fa-pause" in (play.locator("i").get_attribute("class") or "")


def check_explorer(root, *, step_slider: bool = False, timeout: float = 60.0) -> dict:
    """Assert that the explorer in ``root`` is drawn, that Play animates it and (``step_slider``)
    that arrow keys on its step slider redraw it. Returns what was seen."""
    kind = _kind(root)
    sel = VIEWS[kind]
    figure = root.locator(sel["figure"]).first
    figure.scroll_into_view_if_needed()
    deadline = time.monotonic() + timeout
    while not looks_drawn(stats := png_stats(_shot(figure))):
        assert time.monotonic() < deadline, f"the explorer's figure ({kind}) never drew: {stats}"
        time.sleep(0.5)
    seen = {"view": kind, "figure": stats}

    veil = root.locator(".rk-veil")
    if kind == "anywidget" and veil.count() and veil.first.is_visible():
        # an explorer that waits for a guess (rk.predict): what is checked here is the explorer itself
        veil.first.get_by_role("button", name="show anyway").click()
    play = root.locator(sel["play"]).first
    frames, shots = [], []
    play.click()
    try:
        for _ in range(6):
            root.page.wait_for_timeout(200)
            shots.append(_shot(figure))
            frames.append(_frame(root, kind))
    finally:
        if _is_playing(play, kind):
            play.click()
    moving = sum(pixels_changed(a, b) > 30 for a, b in zip(shots, shots[1:], strict=False))
    assert len(set(frames)) >= 3, f"Play ({kind}): the iterate did not advance: {frames}"
    assert moving >= 2, f"Play ({kind}): only {moving} of {len(shots) - 1} screenshot pairs 200 ms apart differ"
    seen["play"] = {"frames": frames, "changed_pairs": moving}

    if step_slider:
        (before_value, handle), before = _step(root, kind), _shot(figure)
        handle.focus()
        for _ in range(4):
            root.page.keyboard.press("ArrowRight")
        changed = _wait_change(figure, before)
        after_value = _step(root, kind)[0]
        assert float(after_value) > float(before_value), f"step slider keys ({kind}): {before_value} -> {after_value}"
        assert changed > 30, f"step {before_value} -> {after_value}: the figure did not change ({changed} px)"
        seen["step"] = {"before": before_value, "after": after_value, "changed_px": changed}
    return seen


def wait_voila_rendered(page, t0: float, timeout: float = 180.0) -> float:
    """Voila renders cells as they run: wait for the last cell's outputs (no change for 3 s);
    return the seconds from ``t0`` (page opened) to the last change."""
    deadline = t0 + timeout
    page.wait_for_selector("#rendered_cells", state="visible", timeout=180_000)
    count = "() => document.querySelectorAll('#rendered_cells .jp-Cell, #rendered_cells .jp-OutputArea-output').length"
    last, since = -1, time.monotonic()
    while time.monotonic() < deadline:
        n = page.evaluate(count)
        if n != last:
            last, since = n, time.monotonic()
        elif time.monotonic() - since > 3.0 and explorer_roots(page):
            return round(since - t0, 1)
        time.sleep(0.25)
    raise TimeoutError(f"the Voila page was still changing after the deadline ({last} cells and outputs)")
