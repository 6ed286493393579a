"""Binder's build recipe, as repo2docker writes it (``--no-build --no-run`` needs no Docker): the
environment it builds from binder/, that the server and the kernel share it (so the widget
extensions sit where the server looks), and that postBuild then installs the package."""

import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
import yaml

ROOT = Path(__file__).resolve().parents[1]


@pytest.fixture(scope="module")
def recipe():
    exe = shutil.which("repo2docker", path=str(Path(sys.executable).parent)) or shutil.which("repo2docker")
    if exe is None:
        pytest.skip("jupyter-repo2docker is not installed (it comes with the test extra)")
    out = subprocess.run([exe, "--no-build", "--debug", "--no-run", str(ROOT)], capture_output=True, text=True,
                         timeout=120, check=True)
    return out.stdout, out.stderr


def test_binder_builds_the_conda_environment_of_binder_folder(recipe):
    dockerfile, log = recipe
    env = yaml.safe_load((ROOT / "binder" / "environment.yml").read_text())
    python = next(d for d in env["dependencies"] if isinstance(d, str) and d.startswith("python="))
    assert f"Building conda environment for {python}" in log
    assert "COPY --chown=0:0 src/binder/environment.yml ${REPO_DIR}/binder/environment.yml" in dockerfile
    assert re.search(r'env update -p \$\{NB_PYTHON_PREFIX\} --file "binder/environment\.yml"', dockerfile)


def test_server_and_kernel_share_the_environment_with_the_widget_extensions(recipe):
    dockerfile, _ = recipe
    assert "ENV KERNEL_PYTHON_PREFIX=${NB_PYTHON_PREFIX}" in dockerfile  # one env: server and kernel
    env = yaml.safe_load((ROOT / "binder" / "environment.yml").read_text())
    names = {re.split(r"[=<>\s]", d)[0] for d in env["dependencies"] if isinstance(d, str)}
    assert {"jupyterlab", "ipywidgets", "anywidget"} <= names


def test_postbuild_runs_after_the_repository_is_copied(recipe):
    dockerfile, _ = recipe
    copy = dockerfile.index("COPY --chown=0:0 src/ ${REPO_DIR}/")
    env = dockerfile.index('--file "binder/environment.yml"')
    post = dockerfile.index("RUN ./binder/postBuild")
    assert env < copy < post
    assert "pip install --no-deps" in (ROOT / "binder" / "postBuild").read_text()
