"""explore(): the plain-Python model against independent references (plain loops and closed forms
written here), and the assembled explorer driven as a user would (set a control's value, move the
view's step or start traits as the browser does) with no browser."""

import gc
import io
import os

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

pytest.importorskip("ipywidgets")
pytest.importorskip("anywidget")

import ipywidgets as W  # noqa: E402
from PIL import Image  # noqa: E402

import reachkit as rk  # noqa: E402
from reachkit import analysis, landscapes, plotting  # noqa: E402
from reachkit.explorers.dynamics_model import FAN_SIZE, DynamicsModel, explore  # noqa: E402
from reachkit.explorers.explorer import Explorer  # noqa: E402
from reachkit.explorers.model import CLOSED  # noqa: E402


def plain_gd(grad, x0, a, n, gtol=1e-10):
    """x_{k+1} = x_k - a grad f(x_k), written out; stops where |grad f| <= gtol."""
    x = np.atleast_1d(np.array(x0, dtype=float))
    out = [x.copy()]
    for _ in range(n):
        g = grad(x)
        if np.linalg.norm(g) <= gtol:
            break
        x = x - a * g
        out.append(x.copy())
    return np.array(out)


def decoded(entry, i=0):
    """Series i of a view runs/fan entry as an (n, 2) float array."""
    return np.frombuffer(entry["paths"][i], dtype="<f4").reshape(-1, 2).astype(float)


@pytest.fixture
def ex2():
    ex = explore(landscapes.sharp_flat_2d(), start=(0.2, 0.9), n_steps=60)
    yield ex
    ex.close()


@pytest.fixture
def ex1():
    ex = explore(landscapes.sharp_flat_double_well(), start=-0.5, n_steps=80)
    yield ex
    ex.close()


# ----------------------------------------------------------------------------------------------
# The model: exact values, closed forms, the fan
# ----------------------------------------------------------------------------------------------
def test_gd_on_a_quadratic_is_the_closed_form():
    ls = landscapes.quadratic((1.0, 10.0))
    m = DynamicsModel(ls, start=(1.0, 0.5), step=0.15, n_steps=40)
    k = np.arange(41)[:, None]
    want = np.array([1.0, 0.5]) * (1 - 0.15 * np.array([1.0, 10.0])) ** k
    np.testing.assert_allclose(m.paths["gd"].trajectory(0), want, rtol=1e-12, atol=1e-300)


def test_every_fan_entry_is_a_plain_loop_at_its_step():
    ls = landscapes.sharp_flat_2d()
    m = DynamicsModel(ls, start=(-0.7, 1.2), step=0.04, n_steps=200)
    assert len(m.fan_steps) == FAN_SIZE + 1 and 0.04 in m.fan_steps  # the grid plus the exact step
    assert all(a == float(f"{a:.3g}") for a in m.fan_steps)  # tidy numbers in the view's box
    assert np.all(np.diff(m.fan_steps) > 0)
    lo, hi = m.fan_steps[0], m.fan_steps[-1]
    thr = [t for _, _, t in analysis.minima_thresholds(ls)]
    assert lo < min(thr) < max(thr) < hi
    for i in (0, 7, 20, 33, FAN_SIZE):
        a = m.fan_steps[i]
        if m.fan[i].paths["gd"].status[0] == "diverged":
            continue  # frozen at the last finite iterate; the plain loop would overflow
        ref = plain_gd(ls.grad, (-0.7, 1.2), a, 200)
        got = m.fan[i].paths["gd"].trajectory(0)
        np.testing.assert_allclose(got[:len(ref)], ref, rtol=1e-9, atol=1e-12)
        np.testing.assert_allclose(got[len(ref):], np.broadcast_to(ref[-1], got[len(ref):].shape))
        assert m.fan[i].step == a


