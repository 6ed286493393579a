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


@pytest.mark.parametrize("name", sorted(ALL))
def test_the_derivative_check_passes_every_built_in_landscape_rebuilt_from_its_functions(name):
    ls = ALL[name]  # right derivatives (checked against finite differences above), kinks and all
    from_functions(ls.value, ls.grad, None if ls._hess_fn is None else ls.hess, dim=ls.dim, bounds=ls.bounds,
                   smooth=ls.smooth, critical_points=())


def test_a_gradient_or_hessian_that_does_not_match_the_function_is_refused_with_the_point():
    half_square = lambda x: 0.5 * (x**2).sum(-1)  # noqa: E731  f = |x|^2 / 2: grad x, Hessian I
    with pytest.raises(ValueError, match=r"grad does not match value: at x = \(.*grad\(x\)\[0\] = -.* give "):
        from_functions(half_square, lambda x: -x, dim=1, bounds=[(-1, 1)])  # the sign typo
    with pytest.raises(ValueError, match=r"grad does not match value.*grad\(x\)\[1\]"):
        from_functions(half_square, lambda x: x * [1.0, 2.0], dim=2, bounds=[(-1, 1), (-1, 1)])
    with pytest.raises(ValueError, match=r"hess does not match grad: .*hess\(x\)\[0, 0\] = -1 but central "
                                         r"differences of grad give 1\b"):
        from_functions(half_square, lambda x: x, lambda x: -np.ones(x.shape + (1,)), dim=1, bounds=[(-1, 1)])
    ls = from_functions(half_square, lambda x: x, lambda x: np.ones(x.shape + (1,)), dim=1, bounds=[(-1, 1)])
    assert [c.kind for c in ls.critical_points()] == ["minimum"]
    # a subgradient of |x| away from its kink, and a steep but right gradient, pass
    from_functions(lambda x: np.abs(x).sum(-1), np.sign, dim=1, bounds=[(-1, 2)], smooth=False)
    from_functions(lambda x: np.exp(30 * x[..., 0]), lambda x: 30 * np.exp(30 * x), dim=1, bounds=[(-1, 1)])


@pytest.mark.parametrize("name", ["step", "seed", "start", "methods", "n_steps", "schedule", "basins", "target",
                                  "dynamics", "bifurcation", "mu", "batch_size", "x", "self", "landscape"])
def test_a_parameter_named_like_an_explorer_setting_or_keyword_is_refused_by_name(name):
    with pytest.raises(ValueError, match=rf"parameter name\(s\) \['{name}'\] are reserved"):
        from_functions(lambda x, **p: 0.5 * x[..., 0] ** 2, lambda x, **p: x, dim=1, bounds=[(-1, 1)],
                       params=[Param(name, 1.0, 0.5, 2.0)])


def test_every_setting_explore_declares_is_reserved_and_bad_param_declarations_are_refused():
    from reachkit.explorers import dynamics_model
    from reachkit.explorers.settings import reserved_names

    ls = L.smooth_double_well()
    own = {s.name for s in dynamics_model.declarations(ls)} - set(ls.params)
    assert own <= reserved_names() and "sharp" not in reserved_names()
    assert all(not set(ls.params) & reserved_names() for ls in ALL.values())  # nor a built-in's
    for bad in ("5", "lambda", "a b", ""):
        with pytest.raises(ValueError, match=f"Param name must be a Python identifier.*got '{bad}'"):
            Param(bad, 1.0, 0.5, 2.0)
    with pytest.raises(ValueError, match="log=True .* needs low > 0; got low=0.0"):
        Param("a", 1.0, 0.0, 2.0, log=True)
    with pytest.raises(ValueError, match=r"Param 'a' default must be >= 0.5 and <= 2"):
        Param("a", 3.0, 0.5, 2.0)
    with pytest.raises(TypeError, match=r"params must be a list of Param\(name, default, low, high\); got 3"):
        from_functions(lambda x: x[..., 0], np.ones_like, dim=1, bounds=[(-1, 1)], params=3)
    with pytest.raises(ValueError, match=r"distinct names; got \['a', 'a'\]"):
        from_functions(lambda x, a: a * x[..., 0], lambda x, a: a * np.ones_like(x), dim=1, bounds=[(-1, 1)],
                       params=[Param("a", 1.0, 0.5, 2.0)] * 2)


