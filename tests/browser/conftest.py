"""Fixtures of the real-browser tests: one JupyterLab server and one headless Chromium per session.

Without Chromium (`apt-get install chromium`) or the `playwright` package the tests are skipped,
with a message saying how to get them; with REACHKIT_REQUIRE_BROWSER=1 (CI) they fail instead.
The machinery is in labdriver.py; the report of timings and measurements is printed by ../../conftest.py.
"""

from __future__ import annotations

import re

import pytest
from labdriver import (
    RESULTS,
    LabServer,
    browser_unavailable,
    launched_chromium,
    require_browser,
)


def _notebook_of(item) -> str:
    """The notebook prefix ("03") a test of test_instructions.py works on: its `prefix` parameter or
    its name (test_03_...); "~" (last) for a test that names none (it uses the last notebook)."""
    callspec = getattr(item, "callspec", None)
    if callspec is not None and "prefix" in callspec.params:
        return callspec.params["prefix"]
    m = re.match(r"test_(\d\d)_", item.name)
    return m.group(1) if m else "~"


def pytest_collection_modifyitems(items):
    """test_instructions.py's `opened` fixture keeps one notebook open and run at a time: order its
    tests notebook by notebook (the page checks of the fresh Run All first, then the instructions
    typed into the explorers, then the tests that name no notebook), so each notebook is opened and
    run once instead of once per test function."""
    users = [i for i, item in enumerate(items) if "opened" in getattr(item, "fixturenames", ())]
    ordered = sorted((items[i] for i in users),
                     key=lambda item: (_notebook_of(item), getattr(item, "callspec", None) is None))
    for i, item in zip(users, ordered, strict=True):
        items[i] = item


@pytest.fixture(scope="session")
def browser_requirements():
    reason = browser_unavailable()
    if reason is None:
        return
    if require_browser():
        pytest.fail("REACHKIT_REQUIRE_BROWSER is set but " + reason, pytrace=False)
    pytest.skip(reason)


@pytest.fixture(scope="session")
def results_dir():
    RESULTS.mkdir(parents=True, exist_ok=True)
    (RESULTS / "timings.json").unlink(missing_ok=True)  # this session's timings only
    for old in RESULTS.glob("*-FAILED.png"):  # full-page screenshots of earlier failures
        old.unlink()
    return RESULTS


# The Lab server and the browser live as long as one browser test module (test_e2e.py: the notebooks;
# test_view_in_lab.py: the view on synthetic runs; test_export.py uses the browser only), not the
# whole pytest session: while
# Playwright's sync API is alive, the main thread counts as running an asyncio loop, and the unit
# tests and notebooks that pytest runs after this folder must not inherit that.
@pytest.fixture(scope="module")
def lab(browser_requirements, results_dir, tmp_path_factory):
    """`jupyter lab` on a temporary copy of notebooks/ (free loopback port, random token)."""
    for attempt in range(3):
        server = LabServer(tmp_path_factory.mktemp("lab"))
        try:
            server.start()
            break
        except RuntimeError as exc:  # the free port was taken in the meantime: try another
            server.stop()
            if attempt == 2 or "already in use" not in str(exc):
                raise
    try:
        yield server
    finally:
        server.stop()


@pytest.fixture(scope="module")
def browser(browser_requirements):
    """Headless Chromium from the system (never Playwright's own download)."""
    with launched_chromium() as b:
        yield b

