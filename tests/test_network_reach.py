"""Reaching a chosen sharp minimum of a network's loss (reachkit.network, notebook 07).

Every reference is computed here independently: plain GD loops, plain Newton loops with
numpy.linalg.solve, finite differences, dense eigenvalues and Jacobian products.
"""

import json

import numpy as np
import pytest

import reachkit as rk
from reachkit import network as nw

A = 0.01  # the notebook's small step (a * sharpness = 0.32)


@pytest.fixture(scope="module")
def example():
    return nw.sharp_minimum_example()


@pytest.fixture(scope="module")
def reach(example):
    land, target = example
    return nw.reach_minimum(land, target, A, n_forward=300)


def plain_gd(land, theta, steps):
    for a in steps:
        theta = theta - a * land.grad(theta)
    return theta


def plain_newton(land, theta, n=30):
    for _ in range(n):
        theta = theta - np.linalg.solve(land.hess(theta), land.grad(theta))
    return theta


def fd_grad(land, theta, eps=1e-6):
    E = np.eye(land.dim) * eps
    return np.array([(land.value(theta + e) - land.value(theta - e)) / (2 * eps) for e in E])


# --------------------------------------------------------------- weight decay
def test_weight_decay_adds_the_penalty_to_value_grad_and_hessian():
    X, Y = nw.make_dataset(12, 2, 3)
    plain = nw.NetworkLandscape(X, Y, (2, 4, 1))
    decayed = nw.NetworkLandscape(X, Y, (2, 4, 1), weight_decay=0.3)
    theta = np.random.default_rng(0).standard_normal(plain.dim)
    mse = 0.5 * np.sum((decayed.predict(theta) - Y) ** 2) / 12  # Y has shape (12, 1)
    assert np.isclose(decayed.value(theta), mse + 0.15 * theta @ theta, rtol=1e-14)
    g = decayed.grad(theta)
    np.testing.assert_allclose(g, plain.grad(theta) + 0.3 * theta, rtol=1e-13)
    assert np.linalg.norm(g - fd_grad(decayed, theta)) < 1e-7 * np.linalg.norm(g)
    np.testing.assert_allclose(decayed.hess(theta), plain.hess(theta) + 0.3 * np.eye(plain.dim), atol=1e-12)
    v = np.ones(plain.dim)
    fd = (decayed.grad(theta + 1e-5 * v) - decayed.grad(theta - 1e-5 * v)) / 2e-5
    assert np.linalg.norm(decayed.hvp(theta, v) - fd) < 1e-6 * np.linalg.norm(fd)
    assert "weight decay 0.3" in decayed.name and plain.weight_decay == 0.0


def test_batched_value_and_grad_equal_one_row_at_a_time():
    X, Y = nw.make_dataset(9, 3, 1, n_outputs=2)
    land = nw.NetworkLandscape(X, Y, (3, 4, 3, 2), weight_decay=1e-2)
    T = np.random.default_rng(1).standard_normal((5, land.dim))
    vals, grads = land.value_and_grad(T)
    for t, v, g in zip(T, vals, grads, strict=True):
        assert np.isclose(v, land.value(t), rtol=1e-14)
        np.testing.assert_allclose(g, fd_grad(land, t), rtol=1e-6, atol=1e-8)


def test_weight_decay_is_checked():
    X, Y = nw.make_dataset(5, 2)
    with pytest.raises(ValueError, match="weight_decay"):
        nw.NetworkLandscape(X, Y, (2, 3, 1), weight_decay=-1e-3)
    with pytest.raises(TypeError, match="weight_decay"):
        nw.NetworkLandscape(X, Y, (2, 3, 1), weight_decay="1e-3")


