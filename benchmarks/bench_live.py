"""Live explorers v3, model side: what a drag update, a release and a long setting cost the kernel,
beside the naive way (ipywidgets ``interact`` drawing a fresh matplotlib figure per change).

- a drag update (``model.update(final=False, ...)``): the run at the step in use for every
  ticked method and the landscape at the new parameters (target <= 10 ms for notebook 00's
  first explorer; the landscape's value grid, 160 x 120, beside it), and the landscape data the
  view draws (``explorers/scene.py``: target <= 5 ms) with the bytes sent per update (aim <= 100 KB);
- the step fan computed after a release (target <= 50 ms);
- per drag update of each explorer: explore (parameter, start), explore_reach (parameter
  preview, your start), explore_adaptive (start, learning rate);
- the 220 s case (n_steps = 100 000, GD + SGD + flow, a/(k+1)^p): how long ``ex.set(exponent=1.5)``
  keeps the kernel's thread, the longest stall of its event loop while the worker computes, and
  the peak memory (target: no update keeps the kernel busy for more than 0.5 s);
- 500 mixed updates (drags and releases of parameters, start, step, methods): memory growth
  (target < 20 MB);
- 500 requests as the view sends them (ExplorerView's message handler, the explorer, the widgets'
  state messages): kernel ms per request, bytes per drag update (aim <= 100 KB), RSS growth;
- the naive peer: ``interact`` on "sharp" with a fresh figure per change (a 200 x 150 contourf and
  a 300-step Python loop, rendered to PNG as the inline backend does), per change.

Run alone: ``python benchmarks/bench_live.py``; ``make bench`` runs it too.
"""

from __future__ import annotations

import asyncio
import gc
import io
import json
import os
import resource
import time

import numpy as np


def _rss_mb() -> float:
    with open("/proc/self/statm") as f:
        return int(f.read().split()[1]) * os.sysconf("SC_PAGE_SIZE") / 1e6


def _median_ms(action, values) -> float:
    out = []
    for v in values:
        t = time.perf_counter()
        action(v)
        out.append(time.perf_counter() - t)
    return float(np.median(out) * 1e3)


def _buffer_bytes(state) -> int:
    """Bytes of a trait value as sent: its binary buffers plus the JSON of the rest."""
    import json

    if isinstance(state, (bytes, bytearray, memoryview)):
        return len(state)
    if isinstance(state, dict):
        return sum(_buffer_bytes(v) + len(k) + 4 for k, v in state.items())
    if isinstance(state, (list, tuple)):
        return sum(_buffer_bytes(v) + 1 for v in state)
    return len(json.dumps(state))


def _naive_peer(sharps) -> float:
    """ipywidgets interact + a fresh matplotlib figure per change, the way most course notebooks do it."""
    import ipywidgets as W
    import matplotlib.pyplot as plt

    from reachkit import landscapes

    base = landscapes.sharp_flat_2d()
    xs, ys = np.linspace(*base.bounds[0], 200), np.linspace(*base.bounds[1], 150)
    X, Y = np.meshgrid(xs, ys)

    def draw(sharp=20.0):
        ls = base.with_params(sharp=sharp)
        x, path = np.array([-0.7, 1.2]), [np.array([-0.7, 1.2])]
        for _ in range(300):  # the 300-step Python loop
            x = x - 0.04 * ls.grad(x)
            path.append(x)
        path = np.array(path)
        fig, ax = plt.subplots(figsize=(6, 4.4))
        ax.contourf(X, Y, ls.value(np.stack([X, Y], -1)), levels=20, cmap="Greys")
        ax.plot(path[:, 0], path[:, 1], "o-", color="C1", ms=3)
        fig.savefig(io.BytesIO(), format="png")  # what the inline backend sends per change
        plt.close(fig)

    box = W.interactive(draw, sharp=W.FloatSlider(value=20.0, min=2.0, max=60.0))
    slider = box.children[0]
    ms = _median_ms(lambda s: setattr(slider, "value", float(s)), sharps)
    box.close()
    return ms


