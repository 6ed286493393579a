"""Tests for reachkit.network: backprop, exact HVP, Hessian, top eigenvalue, EoS."""

import numpy as np
import pytest

from reachkit.network import (
    EoSResult,
    NetworkLandscape,
    default_landscape,
    edge_of_stability,
    eos_defaults,
    make_dataset,
    run_eos_experiment,
    top_eigenvalue,
)


def tiny(activation="tanh", n_outputs=1, seed=1):
    """A 3-5-4-n_outputs network on 20 samples (dim 49 for one output)."""
    X, Y = make_dataset(20, 3, seed, n_outputs=n_outputs)
    return NetworkLandscape(X, Y, (3, 5, 4, n_outputs), activation=activation)


def random_theta(land, seed, scale=1.0):
    return scale * np.random.default_rng(seed).standard_normal(land.dim)


def fd_grad(land, theta, eps=1e-6):
    out = np.empty(land.dim)
    for i in range(land.dim):
        e = np.zeros(land.dim)
        e[i] = eps
        out[i] = (land.value(theta + e) - land.value(theta - e)) / (2 * eps)
    return out


def rel_err(a, b):
    return np.linalg.norm(a - b) / np.linalg.norm(b)


# --------------------------------------------------------------------- basics
def test_dim_and_layout():
    land = tiny()
    assert land.dim == 3 * 5 + 5 + 5 * 4 + 4 + 4 * 1 + 1 == 49
    assert land.layer_sizes == (3, 5, 4, 1)
    assert land.activation == "tanh"
    assert land.bounds is None
    assert "3-5-4-1" in land.name
    theta = np.arange(land.dim, dtype=float)
    (W1, b1), (W2, b2), (W3, b3) = land.unflatten(theta)
    assert W1.shape == (5, 3) and b1.shape == (5,)
    assert W3.shape == (1, 4) and b3.shape == (1,)
    assert W1[0, 0] == 0 and b1[0] == 15 and W2[0, 0] == 20


def test_value_is_half_mean_squared_error():
    land = tiny(n_outputs=2)
    theta = random_theta(land, 3)
    pred = land.predict(theta)
    assert pred.shape == (20, 2)
    expected = 0.5 * np.sum((pred - land.Y) ** 2) / 20
    assert np.isclose(land.value(theta), expected, rtol=1e-14)
    # a network that outputs exactly Y has zero loss: zero weights, bias = Y
    X = np.random.default_rng(0).standard_normal((7, 2))
    flat = NetworkLandscape(X, np.full(7, 0.3), (2, 3, 1))
    th = np.zeros(flat.dim)
    th[-1] = 0.3
    assert flat.value(th) == 0.0
    assert np.all(flat.grad(th) == 0.0)


@pytest.mark.parametrize("activation", ["tanh", "softplus"])
@pytest.mark.parametrize("n_outputs", [1, 2])
def test_grad_matches_central_differences(activation, n_outputs):
    land = tiny(activation, n_outputs)
    for seed in (0, 1):
        theta = random_theta(land, seed)
        g = land.grad(theta)
        assert rel_err(g, fd_grad(land, theta)) < 1e-6


@pytest.mark.parametrize("activation", ["tanh", "softplus"])
def test_hvp_matches_finite_difference_of_grad(activation):
    land = tiny(activation, n_outputs=2)
    rng = np.random.default_rng(5)
    for _ in range(3):
        theta = rng.standard_normal(land.dim)
        v = rng.standard_normal(land.dim)
        eps = 1e-5
        fd = (land.grad(theta + eps * v) - land.grad(theta - eps * v)) / (2 * eps)
        assert rel_err(land.hvp(theta, v), fd) < 1e-6


@pytest.mark.parametrize("activation", ["tanh", "softplus"])
def test_hessian_symmetric_and_consistent(activation):
    land = tiny(activation)
    theta = random_theta(land, 2)
    # raw HVP columns (hess() itself symmetrises, so test the columns)
    cols = np.column_stack([land.hvp(theta, e) for e in np.eye(land.dim)])
    scale = np.abs(cols).max()
    assert np.abs(cols - cols.T).max() < 1e-12 * scale
    H = land.hess(theta)
    assert H.shape == (land.dim, land.dim)
    np.testing.assert_allclose(H, cols, atol=1e-12 * scale)
    # against the finite-difference Jacobian of the gradient
    eps = 1e-5
    J = np.column_stack(
        [
            (land.grad(theta + eps * e) - land.grad(theta - eps * e)) / (2 * eps)
            for e in np.eye(land.dim)
        ]
    )
    assert np.abs(H - J).max() < 1e-6 * scale


