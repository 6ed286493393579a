"""Without a kernel: a notebook with explorers, executed and exported to HTML, opened offline.

The notebook is executed once by nbconvert (nbclient saves the widget state, as ``jupyter nbconvert
--execute`` does by default) and exported twice: as it is (the widget state saved: nbconvert shows the
widget views, whose manager would come from a CDN) and with the state removed (nbconvert then falls back
to each output's HTML). Chromium opens both with every non-file request aborted; where each explorer
was, its still picture and status text must be visible. Screenshots: results/browser/export-*.png.
"""

from __future__ import annotations

import json
import shutil
import subprocess
import sys

import pytest
from labdriver import NOTEBOOK_DIR, SYNTHETIC_DIR, notebooks, png_stats

pytestmark = pytest.mark.browser


def _first_with_explorer():
    for path in notebooks():
        if "explore" in path.read_text():
            return path
    return None


SOURCES = {"synthetic": SYNTHETIC_DIR / "90_view_demo.ipynb"}
if (first := _first_with_explorer()) is not None:
    SOURCES["notebook"] = first


def _nbconvert(*args, cwd):
    done = subprocess.run([sys.executable, "-m", "jupyter", "nbconvert", *args], cwd=cwd,
                          capture_output=True, text=True, timeout=600)
    assert done.returncode == 0, done.stderr[-3000:]


@pytest.fixture(scope="module", params=sorted(SOURCES))
def executed(request, tmp_path_factory, browser_requirements):
    src = SOURCES[request.param]
    work = tmp_path_factory.mktemp(f"export-{request.param}")
    shutil.copy(src, work / src.name)
    if request.param == "notebook":  # notebooks may read files next to them
        for extra in NOTEBOOK_DIR.iterdir():
            if extra.is_file() and extra.suffix != ".ipynb":
                shutil.copy(extra, work / extra.name)
    _nbconvert("--to", "notebook", "--execute", "--output", "executed.ipynb", src.name, cwd=work)
    nb = json.loads((work / "executed.ipynb").read_text())
    assert "application/vnd.jupyter.widget-state+json" in nb["metadata"].get("widgets", {}), \
        "nbconvert --execute saved no widget state"
    stateless = dict(nb, metadata={k: v for k, v in nb["metadata"].items() if k != "widgets"})
    (work / "stateless.ipynb").write_text(json.dumps(stateless))
    for name in ("executed", "stateless"):
        _nbconvert("--to", "html", f"{name}.ipynb", cwd=work)
    explorers = sum(any("rk-still" in str(o.get("data", {}).get("text/html", "")) for o in c.get("outputs", []))
                    for c in nb["cells"])
    return request.param, work, explorers


@pytest.mark.parametrize("state", ["executed", "stateless"])
def test_offline_export_shows_the_still_pictures(executed, state, browser, results_dir):
    source, work, explorers = executed
    assert explorers >= 1, f"{source}: no explorer output carries a still picture"
    page = browser.new_page(viewport={"width": 1100, "height": 900})
    blocked = []

    def offline(route):
        if route.request.url.startswith("file://"):
            return route.continue_()
        blocked.append(route.request.url)
        return route.abort()

    try:
        page.route("**/*", offline)
        page.goto((work / f"{state}.html").as_uri())
        page.wait_for_timeout(1500)  # the page's own scripts give up on the CDN
        stills = page.locator(".rk-still")
        shown = [s for s in stills.all() if s.is_visible()]
        sizes = [s.locator("img").evaluate("(i) => [i.naturalWidth, i.getBoundingClientRect().width]") for s in shown]
        captions = [s.locator("figcaption").inner_text().strip() for s in shown]
        assert len(shown) == explorers, f"{source}/{state}: {len(shown)} of {explorers} still pictures visible"
        assert all(n > 0 and w > 100 for n, w in sizes), f"{source}/{state}: pictures not loaded: {sizes}"
        assert all(captions), f"{source}/{state}: a still picture without status text"
        shot = shown[0].screenshot()
        (results_dir / f"export-{source}-{state}.png").write_bytes(shot)
        stats = png_stats(shot)
        assert stats["std"] > 3, f"{source}/{state}: the still picture looks blank: {stats}"
    finally:
        page.close()


def test_offline_export_without_state_shows_each_question_as_text(executed, browser):
    """rk.predict questions on a page without the widget state (no widget manager): each shows its question
    and options as plain text (Prediction.as_text), and not its explanation. (The checks themselves need
    the widget manager: test_predict.py checks them with the kernel stopped.)"""
    source, work, _ = executed
    nb = json.loads((work / "executed.ipynb").read_text())
    state = nb["metadata"]["widgets"]["application/vnd.jupyter.widget-state+json"]["state"]
    questions = {k: m["state"] for k, m in state.items() if "question" in m["state"] and "options" in m["state"]}
    shown = [o["data"] for c in nb["cells"] for o in c.get("outputs", [])
             if o.get("data", {}).get("application/vnd.jupyter.widget-view+json", {}).get("model_id") in questions]
    if not shown:
        pytest.skip(f"{source}: no rk.predict question")
    page = browser.new_page()
    try:
        page.route("**/*", lambda r: r.continue_() if r.request.url.startswith("file://") else r.abort())
        page.goto((work / "stateless.html").as_uri())
        text = page.locator("body").inner_text()
        for data in shown:
            q = questions[data["application/vnd.jupyter.widget-view+json"]["model_id"]]
            plain = "".join(data["text/plain"])  # stored as a list of lines
            assert plain in text, f"{source}: question not shown as text: {plain!r}"
            assert q["question"] in plain and all(f"( ) {o}" in plain for o in q["options"]), plain
            assert not q["explanation"] or q["explanation"] not in text, f"explanation shown: {q['question']!r}"
    finally:
        page.close()