def test_a_step_on_the_fan_is_the_exact_run_and_costs_no_computation(monkeypatch):
    ls = landscapes.sharp_flat_2d()
    m = DynamicsModel(ls, start=(-0.7, 1.2), step=0.04, n_steps=200)
    a = m.fan_steps[25]
    assert a != 0.04
    alone = DynamicsModel(ls, start=(-0.7, 1.2), step=a, n_steps=200).paths["gd"]
    monkeypatch.setattr(rk.dynamics, "gradient_descent", lambda *a, **k: pytest.fail("recomputed"))
    assert m.update(step=a) == {"runs", "background"}
    np.testing.assert_array_equal(m.paths["gd"].iterates, alone.iterates)  # bit for bit
    assert m.paths["gd"].describe(0) == alone.describe(0)


def test_typed_013_gives_period_8_on_the_smooth_well():
    """Notebook 03's instruction: typed 0.13 is used exactly (no grid) and cycles with period 8."""
    ls = landscapes.smooth_double_well()
    m = DynamicsModel(ls, start=-0.95, step=0.095, n_steps=300)
    m.update(step=0.13)
    assert m.step == 0.13 and m.fan_index(0.13) is None
    p = m.paths["gd"]
    assert p.period[0] == 8 and "cycling with period 8" in m.current.status
    ref = plain_gd(ls.grad, [-0.95], 0.13, 300)[:, 0]
    tail = ref[-40:]
    assert np.allclose(tail[8:], tail[:-8], atol=1e-9) and not np.allclose(tail[4:], tail[:-4], atol=1e-3)
    np.testing.assert_allclose(p.trajectory(0)[:, 0], ref, rtol=1e-9)


def test_dyadic_values_stay_dyadic_and_land_exactly_on_the_kink():
    m = DynamicsModel(landscapes.absolute_value(), step=1 / 8, start=5 / 8, n_steps=40)
    assert m.start == (0.625,) and m.step == 0.125
    assert m.current.status == "subgradient method: converged to the minimum (kink) (at step 5)"
    m.update(start=(0.6,))  # off the lattice 0.125 Z: a 2-cycle
    assert "cycling with period 2" in m.current.status
    m.update(start=(0.625,), step=0.15625)  # 5/32 typed as 0.15625: 0.625 = 4 x 5/32 lands
    assert "converged to the minimum (kink) (at step 4)" in m.current.status


def test_sgd_fan_entries_are_the_seeded_runs():
    ls = landscapes.sharp_flat_2d_sum()
    m = DynamicsModel(ls, start=(-0.6, 0.66), step=0.095, methods=("gd", "sgd"), seed=3, batch_size=2,
                      n_steps=120)
    for i in (5, 30):
        alone = rk.sgd(ls, [-0.6, 0.66], m.fan_steps[i], 120, batch_size=2, seed=3)
        np.testing.assert_array_equal(m.fan[i].paths["sgd"].iterates, alone.iterates)


def test_flow_fan_samples_one_solve_at_each_steps_times():
    ls = landscapes.quadratic((1.0, 10.0))  # the flow is x(t) = x0 exp(-λ t)
    m = DynamicsModel(ls, start=(1.0, 0.5), step=0.02, methods=("flow",), n_steps=100)
    for i in (3, 20, 38):
        a = m.fan_steps[i]
        t = a * np.arange(101)[:, None]
        want = np.array([1.0, 0.5]) * np.exp(-np.array([1.0, 10.0]) * t)
        np.testing.assert_allclose(m.fan[i].xy["flow"], want, atol=1e-5)  # drawn as float32
    exact = m.paths["flow"]  # the current step: an exact solve
    t = 0.02 * np.arange(101)[:, None]
    np.testing.assert_allclose(exact.trajectory(0), np.array([1.0, 0.5]) * np.exp(-np.array([1.0, 10.0]) * t),
                               atol=1e-8)