def test_batched_theta_matches_loop():
    land = tiny("softplus")
    rng = np.random.default_rng(9)
    T = rng.standard_normal((2, 3, land.dim))
    V = rng.standard_normal((2, 3, land.dim))
    vals = land.value(T)
    grads = land.grad(T)
    hvps = land.hvp(T, V)
    assert vals.shape == (2, 3) and grads.shape == T.shape and hvps.shape == T.shape
    for i in range(2):
        for j in range(3):
            assert np.isclose(vals[i, j], land.value(T[i, j]), rtol=1e-14)
            np.testing.assert_allclose(grads[i, j], land.grad(T[i, j]), rtol=1e-12)
            np.testing.assert_allclose(hvps[i, j], land.hvp(T[i, j], V[i, j]), rtol=1e-10)
    # one theta, several directions at once; hess batch
    Hv = land.hvp(T[0, 0], V[0])
    np.testing.assert_allclose(Hv, V[0] @ land.hess(T[0, 0]), rtol=1e-9, atol=1e-12)
    assert land.hess(T[0, :2]).shape == (2, land.dim, land.dim)


def test_init_is_lecun_normal_and_seeded():
    X, Y = make_dataset(10, 50)
    land = NetworkLandscape(X, Y, (50, 200, 1))
    t0 = land.init(0)
    np.testing.assert_array_equal(t0, land.init(0))
    assert not np.array_equal(t0, land.init(1))
    (W1, b1), (W2, b2) = land.unflatten(t0)
    assert np.all(b1 == 0) and np.all(b2 == 0)
    assert abs(W1.var() - 1 / 50) < 0.1 / 50  # 10000 samples
    assert abs(W2.var() - 1 / 200) < 0.5 / 200  # 200 samples


def test_dataset_reproducible():
    X1, Y1 = make_dataset(30, 5, seed=7)
    X2, Y2 = make_dataset(30, 5, seed=7)
    X3, Y3 = make_dataset(30, 5, seed=8)
    assert X1.shape == (30, 5) and Y1.shape == (30, 1)
    np.testing.assert_array_equal(X1, X2)
    np.testing.assert_array_equal(Y1, Y2)
    assert not np.allclose(X1, X3) and not np.allclose(Y1, Y3)
    assert np.all(np.isfinite(Y1)) and Y1.std() > 0.1
    assert make_dataset(4, 2, 0, n_outputs=3)[1].shape == (4, 3)


# ------------------------------------------------------------ top eigenvalue
def test_top_eigenvalue_is_largest_algebraic_on_matrix():
    # spectrum with a dominant negative eigenvalue: power iteration would give -10
    rng = np.random.default_rng(0)
    Q, _ = np.linalg.qr(rng.standard_normal((40, 40)))
    lam = np.concatenate([[-10.0], np.linspace(-1, 3, 39)])
    A = (Q * lam) @ Q.T
    val, vec = top_eigenvalue(lambda v: A @ v, 40, seed=1)
    assert abs(val - 3.0) < 1e-8
    assert np.isclose(np.linalg.norm(vec), 1.0)
    assert abs(abs(vec @ Q[:, -1]) - 1) < 1e-6
    # warm start from the answer converges to the same pair
    val2, vec2 = top_eigenvalue(lambda v: A @ v, 40, v0=vec)
    assert abs(val2 - 3.0) < 1e-8 and abs(abs(vec2 @ vec) - 1) < 1e-8
    # all-negative spectrum: the answer is the one closest to zero
    B = -(Q * (np.abs(lam) + 0.5)) @ Q.T  # eigenvalues in [-10.5, -0.5]
    val3, _ = top_eigenvalue(lambda v: B @ v, 40)
    assert abs(val3 - (-0.5 - np.abs(lam).min())) < 1e-8
    # tiny dimensions are solved densely
    assert np.isclose(
        top_eigenvalue(lambda v: np.array([[1.0, 2.0], [2.0, -5.0]]) @ v, 2)[0],
        np.linalg.eigvalsh([[1.0, 2.0], [2.0, -5.0]])[-1],
    )
    assert top_eigenvalue(lambda v: -3.0 * v, 1)[0] == -3.0


def test_top_eigenvalue_network_hessian_with_dominant_negative_eigenvalue():
    land = tiny("tanh")
    assert 30 <= land.dim <= 60
    # find (deterministically) a point where the most negative Hessian eigenvalue
    # is larger in magnitude than the largest positive one
    found = None
    for seed in range(20):
        theta = random_theta(land, seed, scale=1.5)
        w = np.linalg.eigvalsh(land.hess(theta))
        if -w[0] > 1.2 * w[-1] > 0:
            found = theta, w
            break
    assert found is not None, "no point with a dominant negative eigenvalue"
    theta, w = found
    val, vec = top_eigenvalue(lambda v: land.hvp(theta, v), land.dim, seed=3)
    assert abs(val - w[-1]) < 1e-6 * abs(w).max()
    Hv = land.hvp(theta, vec)
    assert np.linalg.norm(Hv - val * vec) < 1e-5 * abs(w).max()
    assert np.isclose(land.sharpness(theta), w[-1], rtol=1e-6)


