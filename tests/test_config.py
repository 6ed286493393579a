"""Consistency checks for the packaging and developer files.

These guard the pieces that are easy to let drift apart: the pip route
(pyproject.toml + Makefile), the conda route (environment.yml), Binder
(binder/) and the README's badge.
"""

from __future__ import annotations

import ast
import importlib.metadata
import os
import re
import stat
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest
from packaging.requirements import Requirement
from packaging.version import Version

if sys.version_info >= (3, 11):
    import tomllib
else:  # pragma: no cover - Python 3.10
    import tomli as tomllib

ROOT = Path(__file__).resolve().parents[1]

# conda-forge package name -> PyPI distribution name, where they differ.
CONDA_TO_PYPI = {
    "matplotlib-base": "matplotlib",
}
# Conda entries that are not Python dependencies of the package.
CONDA_ONLY = {"python", "pip", "setuptools"}


def _canon(name: str) -> str:
    return re.sub(r"[-_.]+", "-", name).lower()


def _pyproject() -> dict:
    with open(ROOT / "pyproject.toml", "rb") as f:
        return tomllib.load(f)


def _conda_dependency_strings(path: Path) -> list[str]:
    """Plain string entries of the ``dependencies`` list of a conda env file."""
    try:
        import yaml
    except ImportError:  # pragma: no cover - tiny fallback parser
        deps, inside = [], False
        for raw in path.read_text().splitlines():
            line = raw.split("#", 1)[0].rstrip()
            if not line:
                continue
            if not line.startswith((" ", "-")):
                inside = line.startswith("dependencies:")
                continue
            stripped = line.strip()
            if inside and line.startswith("  - ") and stripped != "- pip:":
                deps.append(stripped[2:].strip())
        return deps
    data = yaml.safe_load(path.read_text())
    return [d for d in data["dependencies"] if isinstance(d, str)]


_CONDA_SPEC = re.compile(
    r"^\s*([A-Za-z0-9_.\-]+)\s*(?:(==|=|>=|<=|>|<)\s*([0-9][0-9A-Za-z.*]*))?\s*$"
)


def _conda_pins() -> dict[str, tuple[str | None, str | None]]:
    """Map PyPI-style name -> (operator, version) for each conda dependency."""
    pins = {}
    for spec in _conda_dependency_strings(ROOT / "environment.yml"):
        m = _CONDA_SPEC.match(spec)
        assert m, f"cannot parse conda dependency {spec!r} in environment.yml"
        name, op, version = m.groups()
        name = CONDA_TO_PYPI.get(name, name)
        pins[_canon(name)] = (op, re.sub(r"\.\*$", "", version) if version else None)
    return pins


def _pin_is_compatible(op: str | None, pinned: str, requirement: Requirement) -> list[str]:
    """Return the pyproject specifiers that a conda version spec contradicts.

    conda's ``=2.4`` means any 2.4.x: its highest member is checked against
    lower bounds and its lowest against upper bounds.
    """
    if op == "=":
        high, low = pinned + ".99999", pinned
    elif op in (">=", ">"):
        high, low = None, pinned  # unbounded above
    elif op in ("<=", "<"):
        high, low = pinned, None
    else:  # "==" or a bare version
        high = low = pinned
    problems = []
    for spec in requirement.specifier:
        candidate = high if spec.operator in (">=", ">") else low
        if candidate is not None and not spec.contains(candidate, prereleases=True):
            problems.append(f"{requirement.name}{spec} vs conda {op}{pinned}")
    return problems


# (a) -------------------------------------------------------------------------


def test_binder_environment_is_byte_identical_copy():
    root_env = (ROOT / "environment.yml").read_bytes()
    binder_env = (ROOT / "binder" / "environment.yml").read_bytes()
    assert binder_env == root_env, "binder/environment.yml must be a copy of environment.yml"


def test_environment_uses_conda_forge_only():
    try:
        import yaml
    except ImportError:  # pragma: no cover
        pytest.skip("PyYAML not installed")
    data = yaml.safe_load((ROOT / "environment.yml").read_text())
    assert data["name"] == "reachkit"
    assert "conda-forge" in data["channels"]
    assert set(data["channels"]) <= {"conda-forge", "nodefaults"}
    # No "pip: [-e .]" section: Binder builds the env before the repo is there.
    assert all(isinstance(d, str) for d in data["dependencies"])


# (b) -------------------------------------------------------------------------


# What environment.yml (and so Binder) must hold: the library and the extras a student or a
# lecturer needs in JupyterLab. The test extra's browser, hub and lint tools stay pip-only.
ENVIRONMENT_EXTRAS = ("lab", "video", "demo")


def _requirements(*extras: str, runtime: bool = True) -> list[Requirement]:
    project = _pyproject()["project"]
    reqs = [Requirement(r) for r in project["dependencies"]] if runtime else []
    for extra in extras:
        reqs += [Requirement(r) for r in project["optional-dependencies"][extra]]
    return reqs


