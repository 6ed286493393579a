"""The course website (`make site`, tools/site.py) for notebook 00, opened in Chromium with every
non-file request aborted: the explorer draws from the vendored widget scripts and the saved state;
with JavaScript off the still picture and its caption stand in. Screenshot: results/browser/site-00.png."""

from __future__ import annotations

import base64
import json
import math
import re
import struct
import subprocess
import sys
from pathlib import Path

import pytest
from labdriver import png_stats

pytestmark = pytest.mark.browser
ROOT = Path(__file__).resolve().parents[2]


@pytest.fixture(scope="module")
def site(tmp_path_factory, browser_requirements):
    out = tmp_path_factory.mktemp("site")
    subprocess.run([sys.executable, str(ROOT / "tools" / "site.py"), "site", "--only", "00", "--out", str(out)],
                   check=True, capture_output=True, timeout=600)
    return out


def _offline(page, blocked):
    def route(r):
        if r.request.url.startswith("file://"):
            return r.continue_()
        blocked.append(r.request.url)
        return r.abort()

    page.route("**/*", route)


def test_pages_load_no_widget_script_from_a_cdn_and_pin_versions(site):
    page = (site / "00_start_here.html").read_text()
    scripts = re.findall(r"<script[^>]*\bsrc=['\"]([^'\"]+)", page)
    remote = [s for s in scripts if re.match(r"https?://", s)]
    assert not remote and "vendor/require.js" in scripts and "vendor/mathjax/tex-svg.js" in scripts, scripts
    assert "@*" not in page and "unpkg.com" not in page and "jsdelivr" not in page
    assert "vendor/html-manager/embed-amd.js" in page
    assert {p.name for p in (site / "vendor").iterdir()} == {"html-manager", "require.js", "anywidget", "mathjax"}
    index = (site / "index.html").read_text()
    assert "00_start_here.html" in index and "MB)" in index  # the sequence, with page sizes
    assert "colab.research.google.com/github/reachkit/reachkit/blob/main/notebooks/00_start_here.ipynb" in page



def test_pages_carry_their_pictures_at_1x(site):
    """Backgrounds and still pictures are made at 2x (HiDPI, print); the site halves them: each PNG's
    pixel width is its CSS width (background_size, the still's style width)."""
    page = (site / "00_start_here.html").read_text()
    state = re.search(r'<script type="application/vnd.jupyter.widget-state\+json">(.*?)</script>', page, re.S)
    models = [m["state"] | {"buffers": m.get("buffers", [])} for m in json.loads(state[1])["state"].values()]
    views = [m for m in models if "background_size" in m]
    assert views
    for m in views:
        png = base64.b64decode(next(b["data"] for b in m["buffers"] if b["path"] == ["background"]))
        assert abs(struct.unpack(">I", png[16:20])[0] - m["background_size"][0]) <= 1
    stills = re.findall(r"<figure[^>]*rk-still[^>]*>\s*<img([^>]*)>", page)  # nbconvert rewrites the quotes
    assert stills
    for img in stills:
        b64, css = re.search(r"base64,([A-Za-z0-9+/=]+)", img)[1], re.search(r"width:(\d+)px", img)[1]
        assert abs(struct.unpack(">I", base64.b64decode(b64)[16:20])[0] - int(css)) <= 1


def test_offline_the_explorer_draws_and_the_still_hides(site, browser, results_dir):
    page = browser.new_page(viewport={"width": 1200, "height": 900})
    blocked = []
    try:
        _offline(page, blocked)
        page.goto((site / "00_start_here.html").as_uri())
        canvas = page.locator(".rk-view canvas.rk-paths").first
        canvas.wait_for(state="visible", timeout=30_000)
        page.wait_for_timeout(500)
        shot = canvas.screenshot()
        (results_dir / "site-00.png").write_bytes(shot)
        assert png_stats(shot)["std"] > 3, "the explorer's canvas is blank"
        assert [s for s in page.locator(".rk-still").all() if s.is_visible()] == []  # no picture twice
        assert not blocked, blocked  # nothing wanted the network
        # the formulas are typeset by the vendored MathJax: no TeX source left in the text
        page.locator("mjx-container").first.wait_for(state="attached", timeout=30_000)
        assert page.locator("mjx-container").count() >= 5
        prose = " ".join(page.locator(".jp-MarkdownCell").all_inner_texts())
        assert "\\lambda" not in prose and "\\frac" not in prose and "$" not in prose
    finally:
        page.close()


