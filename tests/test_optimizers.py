"""Momentum, RMSProp and Adam against hand computations, closed forms and linear stability."""

import numpy as np
import pytest

import reachkit as rk
from reachkit import landscapes as L
from reachkit import optimizers as O
from reachkit.network import NetworkLandscape, make_dataset


# ------------------------------------------------------------------ the first steps by hand
def test_adam_first_steps_equal_a_hand_computation():
    c, x0, lr, b1, b2, eps = np.array([1.0, 10.0]), np.array([1.0, -2.0]), 0.1, 0.9, 0.999, 1e-8
    path = O.adam(L.quadratic(c), x0, lr, 3, gtol=0.0)
    x, m, v = x0.copy(), np.zeros(2), np.zeros(2)
    expected = [x.copy()]
    for t in (1, 2, 3):
        g = c * x
        m = b1 * m + (1 - b1) * g
        v = b2 * v + (1 - b2) * g * g
        x = x - lr * (m / (1 - b1**t)) / (np.sqrt(v / (1 - b2**t)) + eps)
        expected.append(x.copy())
    np.testing.assert_allclose(path.iterates[:, 0], expected, rtol=1e-14, atol=1e-15)
    # the first step is lr * sign(g0) in every coordinate, whatever the curvature
    np.testing.assert_allclose(path.iterates[1, 0] - x0, -lr * np.sign(c * x0), rtol=1e-7)


def test_rmsprop_and_momentum_first_steps_equal_a_hand_computation():
    c, x0, lr = np.array([2.0, 0.5]), np.array([1.0, 3.0]), 0.05
    ls = L.quadratic(c)
    # RMSProp: v1 = (1 - rho) g0^2, so the first step is about lr / sqrt(1 - rho) = 10 lr
    p = O.rmsprop(ls, x0, lr, 2, rho=0.99, eps=1e-8, gtol=0.0)
    g0 = c * x0
    v1 = 0.01 * g0**2
    x1 = x0 - lr * g0 / (np.sqrt(v1) + 1e-8)
    g1 = c * x1
    v2 = 0.99 * v1 + 0.01 * g1**2
    x2 = x1 - lr * g1 / (np.sqrt(v2) + 1e-8)
    np.testing.assert_allclose(p.iterates[:, 0], [x0, x1, x2], rtol=1e-14)
    np.testing.assert_allclose(np.abs(x1 - x0), 10 * lr, rtol=1e-6)
    # heavy ball: b1 = g0, x1 = x0 - a g0; b2 = mu g0 + g1, x2 = x1 - a b2
    q = O.momentum(ls, x0, lr, 2, mu=0.9, gtol=0.0)
    y1 = x0 - lr * g0
    y2 = y1 - lr * (0.9 * g0 + c * y1)
    np.testing.assert_allclose(q.iterates[:, 0], [x0, y1, y2], rtol=1e-14)
    assert np.all(q.preconditioner == 1.0)


def test_momentum_equals_polyaks_two_step_form():
    ls = L.quadratic([1.0, 7.0])
    a, mu = 0.1, 0.7
    p = O.momentum(ls, [0.5, -1.0], a, 30, mu=mu, gtol=0.0).iterates[:, 0]
    for k in range(1, 30):
        polyak = p[k] - a * ls.grad(p[k]) + mu * (p[k] - p[k - 1])
        np.testing.assert_allclose(p[k + 1], polyak, rtol=1e-12, atol=1e-15)


# ------------------------------------------------------------------ effective step of Adam
def test_adam_on_a_linear_function_moves_exactly_lr_per_step():
    w = np.array([3.0, -0.01])
    ls = L.from_functions(lambda x: x @ w, lambda x: np.broadcast_to(w, x.shape).copy(), dim=2,
                          bounds=[(-10, 10)] * 2)
    lr, eps = 0.02, 1e-8
    p = O.adam(ls, [0.0, 0.0], lr, 50, eps=eps)
    k = np.arange(51)[:, None]
    # constant gradient: the bias-corrected averages are exactly g and g^2
    np.testing.assert_allclose(p.iterates[:, 0], -k * lr * w / (np.abs(w) + eps), rtol=1e-12, atol=1e-15)
    np.testing.assert_allclose(p.effective_step()[:-1, 0], np.broadcast_to(lr / (np.abs(w) + eps), (50, 2)),
                               rtol=1e-12)