def test_runtime_dependencies_and_lab_video_demo_extras_are_in_environment_yml():
    pins = _conda_pins()
    missing = [r.name for r in _requirements(*ENVIRONMENT_EXTRAS) if _canon(r.name) not in pins]
    assert not missing, f"pyproject.toml requirements missing from environment.yml: {missing}"


def test_environment_pins_satisfy_pyproject_bounds():
    reqs = _requirements(*_pyproject()["project"]["optional-dependencies"])
    pins = _conda_pins()
    problems, compared = [], 0
    for req in reqs:
        if req.marker is not None and not req.marker.evaluate({"python_version": "3.11"}):
            continue
        op, version = pins.get(_canon(req.name), (None, None))
        if version is None:
            continue
        compared += 1
        problems += _pin_is_compatible(op, version, req)
    assert compared >= 5, "expected most dependencies to carry a version in environment.yml"
    assert not problems, "environment.yml pins contradict pyproject.toml: " + "; ".join(problems)


def test_environment_python_satisfies_requires_python():
    op, version = _conda_pins()["python"]
    assert version is not None, "environment.yml should pin python"
    req = Requirement("python" + _pyproject()["project"]["requires-python"])
    assert not _pin_is_compatible(op, version, req)


def test_environment_conda_only_entries_are_known():
    """Anything in environment.yml beyond pyproject's deps must be deliberate."""
    declared = {_canon(r.name) for r in _requirements(*_pyproject()["project"]["optional-dependencies"])}
    extra = set(_conda_pins()) - declared - CONDA_ONLY
    assert not extra, f"environment.yml has packages pyproject.toml does not declare: {extra}"


# (b') the lean install ------------------------------------------------------------------


def _imports_of_reachkit() -> dict[str, bool]:
    """Top-level third-party module -> True if some reachkit module imports it unconditionally
    at module level (so `import reachkit.<module>` needs it), False if only inside functions."""
    found: dict[str, bool] = {}
    for path in sorted((ROOT / "reachkit").rglob("*.py")):
        tree = ast.parse(path.read_text())
        eager = {id(n) for n in tree.body if isinstance(n, (ast.Import, ast.ImportFrom))}
        for node in ast.walk(tree):
            if isinstance(node, ast.Import):
                names = [a.name for a in node.names]
            elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
                names = [node.module]
            else:
                continue
            for name in names:
                top = name.split(".")[0]
                if top == "reachkit" or top in sys.stdlib_module_names or top == "__future__":
                    continue
                found[top] = found.get(top, False) or id(node) in eager
    return found


def _distribution_of(module: str) -> str:
    dists = importlib.metadata.packages_distributions().get(module)
    assert dists, f"reachkit imports {module!r}, which no installed distribution provides"
    return _canon(dists[0])


def _provided_by(requirements: list[Requirement]) -> set[str]:
    """The named distributions and everything they require (one level is enough for cycler etc.)."""
    names = {_canon(r.name) for r in requirements}
    for r in requirements:
        for sub in importlib.metadata.requires(r.name) or []:
            req = Requirement(sub)
            if req.marker is None or req.marker.evaluate({"extra": ""}):
                names.add(_canon(req.name))
    return names


def test_dependencies_are_the_library_and_nothing_of_the_notebook_stack():
    runtime = {_canon(r.name) for r in _requirements()}
    assert {"numpy", "scipy", "matplotlib", "ipywidgets", "pillow"} <= runtime
    heavy = {"jupyterlab", "notebook", "ipympl", "imageio-ffmpeg", "voila", "jupyterhub", "nbgitpuller",
             "pytest", "playwright", "nbval"}
    assert not runtime & heavy, f"`pip install reachkit` would pull {sorted(runtime & heavy)}"
    extras = _pyproject()["project"]["optional-dependencies"]
    assert {_canon(Requirement(r).name) for r in extras["lab"]} >= {"jupyterlab"}
    assert {_canon(Requirement(r).name) for r in extras["video"]} == {"imageio-ffmpeg"}
    assert {_canon(Requirement(r).name) for r in extras["test"]} >= {"jupyterhub", "nbgitpuller", "voila", "psutil"}


def test_every_import_of_reachkit_is_declared():
    """Module-level imports come from the dependencies; imports inside functions may come from
    the lab and video extras (imageio-ffmpeg's writer) and must fail softly."""
    lean = _provided_by(_requirements())
    with_extras = _provided_by(_requirements("lab", "video"))
    imports = _imports_of_reachkit()
    assert {"numpy", "matplotlib", "ipywidgets"} <= set(imports)  # the scan sees the real imports
    eager_missing = {m for m, eager in imports.items() if eager and _distribution_of(m) not in lean}
    assert not eager_missing, f"imported at module level but not in [project] dependencies: {eager_missing}"
    missing = {m for m in imports if _distribution_of(m) not in with_extras}
    assert not missing, f"imported by reachkit but declared nowhere: {missing}"


