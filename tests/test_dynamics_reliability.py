"""Regression tests for issue 9 (dynamics half): every reference here is a plain loop or a closed
form written in the test, never the library call under test."""

import subprocess
import sys
import tracemalloc
import warnings

import numpy as np
import pytest

import reachkit as rk
from reachkit import checks, optimizers
from reachkit import landscapes as L
from reachkit import schedules as S


def identity_gradient_landscape():
    """f = |x|^2 / 2 whose gradient function returns the very array it was given."""
    return L.from_functions(lambda x: 0.5 * (x**2).sum(-1), lambda x: x, dim=2, bounds=[(-2, 2)] * 2)


def plain_gd(grad, x0, step, n_steps, gtol, radius):
    """Reference GD for one start: (iterates, status, stopped_at)."""
    x, xs = np.array(x0, dtype=float), []
    for k in range(n_steps + 1):
        xs.append(x.copy())
        g = np.array(grad(x[None])[0], dtype=float)
        if np.sqrt(g @ g) <= gtol:
            return np.array(xs), "converged", k
        if k == n_steps:
            return np.array(xs), "moving", -1
        xn = x - step(k) * g
        if not np.sqrt(xn @ xn) <= radius:
            return np.array(xs), "diverged", k + 1
        x = xn


def assert_matches_plain_loop(path, i, ref):
    xs, status, stopped = ref
    assert path.status[i] == status and path.stopped_at[i] == stopped
    np.testing.assert_array_equal(path.trajectory(i)[: len(xs)], xs)
    after = path.trajectory(i)[len(xs):]
    np.testing.assert_array_equal(after, np.broadcast_to(xs[-1], after.shape))
    np.testing.assert_array_equal(path.final[i], xs[-1])


# -- B1: arrays a user function returned are never written into ------------------------------
def test_gd_with_a_gradient_that_returns_its_input_diverges_as_x_times_minus_four(no_warnings):
    ls = identity_gradient_landscape()
    path = rk.gradient_descent(ls, [0.5, 0.5], 5.0, 50)  # x_{k+1} = (1 - 5) x_k
    assert path.status[0] == "diverged"
    k = path.stopped_at[0]
    np.testing.assert_array_equal(path.iterates[:k, 0], (-4.0) ** np.arange(k)[:, None] * [0.5, 0.5])
    radius = 1e6 * 3  # the default escape radius: 1e6 (1 + max |bounds|)
    assert np.linalg.norm(0.5 * 4.0 ** (k - 1) * np.ones(2)) <= radius < np.linalg.norm(0.5 * 4.0**k * np.ones(2))


def test_no_method_writes_into_the_returned_gradient():
    direction = np.array([0.3, -0.2])
    stored = {}  # the user's function hands back the same writable array for each shape it sees

    def grad(x):
        return stored.setdefault(x.shape, np.broadcast_to(direction, x.shape).copy())

    ls = L.from_functions(lambda x: (x * direction).sum(-1), grad, dim=2, bounds=[(-2, 2)] * 2)
    runs = [rk.gradient_descent(ls, [[0.0, 0.0]], 0.5, 6, gtol=0.0),
            rk.subgradient_method(ls, [[0.0, 0.0]], 0.5, 6),
            rk.gradient_descent(ls, [[0.0, 0.0]], S.polyak(f_min=-10.0, max_step=0.5), 6, gtol=0.0),
            optimizers.momentum(ls, [[0.0, 0.0]], 0.5, 6, mu=0.5, gtol=0.0)]
    for arr in stored.values():
        np.testing.assert_array_equal(arr, np.broadcast_to(direction, arr.shape))
    stored = direction[None, :]
    for p in runs[:3]:  # constant gradient: x_k = -0.5 k (0.3, -0.2)
        np.testing.assert_allclose(p.iterates[:, 0], -0.5 * np.arange(7)[:, None] * stored, rtol=1e-14)
    b, x = np.zeros(2), np.zeros(2)
    for _ in range(6):
        b = 0.5 * b + stored[0]
        x = x - 0.5 * b
    np.testing.assert_allclose(runs[3].final[0], x, rtol=1e-14)