def test_schedules_are_the_plain_rules():
    ls = landscapes.sharp_flat_2d()
    m = DynamicsModel(ls, start=(0.2, 0.9), step=0.05, schedule="power", exponent=1.5, n_steps=60)
    x = np.array([0.2, 0.9])
    ref = [x]
    for k in range(60):
        x = x - 0.05 / (k + 1) ** 1.5 * ls.grad(x)
        ref.append(x)
    np.testing.assert_allclose(m.paths["gd"].trajectory(0), np.array(ref), rtol=1e-10)
    assert "summable" in m.current.status and "stop short" in m.current.status  # still moving
    assert f"Step a_k = {0.05 / 10 ** 1.5:.4g}" in m.describe(frame=9)
    m.update(schedule="armijo", step=1.0)
    p = m.paths["gd"]
    x0, g = np.array([0.2, 0.9]), ls.grad(np.array([0.2, 0.9]))
    a = 1.0
    while ls.value(x0 - a * g) > ls.value(x0) - 1e-4 * a * (g @ g):  # backtracking, written out
        a *= 0.5
    np.testing.assert_allclose(p.trajectory(0)[1], x0 - a * g, rtol=1e-12)
    assert "adaptive step, Armijo" in m.describe()


_TYPED = {}


@settings(max_examples=60, deadline=None)
@given(st.one_of(st.floats(), st.integers(-3, 10**6), st.booleans(), st.text(max_size=4), st.none(),
                 st.floats(1e-4, 10.0)))
def test_any_typed_step_is_used_exactly_or_refused_with_its_name(value):
    """What a user (or a cell) can put in the step: used exactly, or a TypeError / ValueError
    naming the step; never another exception, and the run has a status and finite drawing."""
    m = _TYPED.setdefault("model", DynamicsModel(landscapes.sharp_flat_2d(), start=(-0.7, 1.2), n_steps=60))
    try:
        m.update(step=value)
    except (TypeError, ValueError) as exc:
        assert "step" in str(exc)
        return
    assert m.step == float(value) and m.current.step == float(value)
    assert m.current.status.startswith("GD: ") and np.all(np.isfinite(m.current.xy["gd"]))


def test_bad_arguments_raise_clear_errors():
    ls = landscapes.sharp_flat_2d()
    cases = [(dict(start=(np.nan, 0.0)), ValueError, "start"), (dict(methods="gd"), TypeError, "string"),
             (dict(n_steps=-1), ValueError, "n_steps"), (dict(exponent=-3), ValueError, "exponent"),
             (dict(seed=-1), ValueError, "seed"), (dict(batch_size=0), ValueError, "batch_size"),
             (dict(step=True), TypeError, "step"), (dict(step="0.1"), TypeError, "step"),
             (dict(methods=("newton",)), ValueError, "methods"), (dict(start=(1.0,)), ValueError, "start"),
             (dict(basins=1), TypeError, "basins"), (dict(colour="red"), TypeError, "unknown option")]
    for kw, err, word in cases:
        with pytest.raises(err, match=word):
            explore(ls, **kw)
    with pytest.raises(ValueError, match="1-D and 2-D"):
        explore(landscapes.quadratic((1.0, 2.0, 3.0)))
    with pytest.raises(ValueError, match="methods"):  # SGD is offered on finite sums only
        explore(ls, methods=("sgd",))
    with pytest.raises(TypeError, match="lecture"):
        explore(ls, lecture="yes")


# ----------------------------------------------------------------------------------------------
# The assembled explorer: controls, view traits, read-outs
# ----------------------------------------------------------------------------------------------
def test_controls_come_from_the_declarations(ex1):
    """The ranged reals are live sliders in the view; every other setting but the step is a control."""
    live = [p["name"] for p in ex1.view.params]
    names = [s.name for s in ex1.model.declarations if s.name != "step" and s.name not in live]
    assert list(ex1.controls.widgets) == names
    shown = {p["name"]: p for p in ex1.view.params}
    for p in ex1.landscape.param_specs:
        assert (shown[p.name]["value"], shown[p.name]["help"]) == (p.default, p.description)
        assert shown[p.name]["log"] == p.log and (shown[p.name]["low"], shown[p.name]["high"]) == (p.low, p.high)
    assert isinstance(ex1.controls.widgets["n_steps"], W.BoundedIntText)
    assert "bifurcation" in ex1.controls.widgets