# --------------------------------------------------------------- the shipped example
def test_shipped_minimum_is_a_strict_minimum_after_loading(example):
    land, target = example
    x = np.linspace(-2, 2, 16)
    np.testing.assert_array_equal(land.X[:, 0], x)
    np.testing.assert_allclose(land.Y[:, 0], 2 * np.sin(2 * x) + np.sin(5 * x), rtol=0, atol=1e-15)
    assert land.layer_sizes == (1, 5, 1) and land.dim == 16 and land.weight_decay == 1e-3
    assert np.linalg.norm(land.grad(target.theta)) < 1e-12
    w = np.linalg.eigvalsh(land.hess(target.theta))
    assert w[0] > 0 and np.isclose(w[-1], target.sharpness, rtol=1e-12)
    assert abs(target.sharpness - 31.7027) < 1e-4 and abs(target.loss - 0.10911) < 1e-5
    stored = json.loads(nw.EXAMPLE_FILE.read_text())
    assert np.linalg.norm(target.theta - stored["theta"]) < 1e-12  # the polish moved it by rounding only


def test_the_example_check_fails_loudly_on_a_damaged_file(tmp_path, monkeypatch):
    d = json.loads(nw.EXAMPLE_FILE.read_text())
    d["theta"][0] += 0.5  # no longer at (or near enough to) the stored minimum
    bad = tmp_path / "sharp_minimum.json"
    bad.write_text(json.dumps(d))
    monkeypatch.setattr(nw, "EXAMPLE_FILE", bad)
    with pytest.raises(RuntimeError, match="failed its check"):
        nw.sharp_minimum_example()


# --------------------------------------------------------------- the backward construction
def test_backward_orbit_solves_the_gd_equation(example, reach):
    land, target = example
    assert reach.start is not None and reach.n_backward == len(reach.orbit) - 1 > 10
    orbit = reach.orbit
    residual = max(np.linalg.norm(orbit[k] - A * land.grad(orbit[k]) - orbit[k + 1]) for k in range(len(orbit) - 1))
    assert residual < 1e-13 and reach.preimage_residual < 1e-13
    # the orbit ends offset away from the minimum along its top Hessian eigenvector
    w, V = np.linalg.eigh(land.hess(target.theta))
    assert np.isclose(np.linalg.norm(orbit[-1] - target.theta), 1e-5, rtol=1e-9)
    assert abs(abs((orbit[-1] - target.theta) @ V[:, -1]) - 1e-5) < 1e-14
    # the loss climbs along the backward orbit to a random init's level, and not further than one step
    loss = land.value(orbit)
    assert np.all(np.diff(loss) < 0) and loss[0] >= reach.level > loss[1]
    inits = np.stack([land._init(np.random.default_rng([0, i])) for i in range(128)])
    assert reach.level == np.median(land.value(inits))


def test_contraction_and_amplification_match_dense_references(example, reach):
    land, _ = example
    orbit = reach.orbit
    radius = [np.abs(np.linalg.eigvalsh(land.hess(x))).max() for x in orbit[:-1]]
    np.testing.assert_allclose(reach.contraction, A * np.array(radius), rtol=1e-10)
    assert reach.contraction.max() < 1
    # the forward map's Jacobian by central differences of the plain N-step GD map
    n, eps = reach.n_backward, 1e-6
    J = np.column_stack([(plain_gd(land, orbit[0] + eps * e, [A] * n) - plain_gd(land, orbit[0] - eps * e, [A] * n))
                         / (2 * eps) for e in np.eye(land.dim)])
    sigma = np.linalg.svd(J, compute_uv=False)[0]
    assert abs(reach.amplification - sigma) < 1e-6 and reach.amplification < 2


def test_forward_run_converges_to_the_target_in_71_steps(example, reach):
    land, target = example
    end = plain_gd(land, reach.start, [A] * 71)
    assert np.linalg.norm(end - target.theta) < 1e-9
    assert reach.forward.first_within(1e-9) <= 71 and reach.reached
    # the sharpness along the run settles at the target's
    assert abs(reach.forward.sharpness[-1] - target.sharpness) < 1e-6
    np.testing.assert_allclose(reach.forward.theta, plain_gd(land, reach.start, [A] * 300), rtol=0, atol=1e-14)


