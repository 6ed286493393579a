"""Dynamics against closed forms and the experiments of theory.md."""

import math

import numpy as np
import pytest

from reachkit import analysis
from reachkit import landscapes as L
from reachkit import schedules as S
from reachkit.dynamics import STATUSES, gradient_descent, gradient_flow, sgd, subgradient_method


def test_gd_on_a_quadratic_equals_the_closed_form():
    c = np.array([1.0, 10.0, 0.3])
    ls = L.quadratic(c)
    x0 = np.array([[1.0, -2.0, 0.5], [0.1, 0.2, -3.0]])
    a = 0.15
    path = gradient_descent(ls, x0, a, 50, gtol=0.0)
    k = np.arange(51)[:, None, None]
    np.testing.assert_allclose(path.iterates, (1 - a * c) ** k * x0[None], rtol=1e-12, atol=1e-300)
    np.testing.assert_allclose(path.values, ls.value(path.iterates))
    assert np.all(path.step_sizes[:-1] == a)


def test_gradient_flow_on_a_quadratic_matches_exp_minus_tH():
    c = np.array([1.0, 10.0])
    ls = L.quadratic(c)
    x0 = np.array([[1.0, 1.0], [-0.5, 2.0], [3.0, -1.0]])
    path = gradient_flow(ls, x0, t_max=3.0, n_times=31)
    exact = np.exp(-path.times[:, None, None] * c) * x0[None]
    assert np.max(np.abs(path.iterates - exact)) < 1e-6
    np.testing.assert_allclose(path.times, np.linspace(0, 3, 31))


def test_gradient_flow_stops_when_the_gradient_vanishes():
    ls = L.quadratic([2.0])
    path = gradient_flow(ls, [[1.0]], t_max=100.0, n_times=101, gtol=1e-9)
    assert path.status[0] == "converged"
    assert 5 < path.stopped_at[0] < 15  # |grad| = 2 e^{-2t} <= 1e-9 at t ~ 10.7
    assert np.all(path.iterates[-1] == path.iterates[-50])


def test_summable_steps_stop_short_at_the_infinite_product():
    """f = x^2/2, x0 = 1, a_k = 0.1/(k+1)^2: x_k -> prod(1 - 0.1/n^2) = sin(pi sqrt .1)/(pi sqrt .1)."""
    ls = L.quadratic([1.0])
    limit = math.sin(math.pi * math.sqrt(0.1)) / (math.pi * math.sqrt(0.1))
    assert limit == pytest.approx(0.84344, abs=5e-6)
    summable = gradient_descent(ls, [[1.0]], S.power(0.1, 2.0), 10_000, record_every=None)
    assert summable.final[0, 0] == pytest.approx(limit, abs=1e-5)
    assert summable.status[0] == "moving" and "summable" in summable.describe(0)  # still moving
    assert "summable" in summable.describe(0)


def test_nonsummable_steps_converge_slowly():
    ls = L.quadratic([1.0])
    path = gradient_descent(ls, [[1.0]], S.power(0.1, 0.6), 10_000)
    assert abs(path.iterates[1000, 0, 0]) == pytest.approx(2.26e-2, rel=0.05)   # "about 2e-2"
    assert abs(path.iterates[10_000, 0, 0]) == pytest.approx(5.6e-5, rel=0.1)   # "6e-5"
    assert S.power(0.1, 0.6).total() == math.inf and not S.power(0.1, 0.6).summable
    assert S.power(0.1, 2).summable


def test_limit_is_zero_iff_p_at_most_one():
    ls = L.quadratic([1.0])
    for p, reaches in [(0.5, True), (1.0, True), (1.5, False), (3.0, False)]:
        x = gradient_descent(ls, [[1.0]], S.power(0.5, p), 20_000, record_every=None).final[0, 0]
        assert (abs(x) < 1e-2 if reaches else abs(x) > 0.1), (p, x)  # p = 1: x_k ~ k^(-1/2)


def test_both_minima_reached_with_a_small_step():
    ls = L.sharp_flat_double_well()
    starts = np.linspace(-3, 5, 801)[:, None]
    path = gradient_descent(ls, starts, 0.04, 2000, record_every=None)
    frac = path.fractions()
    assert frac["sharp minimum"] == pytest.approx(0.42, abs=0.01)
    assert frac["flat minimum"] == pytest.approx(0.58, abs=0.01)