# -- the block loop stops every start exactly where a plain loop does -----------------------
@pytest.mark.parametrize("step", [0.05, 0.101, 0.15, S.power(0.3, 0.5), S.power(0.5, 2.0)])
def test_batched_gd_equals_a_plain_loop_per_start(step):
    ls = L.sharp_flat_double_well()
    starts = np.linspace(-3.0, 5.0, 23)[:, None]
    sizes = (lambda k: step) if isinstance(step, float) else step.sizes
    path = rk.gradient_descent(ls, starts, step, 250, gtol=1e-6, escape_radius=50.0)
    for i, x0 in enumerate(starts):
        ref = plain_gd(ls.grad, x0, sizes, 250, 1e-6, 50.0)
        xs, status, _ = ref
        if status == "moving" and path.status[i] in ("cycling", "stalled"):
            ref = (xs, path.status[i], -1)
        assert_matches_plain_loop(path, i, ref)


def test_one_step_per_start_equals_a_plain_loop_and_diverging_starts_are_silent(no_warnings):
    ls = L.cubic()
    a = np.array([0.01, 0.05, 0.2, 0.4, 1.3])
    starts = np.array([[0.5], [-0.5], [0.7], [-0.9], [0.2]])
    path = rk.gradient_descent(ls, starts, a, 500, gtol=1e-3, escape_radius=1e3)
    for i in range(len(a)):
        xs, status, stopped = plain_gd(ls.grad, starts[i], lambda k, i=i: a[i], 500, 1e-3, 1e3)
        if status == "converged":  # |grad f| = 3 x^2 <= 1e-3 at x ~ 0.018: not the critical point 0
            assert abs(xs[-1][0]) > 0.01
            status = "stopped"
        assert_matches_plain_loop(path, i, (xs, status, stopped))
    assert {"stopped", "diverged"} <= set(path.status)


def test_recording_every_few_steps_keeps_those_steps_and_the_last():
    ls = L.quadratic([1.0, 10.0])
    x0 = np.array([[1.0, 1.0], [-0.5, 0.25]])
    path = rk.gradient_descent(ls, x0, 0.15, 50, record_every=7, gtol=0.0)
    k = np.r_[np.arange(0, 51, 7), 50]
    np.testing.assert_array_equal(path.times, k)
    np.testing.assert_allclose(path.iterates, (1 - 0.15 * np.array([1.0, 10.0])) ** k[:, None, None] * x0,
                               rtol=1e-12)
    np.testing.assert_allclose(path.values, 0.5 * (path.iterates**2 * [1.0, 10.0]).sum(-1), rtol=1e-12)


# -- B2, B3: gradient flow ---------------------------------------------------------------------
def test_a_flow_that_blows_up_is_diverged_at_its_exit_time_and_the_other_start_goes_on(no_warnings):
    """f = x^3: x' = -3x^2, x(t) = x0 / (1 + 3 x0 t); from -0.5 it reaches -R at t = (2 - 1/R)/3."""
    ls = L.cubic()
    path = rk.gradient_flow(ls, [[0.5], [-0.5]], 20.0, 5)
    t = np.linspace(0, 20, 5)
    np.testing.assert_allclose(path.iterates[:, 0, 0], 0.5 / (1 + 1.5 * t), rtol=1e-8)
    assert path.final[0, 0] == pytest.approx(1 / 62, rel=1e-8)
    assert path.status[0] == "moving"  # |grad f| = 3/62^2, far above gtol
    R = 2e6  # the default escape radius for bounds [-1, 1]
    assert path.status[1] == "diverged"
    assert path.stopped_at[1] == pytest.approx((2 - 1 / R) / 3, abs=1e-9)
    assert path.final[1, 0] == pytest.approx(-R, rel=1e-6)
    assert np.all(path.iterates[1:, 1, 0] == path.final[1, 0])
    alone = rk.gradient_flow(ls, [[0.5]], 20.0, 5)
    np.testing.assert_allclose(alone.iterates[:, 0], path.iterates[:, 0], rtol=1e-9)


def test_a_start_the_solver_fails_on_is_stalled_with_its_message_and_the_other_goes_on(no_warnings):
    """f = log x: x' = -1/x, x(t)^2 = x0^2 - 2t reaches 0 with infinite speed at t = x0^2 / 2."""
    ls = L.from_functions(lambda x: np.log(np.abs(x[..., 0])), lambda x: 1 / x, dim=1, bounds=[(0.1, 3)])
    path = rk.gradient_flow(ls, [[1.0], [2.0]], 1.0, 11)
    assert path.status[0] == "stalled" and "ODE solver (DOP853) failed" in path.describe(0)
    assert path.stopped_at[0] == pytest.approx(0.5, abs=1e-3)
    assert path.status[1] == "moving"
    np.testing.assert_allclose(path.iterates[:, 1, 0], np.sqrt(4 - 2 * path.times), rtol=1e-9)