def test_a_start_perturbed_by_1e6_still_reaches_the_target(example, reach):
    land, target = example
    u = np.random.default_rng(3).standard_normal(land.dim)
    end = plain_gd(land, reach.start + 1e-6 * u / np.linalg.norm(u), [A] * 300)
    assert np.linalg.norm(end - target.theta) > 1e-8  # still on its way along the flat directions...
    assert np.linalg.norm(plain_newton(land, end) - target.theta) < 1e-12  # ...into the target's basin
    table = reach.sensitivity(scales=(1e-6,), n_directions=4)
    assert table.reached.tolist() == [4] and table.n_steps == 300 and "1e-06" in table.table()


def test_the_same_start_with_a_large_step_ends_flatter(example, reach):
    land, target = example
    end = plain_gd(land, reach.start, [0.2] * 30_000)
    landed = plain_newton(land, end)
    w = np.linalg.eigvalsh(land.hess(landed))
    assert np.linalg.norm(land.grad(landed)) < 1e-12 and w[0] > 0  # a minimum...
    assert w[-1] < 2 / 0.2 and np.linalg.eigvalsh(land.hess(end))[-1] < 10  # ...flatter than 2/a = 10
    assert np.linalg.norm(end - target.theta) > 1


def test_a_decaying_schedule_uses_its_own_first_steps(example):
    land, target = example
    sched = rk.power(0.02, 0.5)
    r = nw.reach_minimum(land, target, sched, n_forward=400)
    n = r.n_backward
    sizes = 0.02 / (np.arange(n) + 1.0) ** 0.5
    for k in range(n):  # forward step k with a_k = 0.02 / (k + 1)^0.5 maps orbit[k] to orbit[k + 1]
        assert np.linalg.norm(r.orbit[k] - sizes[k] * land.grad(r.orbit[k]) - r.orbit[k + 1]) < 1e-13
    assert land.value(r.orbit[0]) >= r.level
    # the smallest such n: one backward step fewer (with its own steps) stays below the level
    fewer = nw.reach_minimum(land, target, sched, n_forward=0, max_backward=n - 1)
    assert fewer.start is None and "did not climb" in fewer.note
    assert r.reached and r.forward.distance[-1] < 1e-9


def test_steps_that_break_the_construction_are_refused_with_a_reason(example):
    land, target = example
    big = nw.reach_minimum(land, target, 0.05, n_forward=0)
    assert big.start is None and not big.reached and ">= 1" in big.note and "unique" in big.note
    summable = nw.reach_minimum(land, target, rk.power(0.02, 1.5), n_forward=0)
    assert summable.start is None and "summable" in summable.note
    short = nw.reach_minimum(land, target, A, n_forward=0, max_backward=3)
    assert short.start is None and "did not climb" in short.note
    with pytest.raises(ValueError, match="no start"):
        big.sensitivity()
    with pytest.raises(ValueError, match="adaptive"):
        nw.reach_minimum(land, target, rk.armijo(1.0))


def test_reach_takes_a_parameter_vector_and_refuses_non_minima(example):
    land, target = example
    r = nw.reach_minimum(land, target.theta, A, n_forward=80)
    assert r.reached and np.isclose(r.target.sharpness, target.sharpness, rtol=1e-12)
    with pytest.raises(ValueError, match="not a critical point"):
        nw.reach_minimum(land, land.init(0), A)


# --------------------------------------------------------------- the search
def test_find_minima_keeps_only_polished_strict_minima(example):
    land, _ = example
    found = nw.find_minima(land, n_starts=6, seed=0)
    assert 1 <= len(found) and sum(m.count for m in found) <= 6
    for m in found:
        assert np.linalg.norm(land.grad(m.theta)) <= 1e-12
        w = np.linalg.eigvalsh(land.hess(m.theta))
        assert w[0] > 0 and np.isclose(w[-1], m.sharpness) and np.isclose(w[0], m.smallest_eigenvalue)
    assert [m.loss for m in found] == sorted(m.loss for m in found)
    assert len({round(m.loss, 8) for m in found}) == len(found)  # one record per distinct minimum
    assert "sharpness" in nw.minima_table(found)


