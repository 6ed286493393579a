"""``rk.check()``: where this notebook runs, which versions it has, and whether the explorers can draw.

An explorer draws in the browser through two front-end extensions (anywidget and ipywidgets'
widget manager) that the *Jupyter server* serves, while ``import reachkit`` happens in the
*kernel*. When the two run in different environments (a kernel registered from a venv, a server
from a system or conda install), the kernel has everything and the explorer still stays blank.
The displayed check therefore carries a tiny live widget: where widgets render it replaces the
warning with a confirmation, so the answer comes from the browser itself.
"""

from __future__ import annotations

import functools
import html
import importlib.metadata as metadata
import os
import re
import sys
from dataclasses import dataclass, field
from pathlib import Path

__all__ = ["check", "Check"]

PACKAGES = ("reachkit", "numpy", "scipy", "matplotlib", "ipywidgets", "anywidget", "ipython", "ipykernel", "traitlets")
# Front-end extensions the server must serve for the explorers to draw (JupyterLab, Notebook 7, Voila).
LAB_EXTENSIONS = {"anywidget": "anywidget", "ipywidgets": "@jupyter-widgets/jupyterlab-manager"}
BLANK_HELP = ("If an explorer stays blank (no picture, no error): the widget extensions are missing from the "
              "environment that runs the Jupyter *server*, not the kernel's. In that environment run "
              "`pip install anywidget ipywidgets` (or `pip install 'reachkit[lab]'`), restart the server and "
              "reload the page. In VS Code, allow the widget scripts when it asks. The still picture under "
              "each explorer shows the run meanwhile.")
_PROBE_ESM = """export default { render({ model, el }) {
  el.innerHTML = "<ul class='rk-check'>" + model.get("report")
    + "<li><b>Widgets draw here</b>: the browser's widget front end drew this line.</li></ul>";
} };"""


def _front_end(env, modules, user_ns, kernel: bool) -> str:
    if "google.colab" in modules or "COLAB_RELEASE_TAG" in env:
        return "Google Colab"
    if "__vsc_ipynb_file__" in user_ns or "VSCODE_PID" in env or "VSCODE_CWD" in env:
        return "VS Code"
    if "BINDER_LAUNCH_HOST" in env or "BINDER_REPO_URL" in env:
        return "Binder (a Jupyter server)"
    if "JUPYTERHUB_USER" in env:
        return "JupyterHub (a Jupyter server)"
    if "JPY_PARENT_PID" in env or "JPY_SESSION_NAME" in env:
        return "a Jupyter server (JupyterLab, Notebook or Voila)"
    if kernel:
        return "a Jupyter kernel whose front end is not known"
    return "plain Python (no notebook): the explorers need a notebook front end"


def _version(name: str) -> str | None:
    try:
        return metadata.version(name)
    except metadata.PackageNotFoundError:
        return None


def _floors() -> dict[str, tuple[int, ...]]:
    """The lower bounds ``name>=x.y`` reachkit's own metadata declares (pyproject.toml is the one place)."""
    floors = {}
    for req in metadata.requires("reachkit") or ():
        m = re.match(r"([A-Za-z0-9_.-]+)\s*>=\s*([0-9.]+)", req)
        if m and "extra ==" not in req:
            floors[m[1].lower()] = _tuple(m[2])
    return floors


def _tuple(version: str) -> tuple[int, ...]:
    return tuple(int(p) for p in re.findall(r"\d+", version)[:3])


def _server_extension_dirs(env) -> list[Path]:
    """Where the server that started this kernel looks for lab extensions: its own prefix (read from
    the server's command line, ``JPY_PARENT_PID`` being the server's process id), the user's and the
    system's Jupyter data folders and ``JUPYTER_PATH``."""
    dirs = []
    pid = env.get("JPY_PARENT_PID")
    cmdline = Path(f"/proc/{pid}/cmdline") if pid and pid.isdigit() else None
    if cmdline is not None and cmdline.exists():
        exe = Path(cmdline.read_bytes().split(b"\0")[0].decode(errors="replace"))
        if exe.parent.name == "bin":
            dirs.append(exe.parent.parent / "share/jupyter")
    dirs += [Path(p) for p in env.get("JUPYTER_PATH", "").split(os.pathsep) if p]
    dirs += [Path.home() / ".local/share/jupyter", Path("/usr/local/share/jupyter"), Path("/usr/share/jupyter")]
    return dirs