def test_the_view_gets_the_fan_the_background_and_the_runs(ex2):
    v, m = ex2.view, ex2.model
    assert v.fan_steps == m.fan_steps and len(v.fan) == len(v.fan_steps)
    assert v.background[:8] == b"\x89PNG\r\n\x1a\n"
    with Image.open(io.BytesIO(v.background)) as im:
        assert im.size == (1200, 880)  # 2x of 600 x 440 CSS px
    left, top, right, bottom = v.axes_box
    assert 0 < left < right <= v.background_size[0] and 0 < top < bottom <= v.background_size[1]
    assert v.limits == [-1.8, 3.2, -1.5, 1.5]  # the landscape's bounds
    assert [s["key"] for s in v.series] == ["gd"] and v.series[0]["color"] == plotting.METHODS["gd"][1]
    i = m.fan_index(m.step)
    ref = plain_gd(m.landscape.grad, (0.2, 0.9), m.step, 60)
    np.testing.assert_allclose(decoded(v.fan[i])[:len(ref)], ref, rtol=1e-6)
    assert v.status == m.current.status and v.step == m.step
    assert [mk["value"] for mk in v.step_marks] == pytest.approx([0.1, 2.0])


def test_a_step_drag_on_the_grid_sends_nothing_new_a_typed_step_sends_its_run(ex2):
    v = ex2.view
    sent = []
    v.observe(lambda c: sent.append(c["name"]), names=["runs", "fan", "background"])
    v.step = v.fan_steps[30]  # the browser drags to a slider position
    assert sent == [] and ex2.values["step"] == v.fan_steps[30]
    assert ex2.status.startswith("GD: ")
    v.step = 0.13  # typed between positions: computed exactly
    assert sent == ["runs"] and v.runs["step"] == 0.13
    ref = plain_gd(ex2.landscape.grad, (0.2, 0.9), 0.13, 60)
    np.testing.assert_allclose(decoded(v.runs)[:len(ref)], ref, rtol=1e-6)


def test_a_control_change_updates_the_view(ex2):
    v = ex2.view
    ex2.controls.widgets["n_steps"].value = 25
    assert ex2.values["n_steps"] == 25 and len(decoded(v.fan[0])) == 26
    start = ex2.controls.widgets["start"].children
    start[0].value = -0.7
    assert ex2.values["start"] == (-0.7, 0.9) and v.start == [-0.7, 0.9]
    ref = plain_gd(ex2.landscape.grad, (-0.7, 0.9), ex2.values["step"], 25)
    np.testing.assert_allclose(ex2.paths["gd"].trajectory(0)[:len(ref)], ref, rtol=1e-12)


def test_a_click_on_the_plot_sets_the_start_exactly(ex2):
    ex2.view.start = [1.0, -0.5]  # what the view writes on a click
    assert ex2.values["start"] == (1.0, -0.5)
    assert [b.value for b in ex2.controls.widgets["start"].children] == [1.0, -0.5]
    ref = plain_gd(ex2.landscape.grad, (1.0, -0.5), ex2.values["step"], 60)
    np.testing.assert_allclose(ex2.paths["gd"].trajectory(0)[:len(ref)], ref, rtol=1e-12)


def test_readout_matches_the_analysis(ex2):
    ex2.set(step=0.12)
    ex2.view.frame = 10
    path = ex2.paths["gd"]
    x = path.trajectory(0)[10]
    text = ex2.describe()
    assert f"sharpness = {float(analysis.sharpness(ex2.landscape, x)):.4g}" in text
    assert f"|grad f| = {np.linalg.norm(ex2.landscape.grad(x)):.4g}" in text
    assert "sharp minimum: sharpness λ = 20, 2/λ = 0.1 — step 0.12 is ABOVE: linearly unstable" in text
    assert "flat minimum: sharpness λ = 1, 2/λ = 2 — step 0.12 is below" in text
    assert "<b class='rk-warn'>ABOVE</b>" in ex2.readout.value and "step k = 10" in ex2.readout.value
    ex2.set(step=0.05)
    assert "ABOVE" not in ex2.describe()


