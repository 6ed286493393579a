"""Hooks of the whole test session (tests/ and notebooks/).

`make test` runs the tests in pytest-xdist worker processes with ``--dist loadfile``: each file's
tests run in one worker, in order (so the cells of a notebook run one after another in one kernel,
as nbval needs), and the scheduler below runs the real-browser suites, tests/browser and tests/hub,
in one worker, one after the other: their files share the results folders they clear and report
from, and a Chromium + JupyterLab stack beside a Chromium + JupyterHub stack on two loaded cores
makes the timing-sensitive checks (Play changes the pixels within 200 ms) flaky.
(xdist's ``xdist_group`` marks do not group on pytest 9.2: pytest-xdist issue 1386.)

The browser and hub reports are printed here: under xdist the controlling process collects no test,
so it never loads tests/browser/conftest.py or tests/hub/conftest.py.
"""

from __future__ import annotations

import json
import sys
import time
from pathlib import Path

import pytest

sys.path[:0] = [str(Path(__file__).resolve().parent / "tests" / d) for d in ("browser", "hub")]

from hubdriver import RESULTS as HUB_RESULTS  # noqa: E402
from labdriver import RESULTS as BROWSER_RESULTS  # noqa: E402
from labdriver import ROOT, measurement_lines  # noqa: E402

_SESSION_START = time.time()
SUITES = ("tests/browser/", "tests/hub/")  # run whole, one after the other, in one worker


@pytest.hookimpl(optionalhook=True, tryfirst=True)  # the hook exists when pytest-xdist is installed
def pytest_xdist_make_scheduler(config, log):
    """With ``--dist loadfile``: a work unit per file, except one for both real-browser suites."""
    if config.getvalue("dist") != "loadfile":
        return None
    from xdist.scheduler import LoadFileScheduling

    class SuiteScheduling(LoadFileScheduling):
        def _split_scope(self, nodeid: str) -> str:
            path = super()._split_scope(nodeid)
            return "real-browser suites" if path.startswith(SUITES) else path

    return SuiteScheduling(config, log)


def _fresh(path: Path) -> bool:
    return path.exists() and path.stat().st_mtime >= _SESSION_START


def pytest_terminal_summary(terminalreporter):
    """The browser suite's per-notebook timings and view measurements, the hub's login-to-idle times
    and memory per student: those of this session, if the suites ran."""
    tr = terminalreporter
    timings = BROWSER_RESULTS / "timings.json"
    if _fresh(timings):
        tr.section("browser: JupyterLab + Chromium")
        nan = float("nan")
        for name, t in sorted(json.loads(timings.read_text()).items()):
            g = {k: t.get(k, nan) for k in ("total_s", "kernel_idle_s", "run_all_s", "drawn_s")}
            tr.write_line(f"{name:<40} {g['total_s']:6.1f} s   (kernel idle at {g['kernel_idle_s']:.1f} s, "
                          f"cells ran at {g['run_all_s']:.1f} s, figures drawn at {g['drawn_s']:.1f} s; "
                          f"{t.get('explorers', '?')} explorers, {t.get('figures', '?')} figures)")
        for line in measurement_lines(_SESSION_START):
            tr.write_line(line)
        tr.write_line(f"screenshots: {BROWSER_RESULTS.relative_to(ROOT)}/")
    hub = HUB_RESULTS / "hub.json"
    if _fresh(hub):
        data = json.loads(hub.read_text())
        tr.section("hub: JupyterHub + nbgitpuller + Chromium")
        for phase in ("one_student", "three_students"):
            for s in data.get(phase, {}).get("students", []):
                tr.write_line(f"{phase:<15} {s['user']:<5} login->idle kernel {s['login_to_idle_s']:5.1f} s, "
                              f"Run All {s['run_all_s']:5.1f} s; server {s['memory']['server_rss_mb']:.0f} MB + "
                              f"kernel {s['memory']['kernel_rss_mb']:.0f} MB RSS")
