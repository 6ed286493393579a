"""A class on a JupyterHub: time from login to an idle kernel, memory per student, what fills a kernel.

1. Reports ``results/hub/hub.json`` and ``voila.json``, written by the hub tests
   (``tests/hub``: a real JupyterHub + nbgitpuller + Chromium; one student, then three at once), and
   sizes a hub for 30 and 300 students from the measured RSS per student.
2. Measures here what a kernel's RSS is made of: a fresh Python, then ipykernel, numpy, reachkit,
   matplotlib with ipympl, scipy, ipywidgets and one explorer, each step's RSS increase.
3. Runs every notebook headless in its own kernel (nbclient) and records the kernel's RSS after the
   last cell (``results/hub/notebook_memory.json``). Target: below 250 MB per kernel.

Run alone: ``python benchmarks/bench_hub.py``; ``make bench`` runs it with the others.
Produce the hub figures with ``make test PYTEST_ARGS="-m hub"``.
"""

from __future__ import annotations

import json
import pathlib
import subprocess
import sys
import time

ROOT = pathlib.Path(__file__).resolve().parents[1]
RESULTS = ROOT / "results" / "hub"
KERNEL_TARGET_MB = 250.0
HEADROOM = 1.5  # RAM to provision per measured MB: peaks during Run All, the OS, page cache

STEPS = [
    ("python", "pass"),
    ("+ ipykernel (IPython, zmq, tornado)", "import ipykernel.kernelapp, IPython"),
    ("+ numpy", "import numpy"),
    ("+ import reachkit", "import reachkit as rk"),
    ("+ matplotlib + ipympl backend", "import matplotlib; matplotlib.use('module://ipympl.backend_nbagg');"
                                      " import matplotlib.pyplot, ipympl.backend_nbagg"),
    ("+ scipy (integrate, sparse.linalg)", "import scipy.integrate, scipy.sparse.linalg"),
    ("+ ipywidgets", "import ipywidgets"),
    ("+ one 2-D explorer", "ex = rk.explore(rk.landscapes.sharp_flat_2d(), start=(-0.7, 1.2), step=0.04, "
                           "n_steps=300)"),
]


def _import_breakdown() -> list[tuple[str, float]]:
    code = "import psutil, json\np = psutil.Process()\nout = []\n"
    for label, stmt in STEPS:
        code += f"{stmt}\nout.append(({label!r}, p.memory_info().rss / 2**20))\n"
    code += "print(json.dumps(out))\n"
    run = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=300, cwd=ROOT)
    if run.returncode:
        raise RuntimeError(run.stderr[-2000:])
    return json.loads(run.stdout.strip().splitlines()[-1])


def _notebook_memory() -> dict:
    """Kernel RSS (MB) after Run All of each notebook, executed headless by nbclient."""
    import nbformat
    import psutil
    from nbclient import NotebookClient

    out = {}
    for path in sorted((ROOT / "notebooks").glob("[0-9][0-9]_*.ipynb")):
        nb = nbformat.read(path, as_version=4)
        client = NotebookClient(nb, timeout=900, kernel_name="python3", allow_errors=True,
                                resources={"metadata": {"path": str(path.parent)}})
        rss: list[float] = []

        def measure(cell=None, cell_index=None, execute_reply=None, client=client, rss=rss):
            rss.append((cell_index, psutil.Process(client.km.provisioner.process.pid).memory_info().rss / 2**20))

        client.on_cell_executed = measure
        t = time.monotonic()
        client.execute()
        errors = sum(o.get("output_type") == "error" for c in nb.cells for o in c.get("outputs", []))
        jumps = [(b[1] - a[1], b[0]) for a, b in zip(rss, rss[1:], strict=False)]
        grew, cell = max(jumps) if jumps else (0.0, None)
        out[path.name] = {"kernel_rss_mb": round(rss[-1][1], 1),
                          "peak_after_a_cell_mb": round(max(r for _, r in rss), 1),
                          "largest_increase_mb": round(grew, 1), "largest_increase_cell": cell,
                          "run_s": round(time.monotonic() - t, 1), "error_outputs": errors}
    return out


def main() -> dict | None:
    print("\n== a class on a JupyterHub (local hub, nbgitpuller, Chromium) ==")
    hub_json = RESULTS / "hub.json"
    report = {}
    if hub_json.exists():
        d = json.loads(hub_json.read_text())
        report["hub"] = d
        for phase in ("one_student", "three_students"):
            p = d.get(phase)
            if not p:
                continue
            for s in p["students"]:
                m = s["memory"]
                print(f"{phase:<15} {s['user']:<4} login -> idle kernel {s['login_to_idle_s']:5.1f} s   "
                      f"Run All {s['run_all_s']:4.1f} s   server {m['server_rss_mb']:4.0f} MB + kernel "
                      f"{m['kernel_rss_mb']:4.0f} MB RSS (USS {m['server_uss_mb']:.0f} + {m['kernel_uss_mb']:.0f})")
            print(f"{'':<15} all idle after {p['max_login_to_idle_s']:.1f} s; together {p['total_rss_mb']:.0f} MB RSS"
                  f", {p['total_uss_mb']:.0f} MB USS")
        students = d.get("three_students", d.get("one_student", {})).get("students", [])
        if students:
            per = max(s["memory"]["total_rss_mb"] for s in students)
            for n in (30, 300):
                print(f"sizing: {n:>3} students x {per:.0f} MB x {HEADROOM} headroom = "
                      f"{n * per * HEADROOM / 1024:5.1f} GB RAM")
        print(f"(notebook {d['notebook']}, measured {d['measured']}, load {d['load_average']} on {d['cpus']} CPUs)")
    else:
        print(f"no {hub_json.relative_to(ROOT)}: run `make test PYTEST_ARGS=\"-m hub\"` first")
    voila = RESULTS / "voila.json"
    if voila.exists():
        v = json.loads(voila.read_text())
        print(f"Voila demo (make demo NB={v['notebook']}): page complete {v['page_rendered_s']} s, "
              f"explorer drawn + Play + step slider checked at {v['explorer_checked_s']} s")

    print("\nkernel RSS, step by step (fresh process, this machine):")
    before = 0.0
    steps = _import_breakdown()
    for label, rss in steps:
        print(f"  {label:<40} {rss:6.0f} MB  ({rss - before:+5.0f})")
        before = rss
    report["kernel_breakdown_mb"] = steps

    print(f"\nkernel RSS after Run All, each notebook headless (nbclient; target < {KERNEL_TARGET_MB:.0f} MB):")
    mem = _notebook_memory()
    for name, m in mem.items():
        verdict = "meets" if m["kernel_rss_mb"] < KERNEL_TARGET_MB else "MISSES"
        print(f"  {name:<40} {m['kernel_rss_mb']:6.0f} MB  ({verdict}; ran in {m['run_s']} s, "
              f"{m['error_outputs']} error outputs; largest step +{m['largest_increase_mb']:.0f} MB "
              f"at cell {m['largest_increase_cell']})")
    RESULTS.mkdir(parents=True, exist_ok=True)
    (RESULTS / "notebook_memory.json").write_text(json.dumps(
        {"notebooks": mem, "kernel_breakdown_mb": steps, "measured": time.strftime("%Y-%m-%d %H:%M:%S")}, indent=1))
    report["notebooks"] = mem
    return report


if __name__ == "__main__":
    main()
