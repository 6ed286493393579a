"""Analysis: thresholds, critical points, basin maps, bifurcations, and reach."""

import numpy as np
import pytest

from reachkit import analysis as A
from reachkit import landscapes as L
from reachkit import schedules as S
from reachkit.dynamics import gradient_descent, gradient_flow


def test_stability_threshold_is_two_over_sharpness():
    ls = L.sharp_flat_2d(sharp=25.0, flat=0.5)
    sharp, flat = ls.minima()
    assert A.stability_threshold(ls, sharp.x) == pytest.approx(2 / 25)
    assert A.stability_threshold(ls, flat.x) == pytest.approx(4.0)
    labels = [t[0] for t in A.minima_thresholds(ls)]
    assert labels == ["sharp minimum", "flat minimum"]
    assert np.isinf(A.stability_threshold(L.cubic(), [0.0]))


@pytest.mark.parametrize("make", [L.sharp_flat_2d, L.himmelblau, L.saddle, L.smooth_double_well])
def test_numerical_critical_points_match_the_closed_forms(make):
    ls = make()
    found = A.find_critical_points(ls, n_starts=300)
    listed = [c for c in ls.critical_points()
              if np.all((c.x >= ls.bounds[:, 0]) & (c.x <= ls.bounds[:, 1]))]
    assert len(found) == len(listed)
    for c in listed:
        match = [f for f in found if np.linalg.norm(f.x - c.x) < 1e-8]
        assert len(match) == 1, c
        assert match[0].kind == c.kind and match[0].label == c.label


def test_basin_map_is_one_batched_run_with_the_right_labels():
    ls = L.sharp_flat_double_well()
    bm = A.basin_map(ls, 0.04, n=801, n_steps=2000, bounds=[(-3, 5)])
    assert bm.labels.shape == (801,)
    assert bm.fraction("sharp minimum") == pytest.approx(0.42, abs=0.01)
    hump = ls.critical_points()[1].x[0]
    sharp = bm.names.index("sharp minimum")
    np.testing.assert_array_equal(bm.labels == sharp, bm.xs < hump)


def test_basin_map_2d_agrees_with_single_runs():
    ls = L.sharp_flat_2d()
    bm = A.basin_map(ls, 0.03, n=40, n_steps=1500)
    rng = np.random.default_rng(0)
    for i, j in rng.integers(0, 40, size=(12, 2)):
        p = gradient_descent(ls, [[bm.xs[j], bm.ys[i]]], 0.03, 1500, gtol=1e-8)
        expected = p.limit_label[0] if p.status[0] == "converged" else p.status[0]
        assert bm.names[bm.labels[i, j]] == expected


def test_sharp_basin_shrinks_then_vanishes_as_the_step_grows():
    ls = L.sharp_flat_2d()
    fractions = [A.basin_map(ls, a, n=64, n_steps=1500).fraction("sharp minimum")
                 for a in (0.02, 0.06, 0.099, 0.101, 0.15)]
    assert fractions[0] > 0.2
    assert fractions[3] == 0.0 and fractions[4] == 0.0  # above 2/20 nothing converges to it


def test_bifurcation_period_doubling_of_the_smooth_well():
    ls = L.smooth_double_well()
    bif = A.bifurcation(ls, [0.095, 0.105, 0.125], starts=[-0.95], n_transient=4000, n_keep=32)
    distinct = [np.unique(np.round(row, 8)).size for row in bif.points]
    assert distinct[0] == 1 and bif.points[0, 0] == pytest.approx(-1.0)
    assert distinct[1] == 2
    assert distinct[2] >= 4


def test_summarize_limits_histogram_fact():
    ls = L.curve_of_minima()
    starts = np.random.default_rng(1).uniform(-2.5, 2.5, size=(1500, 2))
    a = 0.25
    path = gradient_descent(ls, starts, a, 4000, record_every=None)
    summary = A.summarize_limits(ls, path)
    assert summary.n_runs == 1500
    assert summary.limit_sharpness.size == round(1500 * (1 - sum(
        v for k, v in summary.fractions.items() if k in ("diverged", "moving", "cycling"))))
    assert summary.limit_sharpness.max() <= 2 / a + 1e-6


