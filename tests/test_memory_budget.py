"""Peak memory of the largest call each budgeted function allows (issue 16: one budget,
``checks.MEMORY_BUDGET``, held by every call that can grow with its arguments).

Each case runs in its own process: the budget is lowered there to 32 MiB, the largest size
the function still accepts is found by bisection (a refusal comes before any work), that call
is run, and the growth of the peak RSS (Linux's VmHWM, reset just before) over the resting RSS is
compared with the budget. Every term of the estimates grows linearly with the size searched (starts, samples,
frames), so 32 MiB stands for 1 GiB at a thirty-second of the CI time. The call must also use
a fair part of the budget (a quarter): an estimate far above the real use would refuse calls
that fit.
"""

import pathlib
import subprocess
import sys

import pytest

BUDGET = 32 * 2**20

HARNESS = """
import gc, sys
import numpy as np
import reachkit as rk
from reachkit import checks, landscapes as L

class Accepted(Exception):
    pass

def accept_and_stop(what, nbytes, lower, check=checks.memory):
    check(what, nbytes, lower)
    raise Accepted  # the first (outermost) check passed: the call would run

def largest(call, hi):
    # the largest size <= hi whose call is not refused (found without running it)
    lo = 1
    checks.memory = accept_and_stop
    while lo < hi:
        mid = (lo + hi + 1) // 2
        try:
            call(mid)
        except Accepted:
            lo = mid
        except ValueError as err:
            if "memory budget" not in str(err):
                raise
            hi = mid - 1
    checks.memory = accept_and_stop.__defaults__[0]
    return lo

SF2, DW = L.sharp_flat_2d(), L.smooth_double_well()
STARTS = np.random.default_rng(0).uniform(-0.9, 0.9, (400_000, 2))
"""

CASES = {
    # record_every=None: the trailing iterates for cycle detection dominate
    "gd-final-points": """
def call(n):
    return rk.gradient_descent(SF2, STARTS[:n], 0.04, 64, record_every=None, gtol=0.0)
""",
    "gd-records": """
def call(n):
    return rk.gradient_descent(SF2, STARTS[:200], 0.04, n, record_every=1, gtol=0.0)
""",
    "sgd-final-points": """
SUM = L.sharp_flat_2d_sum(n_samples=8)
def call(n):
    return rk.sgd(SUM, STARTS[:n], 0.02, 64, batch_size=2, record_every=None)
""",
    "flow-samples": """
def call(n):
    return rk.gradient_flow(SF2, STARTS[:100], 1.0, n, gtol=0.0, rtol=1e-6, atol=1e-9)
""",
    "basin-map": """
def call(n):
    return rk.basin_map(SF2, n=n, n_steps=64, gtol=1e-300)
""",
    "bifurcation": """
def call(n):
    return rk.bifurcation(DW, np.linspace(0.05, 0.1, n), n_transient=64, n_keep=64)
""",
}

RUN = """
checks.MEMORY_BUDGET = {budget}
size = largest(call, {hi})
call(2)  # warm: lazily imported modules and caches are not the call's memory
gc.collect()

def high_water():  # peak RSS since the last reset (Linux: VmHWM)
    with open("/proc/self/status") as f:
        return next(int(line.split()[1]) * 1024 for line in f if line.startswith("VmHWM:"))

with open("/proc/self/clear_refs", "w") as f:
    f.write("5")  # resets VmHWM to the current RSS
rest = high_water()
call(size)
print(size, rest, high_water())
"""

HIGH = {"gd-final-points": 400_000, "gd-records": 10**6, "sgd-final-points": 400_000,
        "flow-samples": 10**6, "basin-map": 2000, "bifurcation": 150_000}


@pytest.mark.skipif(not pathlib.Path("/proc/self/clear_refs").exists(), reason="peak RSS reset is Linux's")
@pytest.mark.parametrize("case", sorted(CASES))
def test_the_largest_allowed_call_stays_within_the_memory_budget(case):
    code = HARNESS + CASES[case] + RUN.format(budget=BUDGET, hi=HIGH[case])
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=300)
    assert out.returncode == 0, out.stderr[-3000:]
    size, rest, peak = map(int, out.stdout.split())
    grew = peak - rest
    assert size < HIGH[case], f"{case}: nothing was refused up to {size}"
    assert BUDGET / 4 < grew <= BUDGET, (f"{case}: size {size} grew the peak RSS by {grew / 2**20:.1f} MiB "
                                         f"over its resting {rest / 2**20:.1f} MiB)")