def test_symmetric_copies_of_a_minimum_are_one_minimum(example):
    land, target = example
    (W1, b1), (W2, b2) = [(W.copy(), b.copy()) for W, b in land.unflatten(target.theta)]
    perm = [3, 0, 4, 1, 2]
    W1, b1, W2 = W1[perm], b1[perm], W2[:, perm]
    W1[1], b1[1], W2[:, 1] = -W1[1], -b1[1], -W2[:, 1]  # tanh is odd: flip a unit's signs
    copy = np.concatenate([W1.ravel(), b1, W2.ravel(), b2])
    assert np.linalg.norm(copy - target.theta) > 1
    other = nw.as_minimum(land, copy)
    assert nw._same_minimum(other, target)
    assert not nw._same_minimum(nw.find_minima(land, n_starts=1)[0], target)


# --------------------------------------------------------------- GD runs
def test_descend_and_descend_many_are_plain_gd(example):
    land, target = example
    t0 = land.init(1)
    run = nw.descend(land, t0, 0.05, 40, target=target.theta, sharpness_every=15)
    np.testing.assert_allclose(run.theta, plain_gd(land, t0, [0.05] * 40), rtol=0, atol=1e-14)
    assert run.sharpness_iterations.tolist() == [0, 15, 30, 40]
    assert np.isclose(run.sharpness[-1], np.linalg.eigvalsh(land.hess(run.theta))[-1])
    assert np.isclose(run.distance[7], np.linalg.norm(plain_gd(land, t0, [0.05] * 7) - target.theta))
    starts = nw.random_inits(land, 3)
    ends, rec = nw.descend_many(land, starts, [0.05, 0.1, 0.2], 25, record_every=10)
    for i, a in enumerate((0.05, 0.1, 0.2)):
        np.testing.assert_allclose(ends[i], plain_gd(land, starts[i], [a] * 25), rtol=0, atol=1e-13)
    assert rec.shape == (4, 3, 16) and np.array_equal(rec[0], starts) and np.array_equal(rec[-1], ends)
    np.testing.assert_array_equal(nw.random_inits(land, 5)[:3], starts)  # a row does not depend on n


def test_where_inits_end_classifies_by_newton_and_stability(example):
    land, _ = example
    ends = nw.where_inits_end(land, (0.2,), n_inits=3, n_steps=200)[0.2]
    assert ends.theta.shape == (3, 16) and ends.threshold == 10
    for theta, lo, hi, kind in zip(ends.theta, ends.lowest, ends.sharpness, ends.landed, strict=True):
        w = np.linalg.eigvalsh(land.hess(theta))
        assert np.isclose(lo, w[0]) and np.isclose(hi, w[-1])
        assert kind in ("minimum", "unstable minimum", "saddle", "no critical point")
    assert sum(ends.count(k) for k in ("minimum", "unstable minimum", "saddle", "no critical point")) == 3
    assert "2/a = 10" in ends.summary()


# --------------------------------------------------------------- above DENSE_MAX_DIM: Lanczos paths
def test_lanczos_paths_match_dense_linear_algebra():
    X, Y = nw.make_dataset(20, 1, 2)
    land = nw.NetworkLandscape(X, Y, (1, 40, 1), weight_decay=1e-3)
    assert land.dim > nw.DENSE_MAX_DIM
    theta = land.init(0)
    w = np.linalg.eigvalsh(land.hess(theta))
    lo, hi = nw.hessian_extremes(land, theta)
    assert np.isclose(lo, w[0], rtol=1e-6, atol=1e-9) and np.isclose(hi, w[-1], rtol=1e-8)
    orbit = theta + 0.1 * np.random.default_rng(0).standard_normal((4, land.dim))
    sizes = np.array([0.3, 0.2, 0.1])
    J = np.eye(land.dim)
    for x, a in zip(orbit[:3], sizes, strict=True):
        J = (np.eye(land.dim) - a * land.hess(x)) @ J
    assert np.isclose(nw._amplification(land, orbit, sizes), np.linalg.norm(J, 2), rtol=1e-5)