# -- reach ---------------------------------------------------------------------------------------
SCHEDULES = {"constant": 0.04, "decaying": S.power(0.04, 0.5), "flow": None}
# the saddle and the curve have flatter stable directions: larger (still < 1/L locally) steps
SCHEDULES_FLAT = {"constant": 0.1, "decaying": S.power(0.3, 0.5), "flow": None}


def _check(result, ls, target, schedule):
    assert result.success, result.note
    assert np.linalg.norm(result.start - target) >= 0.3, "the start must be away from the target"
    assert result.final_distance <= 1e-6
    # an independent forward run from the returned start
    if schedule is None:
        p = gradient_flow(ls, result.start[None], result.path.times[-1], 801, gtol=1e-11)
    else:
        p = gradient_descent(ls, result.start[None], schedule, result.path.iterates.shape[0] - 1,
                             gtol=1e-11)
    assert np.linalg.norm(p.final[0] - target) <= 1e-6


@pytest.mark.parametrize("kind", SCHEDULES)
def test_reach_sharp_minimum_of_the_double_well(kind):
    ls = L.sharp_flat_double_well()
    step = SCHEDULES[kind]
    res = A.reach(ls, "sharp minimum", step, method="flow" if step is None else "gd")
    _check(res, ls, np.array([-1.0]), step)
    assert not res.fragile


@pytest.mark.parametrize("kind", SCHEDULES_FLAT)
def test_reach_the_saddle(kind):
    ls = L.saddle()
    step = SCHEDULES_FLAT[kind]
    res = A.reach(ls, "saddle", step, method="flow" if step is None else "gd")
    _check(res, ls, np.zeros(2), step)
    assert res.fragile and "measure zero" in res.note
    assert res.start[1] == 0.0  # its stable manifold is the line y = 0


@pytest.mark.parametrize("kind", SCHEDULES_FLAT)
def test_reach_a_chosen_point_of_the_curve_of_minima(kind):
    ls = L.curve_of_minima()
    target = L.curve_point(2.0)
    step = SCHEDULES_FLAT[kind]
    res = A.reach(ls, target, step, method="flow" if step is None else "gd")
    _check(res, ls, target, step)
    assert res.fragile


def test_reach_uses_different_starts_for_flow_and_gd_on_the_curve():
    ls = L.curve_of_minima()
    target = L.curve_point(2.0)
    flow = A.reach(ls, target, method="flow", radius=1.0)
    gd = A.reach(ls, target, 0.2, radius=1.0)
    # the flow keeps x^2 - y^2; GD shrinks it by (1 - a^2 r^2) per step: different invariants
    inv = lambda z: z[0] ** 2 - z[1] ** 2  # noqa: E731
    assert inv(flow.start) == pytest.approx(inv(target), abs=1e-6)
    assert inv(gd.start) > inv(target) + 1e-3


def test_reach_refuses_maxima_and_explains_unstable_steps():
    with pytest.raises(ValueError, match="local maximum"):
        A.reach(L.sharp_flat_double_well(), "local maximum (hump)", 0.04)
    with pytest.raises(ValueError, match="local maximum"):
        A.reach(L.plateau(), "plateau interior", 0.1)
    with pytest.raises(ValueError, match="critical point"):
        A.reach(L.saddle(), [0.5, 0.5], 0.1)
    with pytest.raises(ValueError, match="adaptive"):
        A.reach(L.saddle(), "saddle", S.armijo())
    res = A.reach(L.sharp_flat_double_well(), "sharp minimum", 0.12)  # 0.12 > 2/20
    assert not res.success and "2/sharpness" in res.note


def test_flow_basin_map_labels_every_start_with_loose_solver_tolerances():
    bm = A.basin_map(L.sharp_flat_2d(), n=60, method="flow")
    assert bm.fraction("moving") == 0.0
    assert bm.fraction("sharp minimum") + bm.fraction("flat minimum") == pytest.approx(1.0)


def test_reach_explains_summable_and_unstable_steps_and_shows_the_run():
    ls = L.sharp_flat_double_well()
    res = A.reach(ls, "sharp minimum", S.power(0.04, 1.5))
    assert not res.success and "summable" in res.note and res.path.status[0] == "moving"
    res = A.reach(L.himmelblau(), "minimum (3, 2)", 0.04)  # sharpness ~82: 0.04 > 2/82
    assert not res.success and "linearly unstable" in res.note
    assert res.path.status[0] != "converged" or res.path.limit_label[0] != "minimum (3, 2)"