def test_diverging_step_reports_and_the_explorer_recovers(ex1):
    ex1.view.step = 1.5  # far above 2/20 on the sharp wall
    p = ex1.paths["gd"]
    assert p.status[0] == "diverged" and f"diverged at step {int(p.stopped_at[0])}" in ex1.status
    assert ex1.error is None  # a diverging run is a result, not an error
    ex1.view.step = 0.04
    assert "converged to the sharp minimum" in ex1.status


def test_an_exception_in_the_dynamics_shows_in_the_status_line():
    def grad(x):
        if np.any(x > 1.0):
            raise FloatingPointError("gradient undefined beyond x = 1")
        return x

    ls = landscapes.from_functions(lambda x: 0.5 * x[..., 0] ** 2, grad, dim=1, bounds=[(-2, 2)],
                                   critical_points=[((0.0,), "minimum", "minimum")])
    ex = explore(ls, start=0.5, step=0.3, n_steps=30)
    bad = [r for r in ex.model.fan if r.failed]  # large steps jump past x = 1: those positions fail
    assert bad and all(len(r.xy["gd"]) == 0 and "gradient undefined" in r.status for r in bad)
    assert len(bad) < len(ex.model.fan)
    assert all(len(e["paths"][0]) == 0 for e in ex.view.fan if "could not run" in e["status"])
    good = ex.paths["gd"].iterates.copy()
    ex.view.start = [1.5]  # must not raise out of the observer
    assert "Could not update" in ex.status and "gradient undefined" in ex.status
    assert ex.values["start"] == (0.5,) and ex.view.start == [0.5]  # the last valid run stays
    np.testing.assert_array_equal(ex.paths["gd"].iterates, good)
    ex.view.start = [-0.7]
    # GD on x^2/2 with step 0.3 multiplies x by 0.7: after 30 steps x = -0.7^31, still moving
    assert ex.error is None and "still moving" in ex.status and "1.58e-05" in ex.status
    np.testing.assert_allclose(ex.paths["gd"].trajectory(0)[:, 0], -0.7 * 0.7 ** np.arange(31), rtol=1e-12)
    ex.close()


def test_an_explorer_leaves_pyplots_backend_alone():
    """The explorers draw with Agg on figures pyplot does not know: a notebook's own backend and
    its static figures are untouched, and ipympl is not needed."""
    import subprocess
    import sys
    import textwrap

    code = textwrap.dedent("""
        import matplotlib
        matplotlib.use("svg")
        import matplotlib.pyplot as plt
        import sys
        import reachkit as rk
        ex = rk.explore(rk.landscapes.saddle())
        ex._repr_mimebundle_()
        assert "ipympl" not in sys.modules and plt.get_fignums() == []
        print(matplotlib.get_backend(), type(plt.figure().canvas).__module__)
    """)
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=120)
    assert out.returncode == 0, out.stderr
    assert out.stdout.split() == ["svg", "matplotlib.backends.backend_svg"]


def test_a_refused_value_goes_back_in_the_control(ex2, live):
    ex2.controls.widgets["seed"].value = 5  # no SGD here, but a valid value is kept
    assert ex2.values["seed"] == 5
    live(ex2, "exponent", -3.0)
    assert "exponent" in ex2.status and ex2.status.startswith("Could not update")
    assert next(p for p in ex2.view.params if p["name"] == "exponent")["value"] == 0.6