@pytest.mark.parametrize("name, value, error", [
    ("rtol", float("nan"), ValueError), ("rtol", -1e-6, ValueError), ("rtol", 0.0, ValueError),
    ("atol", float("inf"), ValueError), ("atol", "1e-9", TypeError), ("gtol", float("nan"), ValueError),
    ("gtol", -1.0, ValueError), ("gtol", True, TypeError), ("t_max", float("inf"), ValueError),
    ("n_times", 1, ValueError), ("n_times", 5.0, TypeError), ("method", "Euler", ValueError),
])
def test_flow_arguments_are_checked(name, value, error):
    with pytest.raises(error, match=name):
        rk.gradient_flow(L.sharp_flat_2d(), [[-0.7, 1.2]], **{"t_max": 1.0, "n_times": 11, name: value})


def test_a_flow_with_a_nan_gradient_says_so():
    ls = L.from_functions(lambda x: -0.5 * (x**2).sum(-1), lambda x: np.where(x > 1.0, np.nan, -x),
                          dim=1, bounds=[(-2, 2)])  # gradient ascent away from 0: x = x0 e^t
    path = rk.gradient_flow(ls, [[0.5], [-0.001]], 2.0, 21)
    assert path.status[0] == "diverged" and "returned nan" in path.describe(0)
    # 0.5 e^t = 1 at t = log 2; the solver first looks beyond it a little later
    assert np.log(2) - 1e-3 < path.stopped_at[0] < np.log(2) + 0.05
    before = path.times < np.log(2)  # (within the solver's last step the start is already held)
    np.testing.assert_allclose(path.iterates[before, 0, 0], 0.5 * np.exp(path.times[before]), rtol=1e-7)
    assert path.final[0, 0] > 1.0 and f"x = ({path.final[0, 0]:.4g})" in path.describe(0)  # where it failed
    np.testing.assert_allclose(path.iterates[:, 1, 0], -0.001 * np.exp(path.times), rtol=1e-7)


# -- B5: bounded work and memory -----------------------------------------------------------------
def test_a_long_run_that_converges_early_stops_working_and_repeats_its_limit():
    tracemalloc.start()
    path = rk.gradient_descent(L.sharp_flat_2d(), [[-0.9, 0.1]], 0.04, 10**6)
    peak = tracemalloc.get_traced_memory()[1]
    tracemalloc.stop()
    k = path.stopped_at[0]
    assert path.status[0] == "converged" and k < 100
    assert path.iterates.shape == (10**6 + 1, 1, 2)
    assert np.all(path.iterates[k:] == path.final) and np.all(np.isnan(path.step_sizes[k:]))
    assert np.all(path.values[k:] == path.values[k])
    result = sum(a.nbytes for a in (path.iterates, path.values, path.step_sizes, path.times))
    assert peak < 1.5 * result  # no copies beyond the record itself


def test_a_record_above_the_memory_budget_is_refused_with_its_size(monkeypatch):
    ls = L.sharp_flat_2d()
    # 2001 records of 3 starts (iterate: 2 numbers, value, step, one of headroom), 64 trailing iterates,
    # and 32 + 12 * 2 working numbers per start, and chunks of 2**16 points of 2 + 8 numbers, in float64
    need = 8 * 3 * (2001 * 5 + 64 * 2 + 32 + 12 * 2) + 8 * 2**16 * (2 + 8)
    with pytest.raises(ValueError, match=r"3 starts in 2-D keeping 2001 records .* needs .*record_every"):
        monkeypatch.setattr(checks, "MEMORY_BUDGET", need - 1)
        rk.gradient_descent(ls, np.zeros((3, 2)), 0.1, 2000)
    monkeypatch.setattr(checks, "MEMORY_BUDGET", need)
    assert rk.gradient_descent(ls, np.zeros((3, 2)), 0.1, 2000).iterates.shape == (2001, 3, 2)
    with pytest.raises(ValueError, match=r"iterates, values, step sizes, preconditioner\)"):
        optimizers.adam(ls, np.zeros((3, 2)), 0.1, 2000)  # also keeps (2001, 3, 2) preconditioners
    long = rk.gradient_descent(ls, [[-0.9, 0.1]], 0.04, 10**12, record_every=None)  # stops at step 16
    assert long.status[0] == "converged" and long.iterates.shape == (1, 1, 2)


