"""The explorer-specific part of the hub and Voila tests, in one place: swap the selectors here
when the explorer's view changes (today: an ipympl canvas or a PNG image, ipywidgets sliders and
an ipywidgets Play button).
"""

from __future__ import annotations

import re
import time

from labdriver import looks_drawn, pixels_changed, png_stats

FIGURE = ".jupyter-matplotlib-canvas-div, .widget-image"
PLAY = ".widget-play button"
SLIDER = ".widget-slider"


def explorer_roots(page):
    """Every output that shows an explorer (a figure and a Play button), in page order."""
    return page.locator(".jp-OutputArea-output").filter(has=page.locator(PLAY)).filter(
        has=page.locator(FIGURE)).all()


def _slider(root, label: str):
    lab = root.page.locator("label.widget-label", has_text=re.compile(rf"^\s*{re.escape(label)}\s*$"))
    return root.locator(SLIDER).filter(has=lab).first


def _readout(root, label: str) -> str:
    return _slider(root, label).locator(".widget-readout").inner_text().strip()


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


def check_explorer(root, *, step_slider: bool = False, timeout: float = 60.0) -> dict:
    """Assert that the explorer in ``root`` is drawn, that Play animates it and (``step_slider``)
    that arrow keys on its step slider redraw it. Returns what was seen."""
    figure = root.locator(FIGURE).first
    figure.scroll_into_view_if_needed()
    deadline = time.monotonic() + timeout
    while not looks_drawn(stats := png_stats(_shot(figure))):
        assert time.monotonic() < deadline, f"the explorer's figure never drew: {stats}"
        time.sleep(0.5)
    seen = {"figure": stats}

    play = root.locator(PLAY).first
    frames, shots = [], []
    play.click()
    try:
        for _ in range(6):
            root.page.wait_for_timeout(200)
            shots.append(_shot(figure))
            frames.append(_readout(root, "iterate k"))
    finally:
        if "fa-pause" in (play.locator("i").get_attribute("class") or ""):
            play.click()
    moving = sum(pixels_changed(a, b) > 30 for a, b in zip(shots, shots[1:], strict=False))
    assert len(set(frames)) >= 3, f"Play: the iterate read-out did not advance: {frames}"
    assert moving >= 2, f"Play: only {moving} of {len(shots) - 1} screenshot pairs 200 ms apart differ"
    seen["play"] = {"frames": frames, "changed_pairs": moving}

    if step_slider:
        before_value, before = _readout(root, "step a"), _shot(figure)
        _slider(root, "step a").locator(".noUi-handle").focus()
        for _ in range(4):
            root.page.keyboard.press("ArrowRight")
        changed = _wait_change(figure, before)
        after_value = _readout(root, "step a")
        assert float(after_value) > float(before_value), f"step slider keys: {before_value} -> {after_value}"
        assert changed > 30, f"step {before_value} -> {after_value}: the figure did not change ({changed} px)"
        seen["step"] = {"before": before_value, "after": after_value, "changed_px": changed}
    return seen
