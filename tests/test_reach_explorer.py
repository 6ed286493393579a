"""Drive the reachability explorer as a user would (its controls and the view's traits) and compare
what it draws and says with a fresh ``reachkit.reach`` for the same settings (no browser)."""

import asyncio
import threading

import numpy as np
import pytest

pytest.importorskip("ipywidgets")
pytest.importorskip("anywidget")

import ipywidgets as W  # noqa: E402

import reachkit as rk  # noqa: E402
from reachkit import analysis, dynamics, landscapes, plotting  # noqa: E402
from reachkit.explorers.reach_model import ReachModel, explore_reach, target_choices, trim_path  # noqa: E402


@pytest.fixture
def ex1():
    ex = explore_reach(landscapes.sharp_flat_double_well(), step=0.04)
    yield ex
    ex.close()


@pytest.fixture
def ex2():
    ex = explore_reach(landscapes.saddle(), step=0.4)
    yield ex
    ex.close()


def drawn(ex):
    """The path the view draws, as sent (float32) and as the model holds it."""
    key = ex.view.series[0]["key"]
    sent = np.frombuffer(ex.view.runs["paths"][0], dtype="<f4").reshape(-1, 2)
    return key, sent, ex.current.xy[key]


def assert_draws(ex, fresh, method="gd"):
    """The drawn path is reach's path up to its last move, and reach's path stays put after."""
    key, sent, xy = drawn(ex)
    assert key == method
    want = plotting.path_xy(ex.landscape, fresh.path)
    n = len(xy)
    np.testing.assert_array_equal(xy, want[:n])
    np.testing.assert_array_equal(want[n:], np.broadcast_to(want[n - 1], want[n:].shape))
    np.testing.assert_allclose(sent, want[:n], rtol=1e-6)
    np.testing.assert_array_equal(ex.outcome.result.start, fresh.start)
    np.testing.assert_allclose(ex.view.start, fresh.start)


def choose(ex, name, label):
    """Pick an option of a dropdown by its visible label, as a user does."""
    dropdown = ex.controls.widgets[name]
    dropdown.value = dict(dropdown.options)[label]


# ----------------------------------------------------------------------------------------------
def test_dispatch_lazy_export_and_input_checks():
    assert rk.explore_reach is explore_reach
    with pytest.raises(ValueError, match="1-D and 2-D"):
        explore_reach(landscapes.quadratic((1.0, 2.0, 3.0)))
    with pytest.raises(ValueError, match="smooth"):
        explore_reach(landscapes.absolute_value())
    with pytest.raises(ValueError, match="dynamics must be one of"):
        explore_reach(landscapes.saddle(), dynamics="adam")
    with pytest.raises(ValueError, match="maximum"):
        explore_reach(landscapes.sharp_flat_double_well(), target="local maximum (hump)")
    with pytest.raises(ValueError, match="no critical point labelled"):
        explore_reach(landscapes.saddle(), target="summit")
    with pytest.raises(ValueError, match="t_range must have low < high"):
        explore_reach(landscapes.curve_of_minima(), t_range=(2, 1))
    with pytest.raises(ValueError, match="max_steps"):
        explore_reach(landscapes.saddle(), max_steps=5)
    with pytest.raises(TypeError, match="step"):
        explore_reach(landscapes.saddle(), step="0.1")
    with pytest.raises(ValueError, match="background"):
        explore_reach(landscapes.saddle(), background="yes")


def test_dropdown_offers_minima_and_saddles_and_says_why_maxima_are_not(ex1):
    assert [lab for lab, _ in ex1.controls.widgets["target"].options] == ["sharp minimum", "flat minimum"]
    assert ex1.left_out == [("local maximum (hump)", "a local maximum: no path from elsewhere converges to it")]
    assert ("Not offered as a target: the local maximum (hump), a local maximum: no path from elsewhere "
            "converges to it.") in ex1.readout.value
    opts, left = target_choices(landscapes.himmelblau(), None)
    assert len(opts) == 8 and [lab for lab, _ in left] == ["local maximum"]
    opts, left = target_choices(landscapes.plateau(), None)
    assert [lab for _, lab in opts] == ["plateau edge -1 [minimum]", "plateau edge +1 [minimum]"]
    assert "minimum and a maximum at once" in left[0][1]
    assert "step" not in ex1.controls.widgets and ex1.view.step == 0.04  # the view's step slider
    for w in ex1.controls.widgets.values():
        assert isinstance(w, W.Widget)


