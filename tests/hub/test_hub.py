"""A class on a JupyterHub, end to end: log in, click the nbgitpuller link, Run All, use the explorer.

A real JupyterHub on 127.0.0.1 (configurable-http-proxy, DummyAuthenticator, SimpleLocalProcessSpawner)
hands out a bare clone of this checkout's committed HEAD through the link of
``python -m reachkit.links``. First one student, then three who click the link at the same moment:
each logs in in headless Chromium, lands in JupyterLab on ``~/reachkit/notebooks/00_start_here.ipynb``,
runs all cells (no error, every cell ran) and finds the explorer drawn, with Play animating it.
The first student then opens the same notebook through the ``--app voila`` link (Voila on the hub).

Measured per student, to ``results/hub/hub.json`` (``make bench`` prints it): seconds from login to
an idle kernel (spawn, clone, JupyterLab, kernel start) and from there through Run All, and the RSS
and USS of the single-user server and the kernel after Run All (psutil).
The three students are waited for one after another, so their login-to-idle times are upper bounds;
the last one is the time the whole group waits.

Run: ``make test PYTEST_ARGS="-m hub"``.
"""

from __future__ import annotations

import json
import os
import time

import pytest
from explorer_check import check_explorer, explorer_roots, wait_voila_rendered
from hubdriver import RESULTS
from labdriver import _JS_LISTEN, LabNotebook

from reachkit.links import hub_link, notebook_path

pytestmark = pytest.mark.hub

NOTEBOOK = notebook_path("00").removeprefix("notebooks/")
ARRIVE_TIMEOUT = 240.0
_RESULTS: dict = {}


class _HubLab:
    """What LabNotebook needs from a server, for one student's server behind the hub."""

    def __init__(self, hub, user: str):
        self.hub, self.user = hub, user

    def notebook_url(self, name: str) -> str:
        return hub_link(self.hub.url, self.hub.repo_url, branch=self.hub.branch, notebook=name)

    def log_size(self) -> int:
        return self.hub.log_path.stat().st_size

    def log_since(self, offset: int) -> str:
        self.hub.log_tail(1)  # flushes
        with open(self.hub.log_path, errors="replace") as f:
            f.seek(offset)
            return f.read()

    def shutdown_kernels(self, name=None):
        pass  # stop_server ends the student's kernels with the server


class Student(LabNotebook):
    """One student's browser context: log in, click the link, arrive in JupyterLab with an idle kernel."""

    def __init__(self, browser, hub, user: str):
        super().__init__(browser, _HubLab(hub, user), NOTEBOOK)
        self.hub, self.user = hub, user

    def log_in(self):
        self._t0 = time.monotonic()
        self.hub.login(self.page, self.user)
        self._lap("login_s")

    def click_link(self):
        self.page.goto(self.lab.notebook_url(self.name))

    def arrive(self, timeout: float = ARRIVE_TIMEOUT):
        self.page.wait_for_selector(".jp-Notebook .jp-Cell", timeout=timeout * 1000)
        assert self.page.url.split("?")[0].endswith(f"/user/{self.user}/lab/tree/reachkit/notebooks/{NOTEBOOK}"), \
            self.page.url
        self.wait_idle(timeout)
        self.page.evaluate(_JS_LISTEN)
        self._lap("login_to_idle_s")

    def run_and_check(self, results_dir) -> dict:
        t = time.monotonic()
        state = self.run_all()
        run_all_s = round(time.monotonic() - t, 2)
        assert not state.get("error"), f"{self.user}: run-all failed in the front end: {state['error']}"
        assert not self.errors(), f"{self.user}: error output\n" + "\n\n".join(self.errors())
        assert not self.not_executed(), f"{self.user}: cells that did not run: {self.not_executed()}"
        roots = explorer_roots(self.page)
        assert roots, f"{self.user}: no explorer on the page of {NOTEBOOK}\n{self.describe_failure()}"
        seen = check_explorer(roots[0])
        problems = self.background_errors()
        assert not problems, f"{self.user}: errors outside the cell outputs:\n" + "\n".join(problems)
        (results_dir / f"{self.user}-explorer.png").write_bytes(self.screenshot(roots[0]))
        home = self.hub.home(self.user)
        assert (home / "reachkit" / "notebooks" / NOTEBOOK).is_file(), "nbgitpuller did not clone into ~/reachkit"
        return {"user": self.user, "login_s": self.timings["login_s"],
                "login_to_idle_s": self.timings["login_to_idle_s"], "run_all_s": run_all_s,
                "explorers": len(roots), "play_frames": seen["play"]["frames"],
                "memory": self.hub.memory(self.user)}

    def fail_screenshot(self, results_dir):
        try:
            self.page.screenshot(path=str(results_dir / f"{self.user}-FAILED.png"))
        except Exception:
            pass


