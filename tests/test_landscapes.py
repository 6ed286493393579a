"""Every landscape: derivatives against finite differences, critical points, parameters."""

import numpy as np
import pytest

from reachkit import analysis
from reachkit import landscapes as L
from reachkit.landscapes import BUILTIN, Param, from_functions

ALL = {name: make() for name, make in BUILTIN.items()}


def random_points(ls, rng, n=20):
    lo, hi = ls.bounds[:, 0], ls.bounds[:, 1]
    return rng.uniform(lo, hi, size=(n, ls.dim))


def fd_grad(ls, x, eps=1e-6):
    return np.stack([(ls.value(x + eps * e) - ls.value(x - eps * e)) / (2 * eps)
                     for e in np.eye(ls.dim)], axis=-1)


def fd_hess(ls, x, eps=1e-6):
    return np.stack([(ls.grad(x + eps * e) - ls.grad(x - eps * e)) / (2 * eps)
                     for e in np.eye(ls.dim)], axis=-1)


def away_from_kinks(ls, x):
    """Drop points within 1e-4 of a kink (|x|, the plateau edges, the piecewise joints)."""
    kinks = {"absolute value |x|": [0.0], "plateau max(|x| - 1, 0)^2 / 2": [-1.0, 1.0],
             "sharp/flat double well (piecewise quadratic)": [-0.9, 1.0],
             "piecewise linear max(-x, x/2, 2x-3)": [0.0, 2.0]}
    for k in kinks.get(ls.name, []):
        x = x[np.abs(x[:, 0] - k) > 1e-4]
    return x


@pytest.mark.parametrize("name", sorted(ALL))
def test_gradient_matches_finite_differences(name, rng):
    ls = ALL[name]
    x = away_from_kinks(ls, random_points(ls, rng))
    g = ls.grad(x)
    assert g.shape == x.shape
    np.testing.assert_allclose(g, fd_grad(ls, x), rtol=1e-6, atol=1e-6 * (1 + np.abs(g).max()))


@pytest.mark.parametrize("name", sorted(ALL))
def test_hessian_matches_finite_differences(name, rng):
    ls = ALL[name]
    x = away_from_kinks(ls, random_points(ls, rng))
    H = ls.hess(x)
    assert H.shape == x.shape + (ls.dim,)
    np.testing.assert_allclose(H, fd_hess(ls, x), rtol=1e-5, atol=1e-5 * (1 + np.abs(H).max()))
    np.testing.assert_allclose(H, np.swapaxes(H, -1, -2))


@pytest.mark.parametrize("name", sorted(ALL))
def test_batched_shapes(name):
    ls = ALL[name]
    x = np.zeros((3, 4, ls.dim)) + ls.bounds[:, 0] * 0.3
    assert ls.value(x).shape == (3, 4)
    assert ls.grad(x).shape == (3, 4, ls.dim)
    assert ls.hess(x).shape == (3, 4, ls.dim, ls.dim)


def locally(ls, x, rng, r=1e-3, n=400):
    """f(x + h) - f(x) for small random h."""
    h = rng.normal(size=(n, ls.dim))
    h *= r / np.linalg.norm(h, axis=1, keepdims=True)
    return ls.value(x + h) - ls.value(x)


@pytest.mark.parametrize("name", sorted(ALL))
def test_critical_points_are_critical_and_correctly_classified(name, rng):
    ls = ALL[name]
    cps = ls.critical_points()
    assert cps, "every built-in landscape lists its critical points"
    for c in cps:
        assert np.linalg.norm(ls.grad(c.x)) <= 1e-9, c
        d = locally(ls, c.x, rng)
        if c.kind == "minimum":
            assert d.min() >= -1e-12, c
        elif c.kind == "maximum":
            assert d.max() <= 1e-12, c
        elif c.kind == "saddle":
            assert d.min() < 0 < d.max(), c
            assert analysis.classify(ls, c.x) == "saddle"
        elif c.kind == "minimum and maximum":
            assert np.all(d == 0), c
        elif c.kind == "degenerate":
            assert d.min() < 0 < d.max(), c
            assert analysis.classify(ls, c.x) == "degenerate"
        if c.kind in ("minimum", "maximum") and ls.smooth:
            kind = analysis.classify(ls, c.x)
            # a minimum flat to all orders (the Mexican hat's circle) looks constant nearby in float64
            flat_min = c.kind == "minimum" and kind == "minimum and maximum"
            assert kind in (c.kind, "degenerate") or flat_min, c


