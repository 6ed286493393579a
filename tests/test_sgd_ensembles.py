"""SGD ensembles (notebook 04): the non-interpolating finite sum, sgd's per-sample gradients,
and where SGD runs end on a (step x batch size) grid."""

import numpy as np
import pytest

from reachkit import analysis, dynamics
from reachkit import landscapes as L
from reachkit.schedules import power

# -- the random streams, written out with Python integers: start i of seed s draws number u as
# splitmix64(key_i + (u + 1) golden) >> 11 / 2^53, key_i = splitmix64(SeedSequence(s) + (i + 1) golden)
_MASK, _GOLDEN = 2**64 - 1, 0x9E3779B97F4A7C15


def _mix(z):
    z = ((z ^ (z >> 30)) * 0xBF58476D1CE4E5B9) & _MASK
    z = ((z ^ (z >> 27)) * 0x94D049BB133111EB) & _MASK
    return z ^ (z >> 31)


def uniforms(seed, i, first, count, stream=None):
    """Numbers first, ..., first + count - 1 of the stream of start i (of stream ``stream`` of seed)."""
    base = int(np.random.SeedSequence(seed).generate_state(1, np.uint64)[0])
    key = _mix((base + ((i if stream is None else stream) + 1) * _GOLDEN) & _MASK)
    return np.array([(_mix((key + (u + 1) * _GOLDEN) & _MASK) >> 11) / 2**53
                     for u in range(first, first + count)])


# -- shifted_quadratics: f = mean_i |x - s_i|^2 / 2 ------------------------------------------
def test_shifted_quadratics_value_gradient_and_minimum():
    s = np.array([-1.0, 0.0, 2.0, 3.0])
    ls = L.shifted_quadratics(s)
    x = np.linspace(-3, 5, 17)[:, None]
    np.testing.assert_allclose(ls.value(x), np.mean((x - s) ** 2, axis=1) / 2, rtol=1e-13)
    np.testing.assert_allclose(ls.grad(x), x - s.mean(), rtol=1e-13)
    np.testing.assert_allclose(ls.hess(x), np.ones((17, 1, 1)))
    (m,) = ls.minima()
    assert m.x[0] == pytest.approx(1.0)
    assert ls.n_samples == 4 and ls.lipschitz == 1.0
    assert ls.with_params() is ls
    with pytest.raises(ValueError, match="unknown parameter"):
        ls.with_params(sharp=2.0)
    with pytest.raises(ValueError, match="shifts"):
        L.shifted_quadratics([])


def test_shifted_quadratics_in_two_dimensions():
    s = np.array([[0.0, 1.0], [2.0, -1.0], [1.0, 3.0]])
    ls = L.shifted_quadratics(s)
    assert ls.dim == 2
    x = np.array([[0.5, 0.5], [-1.0, 2.0]])
    np.testing.assert_allclose(ls.value(x),
                               np.mean(np.sum((x[:, None] - s) ** 2, axis=2), axis=1) / 2)
    np.testing.assert_allclose(ls.minima()[0].x, s.mean(axis=0))
    assert ls.sample_hessians(x).shape == (3, 2, 2, 2)


def test_minibatch_gradient_is_unbiased_but_noisy_at_the_minimum():
    ls = L.shifted_quadratics((-1.0, 0.0, 2.0, 3.0))
    x_star = ls.minima()[0].x[None]
    singles = np.stack([ls.sample_grad(x_star, np.array([[i]])) for i in range(4)])
    np.testing.assert_allclose(singles.mean(axis=0), ls.grad(x_star), atol=1e-15)  # unbiased
    assert np.all(np.abs(singles) > 0.5)  # but no sample is minimal at the minimum of f
    np.testing.assert_allclose(ls.sample_grad(x_star, np.arange(4)[None]), 0.0, atol=1e-15)


def test_sgd_uses_the_per_sample_gradients():
    """Batch 1 on shifted quadratics equals a hand-written loop with the same draws."""
    s = np.array([-1.0, 0.0, 2.0, 3.0])
    ls = L.shifted_quadratics(s)
    x0 = np.linspace(-2, 4, 5)[:, None]
    path = dynamics.sgd(ls, x0, 0.3, 40, batch_size=1, seed=3, gtol=0.0)
    draws = np.stack([np.floor(uniforms(3, i, 0, 40) * 4).astype(int) for i in range(5)])  # (start, k)
    x = x0.copy()
    for k in range(40):
        x = x - 0.3 * (x - s[draws[:, k]][:, None])
    np.testing.assert_allclose(path.final, x, rtol=1e-13)
    # step 1 lands exactly on a sample's minimum s_i: drawing i again is a step that does not
    # move, not convergence (s_i is not a critical point of f)
    one = dynamics.sgd(ls, x0, 1.0, 200, batch_size=1, seed=0, gtol=0.0)
    assert np.all(one.status == "moving")
    assert np.abs(one.final - s).min(axis=1).max() < 1e-150  # ends on some s_i (to rounding)
    # also when the iterate lands on s_i = 0, where tiny gradients have a square that underflows
    at_zero = dynamics.sgd(ls, np.ones((4000, 1)), power(0.5, 0.75), 300, seed=0, record_every=None)
    assert np.all(at_zero.status == "moving")
    full = dynamics.sgd(ls, x0, 0.3, 200, batch_size=4)
    gd = dynamics.gradient_descent(ls, x0, 0.3, 200)
    np.testing.assert_allclose(full.iterates, gd.iterates, rtol=1e-13)
    assert np.all(full.status == "converged")