def test_adam_effective_step_matches_the_recorded_gradients_and_grows_near_a_minimum():
    c = 4.0
    ls = L.quadratic([c])
    lr, b2, eps = 0.01, 0.999, 1e-8
    p = O.adam(ls, [1.0], lr, 1000, gtol=0.0)
    g = c * p.iterates[:, 0, 0]
    v = np.zeros(())
    for k in range(1000):
        v = b2 * v + (1 - b2) * g[k] ** 2
        assert p.effective_step()[k, 0, 0] == pytest.approx(lr / (np.sqrt(v / (1 - b2 ** (k + 1))) + eps), rel=1e-12)
    eff = p.effective_step()[:-1, 0, 0]
    # far from the minimum the steps are sign-like (length lr); as |g| shrinks faster than the
    # slow average vhat, the effective step lr / sqrt(vhat) grows
    assert eff[0] == pytest.approx(lr / c, rel=1e-6)
    assert eff[-1] > 6 * eff[0]
    assert np.all(np.diff(eff) > 0)
    assert abs(p.final[0, 0]) < 1e-15


@pytest.mark.parametrize("beta1", [0.0, 0.5, 0.9])
def test_adam_stability_constant_with_a_frozen_preconditioner(beta1):
    """eps >> |g| freezes P = eps: Adam is then EMA-momentum GD with step lr/eps, stable on a
    quadratic iff (lr/eps) lambda < 2 (1 + beta1) / (1 - beta1)."""
    lam, eps = 1.0, 1.0
    C = O.stability_constant("adam", beta1=beta1)
    assert C == pytest.approx(2 * (1 + beta1) / (1 - beta1))
    ls = L.quadratic([lam])
    # start tiny so |g| << eps for the whole window; compare steps 60 and 100 (bias corrections gone)
    for factor, grows in ((0.97, False), (1.03, True)):
        x = O.adam(ls, [1e-30], factor * C * eps / lam, 100, betas=(beta1, 0.999), eps=eps,
                   gtol=0.0).iterates[:, 0, 0]
        assert abs(x[100]) < 1e-3
        assert (abs(x[100]) > 10 * abs(x[60])) == grows
        assert (abs(x[100]) < abs(x[60])) == (not grows)


@pytest.mark.parametrize("mu", [0.0, 0.5, 0.9])
def test_momentum_stability_constant(mu):
    lam = 10.0
    a_star = O.stability_constant("momentum", mu=mu) / lam
    assert a_star == pytest.approx(2 * (1 + mu) / lam)
    ls = L.quadratic([lam])
    assert O.momentum(ls, [0.1], 0.97 * a_star, 3000, mu=mu).status[0] == "converged"
    assert O.momentum(ls, [0.1], 1.03 * a_star, 3000, mu=mu).status[0] == "diverged"
    assert O.stability_constant("gd") == O.stability_constant("rmsprop") == 2.0


# ------------------------------------------------------------------ batches, reproducibility
@pytest.mark.parametrize("method", ["momentum", "rmsprop", "adam"])
def test_each_start_keeps_its_own_state(method):
    ls = L.sharp_flat_2d()
    starts = np.array([[-1.0, 0.0], [2.5, 0.7], [-0.6, -0.4], [0.3, 1.2]])  # the first starts at a minimum
    batch = O.run(ls, starts, method, 0.02, 300, record_every=7)
    assert batch.status[0] == "converged" and batch.stopped_at[0] == 0
    for i, x0 in enumerate(starts):
        alone = O.run(ls, x0, method, 0.02, 300, record_every=7)
        np.testing.assert_array_equal(batch.iterates[:, i], alone.iterates[:, 0])
        np.testing.assert_array_equal(batch.preconditioner[:, i], alone.preconditioner[:, 0])
        assert batch.status[i] == alone.status[0]
    assert batch.iterates.shape == (len(batch.times), 4, 2) == batch.preconditioner.shape[:2] + (2,)
    np.testing.assert_array_equal(batch.times, np.r_[np.arange(0, 300, 7), 300])


def test_reproducible_and_per_start_learning_rates():
    ls = L.sharp_flat_2d()
    starts = np.array([[-0.8, 0.2], [1.0, -0.5], [2.6, 0.3]])
    a = O.adam(ls, starts, 0.05, 200)
    b = O.adam(ls, starts, 0.05, 200)
    np.testing.assert_array_equal(a.iterates, b.iterates)
    np.testing.assert_array_equal(a.preconditioner, b.preconditioner)
    lrs = np.array([0.01, 0.05, 0.2])
    per = O.adam(ls, starts, lrs, 200)
    for i, lr in enumerate(lrs):
        np.testing.assert_array_equal(per.iterates[:, i], O.adam(ls, starts[i], lr, 200).iterates[:, 0])