@dataclass
class Check:
    """What :func:`check` found; ``lines`` is the report in words, ``problems`` what needs fixing."""

    front_end: str
    versions: dict[str, str | None]
    server_extensions: dict[str, bool | None] = field(default_factory=dict)
    problems: list[str] = field(default_factory=list)

    @property
    def lines(self) -> list[str]:
        shown = ", ".join(f"{k} {v or 'NOT INSTALLED'}" for k, v in self.versions.items())
        lines = [f"Front end: {self.front_end}.", f"Kernel: Python {sys.version.split()[0]}; {shown}."]
        for name, found in self.server_extensions.items():
            if found is not None:
                lines.append(f"Server: the {name} front-end extension is {'there' if found else 'NOT found'}.")
        lines += [f"PROBLEM: {p}" for p in self.problems] or ["No problem found in the kernel's environment."]
        return [*lines, BLANK_HELP]

    def __str__(self):
        return "\n".join(self.lines)

    def _repr_mimebundle_(self, include=None, exclude=None, **kwargs):
        """The report, plus a live widget that confirms drawing; where widgets do not render, the
        HTML fallback (shown instead of the widget) says so in words."""
        report = "".join(f"<li>{html.escape(line)}</li>" for line in self.lines)
        data = {"text/plain": str(self),
                "text/html": "<ul class='rk-check'>" + report + "<li><b>Widgets do NOT draw here</b>: "
                             "this line is the fallback a front end shows when it has no widget manager "
                             "(see the last point above).</li></ul>"}
        probe = _probe()
        if probe is not None:
            bundle, meta = probe._repr_mimebundle_()
            probe.report = report
            return {**data, **bundle}, meta
        return data


@functools.cache
def _probe_class():
    import anywidget
    import traitlets

    class Probe(anywidget.AnyWidget):
        _esm = _PROBE_ESM
        report = traitlets.Unicode("").tag(sync=True)

    return Probe


def _probe():
    try:
        return _probe_class()()
    except ImportError:
        return None


def check() -> Check:
    """Which front end this kernel runs under, the versions that matter, whether the server serves
    the widget extensions (when that can be read) and what to do when an explorer stays blank.
    Displayed in a notebook it adds a line drawn by the widget front end itself."""
    env, modules = os.environ, sys.modules
    shell = sys.modules.get("IPython") and sys.modules["IPython"].get_ipython()
    user_ns = getattr(shell, "user_ns", {}) or {}
    kernel = type(shell).__name__ == "ZMQInteractiveShell"
    versions = {name: _version(name) for name in PACKAGES}
    result = Check(_front_end(env, modules, user_ns, kernel), versions)
    for name, floor in _floors().items():
        have = versions.get(name) or _version(name)
        if have is None:
            result.problems.append(f"{name} is not installed in the kernel: pip install 'reachkit' brings it")
        elif _tuple(have) < floor:
            result.problems.append(f"{name} {have} is older than reachkit needs (>= {'.'.join(map(str, floor))}): "
                                   f"pip install -U {name}")
    if "JPY_PARENT_PID" in env and "google.colab" not in modules:
        dirs = _server_extension_dirs(env)
        for name, ext in LAB_EXTENSIONS.items():
            found = any((d / "labextensions" / ext / "package.json").exists() for d in dirs)
            result.server_extensions[name] = found
            if not found:
                result.problems.append(f"the server's {name} extension ({ext}) was not found in "
                                       + ", ".join(str(d / 'labextensions') for d in dirs))
    return result
