"""Figures and the adaptive-step explorer of notebook 06, driven without a browser."""

import numpy as np
import pytest

pytest.importorskip("ipywidgets")
pytest.importorskip("ipympl")

import matplotlib.pyplot as plt  # noqa: E402
from matplotlib.backend_bases import MouseEvent  # noqa: E402

import reachkit as rk  # noqa: E402
from reachkit import eos_explorer as ee  # noqa: E402
from reachkit import optimizers as ro  # noqa: E402
from reachkit.network import NetworkLandscape, edge_of_stability, make_dataset  # noqa: E402

SMALL = dict(resolution=16, basin_steps=300, n_steps=300)


@pytest.fixture(scope="module")
def net():
    X, Y = make_dataset(20, 3, 1)
    land = NetworkLandscape(X, Y, (3, 5, 4, 1))
    return land, land.init(0)


@pytest.fixture
def ex():
    e = ee.explore_adaptive(rk.landscapes.sharp_flat_2d(), canvas="image", start=(-1.2, 0.2), **SMALL)
    yield e
    e.close()


def test_draw_eos_plots_each_run_with_its_own_threshold(net):
    land, theta = net
    results = {a: edge_of_stability(land, theta, a, 30, sharpness_every=10) for a in (0.5, 0.05)}
    fig, axes = plt.subplots(1, 2)
    try:
        arts = ee.draw_eos(axes, results)
        for a, (loss, sharp, thr) in arts.items():
            np.testing.assert_array_equal(loss.get_ydata(), results[a].loss)
            np.testing.assert_array_equal(sharp.get_xdata(), results[a].sharpness_iterations)
            assert thr.get_ydata()[0] == pytest.approx(2 / a)
        top = axes[1].get_ylim()[1]
        assert top >= max(np.nanmax(r.sharpness) for r in results.values())
        labels = [t.get_text() for t in axes[1].get_legend().get_texts()]
        assert "2/a = 4" in labels  # inside the chart
        assert any(lab.startswith("2/a = 40") and "above the chart" in lab for lab in labels) == (40 > top)
    finally:
        plt.close(fig)


def test_draw_optimizer_sharpness(net):
    land, theta = net
    gd = edge_of_stability(land, theta, 0.5, 30, sharpness_every=10)
    path = ro.adam(land, theta, 0.01, 30, gtol=0.0)
    trace = ro.track_sharpness(land, path, every=10)
    fig, axes = plt.subplots(1, 3)
    try:
        arts = ee.draw_optimizer_sharpness(axes, gd, path, trace)
        np.testing.assert_array_equal(arts["loss"][1].get_ydata(), path.values[:, 0])
        np.testing.assert_array_equal(arts["sharpness"][1].get_ydata(), trace.sharpness)
        np.testing.assert_array_equal(arts["preconditioned"][0].get_ydata(), trace.preconditioned)
        assert arts["preconditioned"][1].get_ydata()[0] == pytest.approx(38 / 0.01)
        assert arts["sharpness"][2].get_ydata()[0] == pytest.approx(4.0)
    finally:
        plt.close(fig)


def test_draw_basin_panels_titles_give_the_shares():
    ls = rk.landscapes.sharp_flat_2d()
    maps = {"GD": ro.basin_map(ls, "gd", 0.05, n=12, n_steps=300),
            "Adam": ro.basin_map(ls, "adam", 1.0, n=12, n_steps=300)}
    fig = plt.figure()
    try:
        axes = ee.draw_basin_panels(fig, ls, maps, ncols=2)
        assert len(axes) == 2 and axes[0].get_title().startswith("GD\n")
        share = maps["GD"].fraction("sharp minimum")
        assert f"sharp {share:.0%}" in axes[0].get_title()
        assert len(axes[1].images) == 1
    finally:
        plt.close(fig)