LEAN_SCRIPT = textwrap.dedent("""
    import importlib.abc, sys
    BLOCKED = {"jupyterlab", "notebook", "ipympl", "imageio_ffmpeg", "voila", "jupyter_server"}

    class Lean(importlib.abc.MetaPathFinder):  # what `pip install reachkit` alone leaves out
        def find_spec(self, name, path=None, target=None):
            if name.split(".")[0] in BLOCKED:
                raise ModuleNotFoundError(f"No module named {name!r}", name=name)

    sys.meta_path.insert(0, Lean())
    import reachkit as rk
    ex = rk.explore(rk.landscapes.sharp_flat_2d(), start=(-0.7, 1.2), step=0.12, n_steps=50)
    print(type(ex).__name__, rk.gradient_descent(rk.landscapes.sharp_flat_2d(), (-0.7, 1.2), 0.12, 300).status[0])
    try:
        rk.save_animation(rk.landscapes.saddle(), sys.argv[1], max_frames=3)
    except ModuleNotFoundError as exc:
        print("MP4:", exc)
    print(sorted(m for m in BLOCKED if m in sys.modules))
""")


def test_lean_install_imports_reachkit_builds_an_explorer_and_names_the_video_extra(tmp_path):
    """With JupyterLab, ipympl, imageio-ffmpeg and Voila unimportable (a hub image or Pyodide with
    `pip install reachkit` only), the library imports, an explorer is built (PNG view) and MP4
    export says which extra to install."""
    out = subprocess.run([sys.executable, "-c", LEAN_SCRIPT, str(tmp_path / "x.mp4")], capture_output=True,
                         text=True, cwd=tmp_path, timeout=120, env=dict(os.environ, MPLBACKEND="Agg"))
    assert out.returncode == 0, out.stderr[-3000:]
    lines = out.stdout.strip().splitlines()
    assert lines[0].startswith("Explorer") and lines[0].endswith(" converged"), lines
    assert "pip install 'reachkit[video]'" in lines[1], lines
    assert lines[2] == "[]", lines
    assert not (tmp_path / "x.mp4").exists()


def test_conda_pin_comparison_catches_conflicts():
    """The comparison used above must be able to fail."""
    assert _pin_is_compatible("=", "1.25", Requirement("numpy>=1.26"))
    assert not _pin_is_compatible("=", "2.4", Requirement("numpy>=1.26"))
    assert not _pin_is_compatible("=", "0.9", Requirement("ipympl>=0.9.4"))  # 0.9.* admits 0.9.4
    assert _pin_is_compatible("=", "0.8", Requirement("ipympl>=0.9.4"))
    assert _pin_is_compatible("=", "2.0", Requirement("numpy>=1.26,<2"))
    assert _pin_is_compatible("<", "60", Requirement("setuptools>=64"))
    assert not _pin_is_compatible(">=", "64", Requirement("setuptools>=64"))


# (c) -------------------------------------------------------------------------


def test_binder_postbuild_is_executable_and_installs_package():
    post = ROOT / "binder" / "postBuild"
    mode = post.stat().st_mode
    assert mode & stat.S_IXUSR, "binder/postBuild must be executable"
    assert os.access(post, os.X_OK)
    text = post.read_text()
    assert text.startswith("#!/bin/bash\n")
    assert "set -euo pipefail" in text
    install = [
        ln for ln in text.splitlines() if "pip install" in ln and not ln.lstrip().startswith("#")
    ]
    assert install, "binder/postBuild must pip-install the package"
    assert any(re.search(r"(^|\s)-e \.(\s|$)", ln) for ln in install)
    assert any("--no-deps" in ln for ln in install), "deps come from environment.yml"
    if any("--no-build-isolation" in ln for ln in install):
        # The build backend then comes from environment.yml; setuptools < 70.1
        # needs the separate `wheel` package for an editable install.
        op, version = _conda_pins().get("setuptools", (None, None))
        assert version is not None, "environment.yml must provide setuptools for postBuild"
        assert op in (">=", ">", "=", "==") and Version(version) >= Version("70.1"), (
            f"environment.yml needs setuptools>=70.1, has {op}{version}"
        )
    subprocess.run(["bash", "-n", str(post)], check=True)


