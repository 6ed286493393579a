"""R18: a core call on course to run long says so while it runs (a LongWorkWarning with its estimate,
measured from its own pace, and how to finish sooner), goes on to the same result, and stays quiet in
an explorer, which has its own budget. The limit and the time before the pace is trusted are lowered
here (0.15 s and 0.03 s) so that the calls are short; the gradients sleep to make the pace known."""

import re
import time
import warnings

import numpy as np
import pytest

import reachkit as rk
from reachkit import analysis as A
from reachkit import checks
from reachkit import dynamics as D
from reachkit import landscapes as L

LIMIT, AFTER, PAUSE = 0.15, 0.03, 1e-3  # seconds


@pytest.fixture
def low_limit(monkeypatch):
    monkeypatch.setattr(checks, "LONG_WORK_SECONDS", LIMIT)
    monkeypatch.setattr(checks, "_PACE_AFTER", AFTER)


def slow_quadratic(pause=PAUSE, dim=1):
    """f = |x|^2 / 2 whose gradient takes `pause` seconds per call (a slow user function)."""
    def grad(x):
        time.sleep(pause)
        return np.array(x, dtype=float)
    return rk.from_functions(lambda x: 0.5 * np.sum(np.asarray(x, dtype=float) ** 2, axis=-1), grad,
                             dim=dim, bounds=[(-2, 2)] * dim, name="slow quadratic",
                             critical_points=[([0.0] * dim, "minimum", "the minimum")])


def long_warnings(call):
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        t = time.perf_counter()
        out = call()
        elapsed = time.perf_counter() - t
    found = [str(w.message) for w in caught if issubclass(w.category, checks.LongWorkWarning)]
    return out, found, elapsed


def estimate(message: str) -> float:
    return float(re.search(r"on course for up to about ([0-9.e+-]+) s", message).group(1))


def test_a_long_descent_says_how_long_and_how_to_shorten_it_and_goes_on(low_limit):
    f = slow_quadratic()
    n = 300  # about 300 ms of sleeping: twice the lowered limit
    path, said, elapsed = long_warnings(lambda: D.gradient_descent(f, [1.0], 1e-4, n, gtol=0))
    assert len(said) == 1, said
    assert f"for {n} steps" in said[0] and "n_steps" in said[0] and "LONG_WORK_SECONDS" in said[0], said[0]
    assert 0.5 * elapsed <= estimate(said[0]) <= 2 * elapsed, (said[0], elapsed)
    # the run went on to the end: x_k = (1 - a)^k, a plain loop's number
    assert path.status[0] == "moving" and path.final[0, 0] == pytest.approx((1 - 1e-4) ** n, rel=1e-12)


def test_a_call_within_the_limit_says_nothing(low_limit):
    _, said, elapsed = long_warnings(lambda: D.gradient_descent(slow_quadratic(), [1.0], 1e-4, 60, gtol=0))
    assert elapsed < LIMIT and not said, said


def test_the_pace_not_a_guess_decides_a_fast_gradient_with_many_steps_is_quiet(low_limit, monkeypatch):
    monkeypatch.setattr(checks, "LONG_WORK_SECONDS", 10.0)
    _, said, elapsed = long_warnings(lambda: D.gradient_descent(L.quadratic([1.0]), [1.0], 1e-6, 20_000, gtol=0))
    assert elapsed < 10 and not said, said


def test_the_flow_says_so_once_it_has_run_past_the_limit(low_limit):
    """An ODE solver's pace changes (its steps grow as the flow settles), so the flow gives no
    estimate: it says how long it has run and how far it is."""
    f = slow_quadratic(pause=2e-3)
    path, said, elapsed = long_warnings(lambda: D.gradient_flow(f, [1.0], t_max=5.0, n_times=11, gtol=0))
    assert elapsed > LIMIT and len(said) == 1, said
    assert "gradient flow of 1 start to t = 5 has run for" in said[0] and "t_max" in said[0], said
    assert path.final[0, 0] == pytest.approx(np.exp(-5.0), rel=1e-6)  # x(t) = e^{-t}


def test_a_flow_with_a_huge_horizon_that_settles_soon_is_not_called_long(low_limit, monkeypatch):
    """t_max = 1e16, the solver's steps growing geometrically as the flow settles: after the first
    AFTER seconds t / t_max is tiny, and an estimate from it would promise centuries."""
    monkeypatch.setattr(checks, "LONG_WORK_SECONDS", 1.5)
    f = slow_quadratic(pause=1e-3, dim=2)
    path, said, elapsed = long_warnings(lambda: D.gradient_flow(f, [[1.0, 1.0]], t_max=1e16, n_times=2, gtol=1e-12))
    assert AFTER < elapsed < 1.5 and not said, (elapsed, said)
    assert path.status[0] == "converged"


def test_a_basin_map_speaks_once_for_its_runs_in_two_threads(low_limit):
    f = slow_quadratic(pause=2e-4, dim=2)
    bm, said, _ = long_warnings(lambda: A.basin_map(f, 1e-3, n=100, n_steps=400, bounds=((-1, 1), (-1, 1)),
                                                     gtol=1e-300))
    assert len(said) == 1 and said[0].startswith("basin_map with n=100") and "smaller n" in said[0], said
    assert bm.labels.shape == (100, 100)


def test_an_explorer_keeps_quiet(low_limit):
    f = slow_quadratic()
    ex, said, elapsed = long_warnings(lambda: rk.explore(f, step=1e-4, start=1.0, n_steps=300))
    assert elapsed > LIMIT and not said, said
    ex.close()


def test_the_warning_names_the_users_line_not_the_librarys_loop(low_limit):
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        D.gradient_descent(slow_quadratic(), [1.0], 1e-4, 300, gtol=0)
    files = [w.filename for w in caught if issubclass(w.category, checks.LongWorkWarning)]
    assert files == [__file__], files