def test_choosing_a_target_draws_reachs_path_and_read_outs(ex1):
    ls = ex1.landscape
    assert_draws(ex1, rk.reach(ls, "sharp minimum", 0.04))
    choose(ex1, "target", "flat minimum")
    fresh = rk.reach(ls, "flat minimum", 0.04)
    assert_draws(ex1, fresh)
    text = ex1.describe()
    assert f"x0 = {fresh.start[0]:.4g}" in text
    assert f"Final distance to the target: {fresh.final_distance:.3g}" in text
    assert f"closest distance: {fresh.closest_distance:.3g}" in text
    assert "Not fragile" in text and "Reached" in text
    assert f"GD from the start found: {fresh.path.describe(0)}" in ex1.status
    assert ex1.model.static_layer().markers == [(2.0, float(ls.value([2.0])), "*", "target")]
    assert ex1.error is None and ex1.view.fan == [] and ex1.view.clickable  # 1-D: the start moves along x


def test_method_and_step_changes_follow_reach(ex2, live):
    ls = ex2.landscape
    choose(ex2, "target", "minimum (0, 1)")
    assert_draws(ex2, rk.reach(ls, "minimum (0, 1)", 0.4))
    ex2.view.step = 0.2  # the browser's step slider or number box
    assert_draws(ex2, rk.reach(ls, "minimum (0, 1)", 0.2))
    choose(ex2, "dynamics", "gradient flow")
    assert [s["key"] for s in ex2.view.series] == ["flow"]
    assert_draws(ex2, rk.reach(ls, "minimum (0, 1)", method="flow"), "flow")
    choose(ex2, "target", "saddle")
    fresh = rk.reach(ls, "saddle", method="flow")
    assert_draws(ex2, fresh, "flow")
    assert fresh.start[1] == 0.0 and "measure zero" in ex2.describe()
    choose(ex2, "dynamics", "GD, a_k = a/(k+1)^p")
    live(ex2, "exponent", 0.5)
    assert_draws(ex2, rk.reach(ls, "saddle", rk.power(0.2, 0.5)))
    assert "nonsummable" in ex2.describe()


