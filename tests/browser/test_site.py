"""The course website (`make site`, tools/site.py) for notebook 00, opened in Chromium with every
non-file request aborted: the explorer draws from the vendored widget scripts and the saved state;
with JavaScript off the still picture and its caption stand in. Screenshot: results/browser/site-00.png."""

from __future__ import annotations

import re
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
    remote = [s for s in scripts if re.match(r"https?://", s) and "mathjax" not in s]
    assert not remote and "vendor/require.js" in scripts, scripts
    assert "@*" not in page and "unpkg.com" not in page and "jsdelivr" not in page
    assert "vendor/html-manager/embed-amd.js" in page
    assert {p.name for p in (site / "vendor").iterdir()} == {"html-manager", "require.js", "anywidget"}
    index = (site / "index.html").read_text()
    assert "00_start_here.html" in index and "MB)" in index  # the sequence, with page sizes
    assert "colab.research.google.com/github/reachkit/reachkit/blob/main/notebooks/00_start_here.ipynb" in page


def test_offline_the_explorer_draws_and_the_still_hides(site, browser, results_dir):
    page = browser.new_page(viewport={"width": 1200, "height": 900})
    blocked = []
    try:
        _offline(page, blocked)
        page.goto((site / "00_start_here.html").as_uri())
        canvas = page.locator(".rk-view canvas").first
        canvas.wait_for(state="visible", timeout=30_000)
        page.wait_for_timeout(500)
        shot = canvas.screenshot()
        (results_dir / "site-00.png").write_bytes(shot)
        assert png_stats(shot)["std"] > 3, "the explorer's canvas is blank"
        assert [s for s in page.locator(".rk-still").all() if s.is_visible()] == []  # no picture twice
        assert not [u for u in blocked if "mathjax" not in u], blocked  # nothing else wanted the network
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