def _blocking_220() -> dict:
    """The 220 s case inside a running event loop (the kernel's situation)."""
    import reachkit as rk
    from reachkit import landscapes

    out = {}

    async def session():
        stalls, stop = [0.0], [False]

        async def ticker():
            last = time.perf_counter()
            while not stop[0]:
                await asyncio.sleep(0.01)
                now = time.perf_counter()
                stalls.append(now - last - 0.01)
                last = now

        t = time.perf_counter()
        ex = rk.explore(landscapes.sharp_flat_2d_sum(), n_steps=100_000, methods=("gd", "sgd", "flow"),
                        schedule="power", exponent=2.0, background=True)
        out["build_s"] = time.perf_counter() - t
        ex.model.wait()
        out["fan_note"] = ex.model.fan_note
        rss0 = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1e3
        task = asyncio.create_task(ticker())
        await asyncio.sleep(0.05)
        t = time.perf_counter()
        ex.set(exponent=1.5)
        out["set_s"] = time.perf_counter() - t
        t = time.perf_counter()
        while ex.model.busy:
            await asyncio.sleep(0.02)
        out["worker_s"] = time.perf_counter() - t
        stop[0] = True
        await task
        out["stall_s"] = max(stalls)
        out["peak_rss_mb"] = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1e3
        out["peak_rss_before_mb"] = rss0
        out["status"] = ex.status
        ex.close()

    asyncio.run(session())
    return out


def _mixed(model, i, rng):
    """One of: a parameter drag and its release, a start drag and release, a step, methods."""
    kind = i % 8
    if kind in (0, 1):
        model.update(final=kind == 1, sharp=float(rng.uniform(10, 40)))
    elif kind in (2, 3):
        model.update(final=kind == 3, start=(float(rng.uniform(-1.5, 3)), float(rng.uniform(-1.2, 1.2))))
    elif kind in (4, 5):
        model.update(step=float(rng.choice(model.fan_steps)) if model.fan_steps else 0.05)
    elif kind == 6:
        model.update(methods=("gd",) if i % 16 else ("gd", "flow"))
    else:
        model.update(step=float(rng.uniform(0.01, 0.2)))


def _view_requests() -> dict:
    """Notebook 00's first explorer driven as the view drives it: 100 warm-up then 500 mixed requests
    (drags of "sharp", "flat" and the start, a release every 8, a typed step and the methods every 25)
    through ExplorerView's message handler, the explorer and the widgets' state messages (serialised as
    for the front end): kernel ms per request, bytes sent per drag request, RSS growth over the 500."""
    import ipywidgets as W

    import reachkit as rk
    from reachkit import landscapes

    sent: list[int] = []
    real = W.Widget._send

    def counted(self, msg, buffers=None):
        sent.append(len(json.dumps(msg, default=str)) + sum(len(b) for b in buffers or ()))
        return real(self, msg, buffers)

    ex = rk.explore(landscapes.sharp_flat_2d(), start=(-0.7, 1.2), step=0.04, n_steps=300)
    v, rng, per_drag = ex.view, np.random.default_rng(1), []

    def request(i):
        if i % 25 == 24:
            ex.set(methods=("gd",) if i % 50 == 49 else ("gd", "flow"), step=float(rng.uniform(0.02, 0.08)))
            return
        change = [{"sharp": float(rng.uniform(10, 40))}, {"flat": float(rng.uniform(0.5, 2))},
                  {"start": [float(rng.uniform(-1.5, 3)), float(rng.uniform(-1.2, 1.2))]}][i % 3]
        sent.clear()
        t = time.perf_counter()
        v._on_front_msg(v, {"seq": i, "final": i % 8 == 7, "changes": change}, [])
        if i % 8 != 7:
            per_drag.append((sum(sent), time.perf_counter() - t))

    W.Widget._send = counted
    try:
        for i in range(100):
            request(i)
        gc.collect()
        rss0, t = _rss_mb(), time.perf_counter()
        for i in range(100, 600):
            request(i)
        seconds = time.perf_counter() - t
        gc.collect()
        grown = _rss_mb() - rss0
    finally:
        W.Widget._send = real
        ex.close()
    drags = np.array(per_drag)
    return {"ms_per_request": seconds / 500 * 1e3, "ms_per_drag": float(np.median(drags[:, 1]) * 1e3),
            "bytes_per_drag": float(np.median(drags[:, 0])), "rss_growth_mb": grown}


