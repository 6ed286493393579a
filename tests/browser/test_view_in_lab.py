"""The explorer view alone in JupyterLab + headless Chromium, on synthetic closed-form runs
(``tests/browser/synthetic/90_view_demo.ipynb``: :func:`reachkit.explorers.view.demo`, GD on (x^2 + 8 y^2) / 2).

What a user does: Play, Pause, Rewind, the keyboard, a drag and arrow keys on the step slider, a typed
step, a click on the plot; what must follow: new pixels, the exact step, the status line, no kernel
message during Play, accessible names. The speeds are measured and written to
``results/browser/synthetic-{play,drag,latency}.json`` (``benchmarks/bench_browser.py`` prints them); the tests
assert behaviour, never a speed.
"""

from __future__ import annotations

import re
import time

import pytest
from labdriver import LabNotebook, ViewDriver, record_measurement

pytestmark = pytest.mark.browser

NOTEBOOK, FOLDER = "90_view_demo.ipynb", "synthetic"


@pytest.fixture(scope="module")
def demo_page(browser, lab, results_dir):
    nb = LabNotebook(browser, lab, NOTEBOOK, folder=FOLDER)
    try:
        nb.open()
        nb.run_all()
        assert not nb.errors(), nb.errors()
        nb.page.wait_for_selector(".rk-view canvas", timeout=60_000)
        yield nb
    finally:
        nb.close()


@pytest.fixture
def view(demo_page):
    """The first demo view (2-D, 400 iterates), settled at the step it started with."""
    outputs = demo_page.page.locator(".jp-OutputArea-output:has(.rk-view)")
    v = ViewDriver(demo_page, outputs.first)
    v.root.scroll_into_view_if_needed()
    v.settle()
    return v


def test_every_view_draws_and_the_stills_stay_hidden(demo_page):
    figs = demo_page.wait_drawn(demo_page.page.locator(".jp-Notebook"))
    views = [f for f in figs if f["kind"] == "view"]
    assert len(views) == 3 and all(f["drawn"] for f in views), figs
    stills = demo_page.page.locator(".rk-still")
    assert stills.count() == 1 and not stills.first.is_visible(), "the still picture shows beside a live view"
    demo_page.page.wait_for_timeout(3000)  # longer than the view waits for the kernel's answer (view.js, PING_MS)
    taken_for_none = demo_page.page.locator(".rk-view.rk-no-kernel, .rk-nokernel:visible")
    assert demo_page.page.locator(".rk-view").count() == 3
    assert taken_for_none.count() == 0, "a live kernel taken for none"
    assert not demo_page.background_errors(), demo_page.background_errors()


def test_accessible_names(view):
    for name in ("Rewind", "Play"):
        assert view.button(name).count() == 1, f"no button named {name!r}"
    assert view.figure.get_attribute("role") == "img"
    assert "GD path from (1.6, 0.9)" in view.figure.get_attribute("aria-label")
    assert view.status.get_attribute("role") == "status" and view.status.get_attribute("aria-live") == "polite"
    assert view.step_slider.get_attribute("aria-label") == "step a"
    assert view.step_slider.get_attribute("aria-valuetext") == f"step {view.step()}"
    view.button("Play").click()
    assert view.button("Pause").count() == 1 and view.button("Play").count() == 0
    view.button("Pause").click()
    view.settle()


def test_typed_step_is_used_exactly(view):
    status = view.type_step("0.13")  # a fan position: drawn at once
    assert status == "GD with step 0.13: converges to the minimum"
    assert view.step_slider.get_attribute("aria-valuetext") == "step 0.13" and view.step() == "0.13"
    status = view.type_step("0.1234")  # between positions: the kernel computes it exactly
    assert status == "GD with step 0.1234: converges to the minimum"
    assert view.step() == "0.1234" and "with step 0.1234" in view.figure.get_attribute("aria-label")
    status = view.type_step("0.15625")
    assert status == "GD with step 0.1562: converges to the minimum" and view.step() == "0.15625"
    assert view.type_step("0.3") == "GD with step 0.3: diverges (a > 2/λ)"
    view.type_step("0.0802")


def test_play_draws_in_the_browser_without_kernel_messages(view):
    """5 s of Play: frames change, and not one kernel message (websocket frame or comm message).
    A small step keeps the path moving for all 400 iterates (x_k = 1.6 * 0.996^k)."""
    assert view.type_step("0.004").startswith("GD with step 0.004:")
    m = view.measure_play(seconds=5.0, speed=60)
    record_measurement("synthetic-play", m, explorer=f"{FOLDER}/{NOTEBOOK}, first view (synthetic runs)")
    assert m["still_playing_at_end"], f"Play stopped before the 5 s were over: {m}"
    assert m["new_frames_per_s"] > 5 and m["iterates_drawn_per_s"] > 5, f"Play did not animate the canvas: {m}"
    assert m["websocket_frames"] == 0 and m["kernel_messages"] == 0, f"kernel traffic during Play: {m}"
    assert m["status_changes"] == 0, f"the live region changed during Play: {m}"
    view.type_step("0.0802")