def test_just_above_two_over_sharpness_the_sharp_minimum_keeps_an_oscillation():
    """a = 0.101 (a * 20 = 2.02): starts in the sharp basin neither converge nor escape.

    In the piecewise-quadratic well the iterate alternates sides of -1 every step, staying within
    [-1.11, -0.89]; its 2-cycle {p, q} exists but is itself unstable (the kink), so the
    oscillation wobbles. In the smooth well the 2-cycle is attracting: exact period 2.
    """
    ls = L.sharp_flat_double_well()
    starts = np.linspace(-1.3, -0.7, 30)[:, None]  # not -1 itself
    path = gradient_descent(ls, starts, 0.101, 5000)
    tail = path.iterates[-200:, :, 0]
    assert not np.any(path.status == "converged")
    assert np.all(path.status != "diverged")
    assert tail.min() > -1.11 and tail.max() < -0.89
    assert np.all(np.diff(np.sign(tail + 1), axis=0) != 0)  # alternates sides every step
    # the 2-cycle of the map through the kink: p = -1 + u, q = -1 - 1.02 u
    a, slope = 0.101, -3 / 1.9
    u = a * (-2 + 0.1 * slope) / (2.02 - 1.02 * a * slope)
    p, q = -1 + u, -1 - 1.02 * u
    gmap = lambda x: x - a * ls.grad(np.array([x]))[0]  # noqa: E731
    assert gmap(gmap(p)) == pytest.approx(p, abs=1e-12) and gmap(p) == pytest.approx(q, abs=1e-12)
    assert abs((1 - 20 * a) * (1 - a * slope)) > 1  # its multiplier: the 2-cycle repels

    smooth = gradient_descent(L.smooth_double_well(), [[-0.95]], 0.101, 5000)
    assert smooth.status[0] == "cycling" and smooth.period[0] == 2
    below = gradient_descent(L.smooth_double_well(), [[-0.95]], 0.099, 5000)
    assert below.status[0] == "converged" and below.limit_label[0] == "sharp minimum"


def test_escape_to_the_flat_minimum_needs_a_clearly_larger_step():
    ls = L.sharp_flat_double_well()
    starts = np.linspace(-1.3, -0.7, 30)[:, None]
    for a in (0.12, 0.2):  # unstable at -1, yet the starts stay around it
        path = gradient_descent(ls, starts, a, 3000, record_every=None)
        hump = ls.critical_points()[1].x[0]
        assert not np.any(path.status == "converged") and np.all(path.final < hump), a
    path = gradient_descent(ls, starts, 0.3, 3000, record_every=None)
    assert np.all(path.limit_label == "flat minimum")


def test_large_steps_select_flat_minima_on_the_curve():
    """Every limit GD reaches on (xy - 1)^2/2 has sharpness <= 2/a (up to rounding)."""
    ls = L.curve_of_minima()
    starts = np.random.default_rng(0).uniform(-2.5, 2.5, size=(3000, 2))
    for a in (0.1, 0.3, 0.6):
        path = gradient_descent(ls, starts, a, 4000, record_every=None)
        conv = path.status == "converged"
        assert conv.mean() > 0.5
        lam = analysis.sharpness(ls, path.final[conv])
        assert lam.max() <= 2 / a * (1 + 1e-6), (a, lam.max())
    # and with small steps some limits are much sharper than 2/0.6 = 3.3
    small = gradient_descent(ls, starts, 0.02, 6000, record_every=None)
    assert analysis.sharpness(ls, small.final[small.status == "converged"]).max() > 2 / 0.6


def test_gd_multiplies_x2_minus_y2_by_one_minus_a2_r2():
    ls = L.curve_of_minima()
    path = gradient_descent(ls, [[1.7, -0.4]], 0.1, 20, gtol=0.0)
    x, y = path.iterates[:, 0, 0], path.iterates[:, 0, 1]
    inv = x**2 - y**2
    r = x * y - 1
    np.testing.assert_allclose(inv[1:], inv[:-1] * (1 - 0.01 * r[:-1] ** 2), rtol=1e-12)


def test_saddle_is_reached_only_from_y0_equal_zero():
    ls = L.saddle()
    on = gradient_descent(ls, [[1.5, 0.0], [-0.7, 0.0]], 0.1, 2000)
    assert list(on.limit_label) == ["saddle", "saddle"]
    off = gradient_descent(ls, [[1.5, 1e-12], [1.5, -1e-12]], 0.1, 2000)
    assert list(off.limit_label) == ["minimum (0, 1)", "minimum (0, -1)"]
    flow = gradient_flow(ls, [[1.5, 0.0], [1.5, 1e-12]], t_max=60.0)
    assert list(flow.limit_label) == ["saddle", "minimum (0, 1)"]


def test_plateau_edges_are_reached_from_outside():
    ls = L.plateau()
    path = gradient_descent(ls, [[2.5], [-1.7]], 0.5, 200)
    np.testing.assert_allclose(path.final[:, 0], [1.0, -1.0], atol=1e-9)
    assert list(path.limit_label) == ["plateau edge +1", "plateau edge -1"]
    inside = gradient_descent(ls, [[0.3]], 0.5, 10)
    assert inside.final[0, 0] == 0.3 and inside.stopped_at[0] == 0  # only by starting on it


def test_cubic_is_reached_sublinearly_and_diverges_from_the_left():
    ls = L.cubic()
    a = 0.05
    path = gradient_descent(ls, [[0.5], [-0.5]], a, 4000)
    x = path.iterates[:, 0, 0]
    k = np.array([1000, 4000])
    np.testing.assert_allclose(x[k], 1 / (3 * a * k), rtol=0.05)  # x_k ~ 1/(3 sum a_j)
    assert path.status[1] == "diverged"


