"""Figures and the adaptive-step explorer of notebook 06, driven without a browser."""

import numpy as np
import pytest

pytest.importorskip("ipywidgets")
pytest.importorskip("anywidget")

import matplotlib.pyplot as plt  # noqa: E402

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
    e = ee.explore_adaptive(rk.landscapes.sharp_flat_2d(), start=(-1.2, 0.2), **SMALL)
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
    np.testing.assert_array_equal(ex.current.xy["path"], path.iterates[:, 0])
    sent = np.frombuffer(ex.view.runs["paths"][0], dtype="<f4").reshape(-1, 2)
    np.testing.assert_allclose(sent, path.iterates[:, 0], rtol=1e-6)
    # Adam's first step has length lr * sqrt(2) (each coordinate moves by about lr)
    assert np.linalg.norm(path.iterates[1, 0] - path.iterates[0, 0]) == pytest.approx(0.2 * np.sqrt(2), rel=1e-6)
    text = ex.describe()
    assert "Adam" in text and "First step length |x1 - x0| = 0.283" in text
    assert path.describe(0) in text
    assert ex.view.background[:4] == b"\x89PNG" and ex.view.step_label == "learning rate"


def test_controls_recompute(ex, live):
    ls = ex.landscape
    ex.view.step = 1.0  # the learning rate is the view's step slider / number box
    ref = ro.basin_map(ls, "adam", 1.0, n=16, n_steps=300)
    np.testing.assert_array_equal(ex.basin_map.labels, ref.labels)
    w = ex.controls.widgets
    w["method"].value = "momentum"
    off = {p["name"]: p["disabled"] for p in ex.view.params}
    assert off["beta2"] and not off["beta1"]
    assert ex.model.options() == {"mu": 0.9}
    w["method"].value = "rmsprop"
    assert next(p for p in ex.view.params if p["name"] == "beta1")["disabled"]
    assert ex.model.options() == {"rho": 0.999}
    w["method"].value = "gd"
    ex.view.step = 0.05
    assert ex.model.options() == {}
    np.testing.assert_array_equal(ex.basin_map.labels, ro.basin_map(ls, "gd", 0.05, n=16, n_steps=300).labels)
    assert ex.model.static_layer().title == "GD, learning rate 0.05"
    w["method"].value = "adam"
    live(ex, "beta1", 0.5)
    live(ex, "beta2", 0.99)
    assert ex.model.options() == {"betas": (0.5, 0.99)}
    np.testing.assert_array_equal(ex.basin_map.labels,
                                  ro.basin_map(ls, "adam", 0.05, n=16, n_steps=300, betas=(0.5, 0.99)).labels)


def test_a_click_moves_the_start_with_one_path_and_no_basin_map(ex, monkeypatch):
    calls = []
    orig = ro.basin_map
    monkeypatch.setattr(ro, "basin_map", lambda *a, **k: (calls.append(1), orig(*a, **k))[1])
    ex.view.start = [2.5, -0.5]  # what the view writes on a click
    assert ex.values["start"] == (2.5, -0.5) and calls == []  # the basin map does not depend on it
    assert "flat minimum" in ex.describe()


def test_errors_show_in_the_status_line_and_never_raise(ex):
    assert not ex.set(beta1=1.5)
    assert ex.error and "beta1" in ex.error and "Could not update" in ex.status
    assert ex.values["beta1"] == 0.9 and next(p for p in ex.view.params if p["name"] == "beta1")["value"] == 0.9
    assert ex.set(beta1=0.8) and ex.error is None and ex.status.startswith("Adam")


def test_static_fallback():
    e = ee.explore_adaptive(rk.landscapes.sharp_flat_2d(), **SMALL)
    try:
        bundle = e._repr_mimebundle_()
        assert "application/vnd.jupyter.widget-view+json" in bundle
        assert bundle["text/plain"] == e.describe() and len(bundle["image/png"]) > 1000
    finally:
        e.close()


@pytest.mark.parametrize("kwargs, err, word", [
    (dict(method="sgd"), ValueError, "method"),
    (dict(lr=0.0), ValueError, "lr"),
    (dict(lr=float("nan")), ValueError, "lr"),
    (dict(lr=True), TypeError, "lr"),
    (dict(start=(1.0,)), ValueError, "start"),
    (dict(canvas="svg"), TypeError, "canvas"),
])
def test_bad_options(kwargs, err, word):
    with pytest.raises(err, match=word):
        ee.explore_adaptive(rk.landscapes.sharp_flat_2d(), **kwargs)


def test_needs_a_2d_landscape():
    with pytest.raises(ValueError, match="2-D"):
        ee.explore_adaptive(rk.landscapes.quadratic([1.0, 2.0, 3.0]))


def test_a_drag_without_a_fan_is_coalesced_inside_a_running_loop(monkeypatch):
    """In a kernel the view sends every slider position; the explorer computes only the last of a burst."""
    import asyncio

    e = ee.explore_adaptive(rk.landscapes.sharp_flat_2d(), start=(-1.2, 0.2), **SMALL)
    calls = []
    real = e.model.update
    monkeypatch.setattr(e.model, "update", lambda **k: (calls.append(k), real(**k))[1])

    async def drag():
        for lr in (0.3, 0.35, 0.4, 0.45, 0.5):  # one burst of positions, as a drag sends them
            e.view.step = lr
        assert e.view.busy and calls == []
        await asyncio.sleep(0.3)

    asyncio.run(drag())
    assert calls == [{"final": True, "step": 0.5}] and e.values["step"] == 0.5 and not e.view.busy
    np.testing.assert_array_equal(e.basin_map.labels, ro.basin_map(e.landscape, "adam", 0.5, n=16, n_steps=300).labels)
    e.close()