def test_ci_run_is_executable_and_runs_make_test():
    ci = ROOT / ".ci" / "run"
    assert os.access(ci, os.X_OK), ".ci/run must be executable"
    text = ci.read_text()
    assert "set -euo pipefail" in text
    assert re.search(r"^[^#]*\bmake test\b", text, re.M)
    # the browser and hub suites are required in CI: their pieces are installed, missing ones fail
    assert re.search(r"^export REACHKIT_REQUIRE_BROWSER=1$", text, re.M)
    assert re.search(r"^export REACHKIT_REQUIRE_HUB=1$", text, re.M)
    assert re.search(r"^[^#]*npm install\b.*\bconfigurable-http-proxy", text, re.M)
    subprocess.run(["bash", "-n", str(ci)], check=True)


# (d) -------------------------------------------------------------------------


@pytest.mark.parametrize("target", ["lab", "test", "test-oldest", "test-colab", "site", "handout", "demo", "bench",
                                    "lint", "clean"])
def test_makefile_defines_target(target):
    makefile = (ROOT / "Makefile").read_text()
    assert re.search(rf"^{target}\s*:", makefile, re.M), f"Makefile has no '{target}' target"
    phony = " ".join(re.findall(r"^\.PHONY\s*:(.*)$", makefile, re.M)).split()
    assert target in phony, f"'{target}' should be .PHONY"


def test_makefile_installs_the_extras_its_targets_need():
    makefile = (ROOT / "Makefile").read_text()
    m = re.search(r"^EXTRAS\s*\?=\s*(\S+)\s*$", makefile, re.M)
    assert m, "Makefile sets no EXTRAS"
    assert set(m.group(1).split(",")) >= {"lab", "video", "test"}
    assert "pip install -e '.[$(EXTRAS)]'" in makefile
    # `make demo` runs Voila, which the test extra brings along
    assert "voila" in {_canon(r.name) for r in _requirements("test", runtime=False)}


def test_pyproject_declares_package_and_extras():
    data = _pyproject()
    assert data["project"]["name"] == "reachkit"
    assert data["tool"]["setuptools"]["packages"] == ["reachkit", "reachkit.explorers", "reachkit.static",
                                                      "reachkit.data"]
    # the explorer view's front end and notebook 07's example minimum ship with the package: every
    # file in reachkit/static and reachkit/data is declared
    for folder, needed in (("static", {"view.js", "view.css"}), ("data", {"sharp_minimum.json"})):
        patterns = data["tool"]["setuptools"]["package-data"][f"reachkit.{folder}"]
        shipped = {p.name for pattern in patterns for p in (ROOT / "reachkit" / folder).glob(pattern)}
        assert needed <= shipped
        assert shipped == {p.name for p in (ROOT / "reachkit" / folder).iterdir() if p.is_file()}
    test_extra = {
        _canon(Requirement(r).name) for r in data["project"]["optional-dependencies"]["test"]
    }
    assert {"pytest", "nbval", "playwright", "nbstripout", "ruff"} <= test_extra
    markers = data["tool"]["pytest"]["ini_options"]["markers"]
    assert any(m.startswith("browser:") for m in markers)
    assert any(m.startswith("hub:") for m in markers)


# (e) -------------------------------------------------------------------------


def test_readme_binder_badge_points_to_notebook():
    readme = (ROOT / "README.md").read_text()
    m = re.search(
        r"\[!\[Binder\]\(https://mybinder\.org/badge_logo\.svg\)\]"
        r"\((https://mybinder\.org/v2/gh/[^)\s]+)\)",
        readme,
    )
    assert m, "README.md has no Binder badge"
    url = m.group(1)
    up = re.search(r"[?&]urlpath=lab/tree/([^&#]+)", url)
    assert up, f"Binder badge URL has no urlpath=lab/tree/...: {url}"
    path = up.group(1)
    assert re.fullmatch(r"notebooks/\d\d_[A-Za-z0-9_\-]+\.ipynb", path), path
    if not (ROOT / path).exists():
        pytest.skip(f"{path} is not written yet (notebooks come later)")
    assert (ROOT / path).is_file()


def test_oldest_constraints_pin_exactly_the_pyproject_floors():
    """constraints/oldest.txt (`make test-oldest`) is the lower bound of every runtime dependency."""
    floors = {}
    for dep in _pyproject()["project"]["dependencies"]:
        m = re.fullmatch(r"([A-Za-z0-9_.-]+)>=([0-9.]+)", dep.split(";")[0].strip())
        assert m, f"runtime dependency without a plain >= floor: {dep!r}"
        floors[m[1].lower()] = m[2]
    pins = dict(line.split("==") for line in (ROOT / "constraints" / "oldest.txt").read_text().splitlines()
                if line.strip() and not line.startswith("#"))

    def same(a, b):  # 1.26 == 1.26.0
        return [int(p) for p in a.split(".")] + [0] * (3 - a.count(".") - 1) == \
            [int(p) for p in b.split(".")] + [0] * (3 - b.count(".") - 1)

    assert set(pins) == set(floors)
    assert all(same(pins[name], floors[name]) for name in floors), (pins, floors)