def test_reduced_motion_shows_the_whole_path(view, demo_page):
    demo_page.append_and_run("view.reduced_motion = True")
    try:
        view.button("Rewind").click()
        view.settle()
        assert view.readout.text_content().startswith("iterate 400 of 400"), view.readout.text_content()
        before = view.checksum()
        view.button("Play").click()
        time.sleep(0.5)
        assert view.button("Play").count() == 1 and view.checksum() == before, "Play animated under reduced motion"
    finally:
        demo_page.append_and_run("view.reduced_motion = False")
    assert not demo_page.errors(), demo_page.errors()


def test_play_to_the_end_tells_the_kernel_the_frame(view, demo_page):
    view.set_speed(60)
    view.button("Rewind").click()
    view.scrubber.evaluate("(s) => { s.value = String(Number(s.max) - 30); s.dispatchEvent(new Event('input'));"
                           " s.dispatchEvent(new Event('change')); }")
    view.settle()
    view.button("Play").click()
    time.sleep(1.5)
    view.settle()
    assert view.button("Play").count() == 1, "Play did not stop at the last iterate"
    assert view.readout.text_content().startswith("iterate 400 of 400")
    demo_page.append_and_run("assert (view.frame, view.playing) == (400, False), (view.frame, view.playing)")
    assert not demo_page.errors(), demo_page.errors()


def test_keyboard_space_plays_and_arrows_step_the_scrubber(view):
    view.root.focus()
    view.page.keyboard.press("Space")
    assert view.button("Pause").count() == 1
    view.page.keyboard.press("Space")
    assert view.button("Play").count() == 1
    view.root.focus()
    k = int(view.scrubber.input_value())
    view.page.keyboard.press("ArrowLeft")
    view.page.keyboard.press("ArrowLeft")
    view.page.keyboard.press("ArrowRight")
    expected = max(0, k - 2) + 1
    assert int(view.scrubber.input_value()) == expected
    assert view.readout.text_content().startswith(f"iterate {expected} of 400")


def test_step_drag_swaps_runs_in_the_browser(view):
    """A drag over all 40 positions of the step slider in 1 s: each position crossed is a new picture."""
    view.type_step("0.02")  # the first position
    before = view.checksum()
    mouse = view.measure_drag(seconds=1.0)
    assert mouse["positions_crossed"] == 39 and mouse["new_frames"] >= 20, mouse
    assert view.checksum() != before
    sweep = view.measure_sweep(seconds=3.0)
    record_measurement("synthetic-drag", {"display_rate_drag": sweep, "mouse_drag": mouse},
                       explorer=f"{FOLDER}/{NOTEBOOK}, first view (synthetic runs, 40 positions)")
    assert sweep["new_frames_per_s"] > 2, sweep
    view.type_step("0.0802")


def test_arrow_key_on_step_slider_redraws(view):
    m = view.measure_step_latency(moves=30)
    record_measurement("synthetic-latency", m, explorer=f"{FOLDER}/{NOTEBOOK}, first view (synthetic runs)")
    assert m["missed"] == 0 and len(m["samples"]) == 30, m


def test_click_sets_the_start_at_once_and_the_kernel_follows(view, demo_page):
    box = view.figure.bounding_box()
    before = view.checksum()
    # (x, y) = (-1, 0.75): 1/4 across the axes (80..576 of 640 px), 1/4 down (57.6..427.2 of 480 px)
    scale = box["width"] / 640
    view.page.mouse.click(box["x"] + (80 + 0.25 * 496) * scale, box["y"] + (57.6 + 0.25 * 369.6) * scale)
    assert view.checksum() != before  # the start marker moved before any answer
    view.settle()
    m = re.search(r"GD path from \(([-0-9.e]+), ([-0-9.e]+)\)", view.figure.get_attribute("aria-label"))
    assert m and float(m.group(1)) == pytest.approx(-1, abs=0.02) and float(m.group(2)) == pytest.approx(0.75, abs=0.02)
    demo_page.append_and_run("assert abs(view.start[0] + 1) < 0.01 and abs(view.start[1] - 0.75) < 0.01, view.start")
    assert not demo_page.errors(), demo_page.errors()
