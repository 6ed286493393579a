"""The Mexican hat of Absil, Mahony & Andrews (2005) and its spiralling gradient flow.

Checks the formula's derivatives, its support and critical points, and every property of the
flow that notebooks/05_beyond_smoothness.ipynb relies on, against an independent computation
(reachkit.gradient_flow in Cartesian coordinates) where that one can still follow it.
"""

import subprocess
import sys

import numpy as np
import pytest

import reachkit as rk
from reachkit.landscapes import mexican_hat, mexican_hat_flow

MH = mexican_hat()


def polar(r, theta):
    return np.stack([r * np.cos(theta), r * np.sin(theta)], axis=-1)


def fd_grad(x, eps=1e-7):
    return np.stack([(MH.value(x + eps * e) - MH.value(x - eps * e)) / (2 * eps) for e in np.eye(2)],
                    axis=-1)


def test_value_matches_the_polar_formula(rng):
    r = rng.uniform(0.0, 0.999, 200)
    th = rng.uniform(-np.pi, np.pi, 200)
    u = 1 / (1 - r**2)
    f = np.exp(-u) * (1 - 4 * r**4 / (4 * r**4 + (1 - r**2) ** 4) * np.sin(th - u))
    np.testing.assert_allclose(MH.value(polar(r, th)), f, rtol=1e-9, atol=1e-300)
    assert MH.value(np.zeros(2)) == pytest.approx(np.exp(-1.0), rel=1e-15)


def test_gradient_matches_finite_differences_inside_the_disc(rng):
    # uniform in the disc, and a band close to the circle where the spiral winds fast
    for r in (np.sqrt(rng.uniform(0, 0.98, 300)), rng.uniform(0.9, 0.99, 300)):
        x = polar(r, rng.uniform(-np.pi, np.pi, r.size))
        g = MH.grad(x)
        np.testing.assert_allclose(g, fd_grad(x), rtol=1e-5, atol=1e-7 * (1 + np.abs(g).max()))


def test_zero_outside_positive_inside_and_flat_at_the_circle(rng):
    out = polar(rng.uniform(1.0, 3.0, 200), rng.uniform(-np.pi, np.pi, 200))
    assert np.all(MH.value(out) == 0) and np.all(MH.grad(out) == 0)
    inside = polar(np.sqrt(rng.uniform(0, 1 - 1e-3, 500)), rng.uniform(-np.pi, np.pi, 500))
    assert np.all(MH.value(inside) > 0)
    # flat: at 1 - r^2 = 1/50 both f and grad f are below 1e-15, at 1/200 below 1e-80
    for gap, bound in ((1 / 50, 1e-15), (1 / 200, 1e-80)):
        near = polar(np.full(64, np.sqrt(1 - gap)), np.linspace(-np.pi, np.pi, 64))
        assert MH.value(near).max() < bound and np.abs(MH.grad(near)).max() < bound


def test_critical_points():
    cps = {c.label: c for c in MH.critical_points()}
    assert [c.kind for c in MH.critical_points()] == ["maximum", "saddle", "maximum", "minimum"]
    for c in cps.values():
        assert np.linalg.norm(MH.grad(c.x)) < 1e-15
    np.testing.assert_allclose(MH.hess(np.zeros(2)), -2 / np.e * np.eye(2), atol=1e-8)
    assert rk.classify(MH, cps["saddle"].x) == "saddle"
    assert rk.classify(MH, cps["local maximum (on the ridge)"].x) == "maximum"
    # inside the disc grad f = 0 only where cos(theta - u) = 0: on the valley sin(theta - u) = 1
    # the radial derivative is negative, and on the ridge it vanishes exactly twice
    r = np.linspace(0.01, 0.999, 20001)
    u = 1 / (1 - r**2)
    valley, ridge = polar(r, u + np.pi / 2), polar(r, u - np.pi / 2)
    assert np.all(np.sum(MH.grad(valley) * valley, axis=1) < 0)
    radial = np.sum(MH.grad(ridge) * ridge, axis=1)
    assert np.count_nonzero(np.diff(np.sign(radial))) == 2


