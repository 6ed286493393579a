"""Demo mode: ``make demo NB=03`` serves notebook 03 as a Voila app, checked in headless Chromium.

The page shows the prose and the explorers but no code, in the lecture template's large type; no
cell output is an error or a traceback; the first explorer is drawn, Play animates it and arrow
keys on its step slider redraw it. The time from opening the page to a drawn explorer goes to
``results/hub/voila.json``. The browser-drawn explorer view (anywidget, reachkit/view.py) is
checked the same way on the browser suite's synthetic notebook.

Run: ``make test PYTEST_ARGS="-m hub"``.
"""

from __future__ import annotations

import contextlib
import json
import time

import pytest
from explorer_check import check_explorer, explorer_roots, wait_voila_rendered
from hubdriver import VoilaDemo

pytestmark = pytest.mark.hub

NB = "03"
LECTURE_PROSE_PX = 22  # share/jupyter/voila/templates/reachkit-lecture/index.html.j2


VIEW_DEMO = "tests/browser/synthetic/90_view_demo.ipynb"  # ExplorerView with closed-form runs


@pytest.fixture(scope="module")
def demo(hub_requirements, tmp_path_factory):
    server = VoilaDemo(tmp_path_factory.mktemp("voila"), NB)
    try:
        yield server.start()
    finally:
        server.stop()


@contextlib.contextmanager
def voila_page(chromium, base, notebook, failed_png):
    """A Voila server for ``notebook`` and a page on it, rendered; the page's errors in a list beside it."""
    server = VoilaDemo(base, notebook).start()
    page = chromium.new_page(viewport={"width": 1500, "height": 1000})
    page_errors: list[str] = []
    page.on("pageerror", lambda e: page_errors.append(str(e)))
    try:
        t0 = time.monotonic()
        page.goto(server.url, timeout=180_000)
        wait_voila_rendered(page, t0)
        yield page, page_errors
    except BaseException:
        page.screenshot(path=str(failed_png), full_page=True)
        raise
    finally:
        page.close()
        server.stop()


def test_anywidget_view_renders_and_plays_in_voila(chromium, hub_requirements, tmp_path, hub_results):
    with voila_page(chromium, tmp_path, VIEW_DEMO, hub_results / "voila-view-FAILED.png") as (page, page_errors):
        roots = explorer_roots(page)
        assert len(roots) == 3 and page.locator(".rk-view").count() == 3, f"views: {page.locator('.rk-view').count()}"
        seen = check_explorer(roots[0], step_slider=True)
        assert seen["view"] == "anywidget"
        assert page.locator(".rk-view.rk-lecture").count() == 1, "demo(lecture=True) is not in lecture style"
        assert not page_errors, page_errors


def test_make_demo_serves_the_notebook_as_an_app(chromium, demo, hub_results):
    context = chromium.new_context(viewport={"width": 1500, "height": 1000}, device_scale_factor=1)
    page = context.new_page()
    page_errors: list[str] = []
    page.on("pageerror", lambda e: page_errors.append(str(e)))
    t0 = time.monotonic()
    try:
        page.goto(demo.url, timeout=180_000)
        rendered_s = wait_voila_rendered(page, t0)
        roots = explorer_roots(page)
        assert roots, f"no explorer on the Voila page\n{demo.log_tail()}"
        seen = check_explorer(roots[0], step_slider=True)
        drawn_s = round(time.monotonic() - t0, 1)

        # prose, no code, lecture style
        prose = page.locator(".jp-RenderedMarkdown p").first
        assert prose.is_visible() and "Predict" in page.locator("#rendered_cells").inner_text()
        assert page.locator(".jp-InputArea-editor:visible, .cm-editor:visible").count() == 0, "code is shown"
        assert "rk.explore(" not in page.locator("#rendered_cells").inner_text(), "code text on the page"
        size = prose.evaluate("(p) => parseFloat(getComputedStyle(p).fontSize)")
        assert size == LECTURE_PROSE_PX, f"prose at {size}px: the lecture template is not in use"

        # no error output: Voila shows a cell's error as an output of its own
        stderr = page.locator("[data-mime-type='application/vnd.jupyter.stderr']").all_inner_texts()
        text = page.locator("#rendered_cells").inner_text()
        assert not [s for s in stderr if "Traceback" in s or "Error" in s], stderr
        assert "Traceback (most recent call last)" not in text
        assert not page.locator(".jupyter-widgets-error-widget").count(), "a widget failed to render"
        assert not page_errors, page_errors
        page.locator("#rendered_cells").screenshot(path=str(hub_results / "voila-03.png"))
        (hub_results / "voila.json").write_text(json.dumps({
            "notebook": NB, "page_rendered_s": rendered_s, "explorer_checked_s": drawn_s, "explorers": len(roots),
            "step": seen["step"], "play_frames": seen["play"]["frames"],
            "measured": time.strftime("%Y-%m-%d %H:%M:%S")}, indent=1))
    except BaseException:
        try:
            page.screenshot(path=str(hub_results / "voila-FAILED.png"), full_page=True)
        except Exception:
            pass
        raise
    finally:
        context.close()


PREDICT_DEMO = "tests/browser/synthetic/91_predict.ipynb"  # two questions and an explorer that waits


def test_a_question_answers_and_an_explorer_waits_in_voila(chromium, hub_requirements, tmp_path, hub_results):
    """rk.predict in demo mode: wrong then right on the numeric question (feedback in the live region),
    and the explorer that waits shows no path and no status until its question is answered, then plays."""
    from labdriver import pixels_changed

    with voila_page(chromium, tmp_path, PREDICT_DEMO, hub_results / "voila-predict-FAILED.png") as (page, page_errors):
        n = page.locator(".rk-predict").nth(1)
        box, feedback = n.get_by_label("Your answer"), n.locator("[role=status]")
        assert feedback.get_attribute("aria-live") == "polite"
        box.fill("0.06")
        n.get_by_role("button", name="Check").click()
        assert feedback.inner_text().startswith("✗ Not quite. Your number is too high.")
        box.fill("0.05")
        box.press("Enter")
        assert feedback.inner_text() == "✓ Right."

        out = explorer_roots(page)[0]
        view, q = out.locator(".rk-view").first, out.locator(".rk-predict")
        figure, status = view.locator(".rk-figure"), view.locator(".rk-status")
        figure.scroll_into_view_if_needed()
        play = view.get_by_role("button", name="Play", exact=True)
        assert view.locator(".rk-veil").is_visible() and not status.is_visible() and play.is_disabled()
        before = figure.screenshot()
        q.get_by_label("the sharp one").check()
        q.get_by_role("button", name="Check").click()
        status.wait_for(state="visible")
        assert "converged" in status.inner_text() and not play.is_disabled()
        revealed = figure.screenshot()
        assert pixels_changed(before, revealed) > 200, "the path did not appear after the answer"
        view.get_by_role("button", name="Rewind", exact=True).click()
        play.click()
        page.wait_for_timeout(400)
        assert pixels_changed(revealed, figure.screenshot()) > 50, "Play did not animate after the answer"
        assert not page_errors, page_errors
