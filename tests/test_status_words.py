"""Status words and read-outs say what the run did (issue 15, "Status words and read-outs"; issue 16 R8).

Each check compares the word with an independent computation: a plain loop, a closed form, an
infinite product summed separately."""

import math

import numpy as np
import pytest
from scipy.special import zeta

import reachkit as rk
from reachkit import analysis as A
from reachkit import dynamics as D
from reachkit import landscapes as L
from reachkit.explorers.dynamics_model import sampled_flow


def test_a_slowly_shrinking_alternation_just_below_2_over_lambda_is_not_cycling():
    """f = 10 x^2, a = 0.099 = 0.99 (2/20): x_{k+1} = -0.98 x_k alternates and shrinks."""
    ls = L.quadratic([20.0])
    for n in (900, 1000):
        x = 1.0
        tail = []
        for _ in range(n + 1):  # the plain loop
            tail.append(x)
            x = x - 0.099 * 20.0 * x
        tail = np.abs(tail[-64:])
        assert tail[-1] < 0.6 * tail[0] and np.all(np.diff(tail) < 0)  # the amplitude shrinks
        p = rk.gradient_descent(ls, [1.0], 0.099, n)
        words = p.describe(0)
        assert p.status[0] == "moving" and "cycling" not in words, words
        assert "converging slowly (alternating with period 2" in words
    # the explorer's read-out just below 2/lambda on the 2-D landscape, under "linearly stable"
    ex = rk.explore(L.sharp_flat_2d(), start=(-0.5, 1.0), step=0.099, n_steps=750)
    text = ex.describe()
    assert "step 0.099 is below: linearly stable" in text and "cycling" not in text
    assert "converging slowly" in text


def test_a_cycle_whose_amplitude_does_not_shrink_is_still_cycling():
    exact = rk.gradient_descent(L.quadratic([10.0]), [0.5], 0.2, 300)  # 0.5 - 0.2 * 10 * 0.5 = -0.5 exactly
    assert 0.5 - 0.2 * 10.0 * 0.5 == -0.5
    assert exact.describe(0) == "cycling with period 2 (not converging)"
    # just above 2/20 on the smooth double well: an attracting period-2 orbit around -1
    ls = L.smooth_double_well()
    x = -0.99
    for _ in range(3000):
        x -= 0.105 * float(ls.grad([x])[0])
    y = x - 0.105 * float(ls.grad([x])[0])
    assert abs(x - y) > 0.05 and abs(y - 0.105 * float(ls.grad([y])[0]) - x) < 1e-12
    assert rk.gradient_descent(ls, [-0.99], 0.105, 3000).status[0] == "cycling"


def test_summable_steps_leave_the_path_moving_toward_a_non_critical_limit():
    """f = x^2/2, a_k = 0.1/(k+1)^1.1: x_n = prod_{k<n} (1 - a_k) -> a positive limit."""
    a = 0.1 / np.arange(1, 2_000_001, dtype=float) ** 1.1
    x_n = float(np.prod(1 - a[:2000]))
    # log of the limit: -sum a_k (a zeta value) + sum (log(1 - a_k) + a_k) (terms ~ a_k^2, summed far)
    limit = math.exp(-0.1 * zeta(1.1) + float(np.sum(np.log1p(-a) + a)))
    assert x_n == pytest.approx(0.5495, abs=1e-4) and limit == pytest.approx(0.3443, abs=1e-4)
    p = rk.gradient_descent(L.quadratic([1.0]), [1.0], rk.power(0.1, 1.1), 2000, record_every=None)
    assert p.final[0, 0] == pytest.approx(x_n, rel=1e-12)
    words = p.describe(0)
    assert p.status[0] == "moving" and "stalled" not in words, words
    assert "summable" in words and "stop short of a critical point" in words


def test_stalled_only_where_the_iterate_is_frozen():
    """x = 1e17 and a |grad f| = 1e-3, far below the spacing of doubles there (16): x stays put."""
    x = 1e17
    assert x - 1e-20 * x == x
    p = rk.gradient_descent(L.quadratic([1.0]), [x], 1e-20, 50, escape_radius=1e18)
    assert p.status[0] == "stalled" and "no longer change the iterate" in p.describe(0)
    # frozen next to a critical point with no stopping test (gtol = 0): f = 9 (x - 1/3)^2 / 2
    ls = L.from_functions(lambda x: 4.5 * (x[..., 0] - 1 / 3) ** 2, lambda x: 9 * (x - 1 / 3),
                          lambda x: np.full(x.shape[:-1] + (1, 1), 9.0), dim=1, bounds=[(-1, 1)])
    x = 0.9
    for _ in range(3000):
        x -= 0.01 * 9 * (x - 1 / 3)
    assert x - 0.01 * 9 * (x - 1 / 3) == x and 9 * (x - 1 / 3) != 0  # frozen, gradient not exactly 0
    rest = rk.gradient_descent(ls, [0.9], 0.01, 3000, gtol=0.0)
    assert rest.final[0, 0] == x and rest.status[0] == "converged", rest.describe(0)