def test_the_frame_read_out_follows_the_drawn_path(ex2):
    _, _, xy = drawn(ex2)
    assert ex2.view.frame == len(xy) - 1  # the view opens on the end of the run
    for k in (0, 5, len(xy) // 2):
        ex2.view.frame = k  # what the view writes when Play stops or the scrubber is released
        assert f"Showing step k = {k}: x = ({xy[k][0]:.3g}, {xy[k][1]:.3g})" in ex2.readout.value


def test_unstable_step_says_so_and_the_explorer_still_works(ex1):
    ls = ex1.landscape
    ex1.view.step = 0.12  # above 2/20 at the sharp minimum
    text = ex1.describe()
    assert "ABOVE 2/λ = 0.1" in text and "reach is not run" in text and "|1 − aλ| = 1.4" in text
    assert "ABOVE" in ex1.readout.value and ex1.outcome.result is None and ex1.error is None
    demo = trim_path(dynamics.gradient_descent(ls, [-1 + 2e-3], 0.12, 300))
    np.testing.assert_array_equal(drawn(ex1)[2], plotting.path_xy(ls, demo))
    assert demo.describe(0) in ex1.status
    choose(ex1, "target", "flat minimum")  # 2/λ = 2: fine with that step
    assert "ABOVE" not in ex1.describe()
    assert_draws(ex1, rk.reach(ls, "flat minimum", 0.12))
    choose(ex1, "target", "sharp minimum")
    ex1.view.step = 0.04
    assert_draws(ex1, rk.reach(ls, "sharp minimum", 0.04))
    assert "Reached" in ex1.describe()


def test_the_one_to_one_note_says_strictly_below_1_over_L():
    ex = explore_reach(landscapes.sharp_flat_double_well(), step=0.099)
    text = ex.describe()
    assert ex.outcome.result.success and "a = 0.099 is not below 1/L = 0.05" in text
    assert "a < 1/L is a safe choice" in text and "≤ 1/L" not in text
    ex.view.step = 0.04
    assert "1/L" not in ex.describe()
    ex.close()


def test_summable_steps_warn_and_report_the_stall():
    ex = explore_reach(landscapes.sharp_flat_double_well(), dynamics="power", step=0.04,
                       exponent=1.5, max_steps=2000)
    fresh = rk.reach(ex.landscape, "sharp minimum", rk.power(0.04, 1.5), max_steps=2000)
    assert_draws(ex, fresh)
    assert not fresh.success and fresh.path.status[0] == "stalled"
    text = ex.describe()
    assert "summable (p > 1)" in text and "Not reached" in text and "stalled" in text
    ex.close()


def test_a_point_of_the_curve_of_minima_by_t(live):
    ls = landscapes.curve_of_minima()
    ex = explore_reach(ls, step=0.2, t=2.0)
    assert ex.values["target"] == "family" and ex.values["t"] == 2.0
    gd = rk.reach(ls, landscapes.curve_point(2.0), 0.2)
    assert_draws(ex, gd)
    assert "curve of minima" in ex.describe() and "thin set" in ex.describe()
    choose(ex, "dynamics", "gradient flow")
    flow = rk.reach(ls, landscapes.curve_point(2.0), method="flow")
    assert_draws(ex, flow, "flow")
    assert np.linalg.norm(flow.start - gd.start) > 0.1  # different starts for flow and GD
    live(ex, "t", 1.25)  # typed: exactly 1.25
    assert ex.values["t"] == 1.25
    assert_draws(ex, rk.reach(ls, landscapes.curve_point(1.25), method="flow"), "flow")
    ex.close()


def test_approached_but_not_reached_is_explained(ex2, monkeypatch):
    """A saddle path that comes within 1e-8 and leaves (what Himmelblau's saddles do)."""
    ls = ex2.landscape
    path = dynamics.gradient_descent(ls, [1.0, 1e-15], 0.1, 400)
    dist = np.linalg.norm(path.iterates[:, 0] - 0.0, axis=1)
    res = analysis.ReachResult(np.zeros(2), "saddle", np.array([1.0, 1e-15]), path, float(dist[-1]),
                               float(dist.min()), False, True, "note", "gd")
    monkeypatch.setattr(analysis, "reach", lambda *a, **k: res)
    ex2.view.step = 0.1
    assert dist.min() < 1e-6 < dist[-1]
    text = ex2.describe()
    assert "comes very close to the target and then leaves" in text and "measure zero" in text
    assert f"closest distance: {dist.min():.3g}" in text


def test_an_error_in_reach_shows_in_the_status_line(ex1, monkeypatch):
    def boom(*a, **k):
        raise RuntimeError("no luck")

    monkeypatch.setattr(analysis, "reach", boom)
    ex1.view.step = 0.03
    assert "reach failed: RuntimeError: no luck" in ex1.status
    assert len(drawn(ex1)[2]) == 0
    monkeypatch.undo()
    ex1.view.step = 0.04  # cached from the start: no new computation needed
    assert_draws(ex1, rk.reach(ex1.landscape, "sharp minimum", 0.04))


def test_results_are_cached_per_setting(ex1, monkeypatch):
    calls = []
    real = analysis.reach
    monkeypatch.setattr(analysis, "reach", lambda *a, **k: calls.append(a) or real(*a, **k))
    choose(ex1, "target", "flat minimum")
    choose(ex1, "target", "sharp minimum")
    choose(ex1, "target", "flat minimum")
    ex1.view.frame = 3
    assert len(calls) == 1


def test_background_computation_inside_a_running_loop():
    ls = landscapes.sharp_flat_double_well()

    async def session():
        ex = explore_reach(ls, step=0.04, background=True)  # built synchronously: a path at once
        assert ex.outcome.result.success
        choose(ex, "target", "flat minimum")  # inside the loop: computed in the worker thread
        assert ex.computing and "Computing a start" in ex.status
        ex.view.step = 0.02  # a drag: the steps of one burst are coalesced (no fan here) ...
        ex.view.step = 0.03  # ... and the last one supersedes the request in flight
        assert ex.view.busy and ex.values["step"] == 0.04
        for _ in range(3000):  # up to 30 s on a loaded machine
            if ex.values["step"] == 0.03 and not ex.computing:
                break
            await asyncio.sleep(0.01)
        assert not ex.computing
        assert_draws(ex, rk.reach(ls, "flat minimum", 0.03))
        ex.view.step = 0.05
        await asyncio.sleep(0.2)  # the coalescing delay
        ex.wait(timeout=30)  # blocking wait also works
        assert_draws(ex, rk.reach(ls, "flat minimum", 0.05))
        ex.close()

    # in a thread of its own: the main thread may already run a loop (Playwright's, in the browser suite)
    errors = []
    worker = threading.Thread(target=lambda: _run_catching(session, errors))
    worker.start()
    worker.join(120)
    assert not worker.is_alive() and not errors, errors


def _run_catching(coroutine_function, errors):
    try:
        asyncio.run(coroutine_function())
    except BaseException as exc:  # noqa: BLE001 - reported by the test in the main thread
        errors.append(exc)


def test_click_near_a_critical_point_makes_it_the_target(ex2):
    assert ex2.view.clickable
    ex2.view.start = [0.02, -0.98]  # what the view writes on a click
    assert ex2.controls.widgets["target"].label == "minimum (0, -1)"
    assert_draws(ex2, rk.reach(ex2.landscape, "minimum (0, -1)", 0.4))
    found = rk.reach(ex2.landscape, "minimum (0, -1)", 0.4)
    ex2.view.start = [1.5, 0.5]  # far from every critical point: your start, no reach
    assert ex2.controls.widgets["target"].label == "minimum (0, -1)" and ex2.values["start"] == (1.5, 0.5)
    key, sent, xy = drawn(ex2)
    x, ref = np.array([1.5, 0.5]), [np.array([1.5, 0.5])]
    for _ in range(max(len(found.path.times) - 1, 1000)):  # GD written out, stopping where |grad f| <= 1e-10
        if np.linalg.norm(ex2.landscape.grad(x)) <= 1e-10:
            break
        x = x - 0.4 * ex2.landscape.grad(x)
        ref.append(x)
    np.testing.assert_allclose(xy[:len(ref)], np.array(ref), rtol=1e-12, atol=1e-15)
    np.testing.assert_array_equal(xy[len(ref):], np.broadcast_to(xy[len(ref) - 1], xy[len(ref):].shape))
    assert ex2.status.startswith("GD from your start (1.5, 0.5): ") and "distance to the minimum (0, -1)" in ex2.status
    assert "Your start, not reach's" in ex2.describe()
    ex2.set(step=0.3)  # any other change: reach finds its start again
    assert_draws(ex2, rk.reach(ex2.landscape, "minimum (0, -1)", 0.3))


def test_reduced_motion_reset_fallback_and_close(ex1):
    from ipywidgets.widgets.widget import _instances

    choose(ex1, "target", "flat minimum")
    ex1.reset_button.click()
    assert ex1.values["target"] == 0 and ex1.values["step"] == 0.04
    bundle = ex1._repr_mimebundle_()
    assert "Start found by reach" in bundle["text/plain"] and bundle["image/png"]
    before = set(_instances)
    ex = explore_reach(landscapes.saddle(), step=0.4, lecture=True, reduced_motion=True)
    assert ex.view.reduced_motion and ex.view.frame == len(ex.current.xy["gd"]) - 1
    ex._repr_mimebundle_()
    ex.close()
    assert set(_instances) - before == set()


def test_a_landscape_parameter_rebuilds_the_target_and_the_path(ex1, live):
    live(ex1, "sharp", 30.0)
    ls = landscapes.sharp_flat_double_well(sharp=30.0)
    assert ex1.landscape.params == ls.params
    assert_draws(ex1, rk.reach(ls, "sharp minimum", 0.04))
    assert "sharpness λ = 30, 2/λ = 0.06667" in ex1.describe()


def test_the_model_runs_without_widgets():
    m = ReachModel(landscapes.sharp_flat_double_well(), step=0.04, target="flat minimum")
    assert m.outcome.result.success and m.current.status.startswith("reach (")
    m.update(step=0.12, target=0)
    assert m.outcome.unstable and "ABOVE 2/λ = 0.1" in m.describe()