def main() -> dict:
    import matplotlib
    if matplotlib.get_backend().lower() not in ("agg", "module://matplotlib_inline.backend_inline"):
        matplotlib.use("Agg")

    from reachkit import landscapes
    from reachkit.explorers import scene
    from reachkit.explorers.adaptive_model import AdaptiveModel
    from reachkit.explorers.dynamics_model import DynamicsModel
    from reachkit.explorers.reach_model import ReachModel
    from reachkit.explorers.runs import StaticLayer
    from reachkit.explorers.view import encode_run

    rng = np.random.default_rng(0)
    ls = landscapes.sharp_flat_2d()
    sharps = list(rng.uniform(10, 40, 40))
    starts = [tuple(p) for p in rng.uniform([-1.5, -1.2], [3.0, 1.2], (40, 2))]

    m = DynamicsModel(ls, start=(-0.7, 1.2), step=0.04, n_steps=300)  # notebook 00's first explorer
    drag_param = _median_ms(lambda s: m.update(final=False, sharp=float(s)), sharps)
    drag_start = _median_ms(lambda p: m.update(final=False, start=p), starts)
    series = [(x["key"], x["name"], x["color"]) for x in m.series()]
    scene_ms = _median_ms(lambda s: scene.build(StaticLayer(ls.with_params(sharp=float(s)), series, ls.name)), sharps)
    scene_kb = _buffer_bytes(scene.build(m.static_layer())) / 1e3
    runs_kb = _buffer_bytes(encode_run(m.current.step, [m.current.xy[k] for k in m.methods],
                                       [m.current.info[k] for k in m.methods])) / 1e3
    xs, ys = np.linspace(*ls.bounds[0], 160), np.linspace(*ls.bounds[1], 120)
    grid = np.stack(np.meshgrid(xs, ys), -1)
    values = _median_ms(lambda s: ls.with_params(sharp=float(s)).value(grid), sharps)
    setup = m._setup()
    steps = m._fan_grid()
    fan = _median_ms(lambda _: m._fan(setup, steps, lambda: False), range(10))
    m.update(methods=("gd", "flow"))
    setup = m._setup()
    fan_flow = _median_ms(lambda _: m._fan(setup, steps, lambda: False), range(6))
    drag_three = None
    fs = landscapes.sharp_flat_2d_sum()
    m3 = DynamicsModel(fs, start=(-0.6, 0.66), step=0.04, n_steps=300, methods=("gd", "sgd", "flow"))
    drag_three = _median_ms(lambda s: m3.update(final=False, sharp=float(s)), sharps[:20])
    mb = DynamicsModel(ls, start=(-0.7, 1.2), step=0.04, n_steps=300, basins=True)
    drag_basins = _median_ms(lambda s: mb.update(final=False, sharp=float(s)), sharps[:20])
    scene_basins = _median_ms(lambda s: (mb.update(final=False, sharp=float(s)), scene.build(mb.static_layer())),
                              sharps[:10])
    scene_basins -= drag_basins

    r = ReachModel(landscapes.sharp_flat_double_well(), step=0.04)
    reach_param = _median_ms(lambda s: r.update(final=False, sharp=float(s)), sharps[:20])
    r.update(final=True)
    reach_start = _median_ms(lambda x: r.update(final=False, start=(float(x),)), rng.uniform(-1.5, 2.5, 20))

    a = AdaptiveModel(ls, start=(-1.2, 0.2))
    adaptive_start = _median_ms(lambda p: a.update(final=False, start=p), starts[:20])
    adaptive_lr = _median_ms(lambda lr: a.update(final=False, step=float(lr)), rng.uniform(0.05, 1.0, 20))

    mm = DynamicsModel(ls, start=(-0.7, 1.2), step=0.04, n_steps=300)
    for i in range(100):
        _mixed(mm, i, rng)
    gc.collect()
    rss0 = _rss_mb()
    t = time.perf_counter()
    for i in range(500):
        _mixed(mm, i, rng)
    t_mixed = time.perf_counter() - t
    gc.collect()
    grown = _rss_mb() - rss0

    view = _view_requests()
    naive = _naive_peer(sharps[:12])
    big = _blocking_220()

    rows = [
        ("drag a parameter: run + landscape (model)", drag_param, "target <= 10 ms"),
        ("  the landscape's values on 160 x 120", values, ""),
        ("  the landscape data sent (scene.build: grid, points, legend)", scene_ms, "target <= 5 ms"),
        ("  the same with basins on (coarse map)", scene_basins, ""),
        ("drag the start (model)", drag_start, ""),
        ("drag a parameter, GD + SGD + flow", drag_three, ""),
        ("drag a parameter with basins (coarse map)", drag_basins, ""),
        ("the step fan after a release (GD)", fan, "target <= 50 ms"),
        ("the step fan, GD + flow", fan_flow, ""),
        ("explore_reach: drag a parameter (preview)", reach_param, "reach runs on release"),
        ("explore_reach: drag your start", reach_start, ""),
        ("explore_adaptive: drag the start", adaptive_start, ""),
        ("explore_adaptive: drag the learning rate", adaptive_lr, ""),
        ("naive peer: interact + fresh figure per change", naive, "same machine, same run"),
    ]
    print("\n== live explorers v3, model side (median ms per update) ==")
    for name, ms, note in rows:
        print(f"{name:<50} {ms:8.2f} ms   {note}")
    print(f"{'bytes per parameter update: scene + run':<50} {scene_kb + runs_kb:8.1f} KB   aim <= 100 KB "
          f"(scene {scene_kb:.1f} KB, run {runs_kb:.1f} KB; float32)")
    print(f"{'500 mixed drags/releases: total':<50} {t_mixed:8.1f} s")
    print(f"{'500 mixed drags/releases: memory growth (RSS)':<50} {grown:8.1f} MB   target < 20 MB")
    print(f"{'a drag request from the view (explorer + messages)':<50} {view['ms_per_drag']:8.2f} ms; "
          f"{view['bytes_per_drag'] / 1e3:.1f} KB sent (aim <= 100 KB)")
    print(f"{'500 mixed requests from the view':<50} {view['ms_per_request']:8.2f} ms each on average (the releases "
          f"compute the fan and the background); RSS {view['rss_growth_mb']:+.1f} MB   target < 20 MB")
    print("the 220 s case (n_steps 100 000, GD + SGD + flow, a/(k+1)^p), set(exponent=1.5) in an event loop:")
    print(f"  kernel thread busy in set(): {big['set_s'] * 1e3:.0f} ms (target <= 500 ms); longest event-loop "
          f"stall while the worker computes: {big['stall_s'] * 1e3:.0f} ms; the worker took {big['worker_s']:.1f} s; "
          f"peak RSS {big['peak_rss_mb']:.0f} MB (was 1.7 GB)")
    print(f"  {big['fan_note']}")
    print(f"(load average {os.getloadavg()[0]:.1f} on {os.cpu_count()} CPUs while measuring)")
    return {"drag_param_ms": drag_param, "values_ms": values, "scene_ms": scene_ms, "scene_basins_ms": scene_basins,
            "update_kb": scene_kb + runs_kb, "drag_start_ms": drag_start,
            "drag_three_ms": drag_three, "drag_basins_ms": drag_basins, "fan_ms": fan, "fan_flow_ms": fan_flow,
            "reach_param_ms": reach_param, "reach_start_ms": reach_start, "adaptive_start_ms": adaptive_start,
            "adaptive_lr_ms": adaptive_lr, "naive_ms": naive, "mixed_500_s": t_mixed, "rss_growth_mb": grown,
            "blocking_set_s": big["set_s"], "blocking_stall_s": big["stall_s"], "worker_s": big["worker_s"],
            "peak_rss_mb": big["peak_rss_mb"], "view_request_ms": view["ms_per_request"],
            "view_drag_ms": view["ms_per_drag"],
            "view_bytes_per_drag": view["bytes_per_drag"], "view_rss_growth_mb": view["rss_growth_mb"]}


if __name__ == "__main__":
    main()