@pytest.mark.parametrize("activation", ["tanh", "softplus"])
def test_top_eigenvalue_matches_eigvalsh_at_init(activation):
    land = tiny(activation, n_outputs=2)
    for seed in range(3):
        theta = land.init(seed)
        w = np.linalg.eigvalsh(land.hess(theta))
        val, _ = top_eigenvalue(lambda v, t=theta: land.hvp(t, v), land.dim, seed=seed)
        assert abs(val - w[-1]) < 1e-7 * abs(w).max()


# ------------------------------------------------------------ validation
def test_input_validation():
    land = tiny()
    good = np.zeros(land.dim)
    for bad in (np.zeros(land.dim + 1), np.zeros((3, land.dim - 1)), 1.0):
        for fn in (land.value, land.grad, land.hess):
            with pytest.raises(ValueError, match="theta"):
                fn(bad)
        with pytest.raises(ValueError, match="theta"):
            land.hvp(bad, good)
        with pytest.raises(ValueError, match=r"\bv\b"):
            land.hvp(good, bad)
    with pytest.raises(ValueError, match="theta"):
        land.unflatten(np.zeros((2, land.dim)))

    X, Y = make_dataset(10, 3)
    with pytest.raises(ValueError, match="activation"):
        NetworkLandscape(X, Y, (3, 4, 1), activation="relu")
    with pytest.raises(ValueError, match="layer_sizes"):
        NetworkLandscape(X, Y, (4, 4, 1))  # wrong input width
    with pytest.raises(ValueError, match="layer_sizes"):
        NetworkLandscape(X, Y, (3, 4, 2))  # wrong output width
    with pytest.raises(ValueError, match="layer_sizes"):
        NetworkLandscape(X, Y, (3, 0, 1))
    with pytest.raises(ValueError, match="layer_sizes"):
        NetworkLandscape(X, Y, (3,))
    with pytest.raises(ValueError, match="layer_sizes"):
        NetworkLandscape(X, Y, (3, 2.5, 1))
    with pytest.raises(ValueError, match="X"):
        NetworkLandscape(X[0], Y, (3, 4, 1))
    with pytest.raises(ValueError, match="Y"):
        NetworkLandscape(X, Y[:5], (3, 4, 1))
    with pytest.raises(ValueError, match="finite"):
        NetworkLandscape(np.full_like(X, np.nan), Y, (3, 4, 1))
    with pytest.raises(ValueError, match="n_samples"):
        make_dataset(0, 3)
    with pytest.raises(TypeError, match="n_features"):
        make_dataset(5, 2.5)
    with pytest.raises(ValueError, match="noise"):
        make_dataset(5, 2, noise=-1.0)

    hvp = lambda v: v  # noqa: E731
    with pytest.raises(ValueError, match="v0"):
        top_eigenvalue(hvp, 5, v0=np.ones(4))
    with pytest.raises(ValueError, match="v0"):
        top_eigenvalue(hvp, 5, v0=np.zeros(5))
    with pytest.raises(ValueError, match="dim"):
        top_eigenvalue(hvp, 0)
    with pytest.raises(ValueError, match="hvp"):
        top_eigenvalue(np.eye(3), 3)

    with pytest.raises(ValueError, match="theta0"):
        edge_of_stability(land, np.zeros(3), 0.1, 10)
    with pytest.raises(ValueError, match="step"):
        edge_of_stability(land, good, -0.1, 10)
    with pytest.raises(ValueError, match="n_steps"):
        edge_of_stability(land, good, 0.1, -1)
    with pytest.raises(ValueError, match="sharpness_every"):
        edge_of_stability(land, good, 0.1, 10, sharpness_every=0)