def test_several_methods_in_their_colours_and_the_flow_alone():
    ls = landscapes.sharp_flat_2d_sum()
    ex = explore(ls, methods=("gd", "sgd", "flow"), start=(0.2, 0.9), n_steps=40, step=0.05)
    ex.set(batch_size=3, seed=7)
    assert [s["color"] for s in ex.view.series] == [plotting.METHODS[m][1] for m in ("gd", "sgd", "flow")]
    np.testing.assert_array_equal(ex.paths["sgd"].iterates, rk.sgd(ls, [0.2, 0.9], 0.05, 40, batch_size=3,
                                                                    seed=7).iterates)
    ex.controls.widgets["methods"].children[1].value = False  # untick GD
    assert ex.values["methods"] == ("sgd", "flow") and [s["key"] for s in ex.view.series] == ["sgd", "flow"]
    assert ex.status.startswith("SGD: ") and "; GD:" not in ex.status
    ex.set(methods=("flow",))
    assert "no 2/λ limit" in ex.readout.value and "t = " in ex.readout.value
    ex.set(methods=())
    assert "No method selected" in ex.readout.value
    ex.close()


def test_parameter_change_rebuilds_the_landscape_and_the_background(ex1, live):
    before = ex1.view.background
    live(ex1, "sharp", 40.0)
    assert ex1.landscape.params["sharp"] == 40.0 and ex1.view.background != before
    want = landscapes.sharp_flat_double_well(sharp=40.0)
    ref = plain_gd(want.grad, [-0.5], ex1.values["step"], 80)
    np.testing.assert_allclose(ex1.paths["gd"].trajectory(0)[:len(ref)], ref, rtol=1e-12)
    assert "2/λ = 0.05 " in ex1.readout.value


def test_basin_overlay_recomputes_only_when_it_must(monkeypatch):
    ex = explore(landscapes.sharp_flat_2d(), start=(0.2, 0.9), n_steps=60, basin_resolution=24)
    calls, real = [], analysis.basin_map
    monkeypatch.setattr(analysis, "basin_map", lambda *a, **k: (calls.append(k.get("method")), real(*a, **k))[1])
    ex.set(basins=True)
    assert len(calls) == 1 and "Basins (GD, 1000 steps)" in ex.readout.value
    want = real(ex.landscape, rk.constant(ex.values["step"]), n=24, n_steps=1000)
    np.testing.assert_array_equal(ex.basin_map.labels, want.labels)
    ex.view.start = [0.5, 0.9]
    ex.view.frame = 3
    assert len(calls) == 1  # the start does not change the basins
    ex.view.step = 0.12
    assert len(calls) == 2
    ex.set(basins=False)
    ex.view.step = 0.05
    assert len(calls) == 2
    ex.set(methods=("flow",), basins=True)
    assert calls[-1] == "flow" and "Basins (gradient flow)" in ex.readout.value
    ex.close()


def test_bifurcation_diagram_is_in_the_background(ex1):
    size = list(ex1.view.background_size)
    ex1.set(bifurcation=True)
    assert ex1.view.background_size[1] > size[1]  # a second panel below the graph
    bif = ex1.model.static_layer().bifurcation
    assert bif.steps[0] < 2 / 20 < bif.steps[-1]
    i = np.searchsorted(bif.steps, 0.08)  # below 2/20 the orbit is the sharp minimum itself
    assert np.nanmin(np.abs(bif.points[i] + 1)) < 1e-6


def test_reduced_motion_lecture_and_layout():
    ex = explore(landscapes.saddle(), reduced_motion=True, lecture=True)
    assert ex.view.reduced_motion and ex.view.lecture
    assert ex.view.frame == len(ex.paths["gd"].times) - 1  # the whole path
    assert ex.motion.value
    ex.motion.value = False  # the panel's checkbox drives the view
    assert not ex.view.reduced_motion
    box = ex.widget
    assert {"rk-explorer", "rk-lecture"} <= set(box._dom_classes)
    assert box.children[0] is ex.view  # view.css lays out .rk-explorer (wrapping flex row)
    side = box.children[1]
    fold, readout = side.children[1].children  # no Accordion: Colab's widget manager breaks it
    assert readout is ex.readout and not any(isinstance(w, W.Accordion) for w in _descendants(box))
    fold.value = False  # the toggle folds the read-outs away and back
    assert ex.readout.layout.display == "none"
    fold.value = True
    assert ex.readout.layout.display is None
    # lecture scale: the same picture size (it has to fit a 1280x720 projector) with larger type
    from reachkit.explorers import background
    assert ex.view.background_size[0] == 600
    big, small = (background.figure(ex.model.static_layer(), lecture)[1].title.get_fontsize()
                  for lecture in (True, False))
    assert big >= 1.5 * small
    ex.close()
    with rk.lecture_style():  # the projector style switches the explorers' lecture scale on
        ex = explore(landscapes.saddle())
    assert ex.view.lecture and "rk-lecture" in ex.widget._dom_classes
    ex.close()
    ex = explore(landscapes.saddle())
    assert not ex.view.lecture and "rk-lecture" not in ex.widget._dom_classes
    ex.close()