# ------------------------------------------------------------------ the explorer
def test_explorer_shows_the_basin_map_and_path_of_the_chosen_optimizer(ex):
    ls = ex.landscape
    ref = ro.basin_map(ls, "adam", 0.2, n=16, n_steps=300)
    np.testing.assert_array_equal(ex.basin_map.labels, ref.labels)
    path = ro.run(ls, [-1.2, 0.2], "adam", 0.2, 300, gtol=1e-8)
    np.testing.assert_array_equal(ex.artists.full.get_xydata(), path.iterates[:, 0])
    text = ex.describe()
    assert "Adam" in text and "First step length |x1 - x0| = 0.283" in text
    assert path.describe(0) in text
    assert ex.view.value[:4] == b"\x89PNG"


def test_controls_recompute(ex):
    ls = ex.landscape
    ex.lr.value = 1.0
    ref = ro.basin_map(ls, "adam", 1.0, n=16, n_steps=300)
    np.testing.assert_array_equal(ex.basin_map.labels, ref.labels)
    ex.method.value = "momentum"
    assert ex.beta2.disabled and not ex.beta1.disabled and ex.options() == {"mu": 0.9}
    ex.method.value = "rmsprop"
    assert ex.beta1.disabled and not ex.beta2.disabled and ex.options() == {"rho": 0.999}
    ex.method.value = "gd"
    ex.lr.value = 0.05
    assert ex.options() == {}
    ref = ro.basin_map(ls, "gd", 0.05, n=16, n_steps=300)
    np.testing.assert_array_equal(ex.basin_map.labels, ref.labels)
    assert "GD, learning rate 0.05" == ex.ax.get_title()
    ex.method.value = "adam"
    ex.beta1.value, ex.beta2.value = 0.5, 0.99
    assert ex.options() == {"betas": (0.5, 0.99)}
    np.testing.assert_array_equal(ex.basin_map.labels,
                                  ro.basin_map(ls, "adam", 0.05, n=16, n_steps=300, betas=(0.5, 0.99)).labels)


def test_a_click_moves_the_start_with_one_update(ex, monkeypatch):
    calls = []
    orig = ro.basin_map
    monkeypatch.setattr(ro, "basin_map", lambda *a, **k: (calls.append(1), orig(*a, **k))[1])
    ex.fig.canvas.draw()
    x, y = ex.ax.transData.transform((2.5, -0.5))
    ex._on_click(MouseEvent("button_press_event", ex.fig.canvas, x, y, button=1))
    assert [s.value for s in ex.start] == pytest.approx([2.5, -0.5], abs=0.02)
    assert len(calls) == 1
    assert "flat minimum" in ex.describe()


def test_errors_show_in_the_status_line_and_never_raise(ex):
    ex.n_steps = -1
    ex.lr.value = 0.3
    assert ex.error and "n_steps" in ex.error
    assert "Could not update" in ex.status.value and "Could not update" in ex.describe()
    ex.n_steps = 300
    ex.lr.value = 0.2
    assert ex.error is None and ex.status.value == ""


def test_ipympl_canvas_and_static_fallback():
    e = ee.explore_adaptive(rk.landscapes.sharp_flat_2d(), canvas="ipympl", **SMALL)
    try:
        assert e.canvas_kind == "ipympl"
        bundle = e._repr_mimebundle_()
        assert "application/vnd.jupyter.widget-view+json" in bundle
        assert bundle["text/plain"] == e.describe() and len(bundle["image/png"]) > 1000
    finally:
        e.close()


@pytest.mark.parametrize("kwargs, word", [
    (dict(method="sgd"), "method"),
    (dict(lr=0.0), "lr"),
    (dict(lr=float("nan")), "lr"),
    (dict(start=(1.0,)), "start"),
    (dict(canvas="svg"), "canvas"),
])
def test_bad_options(kwargs, word):
    with pytest.raises(ValueError, match=word):
        ee.explore_adaptive(rk.landscapes.sharp_flat_2d(), **kwargs)


def test_needs_a_2d_landscape():
    with pytest.raises(ValueError, match="2-D"):
        ee.explore_adaptive(rk.landscapes.quadratic([1.0, 2.0, 3.0]))