def test_with_javascript_off_the_still_picture_and_caption_show(site, browser):
    context = browser.new_context(java_script_enabled=False)
    page = context.new_page()
    try:
        _offline(page, [])
        page.goto((site / "00_start_here.html").as_uri())
        shown = [s for s in page.locator(".rk-still").all() if s.is_visible()]
        assert shown, "no still picture visible with JavaScript off"
        assert all(s.locator("figcaption").inner_text().strip() for s in shown)
        assert all(s.locator("img").evaluate("(i) => i.naturalWidth") > 100 for s in shown)
    finally:
        context.close()


def test_offline_the_site_page_replays_the_saved_runs_and_marks_the_rest_inactive(site, browser):
    """No kernel: one note; the step slider walks the saved fan and the status line is the shown run's
    own (a diverging step says diverged, and its f read-out blows up); the Python controls are inert."""
    from labdriver import _JS_VIEW_HELPERS, record_measurement

    page = browser.new_page(viewport={"width": 1200, "height": 900})
    try:
        _offline(page, [])
        page.goto((site / "00_start_here.html").as_uri())
        view = page.locator(".rk-view").first
        view.locator(".rk-nokernel").wait_for(state="visible", timeout=30_000)
        notes = [n for n in page.locator(".rk-nokernel").all() if n.is_visible()]
        assert len(notes) == page.locator(".rk-view").count()
        box = page.locator(".rk-explorer.rk-no-kernel").first
        inert = box.locator(":is(input, select, button):not(.rk-view *)")
        assert inert.count() >= 3 and all(c.get_attribute("aria-disabled") == "true" for c in inert.all())
        panel = box.locator(".rk-controls").first
        assert float(panel.evaluate("(p) => getComputedStyle(p).opacity")) < 1
        readouts = box.locator(".rk-readouts .rk-readout")
        slider, status = view.locator("input.rk-step"), view.locator(".rk-status")
        readout = view.locator(".rk-frame-readout")
        anyway = view.get_by_role("button", name="show anyway")
        if anyway.is_visible():  # the explorer waits for a guess (rk.predict): answered in the page, no kernel
            anyway.click()
        seen = {}
        for end in ("0", slider.get_attribute("max")):
            slider.evaluate("(s, i) => { s.value = i; s.dispatchEvent(new Event('input', {bubbles: true})); }", end)
            view.locator("input.rk-scrubber").evaluate(
                "(s) => { s.value = s.max; s.dispatchEvent(new Event('input', {bubbles: true})); }")
            f = [float(v) for v in re.findall(r"f = ([-+0-9.eInfity]+)", readout.inner_text())]
            seen[end] = (status.inner_text(), f)
            # the Python read-outs panel is the shown run's: its step, and that step against 2/sharpness
            used = float(re.search(r"Step a_k = ([-+0-9.e]+)", readouts.inner_text()).group(1))
            assert used == pytest.approx(float(view.locator("input.rk-stepbox").input_value()), rel=1e-3)
            seen[end] += ("ABOVE" in readouts.inner_text(),)
        (small, f_small, above_small), (large, f_large, above_large) = seen.values()
        assert "converged" in small and "diverged" in large, seen
        assert not above_small and above_large, seen
        assert not all(map(math.isfinite, f_large)) or max(f_large) > 1e6 > max(f_small), seen
        page.evaluate(_JS_VIEW_HELPERS)
        view.locator(".rk-speed input").evaluate(
            "(s) => { s.value = '60'; s.dispatchEvent(new Event('input', {bubbles: true})); }")
        slider.evaluate("(s) => { s.value = '0'; s.dispatchEvent(new Event('input', {bubbles: true})); }")
        view.get_by_role("button", name="Rewind", exact=True).click()
        view.get_by_role("button", name="Play", exact=True).click()
        page.wait_for_timeout(300)
        counted = view.locator("canvas.rk-paths").evaluate("(c, label) => window.__rkView.count(c, 1200, label)",
                                                           readout.element_handle())
        # 1.2 s from iterate ~18, while the iterate still moves: new frames count canvas changes, and later
        # in this converging run the iterate moves less than a pixel per step (over 3 s: 25.6 new frames/s
        # for 52.6 iterates drawn/s; over these 1.2 s every frame is new, 60.8/s, on an idle machine)
        m = record_measurement("site-play", {"new_frames_per_s": round(counted["changes"] / counted["seconds"], 1),
                                             "iterates_drawn_per_s": round(counted["advances"] / counted["seconds"], 1),
                                             "display_frames_per_s": round(counted["ticks"] / counted["seconds"], 1),
                                             "speed_setting": 60}, "notebook 00 on the course website, offline, "
                                            "the smallest saved step")
        assert m["new_frames_per_s"] > 5 and m["iterates_drawn_per_s"] > 5, m
    finally:
        page.close()
