"""Each explorer drawn in the browser next to its matplotlib export at the same settings.

The view's state (scene data, axes PNG, runs) is shown in a plain page (viewpage.py: the view's own
ES module, no JupyterLab, no kernel), screenshotted at 2x and put beside ``ex.png()``, the whole
picture drawn by matplotlib at the screenshot's size, in
``results/browser/scene-<explorer>-<style>-<viewport>.png``: normal and lecture style, 1024x768
and 1280x720. The test asserts that the screen looks like the export: same aspect, and inside the
axes the screen is much closer to the export (mean grey-level difference) than the export's own axes
without the landscape are (the paths are drawn differently -- a faint line and a fading trail on
screen, dots in the export -- and text is rasterised at another scale, so the difference is not zero).
"""

from __future__ import annotations

import io

import pytest
from PIL import Image, ImageChops, ImageStat
from viewpage import page_html

import reachkit as rk
from reachkit import eos_explorer, landscapes
from reachkit.explorers import background

pytestmark = pytest.mark.browser

EXPLORERS = {
    "explore-2d": lambda lecture: rk.explore(landscapes.sharp_flat_2d(), start=(-0.7, 1.2), step=0.04,
                                             n_steps=300, lecture=lecture, basins=True, basin_resolution=48),
    "explore-1d": lambda lecture: rk.explore(landscapes.sharp_flat_double_well(), step=0.05, n_steps=200,
                                             basins=True, bifurcation=True, lecture=lecture),
    "reach": lambda lecture: rk.explore_reach(landscapes.sharp_flat_double_well(), step=0.04, lecture=lecture),
    "adaptive": lambda lecture: eos_explorer.explore_adaptive(landscapes.sharp_flat_2d(), method="adam", lr=0.2,
                                                              start=(-1.2, 0.2), lecture=lecture),
}
VIEWPORTS = {"1024x768": (1024, 768), "1280x720": (1280, 720)}
CLOSER = 0.5  # the screen's difference from the export, at most this share of a landscape-less picture's
# In 1-D the landscape is one curve (few pixels) and the path lies on it, drawn as a line with a fading
# trail on screen and as dots in the export (by design): the path is then a larger part of the difference.
CLOSER_1D = 0.65


def _settled(make, lecture):
    ex = make(lecture)
    ex.model.wait()
    ex._push({"runs", "fan", "background"})  # what the worker computed, as the explorer shows it
    ex.view.reduced_motion = True  # the whole path, as the export draws it
    return ex


@pytest.mark.parametrize("lecture", [False, True], ids=["normal", "lecture"])
@pytest.mark.parametrize("name", list(EXPLORERS))
def test_the_screen_looks_like_the_export(browser, results_dir, name, lecture):
    ex = _settled(EXPLORERS[name], lecture)
    style = "lecture" if lecture else "normal"
    for vp, (w, h) in VIEWPORTS.items():
        page = browser.new_page(viewport={"width": w, "height": h}, device_scale_factor=2)
        errors = []
        page.on("pageerror", lambda e: errors.append(str(e)))  # noqa: B023 (read before the page closes)
        try:
            page.set_content(page_html(ex.view, width=min(640, w - 380)))
            page.wait_for_function("window.rkReady && document.querySelector('canvas.rk-scene').dataset.scene")
            page.wait_for_timeout(100)
            shot = Image.open(io.BytesIO(page.locator(".rk-figure").screenshot())).convert("RGB")
        finally:
            page.close()
        assert not errors, errors
        # the export at the screenshot's pixel size (no resampling of one of them): dpi = px / inches
        export = Image.open(io.BytesIO(ex.png(dpi=round(shot.width / ex.view.background_size[0] * 100))))
        same = export.convert("RGB").resize(shot.size, Image.LANCZOS)
        side = Image.new("RGB", (2 * shot.width + 16, shot.height), "white")
        side.paste(shot, (0, 0))
        side.paste(same, (shot.width + 16, 0))
        side.save(results_dir / f"scene-{name}-{style}-{vp}.png")
        assert abs(shot.width / shot.height - export.width / export.height) < 0.01, (shot.size, export.size)
        # inside the main axes (the frame around it is the same matplotlib PNG in both), at 1/2 CSS size
        # (the shapes, not the anti-aliasing); an export without the landscape must differ far more
        k = shot.width / ex.view.background_size[0]
        box = [round(v * k) for v in ex.view.axes_box]
        diff, blank = (_difference(shot, other, box) for other in (same, _frame_only(ex, shot.size)))
        print(f"{name} {style} {vp}: {diff:.2f} (frame only: {blank:.2f})")
        closer = CLOSER_1D if len(ex.model.start) == 1 else CLOSER
        assert diff < closer * blank, (f"{name} {style} {vp}: screen and export differ by {diff:.1f} grey levels, "
                                       f"an export without the landscape by {blank:.1f}")


def _difference(a, b, box) -> float:
    """Mean grey-level difference of two pictures inside ``box``, both shrunk to a quarter."""
    crops = [im.convert("L").crop(box) for im in (a, b)]
    size = (max(1, crops[0].width // 4), max(1, crops[0].height // 4))
    return ImageStat.Stat(ImageChops.difference(*(c.resize(size, Image.LANCZOS) for c in crops))).mean[0]


def _frame_only(ex, size):
    """The export's axes, ticks and title without the landscape (what a view that drew no scene shows)."""
    fig, _, _ = background.frame(ex.model.static_layer(), ex.lecture)
    buf = io.BytesIO()
    fig.savefig(buf, format="png", dpi=size[0] / fig.bbox.width * 100)
    return Image.open(buf).convert("RGB").resize(size, Image.LANCZOS)