def test_sharpness_of_the_double_wells_is_the_declared_curvature():
    for make in (L.sharp_flat_double_well, L.smooth_double_well, L.sharp_flat_2d):
        ls = make(sharp=30.0, flat=0.5)
        sharp, flat = ls.minima()
        assert analysis.sharpness(ls, sharp.x) == pytest.approx(30.0, rel=1e-12)
        assert analysis.sharpness(ls, flat.x) == pytest.approx(0.5, rel=1e-12)
        assert "sharp" in sharp.label and "flat" in flat.label


def test_piecewise_double_well_matches_theory_md():
    ls = L.sharp_flat_double_well()
    assert ls.grad(np.array([-0.9]))[0] == pytest.approx(2.0)
    assert ls.grad(np.array([1.0]))[0] == pytest.approx(-1.0)
    assert ls.lipschitz == 20.0
    hump = [c for c in ls.critical_points() if c.kind == "maximum"][0]
    assert hump.x[0] == pytest.approx(-0.9 + 2 * 1.9 / 3)


def test_curve_of_minima_hessian_eigenvalues():
    ls = L.curve_of_minima()
    for t in (0.5, 1.0, 2.0, -3.0):
        x = L.curve_point(t)
        assert ls.value(x) == 0 and np.allclose(ls.grad(x), 0)
        np.testing.assert_allclose(np.linalg.eigvalsh(ls.hess(x)), [0.0, t**2 + 1 / t**2], atol=1e-12)


def test_himmelblau_minima_are_zeros():
    ls = L.himmelblau()
    for c in ls.minima():
        assert ls.value(c.x) == pytest.approx(0.0, abs=1e-20)
    assert len(ls.minima()) == 4 and len(ls.critical_points()) == 9


def test_with_params_checks_ranges_and_recomputes_critical_points():
    ls = L.sharp_flat_double_well()
    ls2 = ls.with_params(sharp=40.0)
    assert ls.params["sharp"] == 20.0 and ls2.params["sharp"] == 40.0
    assert analysis.sharpness(ls2, ls2.minima()[0].x) == pytest.approx(40.0)
    hump1 = ls.critical_points()[1].x[0]
    hump2 = ls2.critical_points()[1].x[0]
    assert hump1 != hump2
    with pytest.raises(ValueError, match=r"'sharp'.*\[2.0, 60.0\]"):
        ls.with_params(sharp=100.0)
    with pytest.raises(ValueError, match="unknown parameter"):
        ls.with_params(depth=1.0)


def test_custom_landscape_with_finite_difference_hessian(rng):
    ls = from_functions(
        lambda x, c: 0.25 * x[..., 0] ** 4 + 0.5 * c * x[..., 1] ** 2,
        lambda x, c: np.stack([x[..., 0] ** 3, c * x[..., 1]], axis=-1),
        dim=2, bounds=[(-2, 2), (-2, 2)], params=[Param("c", 3.0, 0.5, 10.0)],
        critical_points=[((0, 0), "minimum", "origin")], name="quartic valley")
    x = random_points(ls, rng)
    exact = np.zeros(x.shape[:-1] + (2, 2))
    exact[..., 0, 0] = 3 * x[:, 0] ** 2
    exact[..., 1, 1] = 3.0
    np.testing.assert_allclose(ls.hess(x), exact, atol=1e-6)
    assert ls.with_params(c=5.0).hess(np.zeros(2))[1, 1] == pytest.approx(5.0, abs=1e-6)
    assert ls.critical_points()[0].label == "origin"


def test_wrong_shapes_and_values_raise():
    ls = L.sharp_flat_2d()
    with pytest.raises(ValueError, match=r"shape \(\.\.\., 2\)"):
        ls.value(np.zeros(3))
    with pytest.raises(ValueError, match="curvatures"):
        L.quadratic([])
    with pytest.raises(ValueError, match="t must be"):
        L.curve_point(0.0)
    with pytest.raises(ValueError, match="kind must be one of"):
        from_functions(lambda x: x[..., 0], lambda x: x, dim=1, bounds=[(0, 1)],
                       critical_points=[((0,), "valley", "v")])


def test_finite_sum_minibatch_gradient_is_unbiased():
    ls = L.sharp_flat_2d_sum(n_samples=6, spread=0.5, seed=3)
    x = np.array([[0.3, -0.7]])
    all_single = [ls.sample_grad(x, np.array([[i]])) for i in range(ls.n_samples)]
    np.testing.assert_allclose(np.mean(all_single, axis=0), ls.grad(x), rtol=1e-12)
    np.testing.assert_allclose(ls.sample_grad(x, np.arange(6)[None]), ls.grad(x), rtol=1e-12)
