"""Fixtures of the hub tests: one headless Chromium, one local JupyterHub, one Voila demo server.

Without Chromium, playwright, jupyterhub, nbgitpuller, voila, psutil, git or configurable-http-proxy
the tests are skipped with a message saying how to get them; with REACHKIT_REQUIRE_HUB=1 (CI)
they fail instead. The machinery is in hubdriver.py (the hub) and ../browser/labdriver.py (pages); the
report of login times and memory is printed by ../../conftest.py.
"""

from __future__ import annotations

import json
import sys
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "browser"))

from hubdriver import RESULTS, LocalHub, course_repository, hub_unavailable, require_hub  # noqa: E402
from labdriver import launched_chromium  # noqa: E402


@pytest.fixture(scope="module")
def hub_requirements():
    reason = hub_unavailable()
    if reason is None:
        return
    if require_hub():
        pytest.fail("REACHKIT_REQUIRE_HUB is set but " + reason, pytrace=False)
    pytest.skip(reason)


@pytest.fixture(scope="module")
def hub_results():
    RESULTS.mkdir(parents=True, exist_ok=True)
    for old in RESULTS.glob("*-FAILED.png"):
        old.unlink()
    return RESULTS


@pytest.fixture(scope="module")
def chromium(hub_requirements):
    """Headless Chromium from the system; its Playwright loop ends with the module (see ../browser)."""
    with launched_chromium() as b:
        yield b


@pytest.fixture(scope="module")
def hub(hub_requirements, tmp_path_factory):
    """A JupyterHub on 127.0.0.1 whose students pull a bare clone of this checkout's HEAD."""
    base = tmp_path_factory.mktemp("hub")
    repo_url, branch = course_repository(base)
    server = LocalHub(base, repo_url, branch)
    try:
        server.start()
        yield server
    finally:
        leftovers = server.stop()
        (base / "leftovers.json").write_text(json.dumps(leftovers))
        assert not server.processes()["server"], "single-user servers survived the hub"

