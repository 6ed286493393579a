"""The landscape sent as data (reachkit/explorers/scene.py) and drawn in the browser (static/scene.js):
the grid values against the formula, the contour levels and grey bands the export uses too, the basin
index grid, one message for a parameter change (scene and runs together, no new axes PNG), and the
marching-squares contour of a circle, run under node."""

from __future__ import annotations

import json
import pathlib
import shutil
import subprocess

import numpy as np
import pytest

import reachkit as rk
from reachkit import landscapes, plotting
from reachkit.explorers import background, runs, scene

SCENE_JS = pathlib.Path(rk.__file__).parent / "static" / "scene.js"


def _f32(buf) -> np.ndarray:
    return np.frombuffer(bytes(buf), dtype="<f4")


def test_surface_grid_is_log_one_plus_f_minus_min_from_the_formula():
    """saddle(): f(x, y) = x^2/2 + y^4/4 - y^2/2 on the bounds, 160 x 120 points, row j at y_j."""
    ls = landscapes.saddle()
    s = scene.build(runs.StaticLayer(ls, [], title=ls.name))["surface"]
    (x0, x1), (y0, y1) = ls.bounds
    xs, ys = np.linspace(x0, x1, s["nx"]), np.linspace(y0, y1, s["ny"])
    f = np.array([[x * x / 2 + y**4 / 4 - y * y / 2 for x in xs] for y in ys])
    expected = np.log1p(f - f.min())
    assert (s["nx"], s["ny"]) == (160, 120) and s["x"] == [x0, x1] and s["y"] == [y0, y1]
    np.testing.assert_allclose(_f32(s["z"]).reshape(120, 160), expected, rtol=1e-6, atol=1e-6)


def test_levels_span_the_values_and_bands_are_the_grey_ramp_at_their_middles():
    ls = landscapes.saddle()
    s = scene.build(runs.StaticLayer(ls, [], title=ls.name))["surface"]
    z, lev = _f32(s["z"]), np.array(s["levels"])
    assert lev[0] <= z.min() and lev[-1] >= z.max() and np.all(np.diff(lev) > 0) and 10 <= len(lev) <= 25
    grey = lambda t: 255 - t * (255 - 0x8c)  # LANDSCAPE_CMAP: white -> #8c8c8c  # noqa: E731
    mids = ((lev[:-1] + lev[1:]) / 2 - lev[0]) / (lev[-1] - lev[0])
    got = [int(b[1:3], 16) for b in s["bands"]]
    np.testing.assert_allclose(got, grey(mids), atol=1.01)


def test_the_export_draws_the_same_levels_and_the_frame_has_the_exports_axes():
    """Screen and export share the layout: the frame's axes box is the export's, and its contours
    are at the scene's levels."""
    ls = landscapes.sharp_flat_2d(sharp=30.0)
    layer = runs.StaticLayer(ls, [("gd", "GD", "#0072B2")], title=ls.name)
    fig, ax = background.figure(layer)
    data = scene.build(layer)
    np.testing.assert_allclose(ax.collections[0].levels, data["surface"]["levels"])
    frame = background.render(layer)
    fig.canvas.draw()
    h = fig.bbox.height
    x0, y0, x1, y1 = ax.bbox.extents
    np.testing.assert_allclose(frame["axes_box"], [x0, h - y1, x1, h - y0])
    assert frame["limits"] == list(scene.build_limits(ls)) == [*ls.bounds[0], *ls.bounds[1]]


def test_basins_travel_as_an_index_grid_with_one_colour_per_outcome():
    ex = rk.explore(landscapes.sharp_flat_double_well(), step=0.05, n_steps=60, basins=True)
    ex.model.wait()
    ex._push({"background"})
    m, bm = ex.view.scene["basins"], ex.model.basin_map
    assert (m["ny"], m["nx"]) == (1, bm.labels.size)
    np.testing.assert_array_equal(np.frombuffer(bytes(m["index"]), np.uint8), bm.labels.ravel())
    assert m["colors"] == [scene.to_hex(c) for c in plotting.basin_colors(ex.model.landscape, bm.names)]
    assert m["x"] == [bm.xs[0], bm.xs[-1]] and not m["pending"]
    shares = {e["label"] for e in ex.view.scene["legend"]["entries"] if e["kind"] == "patch"}
    assert shares == {f"{n} {f:.0%}" for n, f in bm.shares(0.005)}