def test_at_2_over_lambda_every_read_out_says_marginal():
    at = "at the threshold: marginal, the next terms decide"
    text = rk.explore(L.quadratic([10.0]), step=0.2).describe()  # 2/10 = 0.2
    assert f"step 0.2 is {at}" in text and "linearly stable" not in text
    # the tolerance is relative: 1e-12 off is at the threshold, 1e-6 off is not
    assert A.step_verdict(0.2 * (1 + 1e-12), 0.2) == "at"
    assert A.step_verdict(0.2 * (1 + 1e-6), 0.2) == "above" and A.step_verdict(0.2 * (1 - 1e-6), 0.2) == "below"
    # reach refuses at 2/20 on the smooth double well, without claiming a period-2 orbit
    res = A.reach(L.smooth_double_well(), "sharp minimum", 0.1)
    assert res.refused and at in res.note and "period-2" not in res.note and not res.success
    text = rk.explore_reach(L.smooth_double_well(), step=0.1).describe()
    assert at in text and "reach is not run" in text
    assert "Start found by reach" not in text and "Not fragile" not in text


def test_at_2_over_lambda_gd_on_the_smooth_double_well_converges_slowly():
    """The next terms decide. With e = x + 1 the GD map is e -> -e + p e^2 + q e^3 (p = -a f3/2,
    q = -a f4/6: third and fourth derivatives at -1), so two steps give e - 2 c e^3 with
    c = p^2 + q > 0: 1/e_k^2 grows like 2 c k."""
    ls = L.smooth_double_well()
    g, h, a = (lambda x: float(ls.grad([x])[0])), 1e-3, 0.1
    f3 = (g(-1 + h) - 2 * g(-1) + g(-1 - h)) / h**2  # central differences of f'
    f4 = (g(-1 + 2 * h) - 2 * g(-1 + h) + 2 * g(-1 - h) - g(-1 - 2 * h)) / (2 * h**3)
    c = (a * f3 / 2) ** 2 - a * f4 / 6
    assert c == pytest.approx(12.65, abs=0.01)
    p = rk.gradient_descent(ls, [-0.998], a, 20_000, record_every=5000, gtol=0.0)
    growth = np.diff(1 / (p.iterates[:, 0, 0] + 1) ** 2)
    np.testing.assert_allclose(growth, 2 * c * 5000, rtol=0.01)  # converging, like 1/sqrt(2 c k)


def test_a_stopping_test_is_not_a_critical_point():
    ls = L.sharp_flat_2d()
    x = np.array([0.5, 1.0])
    h = 1e-6  # central differences: the gradient there is about 7.6, far from 0
    g = [(ls.value(x + h * e) - ls.value(x - h * e)) / (2 * h) for e in np.eye(2)]
    assert np.linalg.norm(g) == pytest.approx(7.5858, abs=1e-3)
    p = D.gradient_descent(ls, x, 0.01, gtol=50)
    words = p.describe(0)
    assert p.status[0] == "stopped" and words.startswith("stopped: |grad f| = 7.59 <= gtol = 50 at (0.5, 1)")
    assert "converged" not in words and "saddle" not in words
    # the Mexican hat where its flow's stopping test fires: tiny gradient, not critical
    assert A.classify(L.mexican_hat(), [0.3807, 0.8791]).startswith("not critical")
    # the flow with a loose rtol ends 0.0067 from the minimum (exp(-5)): "near", not "converged to"
    flow = D.gradient_flow(L.quadratic([1.0]), [1.0], t_max=5.0, rtol=1e-3)
    assert abs(flow.final[0, 0] - math.exp(-5)) < 1e-3
    assert flow.describe(0).startswith("near the minimum") and "converged" not in flow.describe(0)


def test_divergence_names_its_radius_and_sgd_gets_gd_s_verdict_by_name():
    p = rk.gradient_descent(L.quadratic([1.0]), [1.0], 2.5, 100, escape_radius=1e3)
    k = next(k for k in range(100) if 1.5**k > 1e3)  # |x_k| = |1 - 2.5|^k
    assert p.describe(0) == f"diverged at step {k}: the iterate left the escape radius 1e+03 (|x| > 1e+03)"
    # the explorer's sampled flow: x' = -3 x^2 from -0.5 is -0.5 / (1 - 1.5 t), past -R at t = (2 - 1/R)/3
    words = sampled_flow(L.cubic(), [-0.5], [5.0], 10)[0][1]
    assert words == "diverged at t = 0.666667: the iterate left the escape radius 2e+06 (|x| > 2e+06)"
    assert (2 - 1 / 2e6) / 3 == pytest.approx(0.666667, abs=1e-6)
    text = rk.explore(L.sharp_flat_2d_sum(), methods=("sgd",), step=0.05, n_steps=20).describe()
    assert "step 0.05 is below: linearly stable (for full-batch GD)" in text


def test_non_finite_gradients_and_nan_are_not_critical():
    ls = L.smooth_double_well()
    assert not np.isfinite(ls.grad([1e80])).all()
    assert A.classify(ls, [1e80]).startswith("not critical")
    with pytest.raises(ValueError, match="finite"):
        ls.classify([np.nan])
    with pytest.raises(ValueError, match="critical point"):
        A.reach(L.quadratic(), [1e308, 1e308], 0.05)
