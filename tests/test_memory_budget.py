"""Peak memory of the largest call each budgeted function allows (issue 16: one budget,
``checks.MEMORY_BUDGET``, held by every call that can grow with its arguments).

In a process of its own with the budget lowered to 32 MiB, the largest size each function
still accepts is found by bisection (stopped at its memory check, before any work); that call
is run in a fresh process, and the growth of its peak RSS (Linux's VmHWM, reset just before)
over the resting RSS is compared with the budget. The estimates grow linearly with the size
searched (starts, steps, samples, pixels) above small fixed parts, so 32 MiB stands for 1 GiB
at a thirtieth of the CI time. The call must also use a fair part of the budget (a fifth):
an estimate far above the real use would refuse calls that fit.
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

GUARD = ""  # the check that covers the call (the first one when "")

def accept_and_stop(what, nbytes, lower, check=checks.memory):
    check(what, nbytes, lower)
    if what.startswith(GUARD):
        raise Accepted  # the check of the whole call passed: it would run

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
    # the HTML player: encoded frames and the figures' pixels (dpi - 10 is the size searched)
    "html-player": """
import pathlib, tempfile
OUT = pathlib.Path(tempfile.mkdtemp()) / "a.html"
GUARD = "an HTML player"  # (the run it animates is checked first)
def call(n):
    return rk.save_animation(SF2, OUT, step=0.05, start=(0.2, 0.9), n_steps=7, max_frames=8,
                             hold_last=0, dpi=10 + n, figsize=(3.0, 2.2))
""",
    "bifurcation": """
def call(n):
    return rk.bifurcation(DW, np.linspace(0.05, 0.1, n), n_transient=64, n_keep=64)
""",
}

FIND = """
checks.MEMORY_BUDGET = {budget}
print(largest(call, {hi}))
"""

MEASURE = """
checks.MEMORY_BUDGET = {budget}
call(2)  # warm: lazily imported modules and caches are not the call's memory
gc.collect()

def high_water():  # peak RSS since the last reset (Linux: VmHWM)
    with open("/proc/self/status") as f:
        return next(int(line.split()[1]) * 1024 for line in f if line.startswith("VmHWM:"))

with open("/proc/self/clear_refs", "w") as f:
    f.write("5")  # resets VmHWM to the current RSS
rest = high_water()
call({size})
print(rest, high_water())
"""


def _run(code):
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=300)
    assert out.returncode == 0, out.stderr[-3000:]
    return map(int, out.stdout.split())


HIGH = {"gd-final-points": 400_000, "gd-records": 10**6, "sgd-final-points": 400_000,
        "flow-samples": 10**6, "basin-map": 2000, "bifurcation": 150_000, "html-player": 590}


@pytest.mark.skipif(not pathlib.Path("/proc/self/clear_refs").exists(), reason="peak RSS reset is Linux's")
@pytest.mark.parametrize("case", sorted(CASES))
def test_the_largest_allowed_call_stays_within_the_memory_budget(case):
    (size,) = _run(HARNESS + CASES[case] + FIND.format(budget=BUDGET, hi=HIGH[case]))
    # in a fresh process: the search's freed memory would hide the call's own peak
    rest, peak = _run(HARNESS + CASES[case] + MEASURE.format(budget=BUDGET, size=size))
    grew = peak - rest
    assert size < HIGH[case], f"{case}: nothing was refused up to {size}"
    assert BUDGET / 5 < grew <= BUDGET, (f"{case}: size {size} grew the peak RSS by {grew / 2**20:.1f} MiB "
                                         f"over its resting {rest / 2**20:.1f} MiB)")
