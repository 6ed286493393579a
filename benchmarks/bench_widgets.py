"""Live-explorer speed: one slider update of the 2-D explorer against the naive `interact` way.

One update = the step slider's callback (recompute the GD path, read-outs) plus the canvas work
(restore the background, draw the moving artists, ``blit``: ipympl encodes the diff PNG then and
there). There is no browser, so we send the canvas the messages a front-end sends after showing
it ("initialized", then "draw"), which gives the explorer its background; every later update then
runs the blit path synchronously, as it would in JupyterLab. Python-side cost only: the browser's
share (network, decoding) is not included.

The naive way re-plots the whole figure per change, as ``interact`` with the inline backend
does: new figure, contourf + contour lines, the path, PNG into memory, close.

Targets (issue: live explorers): median < 20 ms per update and >= 5x faster than naive; 500
updates leave the figure count unchanged and grow memory by < 20 MB.

Run alone: ``python benchmarks/bench_widgets.py``; ``make bench`` runs it with the others.
"""

from __future__ import annotations

import gc
import io
import os
import time

import numpy as np

N_UPDATES = 100
STEPS = np.geomspace(0.01, 0.3, N_UPDATES)  # crosses 2/20 = 0.1, the sharp minimum's threshold


def _rss_mb() -> float:
    try:
        with open("/proc/self/statm") as f:
            return int(f.read().split()[1]) * os.sysconf("SC_PAGE_SIZE") / 1e6
    except OSError:  # not Linux
        import resource
        return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1e3


def _frontend_ready(ex):
    c = ex.fig.canvas
    c._handle_message(c, {"type": "initialized"}, [])
    c._handle_message(c, {"type": "draw"}, [])


def _time_updates(ex, steps, cpu: bool = False):
    """Milliseconds per step-slider update: the callback, then the frame the front-end asks for
    (a blit). Wall clock, or the CPU time of this thread: the Python-side work itself, which a
    busy shared machine does not inflate (other threads, e.g. BLAS, are not counted)."""
    clock = time.thread_time if cpu else time.perf_counter
    c = ex.fig.canvas
    times = []
    for a in steps:
        t = clock()
        ex.step.value = float(a)
        c._handle_message(c, {"type": "draw"}, [])  # the front-end's request for the frame
        times.append(clock() - t)
    return np.array(times) * 1e3


def naive_update(ls, start, step, n_steps):
    """What `interact(f, step=...)` with %matplotlib inline does per change."""
    import matplotlib.pyplot as plt

    from reachkit import dynamics

    path = dynamics.gradient_descent(ls, start, step, n_steps)
    X, Y, pts = ls.grid(120)
    Z = np.log1p(ls.value(pts) - ls.value(pts).min())
    fig, ax = plt.subplots(figsize=(6.0, 4.4))
    ax.contourf(X, Y, Z, levels=18, cmap="Greys")
    ax.contour(X, Y, Z, levels=18, colors="0.45", linewidths=0.5)
    tr = path.trajectory(0)
    ax.plot(tr[:, 0], tr[:, 1], ".-", color="#D55E00")
    ax.plot(tr[-1:, 0], tr[-1:, 1], "o", color="#D55E00")
    ax.set_title(f"step {step:.3g}: {path.describe(0)}", fontsize="small")
    buf = io.BytesIO()
    fig.savefig(buf, format="png", bbox_inches="tight")
    plt.close(fig)
    return buf.getvalue()


