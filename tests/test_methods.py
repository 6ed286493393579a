"""The registry of dynamics methods (reachkit.methods): every method's path against a plain loop
written here, its stability constant against the spectral radius of the linearised map, and
heavy-ball momentum in rk.explore as the one new entry (step marks, verdict, basins, fan)."""

import numpy as np
import pytest

from reachkit import analysis, dynamics, landscapes, methods, schedules
from reachkit.animation import run_paths
from reachkit.explorers.dynamics_model import DynamicsModel

X0 = (-0.7, 1.2)


def loop(update, x0, n, state=None):
    """x_{k+1} = update(k, x_k, state) for k < n, written out; returns the (n+1, dim) iterates."""
    x = np.atleast_1d(np.array(x0, dtype=float))
    out = [x.copy()]
    for k in range(n):
        x = update(k, x, state)
        out.append(x.copy())
    return np.array(out)


def plain_momentum(grad, x0, a, n, mu):
    def step(k, x, s):
        s["b"] = mu * s["b"] + grad(x)
        return x - (a(k) if callable(a) else a) * s["b"]
    return loop(step, x0, n, {"b": 0.0})


def moving_part(path):
    """The iterates of start 0 up to its last move (a converged run repeats its end point)."""
    it = path.trajectory(0)
    moved = np.flatnonzero(np.any(it != it[-1], axis=1))
    return it[: int(moved[-1]) + 2] if moved.size else it[:1]


def same_run(path, ref, rtol=1e-9):
    got = moving_part(path)
    np.testing.assert_allclose(got, ref[: len(got)], rtol=rtol, atol=1e-12)


ls2 = landscapes.sharp_flat_2d()


def test_gd_constant_and_decaying_steps_are_plain_loops():
    p = methods.METHODS["gd"].run(ls2, X0, schedules.constant(0.04), 150)
    same_run(p, loop(lambda k, x, _: x - 0.04 * ls2.grad(x), X0, 150))
    p = methods.METHODS["gd"].run(ls2, X0, schedules.power(0.08, 0.6), 150)
    same_run(p, loop(lambda k, x, _: x - 0.08 / (k + 1) ** 0.6 * ls2.grad(x), X0, 150))


def test_gd_on_a_kink_is_the_subgradient_method():
    ab = landscapes.absolute_value()
    p = methods.METHODS["gd"].run(ab, [0.6], schedules.constant(0.125), 30)
    assert p.method == "subgradient method" and methods.METHODS["gd"].name_on(ab) == "subgradient method"
    same_run(p, loop(lambda k, x, _: x - 0.125 * np.sign(x), [0.6], 30))


def test_sgd_is_the_plain_minibatch_loop():
    fs = landscapes.sharp_flat_2d_sum()
    n, w = fs.n_samples, fs.weights
    draws = dynamics.StartStreams(5, 1)  # the random source: sample i_k = floor(u_k n)

    def step(k, x, _):
        i = min(int(draws.uniform(k, 1, np.array([0]))[0, 0] * n), n - 1)
        return x - 0.03 * (w[i] / w.mean()) * fs.grad(x)  # the scaled copy c_i g

    p = methods.METHODS["sgd"].run(fs, X0, schedules.constant(0.03), 120, batch_size=1, seed=5)
    same_run(p, loop(step, X0, 120))


def test_the_flow_is_the_ode_solved_by_a_plain_rk4_loop():
    horizon = 80 * 0.02
    p = methods.METHODS["flow"].run(ls2, X0, schedules.constant(0.02), 80)
    assert p.times[-1] == pytest.approx(horizon) and p.times.size == 81
    h = horizon / 8000

    def rk4(k, x, _):
        f = lambda y: -ls2.grad(y)  # noqa: E731
        k1 = f(x)
        k2 = f(x + h / 2 * k1)
        k3 = f(x + h / 2 * k2)
        return x + h / 6 * (k1 + 2 * k2 + 2 * k3 + f(x + h * k3))

    ref = loop(rk4, X0, 8000)[::100]
    np.testing.assert_allclose(p.trajectory(0), ref, atol=1e-7)


@pytest.mark.parametrize("mu", [0.0, 0.5, 0.9])
def test_momentum_is_the_heavy_ball_loop(mu):
    p = methods.METHODS["momentum"].run(ls2, X0, schedules.constant(0.02), 200, mu=mu)
    same_run(p, plain_momentum(ls2.grad, X0, 0.02, 200, mu))
    p = methods.METHODS["momentum"].run(ls2, X0, schedules.power(0.05, 0.5), 100, mu=mu)
    same_run(p, plain_momentum(ls2.grad, X0, lambda k: 0.05 / (k + 1) ** 0.5, 100, mu))


def test_rmsprop_and_adam_are_their_plain_loops():
    def rms(k, x, s):
        g = ls2.grad(x)
        s["v"] = 0.9 * s["v"] + 0.1 * g * g
        return x - 0.01 * g / (np.sqrt(s["v"]) + 1e-8)

    def adam(k, x, s):
        g = ls2.grad(x)
        s["m"] = 0.8 * s["m"] + 0.2 * g
        s["v"] = 0.99 * s["v"] + 0.01 * g * g
        mhat, vhat = s["m"] / (1 - 0.8 ** (k + 1)), s["v"] / (1 - 0.99 ** (k + 1))
        return x - 0.01 * mhat / (np.sqrt(vhat) + 1e-8)

    p = methods.METHODS["rmsprop"].run(ls2, X0, schedules.constant(0.01), 100, rho=0.9)
    same_run(p, loop(rms, X0, 100, {"v": 0.0}), rtol=1e-8)
    p = methods.METHODS["adam"].run(ls2, X0, schedules.constant(0.01), 100, beta1=0.8, beta2=0.99)
    same_run(p, loop(adam, X0, 100, {"m": 0.0, "v": 0.0}), rtol=1e-8)