def test_runs_that_keep_only_final_points_count_their_trailing_iterates():
    """Issue 16 R3: record_every=None kept 64 trailing iterates per start that no budget
    counted (10**6 starts x 100 steps took 1.3 GB more). 64 * 2 * 8 bytes alone for each of
    2**20 starts is 1 GiB: refused before it starts, with how to lower it."""
    starts = np.zeros((2**20, 2))
    with pytest.raises(ValueError, match=r"1048576 starts .* 64 trailing iterates.* needs about 1\.\d\d GiB.*"
                                         r"memory budget of 1 GiB.*run fewer starts"):
        rk.gradient_descent(L.sharp_flat_2d(), starts, 0.04, 100, record_every=None)
    with pytest.raises(ValueError, match=r"basin_map with n=2000 .* needs .*smaller n"):
        rk.basin_map(L.sharp_flat_2d(), n=2000, n_steps=50)
    with pytest.raises(ValueError, match=r"bifurcation .* needs .*fewer steps"):
        rk.bifurcation(L.smooth_double_well(), np.linspace(0.05, 0.1, 5 * 10**6), n_keep=1)


def test_the_flow_is_held_to_the_same_budget():
    """Issue 16 R4: 1000 starts x 100 000 times peaked at 7.7 GB; an implicit method on many
    starts forms a dense Jacobian of the whole batch."""
    ls = L.sharp_flat_2d()
    with pytest.raises(ValueError, match=r"flow of 1000 starts in 2-D sampled at 100000 times needs .*n_times"):
        rk.gradient_flow(ls, np.full((1000, 2), 0.5), 1.0, 100_000)
    with pytest.raises(ValueError, match=r"BDF \(a dense 8000 x 8000 Jacobian\) needs .*explicit method"):
        rk.gradient_flow(ls, np.full((4000, 2), 0.5), 1.0, 2, method="BDF")


# -- B8, B9: their own words -----------------------------------------------------------------------
def test_a_nan_gradient_is_reported_at_the_step_and_point_where_it_happened(no_warnings):
    ls = L.from_functions(lambda x: -0.5 * (x**2).sum(-1), lambda x: np.where(x > 2.0, np.nan, -x),
                          dim=1, bounds=[(-3, 3)])  # x_k = 0.1 * 1.5^k until x > 2
    path = rk.gradient_descent(ls, [[0.1], [-0.1]], 0.5, 20)
    k = int(np.argmax(0.1 * 1.5 ** np.arange(20) > 2.0))
    assert path.status[0] == "diverged" and path.stopped_at[0] == k
    assert path.final[0, 0] == pytest.approx(0.1 * 1.5**k, rel=1e-12)
    assert path.describe(0) == f"diverged at step {k}: the gradient function returned nan at x = ({0.1 * 1.5**k:.4g})"
    assert path.status[1] == "moving"


def test_polyak_with_f_min_above_the_minimum_stalls_with_a_reason():
    path = rk.gradient_descent(L.quadratic([1.0]), [[1.0]], S.polyak(f_min=10.0), 50)
    assert path.status[0] == "stalled" and path.stopped_at[0] == 0
    assert np.all(path.iterates == 1.0)
    assert "f_min = 10" in path.describe(0) and "stalled at step 0" in path.describe(0)
    reaching = rk.gradient_descent(L.quadratic([1.0]), [[1.0]], S.polyak(f_min=0.0), 50)
    assert reaching.status[0] == "converged"  # (x^2/2 - 0) / x^2 = 1/2: halves x every step


