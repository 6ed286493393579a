"""Reaching a chosen minimum of a network (notebook 07): what the backward construction, its checks
and one backward step cost, at 16 parameters (the shipped 1-5-1 example) and at 369 (notebook 06's
4-16-16-1 network, with weight decay 1e-3), side by side with the naive backward step (Newton's
method on x - a grad L(x) = y with the dense Hessian), and what the network explorer's fan costs.

Targets (issue 19): the construction in well under a second at 16 parameters; a gradient-only
backward step of a few milliseconds at 369 parameters (the prototype: 5.5 ms, against 1.9 s per
Newton iteration of ``analysis.reach``'s finite-difference Hessians).
"""

from __future__ import annotations

import os

import numpy as np
from bench_core import best_of

from reachkit import network as nw

A = 0.01


def naive_preimage(land, y, a, iters=8):
    """Newton's method on F(x) = x - a grad L(x) - y with the dense Hessian, as a first try would."""
    x = y + a * land.grad(y)
    for _ in range(iters):
        r = x - a * land.grad(x) - y
        if np.linalg.norm(r) <= 1e-14 * (1 + np.linalg.norm(y)):
            break
        x = x - np.linalg.solve(np.eye(land.dim) - a * land.hess(x), r)
    return x


def backward_step_ms(land, y, repeat=5) -> dict:
    """One backward step from y: reachkit's (fixed point, Newton-CG fallback) and the naive one."""
    counts = {"fixed-point iterations": 0, "Newton fallbacks": 0}
    ours = nw._one_blas_thread(lambda: nw._preimage(land, y, A, counts))
    naive = nw._one_blas_thread(lambda: naive_preimage(land, y, A))
    t_ours, x = best_of(ours, repeat)
    t_naive, x_naive = best_of(naive, repeat)
    residual = float(np.linalg.norm(x - A * land.grad(x) - y))
    return {"ours_ms": 1e3 * t_ours, "naive_ms": 1e3 * t_naive, "residual": residual,
            "agree": float(np.linalg.norm(x - x_naive)),
            "fixed_point_iterations": counts["fixed-point iterations"] // repeat}


def main() -> dict:
    land, target = nw.sharp_minimum_example()
    t_reach, reach = best_of(lambda: nw.reach_minimum(land, target, A, n_forward=0), 3)
    small = backward_step_ms(land, reach.orbit[1])
    eos, theta0 = nw.default_landscape()
    big = nw.NetworkLandscape(eos.X, eos.Y, eos.layer_sizes, weight_decay=1e-3)
    trained = nw.descend_many(big, theta0[None], 0.05, 300)[0][0]  # a point along training, not an init
    large = backward_step_ms(big, trained, repeat=3)
    from reachkit.explorers.network_model import NetworkModel
    t_fan, _ = best_of(lambda: NetworkModel(nw.reach_minimum(land, target, A, n_forward=10), background=False), 1)
    load = os.getloadavg()[0]
    rows = [
        ("16 parameters: backward construction (27 steps)", f"{1e3 * reach.construction_seconds:.1f} ms",
         f"reach_minimum without the forward run {1e3 * t_reach:.0f} ms"),
        ("16 parameters: checks (a|H| on the orbit, residuals, amplification)",
         f"{1e3 * reach.check_seconds:.1f} ms", ""),
        ("16 parameters: one backward step", f"{small['ours_ms']:.2f} ms",
         f"naive dense Newton {small['naive_ms']:.2f} ms; residual {small['residual']:.1e}"),
        ("369 parameters: one backward step", f"{large['ours_ms']:.2f} ms",
         f"naive dense Newton {large['naive_ms']:.0f} ms ({large['naive_ms'] / large['ours_ms']:.0f}x); "
         f"residual {large['residual']:.1e}, {large['fixed_point_iterations']} fixed-point iterations"),
        ("network explorer: fan of 10 steps x 2 runs x 30 000 GD steps", f"{t_fan:.2f} s",
         "once per explorer (and per schedule or init change); a drag then swaps runs in the browser"),
    ]
    print(f"\n== network (notebook 07; load average {load:.2f}) ==")
    for name, value, note in rows:
        print(f"{name:<68} {value:>10}   {note}")
    return {"construction_s": reach.construction_seconds, "check_s": reach.check_seconds, "reach_s": t_reach,
            "step16": small, "step369": large, "explorer_s": t_fan, "load": load}


if __name__ == "__main__":
    main()
