"""The explorer view's Python side: trait checks, the binary path format, the pixel mapping of the
background, the fallback bundle and the synthetic demo (checked against closed forms and plain loops)."""

from __future__ import annotations

import base64
import io
import re
import struct
from pathlib import Path

import numpy as np
import pytest
from ipywidgets.widgets.widget import _remove_buffers
from matplotlib.figure import Figure

import reachkit.explorers.view
from reachkit.explorers.view import (
    ExplorerView,
    background_traits,
    demo,
    display_view,
    encode_run,
    fallback_bundle,
    pack_points,
    still_bundle,
)


def _floats_le(buf: bytes) -> list[float]:
    return list(struct.unpack(f"<{len(buf) // 4}f", buf))


def test_pack_points_is_little_endian_float32_rows():
    buf = pack_points([[1.5, -2.0], [0.125, 3.0]])
    assert _floats_le(buf) == [1.5, -2.0, 0.125, 3.0]
    with pytest.raises(ValueError, match=r"shape \(n, 2\)"):
        pack_points([1.0, 2.0, 3.0])


def test_pack_points_beyond_float32_becomes_inf():
    assert _floats_le(pack_points([[1e300, -1e300]])) == [float("inf"), float("-inf")]


def test_encode_run_layout():
    e = encode_run(0.13, [[[0, 0], [1, 1]]], info=[[[2, 0.5], [1, 0.25]]], status="s", alt="a")
    assert e["step"] == 0.13 and e["status"] == "s" and e["alt"] == "a"
    assert _floats_le(e["paths"][0]) == [0, 0, 1, 1] and _floats_le(e["info"][0]) == [2, 0.5, 1, 0.25]
    with pytest.raises(TypeError, match="step"):
        encode_run("0.1", [])


@pytest.mark.parametrize("trait, value, error, words", [
    ("step", True, TypeError, "step must be a real number"),
    ("step", "0.1", TypeError, "step must be a real number"),
    ("step", -0.1, ValueError, "step must be a positive number"),
    ("step", float("nan"), ValueError, "step must be a finite number"),
    ("step_max", 0.0, ValueError, "step_max must be a positive"),
    ("speed", 0, ValueError, "speed must be an integer >= 1 and <= 60"),
    ("speed", 61, ValueError, "speed"),
    ("speed", 2.5, TypeError, "speed must be an integer"),
    ("frame", -1, ValueError, "frame"),
    ("fan_steps", [0.1, 0.1], ValueError, "increase strictly"),
    ("fan_steps", [0.1, -0.2], ValueError, "fan_steps must be a positive"),
    ("axes_box", [10, 0, 5, 100], ValueError, "left < right"),
    ("axes_box", [0, 0, 5], ValueError, "4 numbers"),
    ("limits", [0, 1, 2, 2], ValueError, "ymin < ymax"),
    ("background_size", [0, 10], ValueError, "> 0"),
    ("start", [1.0, 2.0, 3.0], ValueError, r"\[x\] \(1-D\) or \[x, y\]"),
    ("series", [{"key": "gd", "name": "GD", "color": "#000", "marker": "star"}], ValueError, "marker"),
    ("series", [{"key": "gd"}], ValueError, "key, name and color"),
    ("runs", {"step": 0.1, "paths": [b"\0" * 12]}, ValueError, "multiple of 8 bytes"),
    ("runs", {"step": 0.1, "paths": [b"\0" * 8], "info": [b"\0" * 16]}, ValueError, "one \\(f, \\|grad f\\|\\) row"),
    ("runs", {"paths": []}, ValueError, "lacks \\['step'\\]"),
    ("fan", [{"step": -1.0, "paths": []}], ValueError, r"fan\[0\]\['step'\]"),
])
def test_bad_traits_are_refused_with_a_message(trait, value, error, words):
    view = ExplorerView()
    before = getattr(view, trait)
    with pytest.raises(error, match=words):
        setattr(view, trait, value)
    assert getattr(view, trait) == before


def test_typed_step_arrives_exactly():
    """JSON carries float64 exactly: what the front end sends is the step used."""
    view = ExplorerView(fan_steps=[0.1, 0.2], fan=[encode_run(0.1, []), encode_run(0.2, [])])
    view.set_state({"step": 0.13})
    assert view.step == 0.13 and view.shown_run() == {}
    view.set_state({"step": 0.15625})
    assert view.step == 5 / 32