# --------------------------------------------------------------- argument checks
def test_every_new_function_checks_its_arguments(example, reach):
    land, target = example
    t = target.theta
    cases = [
        (lambda: nw.find_minima(land, n_starts=0), ValueError, "n_starts"),
        (lambda: nw.find_minima(land, n_starts=2.0), TypeError, "n_starts"),
        (lambda: nw.find_minima(land, seed=-1), ValueError, "seed"),
        (lambda: nw.find_minima(land, init_scale=0), ValueError, "init_scale"),
        (lambda: nw.find_minima(rk.landscapes.quadratic([1.0])), TypeError, "landscape"),
        (lambda: nw.reach_minimum(land, target, -0.01), ValueError, "step"),
        (lambda: nw.reach_minimum(land, target, "0.01"), TypeError, "step"),
        (lambda: nw.reach_minimum(land, target, A, level=0.01), ValueError, "level"),
        (lambda: nw.reach_minimum(land, target, A, level=np.nan), ValueError, "level"),
        (lambda: nw.reach_minimum(land, target, A, offset=0), ValueError, "offset"),
        (lambda: nw.reach_minimum(land, target, A, n_forward=-1), ValueError, "n_forward"),
        (lambda: nw.reach_minimum(land, target, A, max_backward=0), ValueError, "max_backward"),
        (lambda: nw.reach_minimum(land, target, A, direction=np.zeros(16)), ValueError, "direction"),
        (lambda: nw.reach_minimum(land, np.zeros(3), A), ValueError, "theta"),
        (lambda: reach.sensitivity(scales=(-1e-3,)), ValueError, "scales"),
        (lambda: reach.sensitivity(n_directions=0), ValueError, "n_directions"),
        (lambda: reach.sensitivity(n_steps=1.5), TypeError, "n_steps"),
        (lambda: nw.descend(land, t, 0.0, 10), ValueError, "step"),
        (lambda: nw.descend(land, t[:3], 0.1, 10), ValueError, "theta0"),
        (lambda: nw.descend(land, t, 0.1, 10, sharpness_every=0), ValueError, "sharpness_every"),
        (lambda: nw.descend_many(land, t, 0.1, 10), ValueError, "starts"),
        (lambda: nw.descend_many(land, t[None], [0.1, 0.2], 10), ValueError, "step"),
        (lambda: nw.descend_many(land, t[None], 0.1, 10, record_every=0), ValueError, "record_every"),
        (lambda: nw.descend_many(land, t[None], 0.1, 10**8, record_every=1), ValueError, "record fewer"),
        (lambda: nw.descend_many(land, t[None], 0.1, 10, record_at=[5, 3]), ValueError, "record_at"),
        (lambda: nw.descend_many(land, t[None], 0.1, 10, record_every=2, record_at=[1]), ValueError, "not both"),
        (lambda: nw.descend_many(land, t[None], 0.1, 10, power=0.5), ValueError, "power"),
        (lambda: nw.descend_batch(land, t[None], [0.1], 10), ValueError, "record"),
        (lambda: nw.where_inits_end(land, (), n_steps=1), ValueError, "steps"),
        (lambda: nw.where_inits_end(land, (0.1,), n_inits=True), TypeError, "n_inits"),
        (lambda: nw.random_inits(land, 0), ValueError, r"\bn\b"),
        (lambda: nw.newton_polish(land, t, max_iter=-1), ValueError, "max_iter"),
        (lambda: nw.newton_polish(land, np.full(16, np.nan)), ValueError, "theta"),
        (lambda: nw.as_minimum(land, land.init(0)), ValueError, "not a critical point"),
        (lambda: reach.forward.first_within(0), ValueError, "tol"),
    ]
    for call, error, word in cases:
        with pytest.raises(error, match=word):
            call()