def test_subgradient_method_reaches_zero_only_from_the_lattice():
    ls = L.absolute_value()
    path = subgradient_method(ls, [[5 / 8], [0.6]], 1 / 8, 100)
    assert path.status[0] == "converged" and path.stopped_at[0] == 5 and path.final[0, 0] == 0.0
    assert path.status[1] == "cycling" and path.period[1] == 2
    decimal = subgradient_method(ls, [[0.5]], 0.1, 100)
    assert decimal.status[0] != "converged"  # 0.5 - 5 * 0.1 is not 0 in floating point


def test_diverging_run_is_frozen_flagged_and_silent(no_warnings):
    ls = L.cubic()
    path = gradient_descent(ls, [[-0.5], [0.5]], 0.1, 500)
    assert path.status[0] == "diverged"
    k = path.stopped_at[0]
    assert 5 < k < 30
    assert np.all(np.isfinite(path.iterates)) and np.all(np.isfinite(path.values))
    assert np.all(path.iterates[k:, 0] == path.iterates[k - 1, 0])  # frozen at the last finite iterate
    assert f"diverged at step {k}" in path.describe(0)
    assert set(path.status) <= set(STATUSES)
    exp_land = L.sharp_flat_2d()
    far = gradient_descent(exp_land, [[-1.0, 0.2]], 5.0, 200)
    assert far.status[0] == "diverged"


def test_sgd_is_reproducible_from_a_seed():
    ls = L.sharp_flat_2d_sum(n_samples=8, spread=0.8, seed=1)
    starts = np.random.default_rng(2).uniform(-1.5, 3.5, size=(50, 2)) * [1, 0.5]
    a = sgd(ls, starts, 0.06, 300, batch_size=2, seed=7)
    b = sgd(ls, starts, 0.06, 300, batch_size=2, seed=7)
    c = sgd(ls, starts, 0.06, 300, batch_size=2, seed=8)
    np.testing.assert_array_equal(a.iterates, b.iterates)
    assert not np.array_equal(a.iterates, c.iterates)
    full = sgd(ls, starts, 0.06, 300, batch_size=8)
    gd = gradient_descent(ls, starts, 0.06, 300)
    np.testing.assert_allclose(full.iterates, gd.iterates, rtol=1e-12)


def test_sgd_mean_square_vs_almost_sure_stability():
    """a_i in {0.5, 1.5}, batch 1: GD stable iff eta < 2; mean-square stable iff eta <= 1.6."""
    w = (0.5, 1.5)
    assert analysis.interpolation_stability(w, 1.6).mean_square_factor == pytest.approx(1.0)
    st = analysis.interpolation_stability(w, 1.8)
    assert st.gd_stable and not st.mean_square_stable and st.almost_surely_convergent
    st = analysis.interpolation_stability(w, 1.0)
    assert st.mean_square_stable
    # typical runs at eta = 1.8 converge although E x_k^2 grows
    ls = L.interpolating_quadratics(w)
    path = sgd(ls, np.ones((400, 1)), 1.8, 400, seed=0)
    assert np.mean(path.status == "converged") > 0.9


def test_bad_inputs_raise_value_errors_naming_the_argument():
    ls = L.sharp_flat_double_well()
    for bad in (0.0, -0.1, float("nan"), float("inf")):
        with pytest.raises(ValueError, match="step"):
            gradient_descent(ls, [[0.0]], bad, 10)
    with pytest.raises(ValueError, match="starts must have shape"):
        gradient_descent(ls, [[0.0, 1.0]], 0.1, 10)
    with pytest.raises(ValueError, match="finite"):
        gradient_descent(ls, [[np.nan]], 0.1, 10)
    with pytest.raises(ValueError, match="n_steps"):
        gradient_descent(ls, [[0.0]], 0.1, -1)
    with pytest.raises(ValueError, match="exponent p"):
        S.power(0.1, -1)
    with pytest.raises(ValueError, match="a0"):
        S.power(0.0, 1)
    fs = L.interpolating_quadratics()
    with pytest.raises(ValueError, match=r"batch_size must be an integer >= 1 and <= 2"):
        sgd(fs, [[1.0]], 0.1, 10, batch_size=3)
    with pytest.raises(ValueError, match="finite-sum"):
        sgd(ls, [[1.0]], 0.1, 10)
    with pytest.raises(ValueError, match="t_max"):
        gradient_flow(ls, [[1.0]], t_max=-1)
    with pytest.raises(ValueError, match="one per start"):
        gradient_descent(ls, [[0.0], [1.0]], S.constant([0.1, 0.2, 0.3]), 10)


def test_adaptive_steps():
    ls = L.sharp_flat_double_well()
    arm = gradient_descent(ls, [[-2.5], [4.5]], S.armijo(1.0), 300)
    assert np.all(arm.status == "converged")
    assert np.all(np.diff(arm.values[:, 0])[:50] <= 1e-12)  # Armijo decreases f monotonically
    pol = gradient_descent(L.quadratic([3.0]), [[1.0]], S.polyak(0.0, 10.0), 100)
    assert pol.step_sizes[0, 0] == pytest.approx(1 / 6)  # (f - 0)/|g|^2 = (1.5 x^2)/(9 x^2)