def test_paths_behave_like_reachkit_paths():
    ls = L.sharp_flat_2d()
    p = O.adam(ls, [[-0.8, 0.2], [2.6, 0.3]], 0.05, 2000)
    assert isinstance(p, rk.Path)
    assert list(p.limit_label) == ["sharp minimum", "flat minimum"]
    assert "converged to the sharp minimum" in p.describe(0)
    assert p.method.startswith("Adam") and "0.05" in p.schedule
    assert p.stability == pytest.approx(38.0)
    fin = O.adam(ls, [[-0.8, 0.2]], 0.05, 2000, record_every=None)
    np.testing.assert_array_equal(fin.final, p.final[:1])
    assert fin.preconditioner is None
    with pytest.raises(ValueError, match="record_every"):
        fin.effective_step()
    big = O.momentum(ls, [[2.5, 1.0]], 1.0, 100)  # far above 2 (1 + mu) / sharpness
    assert big.status[0] == "diverged"
    decaying = O.adam(ls, [[2.6, 0.3]], rk.power(0.1, 0.5), 500)
    np.testing.assert_allclose(decaying.step_sizes[:3, 0], 0.1 / np.sqrt([1, 2, 3]))


# ------------------------------------------------------------------ sharpness
def test_preconditioned_sharpness_on_a_quadratic_and_a_network():
    c = np.array([1.0, 10.0, 3.0])
    ls = L.quadratic(c)
    d = np.array([2.0, 0.05, 1.0])
    assert O.preconditioned_sharpness(ls, np.zeros(3), d) == pytest.approx(np.max(c * d))
    assert O.preconditioned_sharpness(ls, np.zeros(3), np.ones(3)) == pytest.approx(10.0)
    X, Y = make_dataset(20, 3, 1)
    net = NetworkLandscape(X, Y, (3, 5, 4, 1))
    theta = net.init(2)
    d = np.random.default_rng(0).uniform(0.1, 3.0, net.dim)
    r = np.sqrt(d)
    dense = np.linalg.eigvalsh(r[:, None] * net.hess(theta) * r[None, :])[-1]
    assert O.preconditioned_sharpness(net, theta, d, tol=1e-10) == pytest.approx(dense, rel=1e-7)


def test_track_sharpness_on_a_quadratic():
    c = np.array([2.0, 8.0])
    p = O.adam(L.quadratic(c), [[1.0, 1.0]], 0.01, 100, gtol=0.0)
    tr = O.track_sharpness(L.quadratic(c), p, every=10)
    np.testing.assert_array_equal(tr.iterations, np.arange(0, 101, 10))
    np.testing.assert_allclose(tr.sharpness, 8.0)
    rows = tr.iterations.astype(int)
    np.testing.assert_allclose(tr.preconditioned, np.max(c * p.preconditioner[rows, 0], axis=1))
    np.testing.assert_allclose(tr.limit, 38.0 / 0.01)


def test_track_sharpness_on_a_network_warm_starts():
    X, Y = make_dataset(20, 3, 1)
    net = NetworkLandscape(X, Y, (3, 5, 4, 1))
    p = O.adam(net, net.init(0), 0.01, 40, gtol=0.0)
    tr = O.track_sharpness(net, p, every=20)
    np.testing.assert_array_equal(tr.iterations, [0, 20, 40][: len(tr.iterations)])
    for j, k in enumerate(tr.iterations.astype(int)):
        H = net.hess(p.iterates[k, 0])
        r = np.sqrt(p.preconditioner[k, 0])
        assert tr.sharpness[j] == pytest.approx(np.linalg.eigvalsh(H)[-1], rel=1e-3)
        assert tr.preconditioned[j] == pytest.approx(np.linalg.eigvalsh(r[:, None] * H * r)[-1], rel=1e-3)


# ------------------------------------------------------------------ basin maps and tables
def test_basin_map_of_gd_matches_reachkit_basin_map():
    ls = L.sharp_flat_2d()
    mine = O.basin_map(ls, "gd", 0.05, n=24, n_steps=800)
    ref = rk.basin_map(ls, 0.05, n=24, n_steps=800)
    assert mine.names == ref.names
    np.testing.assert_array_equal(mine.labels, ref.labels)
    np.testing.assert_array_equal(mine.xs, ref.xs)
    ad = O.basin_map(ls, "adam", 0.1, n=24, n_steps=800)
    assert ad.labels.shape == (24, 24)
    assert ad.fraction("sharp minimum") > 0.15 and ad.fraction("flat minimum") > 0.5