def test_not_definable_infinitely_many_zeros_on_a_segment():
    """d f / d theta = x f_y - y f_x vanishes wherever cos(theta - u) = 0: on the x-axis, at
    u = pi/2 + k pi, infinitely many isolated points accumulating at x = 1."""
    counts = []
    for u_max in (50.0, 200.0, 600.0):
        u = np.linspace(1.01, u_max, 200_001)  # from x = 0.1 (f_theta = 0 at the centre)
        x = np.stack([np.sqrt(1 - 1 / u), np.zeros_like(u)], axis=-1)
        f_theta = x[:, 0] * MH.grad(x)[:, 1]
        counts.append(np.count_nonzero(np.diff(np.sign(f_theta))))
    expected = [int((m - np.pi / 2) // np.pi) + 1 for m in (50.0, 200.0, 600.0)]
    assert counts == expected  # 16, 63, 191: no bound as x -> 1


@pytest.fixture(scope="module")
def spiral():
    return mexican_hat_flow((0.0, 0.5), turns=20, n_points=4000)


def test_flow_spirals_out_toward_the_circle(spiral):
    s = spiral
    assert s.turns[-1] == pytest.approx(20.0, abs=1e-6)
    assert np.all(np.diff(s.theta) > 0)                       # winds around, always forward
    assert np.all(s.r < 1) and np.all(s.gap > 0)               # never reaches the circle
    late = s.r > 0.9
    assert late.sum() > 0.9 * s.r.size and np.all(np.diff(s.r[late]) > 0)  # creeps outward
    assert np.all(np.diff(s.log10_value) < 0)                  # f decreases along the path
    # it follows the valley theta - u = pi/2 (mod 2 pi): f is within 1e-6 of its valley value
    u = 1 / s.gap
    valley_f = np.exp(-u) * (1 - 4 * s.r**4 / (4 * s.r**4 + s.gap**4))
    end = s.turns > 5
    np.testing.assert_allclose(s.log10_value[end], np.log10(valley_f[end]), atol=1e-6)
    # 1 - r^2 about 1/theta: after n turns about 1/(2 pi n)
    n = s.turns[-1]
    assert 0.9 < s.gap[-1] * 2 * np.pi * n < 1.1


def test_flow_length_grows_without_bound_and_each_turn_is_slower(spiral):
    s = spiral
    for n in (5, 10, 15, 20):
        i = min(np.searchsorted(s.turns, n), s.turns.size - 1)
        # each full turn at radius >= r has length >= 2 pi r
        assert s.length[i] >= 2 * np.pi * 0.9 * (n - 2)
    # time of each turn: log10 t grows by about log10(e^{2 pi}) = 2.73 per turn (a bit more)
    i10, i19, i20 = (min(np.searchsorted(s.turns, n), s.turns.size - 1) for n in (10, 19, 20))
    per_turn = s.log10_time[i20] - s.log10_time[i19]
    assert 2 * np.pi / np.log(10) < per_turn < 2.95
    assert np.all(np.diff(s.log10_time) > 0)
    assert s.log10_time[i10] > 30  # ten turns take more than 10^30 time units
    # along the valley |grad f| is about e^{-u} / (4 u^4) (the docstring of mexican_hat_flow)
    u = 1 / s.gap
    late = s.turns > 10
    predicted = (-u - np.log(4 * u**4)) / np.log(10)
    assert np.abs(s.log10_grad[late] - predicted[late]).max() < 0.05
    # |grad f| falls below 1e-10 within the first 4 turns, and keeps falling
    assert s.log10_grad[np.searchsorted(s.turns, 4)] < -10 and np.all(np.diff(s.log10_grad[s.turns > 1]) < 0)


def test_gradient_along_the_flow_matches_the_cartesian_gradient_early_on(spiral):
    s = spiral
    cartesian = np.log10(np.linalg.norm(MH.grad(s.points), axis=1))
    early = s.turns < 3
    np.testing.assert_allclose(cartesian[early], s.log10_grad[early], atol=1e-6)
    # later, evaluating grad f at the rounded Cartesian point loses accuracy (the notebook says so)
    assert np.abs(cartesian - s.log10_grad)[s.turns > 15].max() > 0.3


def test_flow_agrees_with_a_plain_ode_solve_where_that_can_follow_it():
    start = np.array([0.0, 0.5])
    s = mexican_hat_flow(start, turns=2, n_points=20001)
    for t_max in (1e3, 1e5):
        plain = rk.gradient_flow(MH, start, t_max=t_max, n_times=2, gtol=1e-300, method="LSODA")
        lt = np.log10(1 + t_max)
        here = [np.interp(lt, s.log10_time, s.points[:, j]) for j in range(2)]
        assert np.linalg.norm(plain.final[0] - here) < 1e-5, t_max


def test_flow_does_not_depend_on_the_tolerance():
    a = mexican_hat_flow((-0.6, -0.3), turns=10, n_points=50, rtol=1e-8, atol=1e-10)
    b = mexican_hat_flow((-0.6, -0.3), turns=10, n_points=50, rtol=1e-11, atol=1e-13)
    for name in ("gap", "length", "log10_time", "log10_value"):
        np.testing.assert_allclose(getattr(a, name)[-1], getattr(b, name)[-1], rtol=1e-6)


def test_a_gradient_norm_stopping_test_is_fooled():
    """With its default gtol = 1e-10, gradient_flow stops at a point that is not critical."""
    p = rk.gradient_flow(MH, np.array([0.0, 0.5]), t_max=1e16, n_times=2, method="LSODA")
    z = p.final[0]
    assert p.status[0] == "converged"
    assert np.linalg.norm(z) < 1 and MH.value(z) > 0 and np.linalg.norm(MH.grad(z)) > 0


def test_bad_starts_raise():
    for start in [(0.0, 0.0), (1.0, 0.0), (2.0, 1.0), (np.nan, 0.1), (0.1, 0.2, 0.3)]:
        with pytest.raises(ValueError, match="start"):
            mexican_hat_flow(start)
    with pytest.raises(ValueError, match="turns"):
        mexican_hat_flow((0.5, 0.0), turns=0)
    with pytest.raises(ValueError, match="n_points"):
        mexican_hat_flow((0.5, 0.0), n_points=1)


BAD_SOLVER_ARGUMENTS = """
import gc
from fractions import Fraction
import numpy as np
from reachkit.landscapes import mexican_hat_flow
bad = [("atol", 10**30), ("atol", 1j), ("atol", Fraction(1, 2)), ("atol", 5e-324), ("atol", 0.0),
       ("rtol", np.zeros((2, 2, 2))), ("rtol", [1e-10, 1e-10]), ("rtol", np.inf), ("rtol", True),
       ("rtol", 1e-300), ("turns", True), ("turns", "3"), ("n_points", 2.0), ("start", "ab")]
for name, value in bad:
    try:
        mexican_hat_flow(**{name: value})
    except (TypeError, ValueError) as err:
        assert name in str(err), (name, str(err))
    else:
        raise AssertionError(f"{name}={value!r} was accepted")
    gc.collect()
flow = mexican_hat_flow(n_points=50)
print(round(float(flow.turns[-1]), 9))
"""


def test_bad_solver_arguments_are_refused_and_the_next_call_still_works():
    """Issue 16 R1: a cast error inside LSODA left its Fortran state broken (the next call
    segfaulted), tiny atol hung, inf / bool rtol gave ZeroDivisionError. Each is refused by
    name before LSODA starts, and a good call in the same process then winds its 10 turns."""
    out = subprocess.run([sys.executable, "-c", BAD_SOLVER_ARGUMENTS], capture_output=True, text=True,
                         timeout=120)
    assert out.returncode == 0, out.stderr[-2000:]
    assert out.stdout.split() == ["10.0"]