def test_shown_run_prefers_the_fan_then_runs():
    fan = [encode_run(a, [[[a, 0]]], status=f"fan {a}") for a in (0.1, 0.2)]
    view = ExplorerView(fan_steps=[0.1, 0.2], fan=fan, step=0.2, runs=encode_run(0.13, [[[0, 0]]], status="runs"))
    assert view.shown_run()["status"] == "fan 0.2"
    view.step = 0.13
    assert view.shown_run()["status"] == "runs"


def test_paths_travel_as_binary_buffers():
    view = ExplorerView(runs=encode_run(0.1, [[[0, 0], [1, 1]], [[2, 2]]]), background=b"\x89PNG")
    state, buffer_paths, buffers = _remove_buffers(view.get_state())
    assert ["runs", "paths", 0] in buffer_paths and ["runs", "paths", 1] in buffer_paths
    assert ["background"] in buffer_paths
    assert _floats_le(bytes(buffers[buffer_paths.index(["runs", "paths", 1])])) == [2, 2]


def _png_size(png: bytes) -> tuple[int, int]:
    assert png[:8] == b"\x89PNG\r\n\x1a\n"
    return struct.unpack(">II", png[16:24])


def test_background_traits_map_data_to_the_png_pixels():
    """A red dot drawn by matplotlib at (x, y) lies where the view's mapping puts it."""
    from PIL import Image

    fig = Figure(figsize=(5, 4), dpi=100)
    ax = fig.add_axes([0.2, 0.15, 0.7, 0.75])
    ax.set(xlim=(-3, 1), ylim=(10, 30))
    x, y = -0.5, 15.0
    ax.plot([x], [y], "o", color="#ff0000", markersize=6)
    t = background_traits(fig, ax, scale=2)
    assert t["background_size"] == pytest.approx([500, 400])
    # axes from the figure fractions, y measured from the top
    assert t["axes_box"] == pytest.approx([100, 400 * (1 - 0.9), 450, 400 * (1 - 0.15)])
    assert t["limits"] == pytest.approx([-3, 1, 10, 30])
    assert _png_size(t["background"]) == (1000, 800)
    left, top, right, bottom = t["axes_box"]
    px = left + (x - -3) / 4 * (right - left)
    py = top + (30 - y) / 20 * (bottom - top)
    rgb = np.asarray(Image.open(io.BytesIO(t["background"])).convert("RGB")).astype(int)
    red = (rgb[..., 0] > 200) & (rgb[..., 1] < 60) & (rgb[..., 2] < 60)
    rows, cols = np.nonzero(red)
    assert cols.mean() / 2 == pytest.approx(px, abs=1.0) and rows.mean() / 2 == pytest.approx(py, abs=1.0)


def _fake_png(width: int, height: int) -> bytes:
    return struct.pack(">8sI4sII", b"\x89PNG\r\n\x1a\n", 13, b"IHDR", width, height) + b"rest"


def test_still_bundle_has_the_picture_and_text_without_scripts():
    png = _fake_png(1280, 960)
    still = still_bundle(png, "GD: converged <to> the flat minimum")
    assert base64.b64decode(still["image/png"]) == png
    assert still["text/plain"] == "GD: converged <to> the flat minimum"
    page = still["text/html"]
    src = re.search(r"src='data:image/png;base64,([^']+)'", page).group(1)
    assert base64.b64decode(src) == png
    assert "width:640px" in page  # a 2x render shown at its CSS size
    assert "converged &lt;to&gt; the flat minimum" in page and "<script" not in page
    assert "class='rk-still'" in page


