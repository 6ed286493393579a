"""rk.check(): the front end it names, the versions it reads, the floors it enforces (read from
pyproject.toml here, independently) and the server-side extension search."""

import os
import subprocess
import sys
import time
from pathlib import Path

import pytest

import reachkit as rk
from reachkit import selfcheck

if sys.version_info >= (3, 11):
    import tomllib
else:  # pragma: no cover
    import tomli as tomllib

ROOT = __import__("pathlib").Path(__file__).resolve().parents[1]
CLEAN = {k: v for k, v in os.environ.items()
         if not k.startswith(("VSCODE", "COLAB", "BINDER", "JUPYTERHUB", "JPY_"))}


@pytest.fixture
def env(monkeypatch):
    monkeypatch.setattr(os, "environ", dict(CLEAN))
    return os.environ


@pytest.mark.parametrize("variables, front_end", [
    ({"VSCODE_PID": "12"}, "VS Code"),
    ({"BINDER_LAUNCH_HOST": "https://mybinder.org/"}, "Binder"),
    ({"JUPYTERHUB_USER": "ada"}, "JupyterHub"),
    ({"JPY_SESSION_NAME": "x.ipynb"}, "a Jupyter server"),
])
def test_front_end_is_read_from_the_kernel_environment(env, variables, front_end):
    env.update(variables)
    assert rk.check().front_end.startswith(front_end)


def test_plain_python_is_named_and_the_report_says_what_to_do_when_blank(env):
    c = rk.check()
    assert c.front_end.startswith("plain Python")
    text = str(c)
    assert f"anywidget {__import__('anywidget').__version__}" in text
    assert "environment that runs the Jupyter *server*" in text and "pip install anywidget ipywidgets" in text


def test_floors_are_the_pyproject_lower_bounds():
    deps = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]["dependencies"]
    anywidget = next(d for d in deps if d.startswith("anywidget"))
    assert anywidget.startswith("anywidget>=0.9.21")  # 0.9.13 loses early messages, 0.9.20's lab extension fails
    assert selfcheck._floors()["anywidget"] == (0, 9, 21)
    assert selfcheck._floors()["ipywidgets"] == tuple(int(p) for p in next(
        d for d in deps if d.startswith("ipywidgets>="))[len("ipywidgets>="):].split("."))


def test_a_version_below_the_floor_is_a_problem_with_the_command(env, monkeypatch):
    real = selfcheck._version
    monkeypatch.setattr(selfcheck, "_version", lambda name: "0.9.20" if name == "anywidget" else real(name))
    (problem,) = rk.check().problems
    assert "anywidget 0.9.20 is older than reachkit needs (>= 0.9.21)" in problem
    assert "pip install -U anywidget" in problem


def _check_under_server(env, prefix):
    """rk.check() in a kernel whose parent (JPY_PARENT_PID) is a process whose command line starts
    with prefix/bin/python, standing in for a Jupyter server installed in prefix."""
    server = subprocess.Popen(["bash", "-c", f"exec -a {prefix}/bin/python sleep 30"])
    try:
        cmdline, deadline = Path(f"/proc/{server.pid}/cmdline"), time.monotonic() + 10
        while not cmdline.read_bytes().startswith(f"{prefix}/bin/python".encode()):  # bash has not exec'd yet
            assert time.monotonic() < deadline, cmdline.read_bytes()
            time.sleep(0.01)
        env["JPY_PARENT_PID"] = str(server.pid)
        return rk.check()
    finally:
        server.kill()
        server.wait()


def test_server_without_the_widget_extensions_is_reported(env, tmp_path, monkeypatch):
    monkeypatch.setenv("HOME", str(tmp_path))
    c = _check_under_server(env, tmp_path / "server-env")
    assert c.server_extensions == {"anywidget": False, "ipywidgets": False}
    assert any(str(tmp_path / "server-env/share/jupyter/labextensions") in p for p in c.problems)
    assert "Server: the anywidget front-end extension is NOT found." in c.lines


def test_server_with_the_widget_extensions_is_fine(env, tmp_path, monkeypatch):
    monkeypatch.setenv("HOME", str(tmp_path))
    prefix = tmp_path / "server-env"
    for ext in ("anywidget", "@jupyter-widgets/jupyterlab-manager"):
        (prefix / "share/jupyter/labextensions" / ext).mkdir(parents=True)
        (prefix / "share/jupyter/labextensions" / ext / "package.json").write_text("{}")
    c = _check_under_server(env, prefix)
    assert c.server_extensions == {"anywidget": True, "ipywidgets": True} and c.problems == []


def test_display_is_a_live_probe_over_a_fallback_that_says_widgets_do_not_draw(env):
    data, meta = rk.check()._repr_mimebundle_()
    assert "Widgets do NOT draw here" in data["text/html"]  # what a front end with no widget manager shows
    model_id = data["application/vnd.jupyter.widget-view+json"]["model_id"]
    from ipywidgets.widgets.widget import _instances

    probe = _instances[model_id]
    assert "Front end: plain Python" in probe.report and "Widgets draw here" in probe._esm