def test_constant_step_sgd_without_interpolation_keeps_a_stationary_spread():
    """x_{k+1} - m = (1 - a)(x_k - m) + a (s_i - m): variance a Var(s) / (2 - a), no convergence."""
    s = np.array([-1.0, 0.0, 2.0, 3.0])
    ls, a = L.shifted_quadratics(s), 0.2
    path = dynamics.sgd(ls, np.ones((4000, 1)), a, 200, batch_size=1, seed=0, record_every=None)
    assert np.all(path.status == "moving")
    assert np.var(path.final[:, 0]) == pytest.approx(a * s.var() / (2 - a), rel=0.1)
    # steps a_k = 0.5/(k+1)^0.75 (sum a_k = inf, sum a_k^2 < inf) shrink the spread
    decaying = dynamics.sgd(ls, np.ones((4000, 1)), power(0.5, 0.75), 4000, seed=0,
                            record_every=None, gtol=0.0)
    assert np.std(decaying.final[:, 0]) < 0.25 * np.std(path.final[:, 0])


def test_sgd_on_scaled_copies_is_unchanged():
    """The scaled-copies finite sums keep their fast path: full gradient times a factor."""
    ls = L.sharp_flat_2d_sum(n_samples=5, spread=0.6, seed=2)
    starts = np.random.default_rng(0).uniform(-1.5, 3.0, size=(20, 2)) * [1, 0.4]
    path = dynamics.sgd(ls, starts, 0.05, 60, batch_size=2, seed=4, gtol=0.0)
    u = np.stack([uniforms(4, i, 0, 60 * 5).reshape(60, 5) for i in range(20)])  # (start, k, sample)
    x = starts.copy()
    for k in range(60):
        idx = np.argsort(u[:, k], axis=1)[:, :2]  # the two samples with the smallest numbers
        x = x - 0.05 * ls.sample_grad(x, idx)
    np.testing.assert_allclose(path.final, x, rtol=1e-10, atol=1e-12)


# -- sgd_outcomes --------------------------------------------------------------------------------
def test_sgd_outcomes_shapes_and_full_batch_is_gd():
    fs = L.sharp_flat_2d_sum()
    x0 = np.random.default_rng(1).uniform(fs.bounds[:, 0], fs.bounds[:, 1], (60, 2))
    steps = [0.03, 0.09, 0.12]
    out = analysis.sgd_outcomes(fs, steps, [1, 8], x0, 800, seed=5)
    assert out.fractions.shape == (3, 2, len(out.names))
    np.testing.assert_allclose(out.fractions.sum(axis=2), 1.0)
    assert out.n_starts == 60 and out.n_steps == 800
    for i, a in enumerate(steps):  # batch 8 = all samples = gradient descent
        gd = dynamics.gradient_descent(fs, x0, a, 800, record_every=None, gtol=1e-10)
        assert out.fraction("sharp minimum")[i, 1] == pytest.approx(np.mean(gd.limit_label == "sharp minimum"))
    assert out.fraction("sharp minimum")[2, 1] == 0.0  # above 2/20 GD never settles there
    again = analysis.sgd_outcomes(fs, steps, [1, 8], x0, 800, seed=5)
    np.testing.assert_array_equal(out.fractions, again.fractions)
    assert "batch 8" in out.table("flat minimum") and "0.12" in out.table("flat minimum")


def test_sgd_outcomes_uses_common_random_numbers_a_cell_does_not_depend_on_the_other_steps():
    fs = L.sharp_flat_2d_sum()
    x0 = np.random.default_rng(1).uniform(fs.bounds[:, 0], fs.bounds[:, 1], (60, 2))
    alone = analysis.sgd_outcomes(fs, [0.09], [1], x0, 200, seed=3).fractions[0]
    listed = analysis.sgd_outcomes(fs, [0.02, 0.09], [1, 2], x0, 200, seed=3).fractions
    np.testing.assert_array_equal(listed[1, :1], alone)  # start j drew stream 60 + j here before
    assert 0 < alone[0].max() < 1  # starts end in different places: the draws matter


def test_sgd_outcomes_almost_sure_convergence_beyond_the_gd_threshold():
    """a_i in {0.5, 1.5}: at eta = 2.2 GD diverges (|1 - 2.2| > 1) but batch-1 SGD converges
    almost surely (E log|1 - eta a_i| < 0)."""
    fs = L.interpolating_quadratics((0.5, 1.5))
    assert analysis.interpolation_stability(fs, 2.2).almost_surely_convergent
    out = analysis.sgd_outcomes(fs, [1.0, 2.2], [1, 2], np.linspace(-1, 1, 41)[:, None], 600)
    m = out.fraction("minimum")
    assert m[0, 0] == 1.0 and m[0, 1] == 1.0
    assert m[1, 0] > 0.9 and m[1, 1] < 0.05
    assert out.fraction("diverged")[1, 1] > 0.95


def test_sgd_outcomes_bad_input():
    fs = L.sharp_flat_2d_sum()
    x0 = np.zeros((3, 2))
    with pytest.raises(ValueError, match="finite-sum"):
        analysis.sgd_outcomes(L.sharp_flat_2d(), [0.1], [1], x0)
    with pytest.raises(ValueError, match="steps"):
        analysis.sgd_outcomes(fs, [0.1, -1.0], [1], x0)
    with pytest.raises(ValueError, match="batch_sizes"):
        analysis.sgd_outcomes(fs, [0.1], [0], x0)
    with pytest.raises(ValueError, match="batch_sizes"):
        analysis.sgd_outcomes(fs, [0.1], [9], x0)
    with pytest.raises(ValueError, match="starts"):
        analysis.sgd_outcomes(fs, [0.1], [1], np.zeros((3, 3)))
    out = analysis.sgd_outcomes(fs, [0.1], [1], x0, 10)
    with pytest.raises(ValueError, match="unknown outcome"):
        out.fraction("nowhere")
