"""Core speed: a batched basin map against a per-start Python loop, and a large SGD ensemble.

Targets (issue: reachkit core): ``import reachkit`` under 0.5 s; a 256 x 256 basin map with
1000 GD steps per start in under 1 s and at least 50x faster than the loop; 10,000 SGD runs x
1,000 steps in under 1 s. Issue 10 (an explorer update): one GD path of 300 steps from one start
in <= 3 ms, and a fan of 40 steps (one per start) x 300 steps in <= 50 ms.
"""

from __future__ import annotations

import subprocess
import sys
import time

import numpy as np

from reachkit import analysis, gradient_descent, landscapes, sgd

N_GRID, N_STEPS, STEP, GTOL = 256, 1000, 0.04, 1e-8


def best_of(fn, repeat=3):
    times = []
    for _ in range(repeat):
        t = time.perf_counter()
        out = fn()
        times.append(time.perf_counter() - t)
    return min(times), out


def loop_gd(ls, start, step, n_steps, gtol):
    """GD as most tutorials write it: one start, one Python iteration per step."""
    x = np.array(start, dtype=float)
    for _ in range(n_steps):
        g = ls.grad(x)
        if np.sqrt(g @ g) <= gtol:
            break
        x = x - step * g
    return x


def one_path_ms(repeat=50) -> dict:
    """Milliseconds (best of ``repeat``) for one explorer update: 300 GD steps from one start on
    the 2-D and the 1-D sharp/flat landscapes, and a fan of 40 steps from one start."""
    ls2, ls1 = landscapes.sharp_flat_2d(), landscapes.sharp_flat_double_well()
    fan_starts, fan_steps = np.tile([[-0.7, 1.2]], (40, 1)), np.linspace(0.02, 0.3, 40)
    runs = {"2d": lambda: gradient_descent(ls2, [[-0.7, 1.2]], 0.12, 300),
            "1d": lambda: gradient_descent(ls1, [[-1.3]], 0.105, 300),  # never stops: all 300 steps
            "fan": lambda: gradient_descent(ls2, fan_starts, fan_steps, 300)}
    return {name: 1e3 * best_of(run, repeat)[0] for name, run in runs.items()}


def import_seconds() -> float:
    """Wall time of ``import reachkit`` in a fresh interpreter."""
    code = "import time; t = time.perf_counter(); import reachkit; print(time.perf_counter() - t)"
    return float(subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                                check=True).stdout)


def main() -> dict:
    ls = landscapes.sharp_flat_2d()
    t_batch, bm = best_of(lambda: analysis.basin_map(ls, STEP, N_GRID, N_STEPS, gtol=GTOL))
    # The loop over all 65,536 pixels would take minutes: time a random sample of pixels and
    # scale linearly (each pixel is independent work).
    rng = np.random.default_rng(0)
    _, _, pts = ls.grid(N_GRID)
    pts = pts.reshape(-1, 2)
    sample = rng.choice(pts.shape[0], 512, replace=False)
    t0 = time.perf_counter()
    finals = np.array([loop_gd(ls, pts[i], STEP, N_STEPS, GTOL) for i in sample])
    t_loop = (time.perf_counter() - t0) * pts.shape[0] / sample.size
    agree = np.allclose(finals, bm.path.final[sample], atol=1e-6)

    fs = landscapes.interpolating_quadratics((0.5, 1.5))
    starts = np.ones((10_000, 1))
    t_sgd, path = best_of(lambda: sgd(fs, starts, 1.0, 1000, batch_size=1, seed=0))

    t_import = min(import_seconds() for _ in range(3))
    one = one_path_ms()
    rows = [
        ("import reachkit (fresh interpreter)", f"{t_import:.3f} s", "< 0.5 s"),
        ("basin map 256x256, 1000 GD steps (batched)", f"{t_batch:.3f} s", "< 1 s"),
        ("same, per-start Python loop (est. from 512 px)", f"{t_loop:.1f} s",
         f"speed-up {t_loop / t_batch:.0f}x (target >= 50x)"),
        ("loop and batched limits agree", str(agree), ""),
        ("SGD 10,000 runs x 1,000 steps (full paths kept)", f"{t_sgd:.3f} s", "< 1 s"),
        ("one GD path, 300 steps, 2-D sharp/flat", f"{one['2d']:.2f} ms", "<= 3 ms"),
        ("one GD path, 300 steps, 1-D well (never stops)", f"{one['1d']:.2f} ms", "<= 3 ms"),
        ("fan: 40 steps (one per start) x 300 steps, 2-D", f"{one['fan']:.2f} ms", "<= 50 ms"),
    ]
    print("\n== core ==")
    for name, value, note in rows:
        print(f"{name:<50} {value:>10}   {note}")
    return {"import_s": t_import, "basin_map_s": t_batch, "loop_s": t_loop, "speedup": t_loop / t_batch, "sgd_s": t_sgd,
            "one_path_ms": one, "agree": agree, "sgd_paths_shape": path.iterates.shape}


if __name__ == "__main__":
    main()