# -- B19: one random stream per start ----------------------------------------------------------------
def test_a_start_runs_the_same_sgd_alone_or_first_in_a_batch_and_by_its_own_seed():
    fs = L.sharp_flat_2d_sum()
    x, y = [[-0.5, 0.3]], [[2.5, 0.1]]
    alone = rk.sgd(fs, x, 0.05, 200, seed=3, gtol=0.0)
    first = rk.sgd(fs, np.r_[x, y], 0.05, 200, seed=3, gtol=0.0)
    second = rk.sgd(fs, np.r_[y, x], 0.05, 200, seed=[8, 3], gtol=0.0)
    np.testing.assert_array_equal(alone.trajectory(0), first.trajectory(0))
    np.testing.assert_array_equal(alone.trajectory(0), second.trajectory(1))
    other = rk.sgd(fs, x, 0.05, 200, seed=4, gtol=0.0)
    assert not np.array_equal(alone.trajectory(0), other.trajectory(0))
    with pytest.raises(ValueError, match="one integer per start"):
        rk.sgd(fs, np.r_[x, y], 0.05, 10, seed=[1, 2, 3])


def test_sgd_runs_are_the_same_in_another_process():
    code = ("import numpy as np, reachkit as rk; fs = rk.landscapes.sharp_flat_2d_sum(); "
            "p = rk.sgd(fs, np.zeros((3, 2)) + 0.3, 0.05, 100, batch_size=3, seed=11); "
            "print(repr(p.final.tolist()))")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout
    here = rk.sgd(L.sharp_flat_2d_sum(), np.zeros((3, 2)) + 0.3, 0.05, 100, batch_size=3, seed=11)
    assert eval(out) == here.final.tolist()  # noqa: S307 (our own subprocess's repr of floats)


# -- argument checks: bools and strings are not numbers --------------------------------------------
_LS, _FS = L.quadratic([1.0]), L.interpolating_quadratics()
BAD_CALLS = [
    (lambda: rk.gradient_descent(_LS, [[1.0]], True, 5), TypeError, "step"),
    (lambda: rk.gradient_descent(_LS, [[1.0]], "0.1", 5), TypeError, "step"),
    (lambda: rk.gradient_descent(_LS, [[1.0]], [0.1, "a"], 5), TypeError, "step"),
    (lambda: rk.gradient_descent(_LS, [[1.0]], 0.1, True), TypeError, "n_steps"),
    (lambda: rk.gradient_descent(_LS, [[1.0]], 0.1, 5.0), TypeError, "n_steps"),
    (lambda: rk.gradient_descent(_LS, [[1.0]], 0.1, 5, record_every=0), ValueError, "record_every"),
    (lambda: rk.gradient_descent(_LS, [[1.0]], 0.1, 5, record_every=2.0), TypeError, "record_every"),
    (lambda: rk.gradient_descent(_LS, [[1.0]], 0.1, 5, gtol=float("nan")), ValueError, "gtol"),
    (lambda: rk.gradient_descent(_LS, [[1.0]], 0.1, 5, escape_radius=-1), ValueError, "escape_radius"),
    (lambda: rk.gradient_descent(_LS, "abc", 0.1, 5), TypeError, "starts"),
    (lambda: rk.gradient_descent(_LS, [[True]], 0.1, 5), TypeError, "starts"),
    (lambda: rk.gradient_descent(L.sharp_flat_2d(), [[1.0, 2.0], [3.0]], 0.1, 5), ValueError, "starts"),
    (lambda: rk.sgd(_FS, [[1.0]], 0.1, 5, seed=True), TypeError, "seed"),
    (lambda: rk.sgd(_FS, [[1.0]], 0.1, 5, seed=-1), ValueError, "seed"),
    (lambda: rk.sgd(_FS, [[1.0]], 0.1, 5, seed=1.5), TypeError, "seed"),
    (lambda: rk.sgd(_FS, [[1.0]], 0.1, 5, seed="abc"), TypeError, "seed"),
    (lambda: rk.sgd(_FS, [[1.0]], 0.1, 5, batch_size=True), TypeError, "batch_size"),
    (lambda: rk.subgradient_method(_LS, [[1.0]], 0.1, 5, record_every=0), ValueError, "record_every"),
    (lambda: rk.gradient_flow(L.absolute_value(), [[0.5]], 3.0), ValueError, "subgradient_method"),
    (lambda: S.armijo("1"), TypeError, "a0"),
    (lambda: S.armijo(1.0, shrink=1.0), ValueError, "shrink"),
    (lambda: S.armijo(1.0, c=float("nan")), ValueError, "c"),
    (lambda: S.polyak("0"), TypeError, "f_min"),
    (lambda: S.polyak(0.0, max_step=-1), ValueError, "max_step"),
    (lambda: S.power(0.1, "1"), TypeError, "exponent p"),
    (lambda: S.power(0.1, float("inf")), ValueError, "exponent p"),
    (lambda: S.power(True, 1.0), TypeError, "a0"),
    (lambda: S.constant(np.zeros((2, 2)) + 0.1), TypeError, "step"),
    (lambda: optimizers.adam(_LS, [[1.0]], 0.1, 5, record_every=0), ValueError, "record_every"),
    (lambda: optimizers.momentum(_LS, [[1.0]], 0.1, 5, gtol=-1.0), ValueError, "gtol"),
]