def main() -> dict:
    import matplotlib
    if matplotlib.get_backend().lower() not in ("agg", "module://matplotlib_inline.backend_inline"):
        matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    from reachkit import dynamics, landscapes
    from reachkit.widgets import explore

    ls = landscapes.sharp_flat_2d()
    start = (0.2, 0.9)

    t = time.perf_counter()
    ex = explore(ls, start=start)
    t_build = (time.perf_counter() - t) * 1e3
    _frontend_ready(ex)
    assert ex._bg is not None, "no background: the blit path would not run"
    _time_updates(ex, STEPS[:10])  # warm-up
    blit = _time_updates(ex, STEPS)
    blit_cpu = _time_updates(ex, STEPS[::-1], cpu=True)
    n_steps = ex.n_steps.value

    # parts of one update
    t = time.perf_counter()
    for a in STEPS:
        dynamics.gradient_descent(ls, start, float(a), n_steps)
    t_gd = (time.perf_counter() - t) / N_UPDATES * 1e3
    c = ex.fig.canvas
    t = time.perf_counter()
    for _ in range(N_UPDATES):
        ex._push(False)
        c._handle_message(c, {"type": "draw"}, [])
    t_blit = (time.perf_counter() - t) / N_UPDATES * 1e3

    # the same explorer without blitting: every frame is a full draw
    full = []
    for a in STEPS[::2]:
        t = time.perf_counter()
        ex.step.value = float(a)
        ex._bg = None
        c._handle_message(c, {"type": "draw"}, [])
        full.append(time.perf_counter() - t)
    full = np.array(full) * 1e3

    naive_update(ls, start, 0.05, n_steps)  # warm-up
    naive = []
    for a in STEPS[::4]:
        t = time.perf_counter()
        naive_update(ls, start, float(a), n_steps)
        naive.append(time.perf_counter() - t)
    naive = np.array(naive) * 1e3
    naive_cpu = []
    for a in STEPS[2::8]:
        t = time.thread_time()
        naive_update(ls, start, float(a), n_steps)
        naive_cpu.append(time.thread_time() - t)
    naive_cpu = np.array(naive_cpu) * 1e3

    # 500 updates: figures and memory
    figs = plt.get_fignums()
    gc.collect()
    rss0 = _rss_mb()
    for i in range(500):
        ex.step.value = float(STEPS[i % N_UPDATES])
        c._handle_message(c, {"type": "draw"}, [])
    gc.collect()
    grown = _rss_mb() - rss0
    figs_same = plt.get_fignums() == figs
    ex.close()

    # 1-D explorer with the bifurcation diagram, and an export
    ex1 = explore(landscapes.sharp_flat_double_well(), bifurcation=True)
    _frontend_ready(ex1)
    one_d = _time_updates(ex1, np.geomspace(0.01, 0.3, 40))
    one_d_cpu = _time_updates(ex1, np.geomspace(0.3, 0.01, 40), cpu=True)
    ex1.close()
    import tempfile

    from reachkit.animation import save_animation
    with tempfile.TemporaryDirectory() as tmp:
        t = time.perf_counter()
        save_animation(ls, os.path.join(tmp, "run.gif"), step=0.12, start=start, n_steps=59,
                       methods=("gd", "flow"))
        t_gif = time.perf_counter() - t

    med, p90 = np.median(blit), np.percentile(blit, 90)
    speedup = np.median(naive) / med
    rows = [
        ("2-D explorer, step slider: callback + blit", f"{med:6.1f} ms", f"p90 {p90:.1f} ms",
         "target < 20 ms"),
        ("  same, CPU time of the kernel thread", f"{np.median(blit_cpu):6.1f} ms",
         f"p90 {np.percentile(blit_cpu, 90):.1f} ms", "unaffected by other processes"),
        (f"  of which GD path ({n_steps} steps) / blit", f"{t_gd:6.1f} ms", f"{t_blit:.1f} ms", ""),
        ("same explorer, full redraw every update", f"{np.median(full):6.1f} ms",
         f"p90 {np.percentile(full, 90):.1f} ms", f"{np.median(full) / med:.1f}x slower"),
        ("naive interact: new figure + contours + PNG", f"{np.median(naive):6.1f} ms",
         f"p90 {np.percentile(naive, 90):.1f} ms", f"speed-up {speedup:.1f}x (target >= 5x)"),
        ("  naive, CPU time of the kernel thread", f"{np.median(naive_cpu):6.1f} ms", "",
         f"speed-up {np.median(naive_cpu) / np.median(blit_cpu):.1f}x"),
        ("1-D explorer (+ bifurcation axes), step slider", f"{np.median(one_d):6.1f} ms",
         f"p90 {np.percentile(one_d, 90):.1f} ms", f"thread CPU {np.median(one_d_cpu):.1f} ms"),
        ("build the 2-D explorer", f"{t_build:6.0f} ms", "", ""),
        ("500 updates: pyplot figures unchanged", str(figs_same), "", ""),
        ("500 updates: memory growth (RSS)", f"{grown:6.1f} MB", "", "target < 20 MB"),
        ("GIF export, 60 frames, GD + flow", f"{t_gif:6.2f} s", "", ""),
    ]
    print("\n== live explorers (Python-side cost per update) ==")
    for name, a, b, note in rows:
        print(f"{name:<48} {a:>10} {b:>14}   {note}")
    print(f"(load average {os.getloadavg()[0]:.1f} on {os.cpu_count()} CPUs while measuring)")
    return {"update_ms": float(med), "update_p90_ms": float(p90),
            "update_cpu_ms": float(np.median(blit_cpu)), "gd_ms": t_gd,
            "blit_ms": t_blit, "full_redraw_ms": float(np.median(full)),
            "naive_ms": float(np.median(naive)), "speedup": float(speedup),
            "naive_cpu_ms": float(np.median(naive_cpu)),
            "speedup_cpu": float(np.median(naive_cpu) / np.median(blit_cpu)),
            "update_1d_ms": float(np.median(one_d)), "build_ms": t_build,
            "figures_unchanged": figs_same, "memory_growth_mb": grown, "gif_s": t_gif}


if __name__ == "__main__":
    main()