def test_limits_table_lists_shares_and_limit_sharpness():
    ls = L.sharp_flat_2d()
    starts = np.array([[-0.8, 0.2], [2.6, 0.3], [2.4, -0.2], [-1.2, 0.1]])
    table = O.limits_table(ls, {"GD a=0.05": rk.gradient_descent(ls, starts, 0.05, 1000),
                                "GD a=0.15": rk.gradient_descent(ls, starts, 0.15, 1000)})
    lines = table.splitlines()
    assert lines[0].split()[:4] == ["sharp", "minimum", "flat", "minimum"]
    assert lines[1].startswith("GD a=0.05") and "50%" in lines[1] and lines[1].endswith("1, 20")
    assert lines[2].startswith("GD a=0.15") and "0%" in lines[2]


# ------------------------------------------------------------------ bad input
@pytest.mark.parametrize("call, word", [
    (lambda ls: O.adam(ls, [0.0, 0.0], -0.1, 10), "lr"),
    (lambda ls: O.adam(ls, [0.0, 0.0], float("nan"), 10), "lr"),
    (lambda ls: O.adam(ls, [0.0, 0.0], rk.armijo(), 10), "lr"),
    (lambda ls: O.adam(ls, [0.0, 0.0], 0.1, 10, betas=(1.0, 0.999)), "beta1"),
    (lambda ls: O.adam(ls, [0.0, 0.0], 0.1, 10, betas=(0.9, 0.0)), "beta2"),
    (lambda ls: O.adam(ls, [0.0, 0.0], 0.1, 10, betas=0.9), "betas"),
    (lambda ls: O.adam(ls, [0.0, 0.0], 0.1, 10, eps=0.0), "eps"),
    (lambda ls: O.adam(ls, [0.0, 0.0], 0.1, -1), "n_steps"),
    (lambda ls: O.adam(ls, [0.0, 0.0, 0.0], 0.1, 10), "starts"),
    (lambda ls: O.adam(ls, [np.nan, 0.0], 0.1, 10), "starts"),
    (lambda ls: O.adam(ls, [0.0, 0.0], 0.1, 10, gtol=-1), "gtol"),
    (lambda ls: O.adam(ls, [0.0, 0.0], [0.1, 0.2], 10), "one per start"),
    (lambda ls: O.rmsprop(ls, [0.0, 0.0], 0.1, 10, rho=1.0), "rho"),
    (lambda ls: O.rmsprop(ls, [0.0, 0.0], 0.1, 10, eps=-1), "eps"),
    (lambda ls: O.momentum(ls, [0.0, 0.0], 0.1, 10, mu=-0.1), "mu"),
    (lambda ls: O.run(ls, [0.0, 0.0], "sgd", 0.1, 10), "method"),
    (lambda ls: O.stability_constant("newton"), "optimizer"),
    (lambda ls: O.basin_map(ls, "adam", 0.1, n=1), "n"),
    (lambda ls: O.preconditioned_sharpness(ls, [0.0, 0.0], [1.0, -1.0]), "preconditioner"),
    (lambda ls: O.track_sharpness(ls, rk.gradient_descent(ls, [0.0, 0.0], 0.1, 5)), "OptimizerPath"),
])
def test_bad_input_names_the_argument(call, word):
    with pytest.raises(ValueError, match=word):
        call(L.sharp_flat_2d())


@pytest.mark.parametrize("call, word", [
    (lambda ls: O.momentum(ls, [0.0, 0.0], 0.1, 10, mu="x"), "mu"),
    (lambda ls: O.momentum(ls, [0.0, 0.0], 0.1, 10, mu="0.5"), "mu"),
    (lambda ls: O.adam(ls, [0.0, 0.0], True, 10), "lr"),
    (lambda ls: O.adam(ls, [0.0, 0.0], "0.1", 10), "lr"),
    (lambda ls: O.adam(ls, [0.0, 0.0], 0.1, 10, betas=(True, 0.999)), "beta1"),
    (lambda ls: O.rmsprop(ls, [0.0, 0.0], 0.1, 10, eps="1e-8"), "eps"),
    (lambda ls: O.adam(ls, [0.0, 0.0], 0.1, True), "n_steps"),
])
def test_bools_and_strings_are_not_numbers(call, word):
    with pytest.raises(TypeError, match=word):
        call(L.sharp_flat_2d())