def test_step_line_maps_the_step_onto_a_log_axis():
    """A red vertical line drawn by matplotlib at step a on a log axis lies where the view puts it."""
    from PIL import Image

    fig = Figure(figsize=(5, 6), dpi=100)
    ax, ax_step = fig.add_axes([0.15, 0.5, 0.8, 0.45]), fig.add_axes([0.15, 0.1, 0.8, 0.3])
    ax_step.set_xscale("log")
    ax_step.set_xlim(0.005, 5)
    a = 0.13
    ax_step.axvline(a, color="#ff0000", lw=2)
    t = background_traits(fig, ax, scale=2, step_ax=ax_step)
    line = t["step_line"]
    assert line["log"] is True and line["limits"] == pytest.approx([0.005, 5])
    assert line["box"] == pytest.approx([75, 600 * (1 - 0.4), 475, 600 * (1 - 0.1)])
    left, _, right, _ = line["box"]
    px = left + (np.log(a) - np.log(0.005)) / (np.log(5) - np.log(0.005)) * (right - left)
    rgb = np.asarray(Image.open(io.BytesIO(t["background"])).convert("RGB")).astype(int)
    cols = np.nonzero(((rgb[..., 0] > 200) & (rgb[..., 1] < 60) & (rgb[..., 2] < 60)).any(axis=0))[0]
    assert cols.mean() / 2 == pytest.approx(px, abs=1.0)
    assert background_traits(fig, ax)["step_line"] == {}
    view = ExplorerView(step_line=line)
    assert view.step_line == line
    with pytest.raises(ValueError, match="low > 0 on a log axis"):
        view.step_line = {"box": [0, 0, 1, 1], "limits": [0, 1], "log": True}
    with pytest.raises(TypeError, match="step_line\\['log'\\] must be True or False"):
        view.step_line = {"box": [0, 0, 1, 1], "limits": [1, 2], "log": 1}


def test_fallback_bundle_is_the_widget_view_plus_the_still():
    view = ExplorerView()
    png = _fake_png(640, 480)
    bundle = fallback_bundle(view, png, "GD: converged")
    assert bundle["application/vnd.jupyter.widget-view+json"]["model_id"] == view.model_id
    assert {k: bundle[k] for k in ("text/html", "image/png", "text/plain")} == still_bundle(png, "GD: converged")


def test_display_view_shows_the_widget_then_the_still(monkeypatch):
    shown = []
    monkeypatch.setattr("IPython.display.display", lambda obj, raw=False, metadata=None: shown.append((obj, raw)))
    view = ExplorerView()
    png = _fake_png(640, 480)
    display_view(view, png, "GD: converged")
    (first, raw1), (second, raw2) = shown
    assert raw1 and raw2
    assert first["application/vnd.jupyter.widget-view+json"]["model_id"] == view.model_id
    assert first["text/plain"] == "" and "text/html" not in first
    assert second == still_bundle(png, "GD: converged")


def test_view_css_hides_the_still_only_where_a_view_renders():
    """The rule lives in the view's own stylesheet, which only a rendered view loads."""
    css = (Path(reachkit.explorers.view.__file__).parent.parent / "static" / "view.css").read_text()
    assert ".jp-OutputArea-child:has(.rk-still)" in css


def test_demo_paths_are_gd_on_the_quadratic():
    view = demo(n_steps=25)
    i = 7
    a = view.fan_steps[i]
    x = np.array([1.6, 0.9])
    expected = [x.copy()]
    for _ in range(25):  # plain GD loop on f = (x^2 + 8 y^2) / 2
        x = x - a * np.array([1.0, 8.0]) * x
        expected.append(x.copy())
    got = np.array(_floats_le(view.fan[i]["paths"][0])).reshape(-1, 2)
    np.testing.assert_allclose(got, np.array(expected), rtol=1e-6, atol=1e-6)


def test_demo_1d_draws_x_and_f_and_follows_a_new_start():
    view = demo(n_steps=5, dim=1)
    assert view.start == [0.7]
    view.start = [-0.5]
    a = view.step
    xs = [-0.5]
    for _ in range(5):
        xs.append(xs[-1] - a * 8 * xs[-1])  # f(x) = 4 x^2, f'(x) = 8 x
    got = np.array(_floats_le(view.runs["paths"][0])).reshape(-1, 2)
    np.testing.assert_allclose(got, [[x, 4 * x * x] for x in xs], rtol=1e-6)


def test_demo_computes_a_typed_step_exactly_and_reports_it():
    view = demo(n_steps=10)
    assert 0.1234 not in view.fan_steps
    view.step = 0.1234
    assert view.runs["step"] == 0.1234 and view.shown_run() is view.runs
    assert view.status == "GD with step 0.1234: converges to the minimum"
    view.step = 0.3  # above 2/8
    assert "diverges" in view.status