def _record(phase: str, data: dict):
    _RESULTS[phase] = data
    RESULTS.mkdir(parents=True, exist_ok=True)
    out = {"notebook": NOTEBOOK, "measured": time.strftime("%Y-%m-%d %H:%M:%S"), "cpus": os.cpu_count(),
           "load_average": round(os.getloadavg()[0], 2), **_RESULTS,
           "what": "login (hub form) to JupyterLab open on the nbgitpuller link with an idle kernel; Run All; "
                   "RSS/USS of the single-user server and kernel after Run All, psutil; JupyterHub + "
                   "configurable-http-proxy + SimpleLocalProcessSpawner on 127.0.0.1, headless Chromium"}
    (RESULTS / "hub.json").write_text(json.dumps(out, indent=1))


def _summary(students: list[dict]) -> dict:
    per = [s["memory"]["total_rss_mb"] for s in students]
    return {"students": students, "max_login_to_idle_s": max(s["login_to_idle_s"] for s in students),
            "total_rss_mb": round(sum(per), 1),
            "total_uss_mb": round(sum(s["memory"]["total_uss_mb"] for s in students), 1)}


def test_one_student_pulls_runs_and_plays(chromium, hub, hub_results):
    student = Student(chromium, hub, "ada")
    try:
        student.log_in()
        student.click_link()
        student.arrive()
        result = student.run_and_check(hub_results)
        # the same notebook as an app: the link of `python -m reachkit.links --app voila`
        t = time.monotonic()
        student.page.goto(hub_link(hub.url, hub.repo_url, branch=hub.branch, notebook=NOTEBOOK, app="voila"))
        result["voila_rendered_s"] = wait_voila_rendered(student.page, t)
        assert f"/user/ada/voila/render/reachkit/notebooks/{NOTEBOOK}" in student.page.url, student.page.url
        result["voila_view"] = check_explorer(explorer_roots(student.page)[0])["view"]
    except BaseException:
        student.fail_screenshot(hub_results)
        raise
    finally:
        student.context.close()
        hub.stop_server("ada")
    assert not hub.processes("ada")["kernel"], "ada's kernel outlived her server"
    _record("one_student", _summary([result]))
    assert result["memory"]["kernel_processes"] == 1 and result["memory"]["server_processes"] == 1


def test_three_students_at_once(chromium, hub, hub_results):
    students = [Student(chromium, hub, user) for user in ("ben", "cy", "dee")]
    try:
        for s in students:
            s.log_in()
        for s in students:  # the class clicks the link at the same moment
            s._t0 = time.monotonic() - s.timings["login_s"]
            s.click_link()
        for s in students:
            s.arrive()
        results = []
        for s in students:
            try:
                results.append(s.run_and_check(hub_results))
            except BaseException:
                s.fail_screenshot(hub_results)
                raise
        memory_all = {s.user: hub.memory(s.user) for s in students}  # all three servers and kernels alive
    finally:
        for s in students:
            s.context.close()
        for s in students:
            hub.stop_server(s.user)
    for r in results:
        r["memory"] = memory_all[r["user"]]
    _record("three_students", _summary(results))
    assert all(m["kernel_processes"] == 1 for m in memory_all.values()), memory_all
    homes = {s.user: (hub.home(s.user) / "reachkit" / "notebooks" / NOTEBOOK).is_file() for s in students}
    assert all(homes.values()), f"clones missing: {homes}"
