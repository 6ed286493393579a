"""Analysis and export: what from_functions' checks and critical-point search cost, what reach's
continued run costs, and the peak memory of a long GIF (frames streamed, the last one held by
its duration).

Targets (issues 9 and 11): making a 2-D landscape with from_functions and listing its critical
points well under 0.2 s (explorers do it); a 600-frame GIF with the last frame held for 500
frame times under 300 MB peak RSS (before: every frame and every held copy was a PIL image,
2.5 GB for hold_last=3000).
"""

from __future__ import annotations

import subprocess
import sys
import time

import numpy as np
from bench_core import best_of

from reachkit import analysis, from_functions, landscapes

CENTRES = np.array([[-1.2, 0.0], [1.0, 0.8], [0.9, -1.0]])
WIDTHS = np.array([0.3, 0.6, 0.9])


def three_wells_value(x):
    d = ((x[..., None, :] - CENTRES) ** 2).sum(-1)
    return 0.1 * (x**2).sum(-1) - np.exp(-d / (2 * WIDTHS**2)).sum(-1)


def three_wells_grad(x):
    diff = x[..., None, :] - CENTRES
    w = np.exp(-(diff**2).sum(-1) / (2 * WIDTHS**2))
    return 0.2 * x + (w[..., None] * diff / WIDTHS[:, None] ** 2).sum(-2)


GIF_SCRIPT = """
import resource, tempfile, pathlib
from reachkit import landscapes
from reachkit.animation import save_animation
out = pathlib.Path(tempfile.mkdtemp()) / "long.gif"
save_animation(landscapes.sharp_flat_2d(), out, step=0.01, start=(0.2, 0.9), n_steps=1000,
               fps=100, max_frames=600, hold_last=500)
print(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024)
"""


def main() -> dict:
    def make():
        return from_functions(three_wells_value, three_wells_grad, dim=2, bounds=[(-2.5, 2.5)] * 2)

    t_make, ls = best_of(make)
    t_find, cps = best_of(lambda: make().critical_points())
    t_find -= t_make
    hb = landscapes.himmelblau()
    t_reach_min, r_min = best_of(lambda: analysis.reach(hb, "minimum (3, 2)", 0.01))
    t_reach_saddle, r_saddle = best_of(lambda: analysis.reach(hb, "saddle (3.39, 0.07)", 0.01))
    t = time.perf_counter()
    rss = float(subprocess.run([sys.executable, "-c", GIF_SCRIPT], capture_output=True, text=True,
                               check=True).stdout.strip())
    t_gif = time.perf_counter() - t
    rows = [
        ("from_functions, 2-D, checks on a probe batch", f"{1e3 * t_make:.1f} ms", ""),
        ("its critical points found and labelled", f"{1e3 * t_find:.1f} ms",
         f"{len(cps)} points; total < 200 ms"),
        ("reach Himmelblau minimum (3, 2), a = 0.01", f"{t_reach_min:.3f} s",
         f"continued {r_min.continued_steps} steps, stays: {r_min.success}"),
        ("reach Himmelblau saddle (3.39, 0.07), a = 0.01", f"{t_reach_saddle:.3f} s",
         f"then left: {r_saddle.left} ({r_saddle.continued_distance:.2f} away)"),
        ("GIF 600 frames + hold 500, peak RSS", f"{rss:.0f} MB", f"{t_gif:.1f} s incl. start-up; < 300 MB"),
    ]
    print("\n== analysis and export ==")
    for name, value, note in rows:
        print(f"{name:<50} {value:>10}   {note}")
    return {"make_s": t_make, "find_s": t_find, "reach_min_s": t_reach_min, "reach_saddle_s": t_reach_saddle,
            "gif_rss_mb": rss, "gif_s": t_gif}


if __name__ == "__main__":
    main()