@pytest.mark.parametrize("key", [k for k, m in methods.METHODS.items() if m.batched])
def test_a_batched_method_runs_one_step_per_start_as_each_alone(key):
    steps = np.array([0.01, 0.03, 0.05])
    m = methods.METHODS[key]
    both = m.run(ls2, np.repeat(np.array([X0]), 3, axis=0), schedules.constant(steps), 60)
    for j, a in enumerate(steps):
        alone = m.run(ls2, X0, schedules.constant(float(a)), 60)
        np.testing.assert_allclose(both.iterates[:, j], alone.iterates[:, 0], rtol=1e-12)


def test_each_method_is_found_from_its_path_and_unknown_keys_are_refused():
    fs = landscapes.sharp_flat_2d_sum()
    for key, m in methods.METHODS.items():
        p = m.run(fs, X0, schedules.constant(0.01), 5)
        assert methods.key_of(p) == key
    with pytest.raises(ValueError, match="method must be one of"):
        methods.method("newton")


@pytest.mark.parametrize("key, options", [("gd", {}), ("momentum", {"mu": 0.0}), ("momentum", {"mu": 0.5}),
                                          ("momentum", {"mu": 0.9})])
def test_the_stability_constant_is_where_the_linearised_map_leaves_the_unit_disc(key, options):
    """On f = lambda x^2 / 2 the heavy ball is (x_{k+1}, x_k) = [[1 + mu - a lambda, -mu], [1, 0]] (x_k, x_{k-1})."""
    lam, m = 4.0, methods.METHODS[key]
    mu = options.get("mu", 0.0)
    thr = m.threshold(lam, **options)

    def radius(a):
        return max(abs(np.linalg.eigvals([[1 + mu - a * lam, -mu], [1.0, 0.0]])))

    assert radius(0.999 * thr) < 1 < radius(1.001 * thr)
    assert thr == pytest.approx(2 * (1 + mu) / lam)


def test_momentum_in_explore_marks_and_judges_the_step_by_2_1_plus_mu_over_lambda():
    m = DynamicsModel(ls2, start=X0, step=0.08, n_steps=200, methods=("momentum",), mu=0.5)
    same_run(m.paths["momentum"], plain_momentum(ls2.grad, X0, 0.08, 200, 0.5))
    rows = {lab: lam for lab, lam, _ in analysis.minima_thresholds(ls2)}
    marks = {mk["label"]: mk["value"] for mk in m.step_marks()}
    assert marks == {f"2(1 + μ)/λ {lab.split()[0]}": pytest.approx(3.0 / lam) for lab, lam in rows.items()}
    text = "\n".join(m.readout_lines())
    for lab, lam in rows.items():  # 0.08 is below 3/20 = 0.15 at the sharp minimum: stable (GD's 2/20 = 0.1 too)
        verdict = "ABOVE: linearly unstable" if 0.08 > 3.0 / lam else "below: linearly stable"
        assert f"{lab}: sharpness λ = {lam:.4g}, 2(1 + μ)/λ = {3.0 / lam:.4g} — step 0.08 is {verdict}" in text
    m.update(step=0.16)  # above 3/20 at the sharp minimum, though GD's 2/λ rule would say so at 0.1
    assert "sharp minimum: sharpness λ = 20, 2(1 + μ)/λ = 0.15 — step 0.16 is ABOVE: linearly unstable" \
        in "\n".join(m.readout_lines())
    i = 9
    fan = m.fan[i].paths["momentum"]
    if fan.status[0] != "diverged":
        same_run(fan, plain_momentum(ls2.grad, X0, m.fan_steps[i], 200, 0.5))


def test_momentum_basins_come_from_the_momentum_dynamics():
    m = DynamicsModel(ls2, start=X0, step=0.08, n_steps=50, methods=("momentum",), mu=0.5, basins=True,
                      basin_resolution=12, basin_steps=400)
    bm = m.basin_map
    assert bm.labels.shape == (12, 12)
    minima = ls2.minima()
    checked = 0
    for i, j in [(0, 0), (3, 7), (6, 2), (9, 9), (11, 4), (5, 5)]:
        x0 = (bm.xs[j], bm.ys[i])
        with np.errstate(all="ignore"):  # some starts diverge
            end = plain_momentum(ls2.grad, x0, 0.08, 400, 0.5)[-1]
        if not np.all(np.isfinite(end)) or np.linalg.norm(ls2.grad(end)) > 1e-6:
            continue
        near = min(minima, key=lambda c: np.linalg.norm(c.x - end))
        assert bm.names[bm.labels[i, j]] == near.label
        checked += 1
    assert checked >= 3
    gd = analysis.basin_map(ls2, 0.08, n=12, n_steps=400)
    assert not np.array_equal(bm.labels, gd.labels)  # not GD's map relabelled


def test_the_animation_runs_come_from_the_registry():
    runs = run_paths(ls2, start=X0, step=0.04, methods=("momentum", "gd"), n_steps=40, mu=0.3)
    same_run(runs["momentum"], plain_momentum(ls2.grad, X0, 0.04, 40, 0.3))
    with pytest.raises(TypeError, match="unknown option"):
        run_paths(ls2, methods=("gd",), beta=1)
    with pytest.raises(ValueError, match="methods"):
        run_paths(ls2, methods=("newton",))