def test_arguments_follow_the_checks_rule():
    """Issue 16 R13: strings, bools, NaN and inf were taken (or failed deep inside numpy or
    ARPACK); each is now refused by name, bools and strings as TypeError."""
    land = tiny()
    good = land.init(0)
    cases = [
        (lambda: make_dataset(teacher_gain="3"), TypeError, "teacher_gain"),
        (lambda: make_dataset(5, 2, seed=-1), ValueError, "seed"),
        (lambda: edge_of_stability(land, good, "0.1", 10), TypeError, "step"),
        (lambda: edge_of_stability(land, good, True, 10), TypeError, "step"),
        (lambda: edge_of_stability(land, good, 0.1, 10.0), TypeError, "n_steps"),
        (lambda: edge_of_stability(land, good, 0.1, 10, eig_tol=np.nan), ValueError, "eig_tol"),
        (lambda: edge_of_stability(land, np.full(land.dim, np.nan), 0.1, 10), ValueError, "theta0"),
        (lambda: land.init(scale=np.nan), ValueError, "scale"),
        (lambda: land.init(seed=0.5), TypeError, "seed"),
        (lambda: land.init(scale=1e300 * np.inf), ValueError, "scale"),
        (lambda: top_eigenvalue(lambda v: v, 5, tol=np.inf), ValueError, "tol"),
        (lambda: top_eigenvalue(lambda v: v, 5, n_iter=True), TypeError, "n_iter"),
        (lambda: top_eigenvalue(lambda v: v, 5, v0=[1, 2, np.nan, 0, 0]), ValueError, "v0"),
        (lambda: land.sharpness(np.full(land.dim, np.nan)), ValueError, "theta"),
        (lambda: land.sharpness("abc"), TypeError, "theta"),
    ]
    for call, error, word in cases:
        with pytest.raises(error, match=word):
            call()
    with np.errstate(all="raise"):  # a tiny scale or gain underflows quietly
        assert np.abs(land.init(scale=5e-324)).max() < 1e-322 and make_dataset(teacher_gain=5e-324)[1].shape == (64, 1)


# ------------------------------------------------------------ GD and the EoS
def test_edge_of_stability_bookkeeping():
    land = tiny()
    theta0 = land.init(0)
    r = edge_of_stability(land, theta0, 0.05, 23, sharpness_every=10)
    assert isinstance(r, EoSResult)
    np.testing.assert_array_equal(r.iterations, np.arange(24))
    np.testing.assert_array_equal(r.sharpness_iterations, [0, 10, 20, 23])
    assert r.loss.shape == (24,) and r.sharpness.shape == (4,)
    assert r.threshold == 2 / 0.05 and r.step == 0.05 and not r.diverged
    # the GD recursion itself
    theta = theta0.copy()
    for _ in range(23):
        theta = theta - 0.05 * land.grad(theta)
    np.testing.assert_allclose(r.theta, theta, rtol=1e-12)
    assert np.isclose(r.loss[-1], land.value(theta))
    assert np.isclose(r.sharpness[-1], np.linalg.eigvalsh(land.hess(theta))[-1], rtol=1e-6)
    np.testing.assert_allclose(r.relative_sharpness(), r.sharpness * 0.05 / 2)
    # theta0 is not modified
    np.testing.assert_array_equal(theta0, land.init(0))


def test_divergence_is_flagged():
    land = tiny()
    r = edge_of_stability(land, land.init(0), 1e4, 50, sharpness_every=5)
    assert r.diverged
    assert np.isnan(r.loss[-1])


def test_edge_of_stability_story_with_defaults():
    d = eos_defaults()
    assert np.isclose(d.small_step, d.step / 4) and d.step in d.steps
    res = run_eos_experiment(d, steps=(d.step, d.small_step), sharpness_every=10)
    main, small = res[d.step], res[d.small_step]
    assert main.threshold == 2 / d.step and not main.diverged and not small.diverged

    rel = main.relative_sharpness()
    it = main.sharpness_iterations
    after = it >= d.warmup
    # progressive sharpening: starts well below 2/eta and reaches it
    assert rel[0] < 0.5
    assert rel[~after].max() > 0.95
    # then hovers around 2/eta (measured band [0.87, 1.07] with every-step sampling)
    assert 0.8 < rel[after].min() and rel[after].max() < 1.2
    assert 0.95 < np.median(rel[after]) < 1.05
    # loss keeps decreasing overall, non-monotonically
    loss = main.loss
    assert loss[-1] < 0.01 * loss[0]
    assert loss[-1] < 0.5 * loss[d.warmup]
    assert np.sum(np.diff(loss[d.warmup :]) > 0) > 50
    assert np.max(np.diff(loss[d.warmup :]) / loss[d.warmup : -1]) > 0.1  # real spikes
    # the tracked sharpness is the true top eigenvalue (dense check at the end)
    land, _ = default_landscape(d)
    w = np.linalg.eigvalsh(land.hess(main.theta))
    assert np.isclose(main.sharpness[-1], w[-1], rtol=1e-6)

    # 4x smaller step: sharpens, but ends well below its own 2/(eta/4)
    rel_s = small.relative_sharpness()
    assert rel_s[-1] < 0.5
    assert small.sharpness[-1] > 2 * small.sharpness[0]
    assert np.all(np.diff(small.loss) <= 0)  # stable regime: monotone loss
    # and its sharpness goes past the ceiling 2/eta of the large-step run
    assert small.sharpness[-1] > 1.05 * main.threshold
