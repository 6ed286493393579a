"""The explorer view in the browser: Play, a step-slider drag, arrow key to new pixels.

Measured end to end in JupyterLab + headless Chromium on localhost by the browser tests, which write
``results/browser/{play,drag,latency}.json`` (notebook 00's 2-D explorer, ``tests/browser/test_e2e.py``)
and ``results/browser/synthetic-*.json`` (the view alone on closed-form runs,
``tests/browser/test_view_in_lab.py``); this script only reports those files.

- Play: animation frames whose canvas differs from the previous one, per second, over 5 s of Play at
  speed 60 (a path that keeps moving), and the kernel traffic in that time (websocket frames on the
  kernel's socket, messages through Lab's kernel connection). Target: >= 30 new frames/s, no message.
- Drag: the step slider moved one position per animation frame for 3 s (a drag at display rate);
  also a real mouse drag, whose rate is limited by the test driver (about 30 ms per mouse move).
  Target: >= 30 new frames/s.
- Arrow key on the step slider to the first animation frame whose canvas differs, 30 presses.
  Target: median <= 60 ms.

- Live drags (issue 17, ``results/browser/live-*.json``): a 1.5 s mouse drag of the "sharp" slider
  and of the start: kernel answers drawn per second (each a new path; one request in flight, the
  latest value wins), target >= 20/s; a parameter drag's answers each redraw the landscape (scene)
  with the path. A click on the plot to the new path drawn: target median
  <= 40 ms. With 100 ms added to every round trip: answers per second, requests sent (no backlog:
  about one per answer) and release to the last answer drawn (target <= 2 round trips + compute).
  (500 mixed drag updates' memory: benchmarks/bench_live.py, without a browser.)

Browser, Lab server and kernel share the CPUs with whatever else runs; the in-page pixel checksum
costs CPU of its own, so the figures are lower bounds for frame rates and upper bounds for latency.

Run alone: ``python benchmarks/bench_browser.py``; ``make bench`` runs it with the others.
Produce the files with ``make test PYTEST_ARGS="-m browser"`` (needs ``apt-get install chromium``).
"""

from __future__ import annotations

import json
import pathlib

ROOT = pathlib.Path(__file__).resolve().parents[1]
RESULTS = ROOT / "results" / "browser"
TARGETS = {"play": 30.0, "drag": 30.0, "latency": 60.0}


def _verdict(ok: bool) -> str:
    return "meets" if ok else "MISSES"


def _report(prefix: str) -> dict:
    out = {}
    for kind in ("play", "drag", "latency", "typed-parameter"):
        path = RESULTS / f"{prefix}{kind}.json"
        if not path.exists():
            continue
        d = json.loads(path.read_text())
        if kind == "play":
            fps = d["new_frames_per_s"]
            quiet = d["websocket_frames"] == 0 and d["kernel_messages"] == 0
            print(f"  Play: {fps:5.1f} visibly new frames/s ({d['iterates_drawn_per_s']:.0f} iterates drawn/s, "
                  f"display {d['display_frames_per_s']:.0f}/s)   target >= 30 ({_verdict(fps >= 30)})")
            print(f"        kernel traffic in {d['seconds']:.0f} s of Play: {d['websocket_frames']} websocket frames, "
                  f"{d['kernel_messages']} messages   target 0 ({_verdict(quiet)})")
            out["play_fps"], out["play_kernel_messages"] = fps, d["websocket_frames"] + d["kernel_messages"]
        elif kind == "drag":
            sw, mo = d["display_rate_drag"], d["mouse_drag"]
            fps = sw["new_frames_per_s"]
            print(f"  step drag: {fps:5.1f} new frames/s at {sw['slider_moves_per_s']:.0f} moves/s   "
                  f"target >= 30 ({_verdict(fps >= 30)}); mouse drag: {mo['new_frames']} new frames for "
                  f"{mo['positions_crossed']} positions in {mo['drag_s']:.1f} s")
            out["drag_fps"] = fps
        elif kind == "typed-parameter":
            ok = bool(d["samples"]) and d["median"] <= 60
            med = d.get("median", float("nan"))
            print(f"  typed {d['setting']!r} -> landscape and path redrawn: median {med:5.1f} ms, "
                  f"p90 {d.get('p90', float('nan')):.1f} ms (n={len(d['samples'])}, {d['missed']} missed, "
                  f"{d['split_frames']} split frames)   target median <= 60 ms ({_verdict(ok)})")
            out["typed_parameter_median_ms"] = d.get("median")
        elif d.get("samples"):
            print(f"  arrow key -> new pixels: median {d['median']:5.1f} ms, p90 {d['p90']:.1f} ms "
                  f"(n={d['n']}, {d['missed']} missed)   target median <= 60 ms ({_verdict(d['median'] <= 60)})")
            out["latency_median_ms"], out["latency_p90_ms"] = d["median"], d["p90"]
        print(f"        [{d.get('explorer', '?')}; measured {d.get('measured', '?')}, "
              f"load {d.get('load_average', '?')} on {d.get('cpus', '?')} CPUs]")
    return out


def _report_live() -> dict:
    out = {}
    for kind, what in (("param-drag", "parameter drag"), ("start-drag", "start drag"),
                       ("slow-connection", "start drag, +100 ms per round trip")):
        path = RESULTS / f"live-{kind}.json"
        if path.exists():
            d = json.loads(path.read_text())
            fps = d["path_frames_per_s"]
            print(f"  {what}: {fps:5.1f} answers drawn/s ({d['changed_frames_per_s']:.0f} changed frames/s), "
                  f"{d['websocket_frames_sent']} requests for {d['paths_drawn']} answers, release -> answer drawn "
                  f"{d['release_to_answer_drawn_ms']:.0f} ms" + ("   target >= 20/s "
                  f"({_verdict(fps >= 20)})" if kind != "slow-connection" else "") + f"   [load {d['load_average']}]")
            out[kind] = fps
    path = RESULTS / "live-click.json"
    if path.exists():
        d = json.loads(path.read_text())
        print(f"  click -> new path: median {d['median']:.0f} ms, p90 {d['p90']:.0f} ms (n={d['n']})   "
              f"target median <= 40 ms ({_verdict(d['median'] <= 40)})   [load {d['load_average']}]")
        out["click_median_ms"] = d["median"]
    return out


def main() -> dict | None:
    print("\n== browser (JupyterLab + headless Chromium, localhost) ==")
    if not any(RESULTS.glob("*.json")) or not ((RESULTS / "play.json").exists()
                                               or (RESULTS / "synthetic-play.json").exists()):
        print(f"no measurements in {RESULTS.relative_to(ROOT)}: run the browser tests first, e.g.\n"
              "    make test PYTEST_ARGS=\"-m browser\"\n"
              "(they need Debian's Chromium: apt-get update && apt-get install -y chromium)")
        return None
    print("notebook 00's 2-D explorer:")
    real = _report("")
    print("the view alone (synthetic runs):")
    synthetic = _report("synthetic-")
    print("live drags of notebook 00's 2-D explorer:")
    live = _report_live()
    return {"explorer": real, "synthetic": synthetic, "live": live}


if __name__ == "__main__":
    main()