def test_reset_restores_the_initial_run(ex2):
    first = ex2.paths["gd"].iterates.copy()
    ex2.set(step=0.3, n_steps=20, schedule="power", start=(0.0, -1.0), sharp=10.0)
    ex2.reset_button.click()
    assert ex2.values["step"] == pytest.approx(0.4 * 2 / 20) and ex2.values["schedule"] == "constant"
    assert ex2.landscape.params["sharp"] == 20.0
    np.testing.assert_array_equal(ex2.paths["gd"].iterates, first)


# ----------------------------------------------------------------------------------------------
# Fallback, still pictures, memory, close
# ----------------------------------------------------------------------------------------------
def test_mimebundle_has_the_widget_and_a_still_picture_with_the_status(ex2):
    import base64

    ex2.set(step=0.12)
    b = ex2._repr_mimebundle_()
    assert b["application/vnd.jupyter.widget-view+json"]["model_id"] == ex2.widget.model_id
    with Image.open(io.BytesIO(base64.b64decode(b["image/png"]))) as im:
        assert im.size == (1200, 880)  # 2x, shown at 600 px
    assert "ABOVE: linearly unstable" in b["text/plain"] and "data:image/png;base64," in b["text/html"]


def test_in_ipython_the_widget_and_the_still_are_two_outputs(ex2, monkeypatch):
    import IPython.display

    shown = []
    monkeypatch.setattr(IPython.display, "display", lambda obj, raw=False, metadata=None: shown.append(obj))
    ex2._ipython_display_()
    first, second = shown
    assert first["application/vnd.jupyter.widget-view+json"]["model_id"] == ex2.widget.model_id
    assert "rk-still" in second["text/html"] and second["text/plain"] == ex2.describe()
    assert ex2.status in second["text/html"]  # the status line in the caption


def test_still_picture_shows_the_path_in_its_colour(tmp_path):
    from matplotlib.colors import to_rgba

    ex = explore(landscapes.saddle(), n_steps=40)
    out = ex.save(tmp_path / "still.png")
    with Image.open(out) as im:
        rgb = np.asarray(im.convert("RGB")).astype(int)
    target = np.array(to_rgba(plotting.METHODS["gd"][1])[:3]) * 255
    assert (np.abs(rgb - target).sum(axis=2) < 40).sum() > 30
    gif = ex.save(tmp_path / "run.gif", max_frames=8, dpi=40)
    with Image.open(gif) as im:
        assert im.n_frames >= 2
    ex.close()


def _rss() -> float:
    with open("/proc/self/statm") as f:
        return int(f.read().split()[1]) * os.sysconf("SC_PAGE_SIZE")


def mixed_update(ex, i, rng):
    """One of: a step on the grid (twice as often), a typed step, a click, methods, a parameter,
    the frame (Play stopping): what a student does, in a fixed rotation."""
    v, kind = ex.view, i % 10
    if kind in (0, 1):
        v.step = v.fan_steps[int(rng.integers(len(v.fan_steps)))]
    elif kind in (2, 3):
        v.step = float(rng.uniform(0.01, 0.2))
    elif kind in (4, 5):
        v.start = [float(rng.uniform(-1.5, 3)), float(rng.uniform(-1.2, 1.2))]
    elif kind == 6:
        ex.set(methods=("gd",) if i % 20 else ("gd", "flow"))
    elif kind == 7:
        ex.set(sharp=float(rng.choice([15.0, 20.0, 25.0])))
    else:
        v.frame = int(rng.integers(0, 300))


