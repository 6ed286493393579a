"""Browser latency: key press on the 2-D explorer's step slider to new pixels on its canvas.

Measured end to end in JupyterLab + headless Chromium on localhost by the browser tests
(``tests/browser/test_e2e.py::test_step_slider_latency``), which write
``results/browser/latency.json``; this script only reports that file. Each sample: a real
ArrowRight/ArrowLeft key press on the slider handle, timed from the browser's keydown to the first
animation frame whose ``canvas.toDataURL()`` differs. It includes the kernel round trip (comm
message, GD recomputation, blit, PNG diff) and the browser's decoding; the browser, Lab server and
kernel share the CPUs, and the polling loop costs CPU of its own, so the figures are upper bounds.

Target (issue: tested in a real browser): median < 150 ms on localhost.

Run alone: ``python benchmarks/bench_browser.py``; ``make bench`` runs it with the others.
Produce the file with ``make test PYTEST_ARGS="-m browser"`` (needs ``apt-get install chromium``).
"""

from __future__ import annotations

import json
import pathlib
import time

ROOT = pathlib.Path(__file__).resolve().parents[1]
LATENCY = ROOT / "results" / "browser" / "latency.json"
TARGET_MEDIAN_MS = 150.0


def main() -> dict | None:
    print("\n== browser (JupyterLab + Chromium, localhost) ==")
    if not LATENCY.exists():
        print(f"no {LATENCY.relative_to(ROOT)}: run the browser tests first, e.g.\n"
              "    make test PYTEST_ARGS=\"-m browser\"\n"
              "(they need Debian's Chromium: apt-get update && apt-get install -y chromium)")
        return None
    d = json.loads(LATENCY.read_text())
    median, p90, n = float(d["median"]), float(d["p90"]), int(d["n"])
    target = float(d.get("target_median_ms", TARGET_MEDIAN_MS))
    verdict = "meets" if median < target else "MISSES"
    when = d.get("measured") or time.strftime("%Y-%m-%d %H:%M", time.localtime(LATENCY.stat().st_mtime))
    rows = [
        ("step slider key press -> canvas updated, median", f"{median:6.0f} ms",
         f"target < {target:.0f} ms ({verdict})"),
        ("  90th percentile", f"{p90:6.0f} ms", ""),
        ("  moves measured / missed (no redraw in 10 s)", f"{n:>6d}", f"{d.get('missed', 0)} missed"),
    ]
    for name, value, note in rows:
        print(f"{name:<50} {value:>10}   {note}")
    load = d.get("load_average")
    extra = f", load average {load:.1f} on {d.get('cpus', '?')} CPUs" if load is not None else ""
    print(f"(from {LATENCY.relative_to(ROOT)}, measured {when}{extra}; "
          f"{d.get('notebook', '?')} cell {d.get('cell', '?')})")
    return {"median_ms": median, "p90_ms": p90, "n": n, "target_median_ms": target,
            "meets_target": median < target}


if __name__ == "__main__":
    main()