@pytest.mark.parametrize("call, error, name", BAD_CALLS)
def test_bad_arguments_raise_naming_the_argument(call, error, name):
    with pytest.raises(error, match=name):
        call()


def test_a_gradient_of_the_wrong_shape_is_named():
    # right on the shapes from_functions tries when it is made, wrong for a batch of one start
    def grad(x):
        return x.sum(-1) if x.shape[:-1] == (1,) else x

    ls = L.from_functions(lambda x: 0.5 * (x**2).sum(-1), grad, dim=2, bounds=[(-2, 2)] * 2)
    with pytest.raises(ValueError, match=r"gradient function returned shape \(1,\)"):
        rk.gradient_descent(ls, [[0.5, 0.5]], 0.1, 5)


def test_nothing_in_the_dynamics_prints_a_warning():
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        rk.gradient_descent(L.sharp_flat_2d(), [[-1.0, 0.2], [3.0, 1.0]], 5.0, 200)
        rk.gradient_descent(L.cubic(), [[-0.5]], S.armijo(1e6), 50)
        rk.gradient_descent(L.cubic(), [[-0.5]], S.polyak(-1e300), 50)
        rk.gradient_flow(L.cubic(), [[-0.5], [0.5]], 5.0, 11)
        rk.sgd(L.interpolating_quadratics(), np.ones((50, 1)), 5.0, 200)
        optimizers.adam(L.cubic(), [[-0.5]], 10.0, 100)


# -- issue 16, R14: clear errors where there were obscure ones ---------------------------------
def test_an_empty_batch_a_non_landscape_and_a_non_path_are_named():
    from reachkit import optimizers

    q = L.quadratic()
    for run in (lambda s: rk.gradient_descent(q, s, 0.1, 5), lambda s: rk.sgd(L.sharp_flat_2d_sum(), s, 0.1, 5),
                lambda s: optimizers.momentum(q, s, 0.1, 5), lambda s: rk.gradient_flow(q, s, 1.0, 3)):
        with pytest.raises(ValueError, match=r"starts must have shape \(batch, 2\) with batch >= 1.*got \(0, 2\)"):
            run(np.zeros((0, 2)))  # was ZeroDivisionError
    for call in (lambda: rk.gradient_descent("q", [1.0, 1.0], 0.1, 5), lambda: rk.sharpness(None, [0.0, 0.0]),
                 lambda: optimizers.adam({}, [1.0, 1.0], 0.1, 5), lambda: rk.basin_map(3)):
        with pytest.raises(TypeError, match="landscape must be a landscape"):
            call()
    with pytest.raises(TypeError, match=r"path must be a Path .*got 5 \(int\)"):
        rk.summarize_limits(q, 5)  # was AttributeError: 'int' object has no attribute 'status'
    with pytest.raises(ValueError, match="unknown outcome 'x'; known: "):
        rk.basin_map(L.sharp_flat_2d(), n=4, n_steps=2).fraction("x")  # was "'x' is not in list"
    with pytest.raises(ValueError, match="t_max must be large enough for 201 distinct times"):
        rk.gradient_flow(q, [1.0, 1.0], t_max=5e-324)  # was "t_eval not properly sorted"


def test_a_huge_gtol_stops_every_start_at_once():
    """gtol = 1e300 squared overflowed a Python float (OverflowError): it stops at step 0, at a
    point that is not critical ("stopped")."""
    ls = L.sharp_flat_2d()
    for run in (rk.gradient_descent, optimizers.adam):
        path = run(ls, [[-0.7, 0.2]], 0.04, 20, gtol=1e300)
        assert path.status[0] == "stopped" and path.stopped_at[0] == 0
        assert "gtol = 1e+300" in path.describe(0)