def test_a_name_with_malformed_mathtext_is_refused_where_the_landscape_is_made():
    make = lambda name: from_functions(lambda x: x[..., 0], np.ones_like, dim=1, bounds=[(-1, 1)], name=name)  # noqa: E731
    with pytest.raises(ValueError, match=r"name '\$x\^\$' is not valid mathtext between its \$ signs \(matplotlib "
                                         r"stops at column 3 of 'x\^'\)"):
        make("$x^$")  # was a ParseSyntaxException when the explorer drew its title
    assert [make(n).name for n in ("$x^2$ well", "costs $5", "plain")] == ["$x^2$ well", "costs $5", "plain"]


def test_wrong_shapes_and_values_raise():
    ls = L.sharp_flat_2d()
    with pytest.raises(ValueError, match=r"shape \(\.\.\., 2\)"):
        ls.value(np.zeros(3))
    with pytest.raises(ValueError, match="curvatures"):
        L.quadratic([])
    with pytest.raises(ValueError, match="t must be"):
        L.curve_point(0.0)
    with pytest.raises(ValueError, match="kind must be one of"):
        from_functions(lambda x: x[..., 0], np.ones_like, dim=1, bounds=[(0, 1)],
                       critical_points=[((0,), "valley", "v")])


def test_finite_sum_minibatch_gradient_is_unbiased():
    ls = L.sharp_flat_2d_sum(n_samples=6, spread=0.5, seed=3)
    x = np.array([[0.3, -0.7]])
    all_single = [ls.sample_grad(x, np.array([[i]])) for i in range(ls.n_samples)]
    np.testing.assert_allclose(np.mean(all_single, axis=0), ls.grad(x), rtol=1e-12)
    np.testing.assert_allclose(ls.sample_grad(x, np.arange(6)[None]), ls.grad(x), rtol=1e-12)


# ----------------------------------------------------------------------------------------------
# from_functions checks what it is given, at construction (issue 9, B6/B7)
# ----------------------------------------------------------------------------------------------
def _bowl_value(x):
    return 0.5 * np.sum(x**2, axis=-1)


def _bowl_grad(x):
    return 1.0 * x


@pytest.mark.parametrize("bounds", [[(2, -2), (-2, 2)], [(1, 1), (-2, 2)], [(np.nan, 2), (-2, 2)],
                                    [(-np.inf, 2), (-2, 2)], [(-2, 2)], [(-2, 2)] * 3])
def test_from_functions_refuses_bad_bounds(bounds):
    with pytest.raises(ValueError, match="bounds"):
        from_functions(_bowl_value, _bowl_grad, dim=2, bounds=bounds)


@pytest.mark.parametrize("value, grad, what", [
    (lambda x: (x**2).sum(-1).tolist(), _bowl_grad, "value.*float numpy array.*list"),
    (lambda x: 1.0, _bowl_grad, "value.*float numpy array.*float"),
    (lambda x: None, _bowl_grad, "value.*float numpy array.*NoneType"),
    (_bowl_value, lambda x: np.ones(x.shape, dtype=int), "grad.*dtype int"),
    (lambda x: x[0] ** 2 + x[1] ** 2, _bowl_grad, r"value.*returned shape.*expected \(3,\)"),
    (_bowl_value, lambda x: np.array([x[0], x[1]]), r"grad.*returned shape"),
    (lambda x: __import__("math").sin(x[..., 0]), _bowl_grad, "value.*failed on a batch"),
    (_bowl_value, lambda x: x / 0.0, "grad.*NaN or inf"),
])
def test_from_functions_refuses_functions_that_do_not_broadcast_or_return_floats(value, grad, what):
    with pytest.raises((TypeError, ValueError), match=what):
        from_functions(value, grad, dim=2, bounds=[(-2, 2), (-2, 2)], critical_points=())