def test_reach_never_returns_a_start_resting_on_another_critical_point():
    ls = L.himmelblau()
    res = A.reach(ls, "saddle (-0.13, -1.95)", 0.005)
    assert np.linalg.norm(ls.grad(res.start)) > 1e-6
    assert res.fragile and res.closest_distance < 1e-3


def test_reach_a_coordinate_target_on_the_curve_is_a_minimum_with_a_flat_direction():
    ls = L.curve_of_minima()
    res = A.reach(ls, L.curve_point(2.5), 0.1)
    assert res.target_kind == "minimum" and res.success
    assert "flat direction" in res.note and "sublinear" not in res.note
    assert A.classify(L.plateau(), [0.3]) == "minimum and maximum"
    assert A.classify(L.cubic(), [0.0]) == "degenerate"


# ----------------------------------------------------------------------------------------------
# reach is honest about what float64 holds (issue 11), and checks its arguments (issue 9)
# ----------------------------------------------------------------------------------------------
def _himmelblau_grad(p):
    x, y = p
    return np.array([4 * x * (x * x + y - 11) + 2 * (x + y * y - 7), 2 * (x * x + y - 11) + 4 * y * (x + y * y - 7)])


def _plain_gd(grad, x, a, n):
    x = np.array(x, dtype=float)
    for _ in range(n):
        x = x - a * grad(x)
    return x


def test_reach_reports_a_saddle_reached_to_within_the_stopping_test_then_left():
    ls = L.himmelblau()
    res = A.reach(ls, "saddle (3.39, 0.07)", 0.01)
    assert res.final_distance < 1e-9  # the stopping test fired next to the saddle ...
    assert res.left and not res.success and "then left" in res.note
    # ... but plain GD continued from the same start leaves, to the minimum (3.584, -1.848)
    n = int(res.path.stopped_at[0]) + res.continued_steps
    end = _plain_gd(_himmelblau_grad, res.start, 0.01, n)
    np.testing.assert_allclose(end, [3.584428, -1.848126], atol=1e-5)
    assert res.continued_distance == pytest.approx(np.linalg.norm(end - res.target), rel=1e-6)


def test_reach_success_means_the_continued_run_stays():
    ls = L.himmelblau()
    res = A.reach(ls, "minimum (3, 2)", 0.01)
    assert res.success and not res.left and res.continued_steps >= 1000
    end = _plain_gd(_himmelblau_grad, res.start, 0.01, int(res.path.stopped_at[0]) + 5000)
    assert np.linalg.norm(end - [3.0, 2.0]) < 1e-12


def test_reach_refuses_a_step_of_exactly_two_over_sharpness():
    ls = L.smooth_double_well()  # sharpness 20 at the sharp minimum -1
    res = A.reach(ls, "sharp minimum", 0.1)
    assert not res.success and res.refused and "2/sharpness" in res.note and "period-2" not in res.note
    assert "at the threshold: marginal, the next terms decide" in res.note
    # independent check: at a = 2/20 the error shrinks slowly at best (plain loop, f'' = 20 at -1)
    x = _plain_gd(lambda x: ls.grad(x), [-1.0 + 1e-3], 0.1, 2000)
    assert abs(x[0] + 1.0) > 1e-4


@pytest.mark.parametrize("kwargs, exc, name", [
    (dict(max_steps=0), ValueError, "max_steps"), (dict(max_steps=-5), ValueError, "max_steps"),
    (dict(max_steps=2.5), TypeError, "max_steps"), (dict(tol=-1), ValueError, "tol"),
    (dict(tol=np.nan), ValueError, "tol"), (dict(radius=np.nan), ValueError, "radius"),
    (dict(method="sgd"), ValueError, "method"), (dict(tol="1e-8"), TypeError, "tol"),
])
def test_reach_names_the_bad_argument(kwargs, exc, name):
    with pytest.raises(exc, match=name):
        A.reach(L.sharp_flat_double_well(), "sharp minimum", 0.04, **kwargs)