@pytest.mark.skipif(not os.path.exists("/proc/self/statm"), reason="RSS is read from /proc")
def test_500_mixed_updates_keep_figures_and_memory_flat():
    import matplotlib.pyplot as plt

    ex = explore(landscapes.sharp_flat_2d(), start=(-0.7, 1.2), n_steps=300)
    rng = np.random.default_rng(0)
    for i in range(100):  # warm up: the renderer's and the allocator's caches fill in the first ones
        mixed_update(ex, i, rng)
    figs = plt.get_fignums()
    gc.collect()
    base = _rss()
    for i in range(500):
        mixed_update(ex, i, rng)
    gc.collect()
    grown = (_rss() - base) / 1e6
    print(f"RSS growth over 500 mixed updates: {grown:.1f} MB")  # the benchmark reports it too
    assert plt.get_fignums() == figs == [] and ex.error is None
    assert grown < 40  # a leak of the runs (about 0.2 MB per update) would be 100 MB
    ex.close()


def test_close_closes_every_widget_it_made():
    from ipywidgets.widgets.widget import _instances

    before = set(_instances)
    ex = explore(landscapes.sharp_flat_2d_sum(), methods=("gd", "sgd"), lecture=True)
    ex._repr_mimebundle_()
    assert len(set(_instances) - before) > 20
    ex.close()
    assert set(_instances) - before == set()
    ex.close()  # twice is fine
    assert ex._repr_mimebundle_() == {"text/plain": CLOSED}  # was "object has no attribute 'widget'"


def test_save_names_the_missing_folder_and_the_formats_alike(tmp_path):
    ex = explore(landscapes.smooth_double_well(), n_steps=20, background=False)
    for name in ("a.png", "a.gif"):  # FileNotFoundError for .png, ValueError for .gif before
        with pytest.raises(ValueError, match=f"the folder '.*missing' of filename '.*missing/{name}' does not exist"):
            ex.save(tmp_path / "missing" / name)
    with pytest.raises(ValueError, match=r"filename must end in one of \('.png', '.gif', '.mp4', '.html', '.htm'\)"):
        ex.save(tmp_path / "a.txt")
    assert ex.save(tmp_path / "a.png").read_bytes()[:4] == b"\x89PNG"
    ex.close()


def test_explorer_takes_any_model_with_the_protocol():
    m = DynamicsModel(landscapes.cubic(), start=-0.5, step=0.5, n_steps=50)
    ex = Explorer(m)
    assert f"diverged at step {int(m.paths['gd'].stopped_at[0])}" in ex.status
    assert "no minimum" in ex.readout.value
    ex.close()


def _descendants(widget):
    yield widget
    for child in getattr(widget, "children", ()):
        yield from _descendants(child)


def test_each_fan_entry_carries_the_read_outs_the_kernel_shows_at_its_step():
    """A page with no kernel shows a fan entry's own read-outs panel as the step moves: for each saved
    step it must be what the live explorer's panel shows after set(step=that step), at the last iterate."""
    ex = explore(landscapes.sharp_flat_2d(), start=(-0.7, 1.2), step=0.04, n_steps=120)
    ex.model.wait(60)
    fan = list(ex.view.fan)
    assert len(fan) == len(ex.model.fan_steps) > 10
    picks = [0, len(fan) // 2, len(fan) - 1]
    for j in picks:
        a = ex.model.fan_steps[j]
        assert ex.set(step=a)
        ex.view.frame = ex.model.current.n_frames - 1
        assert fan[j]["readout"] == ex.readout.value, (a, fan[j]["readout"], ex.readout.value)
    assert "below" in fan[picks[0]]["readout"] and "ABOVE" in fan[picks[-1]]["readout"]
    ex.close()