@pytest.mark.parametrize("lipschitz, exc", [(-1, ValueError), (0.0, ValueError), (True, TypeError),
                                             ("1", TypeError), (np.nan, ValueError)])
def test_from_functions_refuses_bad_lipschitz(lipschitz, exc):
    with pytest.raises(exc, match="lipschitz"):
        from_functions(_bowl_value, _bowl_grad, dim=2, bounds=[(-2, 2)] * 2, lipschitz=lipschitz)


def test_from_functions_refuses_a_declared_critical_point_that_is_not_critical():
    with pytest.raises(ValueError, match=r"'off' at x = \(0.1, 0\) is not critical: \|grad f\| = 0.1"):
        from_functions(_bowl_value, _bowl_grad, dim=2, bounds=[(-2, 2)] * 2,
                       critical_points=[((0.1, 0.0), "minimum", "off")])
    ls = from_functions(_bowl_value, _bowl_grad, dim=2, bounds=[(-2, 2)] * 2,
                        critical_points=[((0.0, 0.0), "minimum", "centre")])
    assert [c.label for c in ls.critical_points()] == ["centre"]


# f'(x) = x (x^2 - 1)(x^2 - 4): minima at -2, 0, 2 (f'' > 0), maxima at -1, 1.
_DERIV = np.polynomial.Polynomial.fromroots([-2, -1, 0, 1, 2])
_F = _DERIV.integ()


def test_from_functions_finds_and_labels_the_critical_points_of_a_three_well_function():
    ls = from_functions(lambda z: _F(z[..., 0]) + 0.5 * z[..., 1] ** 2,
                        lambda z: np.stack([_DERIV(z[..., 0]), z[..., 1]], axis=-1),
                        dim=2, bounds=[(-2.6, 2.6), (-1, 1)])
    cps = ls.critical_points()
    # independent reference: the roots of the derivative polynomial and the sign of f''
    roots = np.sort(_DERIV.roots().real)
    curv = _DERIV.deriv()(roots)
    assert len(cps) == 5
    np.testing.assert_allclose([c.x[0] for c in cps], roots, atol=1e-9)
    np.testing.assert_allclose([c.x[1] for c in cps], 0.0, atol=1e-9)
    assert [c.kind for c in cps] == ["minimum" if k > 0 else "saddle" for k in curv]
    minima = [c for c in cps if c.kind == "minimum"]
    expected = [f"minimum {i + 1} (sharpness {max(k, 1.0):.3g})" for i, k in enumerate(curv[curv > 0])]
    assert [c.label for c in minima] == expected
    assert [c.label for c in cps if c.kind == "saddle"] == ["saddle 1", "saddle 2"]
    # usable by the analysis: basins name the minima, reach works on a found minimum
    bm = analysis.basin_map(ls, 0.02, n=30, n_steps=3000)
    assert sum(bm.fraction(c.label) for c in minima) == pytest.approx(1.0)
    res = analysis.reach(ls, minima[0].label, 0.02)
    assert res.success and np.linalg.norm(res.start - minima[0].x) > 0.1


def test_kink_with_default_smooth_has_no_hessian():
    """|x| + y^2/2 made with smooth=True: finite differences at the kink do not settle (B11)."""
    ls = from_functions(lambda z: np.abs(z[..., 0]) + 0.5 * z[..., 1] ** 2,
                        lambda z: np.stack([np.sign(z[..., 0]), z[..., 1]], axis=-1),
                        dim=2, bounds=[(-1, 1), (-1, 1)], critical_points=())
    for bad in ([0.0, 0.0], [3e-6, 0.2]):  # at the kink, and 3e-6 from it
        with pytest.raises(ValueError, match="Hessian.*not defined"):
            analysis.sharpness(ls, bad)
        with pytest.raises(ValueError, match="Hessian.*not defined"):
            ls.hess(np.array([[0.5, 0.0], bad]))
    # away from the kink the Hessian is diag(0, 1) exactly as the closed form says
    np.testing.assert_allclose(ls.hess([0.5, 0.3]), [[0, 0], [0, 1]], atol=1e-8)
    assert analysis.classify(ls, [0.0, 0.0]) == "minimum"  # by comparing f around the kink