@pytest.mark.parametrize("kwargs, exc, name", [
    (dict(n_keep=0), ValueError, "n_keep"), (dict(n_keep=-3), ValueError, "n_keep"),
    (dict(n_transient=-10), ValueError, "n_transient"), (dict(n_keep=2.0), TypeError, "n_keep"),
    (dict(steps=[0.1, 0.0]), ValueError, "steps"), (dict(steps=["0.1"]), TypeError, "steps"),
    (dict(starts=[np.nan]), ValueError, "starts"), (dict(starts=[]), ValueError, "starts"),
])
def test_bifurcation_names_the_bad_argument(kwargs, exc, name):
    args = dict(steps=[0.1], starts=[-0.9], n_transient=10, n_keep=4) | kwargs
    with pytest.raises(exc, match=name):
        A.bifurcation(L.smooth_double_well(), **args)


def test_bifurcation_points_are_the_closed_form_orbit():
    """GD on f = c x^2 / 2: x_k = (1 - a c)^k x0; the kept points are k = n_transient + 1 ... + n_keep."""
    c, x0 = 3.0, 0.7
    steps = np.array([0.1, 0.5, 0.66])
    bif = A.bifurcation(L.quadratic([c]), steps, starts=[x0], n_transient=7, n_keep=3)
    k = np.arange(8, 11)
    np.testing.assert_allclose(bif.points, (1 - steps[:, None] * c) ** k * x0, rtol=1e-12)


@pytest.mark.parametrize("kwargs, exc, name", [
    (dict(n=1), ValueError, "n "), (dict(n=True), TypeError, "n "), (dict(n_steps=0), ValueError, "n_steps"),
    (dict(method="sgd"), ValueError, "method"), (dict(method="flow", t_max=-1.0), ValueError, "t_max"),
    (dict(gtol=np.inf), ValueError, "gtol"), (dict(bounds=[(1, -1)]), ValueError, "bounds"),
    (dict(n=10**7), ValueError, "n "),
])
def test_basin_map_names_the_bad_argument(kwargs, exc, name):
    with pytest.raises(exc, match=name):
        A.basin_map(L.sharp_flat_double_well(), 0.04, **({"n": 8, "n_steps": 10} | kwargs))


@pytest.mark.parametrize("kwargs, exc, name", [
    (dict(n_starts=0), ValueError, "n_starts"), (dict(seed=-1), ValueError, "seed"),
    (dict(newton_steps=True), TypeError, "newton_steps"), (dict(gtol=0.0), ValueError, "gtol"),
])
def test_find_critical_points_names_the_bad_argument(kwargs, exc, name):
    with pytest.raises(exc, match=name):
        A.find_critical_points(L.smooth_double_well(), **kwargs)


def test_interpolation_stability_and_sgd_outcomes_name_the_bad_argument():
    with pytest.raises(TypeError, match="step"):
        A.interpolation_stability((0.5, 1.5), "1.0")
    with pytest.raises(ValueError, match="batch_size"):
        A.interpolation_stability((0.5, 1.5), 1.0, batch_size=3)
    with pytest.raises(TypeError, match="weights"):
        A.interpolation_stability((0.5, True), 1.0)
    fs = L.sharp_flat_2d_sum(n_samples=4)
    with pytest.raises(ValueError, match="batch_sizes"):
        A.sgd_outcomes(fs, [0.05], [5], [[0.1, 0.2]], n_steps=5)
    with pytest.raises(TypeError, match="batch_sizes"):
        A.sgd_outcomes(fs, [0.05], [1.5], [[0.1, 0.2]], n_steps=5)
    with pytest.raises(ValueError, match="seed"):
        A.sgd_outcomes(fs, [0.05], [1], [[0.1, 0.2]], n_steps=5, seed=-2)


def test_reach_takes_a_found_minimum_by_its_short_label_and_refuses_ambiguous_ones():
    ls = L.from_functions(lambda x: 0.25 * (x[..., 0] ** 2 - 1) ** 2, lambda x: (x**2 - 1) * x, dim=1,
                          bounds=[(-2, 2)])
    labels = [c.label for c in ls.critical_points()]
    assert labels == ["minimum 1 (sharpness 2)", "local maximum 1", "minimum 2 (sharpness 2)"]
    res = A.reach(ls, "minimum 2", 0.1)
    assert res.success and res.target[0] == pytest.approx(1.0, abs=1e-12)
    with pytest.raises(ValueError, match="'saddle' is ambiguous"):
        A.reach(L.himmelblau(), "saddle", 0.01)
    with pytest.raises(ValueError, match="'summit' is not a label"):
        A.reach(L.himmelblau(), "summit", 0.01)
