"""Live explorers, Python side: what one user action costs the kernel (no browser here; the
browser's share is in bench_browser).

- a step change on the slider grid: the view already drew the fan entry; the kernel only takes
  the run from the fan (target: ~0 work);
- a typed step between grid positions: one exact run (the GD path of 300 steps: target <= 3 ms);
- anything else (start, parameter, method): the fan, every slider position in one batched call
  (target <= 50 ms), sent once;
- the landscape as data (explorers/scene.py; timed in bench_live), drawn in the browser, with
  every parameter or overlay change; the axes picture (matplotlib Agg, 2x PNG: axes, ticks,
  labels, title): only when the limits or labels change;
- 500 mixed updates (step on and off the grid, start, parameter, methods, frame): memory growth
  (target < 20 MB) and no pyplot figure left behind.

Each figure is the median wall time of the explorer's own update (``ex.set`` / the view's traits
as the browser writes them), and the thread CPU time beside it (what a busy shared machine does
not inflate). Run alone: ``python benchmarks/bench_widgets.py``; ``make bench`` runs it too.
"""

from __future__ import annotations

import gc
import os
import time

import numpy as np


def _rss_mb() -> float:
    try:
        with open("/proc/self/statm") as f:
            return int(f.read().split()[1]) * os.sysconf("SC_PAGE_SIZE") / 1e6
    except OSError:  # not Linux
        import resource
        return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1e3


def _median_ms(action, values, cpu: bool = False) -> float:
    clock = time.thread_time if cpu else time.perf_counter
    out = []
    for v in values:
        t = clock()
        action(v)
        out.append(clock() - t)
    return float(np.median(out) * 1e3)


def _both(action, values) -> tuple[float, float]:
    half = len(values) // 2
    return _median_ms(action, values[:half]), _median_ms(action, values[half:], cpu=True)


def main() -> dict:
    import matplotlib
    if matplotlib.get_backend().lower() not in ("agg", "module://matplotlib_inline.backend_inline"):
        matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    from reachkit import dynamics, landscapes
    from reachkit.explorers import background
    from reachkit.explorers.dynamics_model import explore

    ls = landscapes.sharp_flat_2d()
    start, n = (-0.7, 1.2), 300
    rng = np.random.default_rng(0)

    t = time.perf_counter()
    ex = explore(ls, start=start, step=0.04, n_steps=n)
    t_build = (time.perf_counter() - t) * 1e3
    v = ex.view
    grid = list(v.fan_steps)

    on_grid = _both(lambda i: setattr(v, "step", grid[i % len(grid)]), list(range(2, 42)) * 2)
    typed = _both(lambda a: setattr(v, "step", float(a)), rng.uniform(0.011, 0.29, 80))
    gd = _both(lambda a: dynamics.gradient_descent(ls, start, float(a), n), rng.uniform(0.011, 0.29, 80))
    starts = rng.uniform([-1.5, -1.2], [3.0, 1.2], (30, 2))
    fan = _both(lambda p: setattr(v, "start", [float(p[0]), float(p[1])]), starts)
    fan_model = _both(lambda p: ex.model.update(start=(float(p[0]), float(p[1]))), starts[::-1])
    ex.set(methods=("gd", "flow"))
    fan_flow = _both(lambda p: ex.model.update(start=(float(p[0]), float(p[1]))), starts[:20])
    ex.set(methods=("gd",))
    layer = ex.model.static_layer()
    bg = _both(lambda _: background.render(layer), range(8))
    param = _both(lambda s: ex.set(sharp=float(s)), [15.0, 25.0, 18.0, 22.0, 20.0, 16.0, 24.0, 19.0])

    # 500 mixed updates (the rotation of tests/test_widgets.py)
    import sys
    sys.path.insert(0, os.path.join(os.path.dirname(__file__), "..", "tests"))
    from test_widgets import mixed_update

    def one(i):
        mixed_update(ex, i, rng)

    for i in range(100):
        one(i)
    figs = plt.get_fignums()
    gc.collect()
    rss0 = _rss_mb()
    t = time.perf_counter()
    for i in range(500):
        one(i)
    t_mixed = time.perf_counter() - t
    gc.collect()
    grown = _rss_mb() - rss0
    figs_same = plt.get_fignums() == figs
    ex.close()

    rows = [
        ("step on the slider grid (fan entry, no run)", on_grid, "target ~0"),
        ("typed step: one exact run, all read-outs", typed, ""),
        (f"  of which the GD path alone ({n} steps)", gd, "target <= 3 ms"),
        (f"start change: the fan ({len(grid)} steps x {n}) sent", fan, ""),
        ("  the fan in the model (one batched GD call)", fan_model, "target <= 50 ms"),
        ("  the fan with gradient flow ticked too", fan_flow, "one dense solve"),
        ("axes picture (Agg, 2x PNG)", bg, "only when limits/labels change"),
        ("parameter change: fan + landscape data", param, "was 450-545 ms"),
    ]
    print("\n== live explorers (Python-side cost per user action; wall / thread CPU) ==")
    for name, (wall, cpu), note in rows:
        print(f"{name:<48} {wall:8.2f} ms {cpu:8.2f} ms   {note}")
    print(f"{'build the 2-D explorer':<48} {t_build:8.0f} ms")
    print(f"{'500 mixed updates: total':<48} {t_mixed:8.1f} s")
    print(f"{'500 mixed updates: memory growth (RSS)':<48} {grown:8.1f} MB   target < 20 MB")
    print(f"{'500 mixed updates: pyplot figures unchanged':<48} {figs_same!s:>8}")
    print(f"(load average {os.getloadavg()[0]:.1f} on {os.cpu_count()} CPUs while measuring)")
    return {"step_on_grid_ms": on_grid[0], "typed_step_ms": typed[0], "gd_path_ms": gd[0],
            "fan_ms": fan_model[0], "fan_sent_ms": fan[0], "fan_flow_ms": fan_flow[0],
            "background_ms": bg[0], "parameter_ms": param[0], "build_ms": t_build,
            "mixed_500_s": t_mixed, "rss_growth_mb": grown, "figures_unchanged": figs_same}


if __name__ == "__main__":
    main()