def test_classify_refuses_nan_and_says_when_a_point_is_not_critical():
    ls = L.sharp_flat_2d()
    for bad in ([np.nan, 0.0], [np.inf, 0.0]):
        for fn in (analysis.classify, analysis.sharpness, analysis.stability_threshold):
            with pytest.raises(ValueError, match="finite"):
                fn(ls, bad)
    x = np.array([0.3, 0.2])
    g = np.linalg.norm(ls.grad(x))
    assert analysis.classify(ls, x) == f"not critical (|grad f| = {g:.3g})"
    kinds = analysis.classify(ls, np.array([[-1.0, 0.0], [0.3, 0.2], [2.0, 0.0]]))
    assert kinds[0] == "minimum" and kinds[1].startswith("not critical") and kinds[2] == "minimum"


def test_no_numpy_warnings_from_builtin_landscapes_at_float64_extremes(no_warnings):
    with pytest.raises(ValueError, match="shifts"):
        L.shifted_quadratics((1e300, -1e300))
    with pytest.raises(ValueError, match="overflows"):
        analysis.stability_threshold(L.sharp_flat_2d(), [1e300, 0])
    with pytest.raises(ValueError, match="weights"):
        L.interpolating_quadratics((1e308, 1e308))
    assert not np.isfinite(L.sharp_flat_2d().value([1e300, 0.0]))  # overflow shows in the result, silently


@pytest.mark.parametrize("make, exc, name", [
    (lambda: L.quadratic(["1", "2"]), TypeError, "curvatures"),
    (lambda: L.quadratic([True, 1.0]), TypeError, "curvatures"),
    (lambda: L.sharp_flat_2d(sharp=True), TypeError, "sharp"),
    (lambda: L.sharp_flat_2d(sharp="20"), TypeError, "sharp"),
    (lambda: L.sharp_flat_2d_sum(seed=-1), ValueError, "seed"),
    (lambda: L.sharp_flat_2d_sum(n_samples=2.0), TypeError, "n_samples"),
    (lambda: L.shifted_quadratics([np.nan]), ValueError, "shifts"),
    (lambda: L.curve_point(True), TypeError, "t"),
])
def test_builtin_constructors_name_the_bad_argument(make, exc, name):
    with pytest.raises(exc, match=name):
        make()


def test_finite_difference_hessian_is_nan_for_nan_points_and_exact_for_a_quartic():
    ls = from_functions(lambda z: 0.25 * z[..., 0] ** 4 + z[..., 1] ** 2,
                        lambda z: np.stack([z[..., 0] ** 3, 2 * z[..., 1]], axis=-1),
                        dim=2, bounds=[(-2, 2)] * 2, critical_points=())
    H = ls.hess(np.array([[np.nan, 0.0], [1.5, -0.5]]))
    assert np.all(np.isnan(H[0]))
    np.testing.assert_allclose(H[1], [[3 * 1.5**2, 0], [0, 2]], rtol=1e-7)  # f_xx = 3x^2, f_yy = 2
    H_checked, settled = ls.hess_checked(np.array([[1.5, -0.5]]))
    assert settled.all() and np.allclose(H_checked, H[1:], rtol=1e-12)


@pytest.mark.parametrize("w", [0.1, 1e-3, 5e-4])
def test_finite_difference_hessian_of_a_narrow_smooth_well_is_accepted_and_accurate(w):
    """A smooth but narrow Gaussian well is not mistaken for a kink: f'' against the closed form."""
    ls = from_functions(lambda x: -np.exp(-x[..., 0] ** 2 / (2 * w * w)),
                        lambda x: x / (w * w) * np.exp(-(x**2) / (2 * w * w)),
                        dim=1, bounds=[(-1, 1)], critical_points=())
    x = np.array([0.0, 0.5 * w, 2 * w])
    exact = (1 - x**2 / w**2) / w**2 * np.exp(-(x**2) / (2 * w * w))
    np.testing.assert_allclose(ls.hess(x[:, None])[:, 0, 0], exact, rtol=3e-4)