def test_a_parameter_change_sends_scene_and_runs_in_one_message_and_keeps_the_axes_png():
    ex = rk.explore(landscapes.sharp_flat_2d(), start=(-0.7, 1.2), step=0.04, n_steps=100)
    sent = []
    ex.view.send_state = lambda key=None: sent.append(set(key) if key is not None else {"*"})
    assert ex.set(sharp=30.0)
    messages = [keys for keys in sent if "scene" in keys or "runs" in keys]
    assert len(messages) == 1 and {"scene", "runs"} <= messages[0], sent
    assert "background" not in messages[0]  # the axes do not move with "sharp": the PNG stays
    fresh = scene.build(runs.StaticLayer(landscapes.sharp_flat_2d(sharp=30.0), [], title=""))
    np.testing.assert_array_equal(_f32(ex.view.scene["surface"]["z"]), _f32(fresh["surface"]["z"]))


def test_the_1d_axes_png_is_sent_again_when_the_graphs_limits_change():
    ex = rk.explore(landscapes.sharp_flat_double_well(), step=0.05, n_steps=60)
    before = ex.view.limits
    sent = []
    ex.view.send_state = lambda key=None: sent.append(set(key or ()))
    ex.set(sharp=60.0)
    assert ex.view.limits != before and any({"background", "scene", "runs"} <= k for k in sent), sent
    assert ex.view.limits == list(scene.build_limits(ex.model.landscape))


@pytest.mark.skipif(shutil.which("node") is None, reason="node is not installed")
def test_marching_squares_contour_of_a_circle_lies_on_it_within_a_cell():
    """scene.js under node: f = x^2 + y^2 on a 41 x 31 grid over [-2, 2] x [-1.5, 1.5], level r^2:
    every segment end is within a grid cell of the circle of radius r, and the contour's length is
    2 pi r to 1 %."""
    r, nx, ny = 1.1, 41, 31
    script = f"""
    const vm = require("vm"), fs = require("fs"), ctx = {{}};
    vm.createContext(ctx);
    vm.runInContext(fs.readFileSync({json.dumps(str(SCENE_JS))}, "utf8"), ctx);
    const nx = {nx}, ny = {ny}, z = new Float32Array(nx * ny);
    const X = (i) => -2 + 4 * i / (nx - 1), Y = (j) => -1.5 + 3 * j / (ny - 1);
    for (let j = 0; j < ny; j++) for (let i = 0; i < nx; i++) z[j * nx + i] = X(i) ** 2 + Y(j) ** 2;
    const seg = ctx.contourSegments(z, nx, ny, {r * r});
    const pts = [];
    for (let k = 0; k < seg.length; k += 2) pts.push([X(seg[k]), Y(seg[k + 1])]);
    console.log(JSON.stringify(pts));
    """
    out = subprocess.run(["node", "-e", script], capture_output=True, text=True, timeout=60, check=True)
    pts = np.array(json.loads(out.stdout))
    cell = 4 / (nx - 1)
    assert len(pts) > 40
    np.testing.assert_array_less(np.abs(np.hypot(pts[:, 0], pts[:, 1]) - r), cell)
    length = np.hypot(*(pts[1::2] - pts[0::2]).T).sum()
    assert length == pytest.approx(2 * np.pi * r, rel=0.01)


def test_a_coarse_basin_map_while_dragging_is_marked_provisional():
    ex = rk.explore(landscapes.sharp_flat_2d(), start=(-0.7, 1.2), step=0.04, n_steps=60, basins=True,
                    basin_resolution=24)
    ex.model.wait()
    what = ex.model.update(final=False, sharp=35.0)  # a drag: the coarse map now, the full one later
    ex._push(what | {"background"})
    data = ex.view.scene
    assert data["basins"]["pending"] and "basins" in data["pending"]
    ex.model.update(final=True)
    ex.model.wait()
    ex._push({"background"})
    assert not ex.view.scene["basins"]["pending"] and ex.view.scene["pending"] == []
    assert ex.view.scene["basins"]["nx"] == 24
