"""rk.predict in JupyterLab + headless Chromium (``tests/browser/synthetic/91_predict.ipynb``): what a
student does (choose or type, Check, wrong then right, the keyboard) and what must follow (the feedback
words in a polite live region, the explanation, the kernel told), with option text that holds HTML,
quotes, dollars and unicode shown as written and never executed; then the kernel is stopped and the
numeric question still checks (the rule runs in the page); last, an exported page with no kernel."""

from __future__ import annotations

import json
import re

import pytest
from labdriver import LabNotebook

pytestmark = pytest.mark.browser

OPTIONS = ["<img src=x onerror=\"window.__pwned=1\">", "$\\lambda > 2/a$ & 'quoted'", "flat \u2192 sharp \u2713"]


@pytest.fixture(scope="module")
def page(browser, lab):
    nb = LabNotebook(browser, lab, "91_predict.ipynb", folder="synthetic")
    try:
        nb.open()
        nb.run_all()
        assert not nb.errors(), nb.errors()
        nb.page.wait_for_selector(".rk-predict", timeout=60_000)
        yield nb
    finally:
        nb.close()


def kernel_state(nb, name):
    index = nb.append_and_run(f"import json; print(json.dumps([{name}.answered, {name}.attempts, {name}.correct]))")
    text = "".join(o["text"] for o in nb.cells[index]["outputs"] if o["output_type"] == "stream")
    return json.loads(text.strip().splitlines()[-1])


def test_a_wrong_then_a_right_choice_and_text_shown_as_written(page):
    q = page.page.locator(".rk-predict").first
    assert q.locator("legend").inner_text() == "Which one? <script>window.__pwned=2</script>"
    labels = q.locator(".rk-predict-option")
    assert [labels.nth(i).inner_text() for i in range(labels.count())] == OPTIONS
    assert q.locator("img").count() == 0 and page.page.evaluate("window.__pwned") is None
    assert q.locator("fieldset > legend").count() == 1  # the radio group has a legend
    feedback = q.locator("[role=status]")
    assert feedback.get_attribute("aria-live") == "polite"

    q.get_by_role("button", name="Check").click()
    assert feedback.inner_text() == "Choose one of the options first."
    q.get_by_label(OPTIONS[0]).check()
    q.get_by_role("button", name="Check").click()
    assert feedback.inner_text().startswith("✗ Not quite.")
    assert q.get_attribute("data-verdict") == "wrong"
    assert kernel_state(page, "q") == [True, 1, False]

    # the keyboard alone: focus the checked radio, arrow down to the next option, Enter on Check
    q.get_by_label(OPTIONS[0]).focus()
    page.page.keyboard.press("ArrowDown")
    assert q.get_by_label(OPTIONS[1]).is_checked()
    q.get_by_role("button", name="Check").focus()
    page.page.keyboard.press("Enter")
    assert feedback.inner_text() == "✓ Right."
    explanation = q.locator("details.rk-predict-explanation")
    assert explanation.is_visible() and explanation.get_attribute("open") is not None
    assert explanation.locator("div").inner_text() == "Because <b>not bold</b>." and q.locator("b").count() == 0
    assert kernel_state(page, "q") == [True, 2, True]


def test_the_numeric_question_checks_with_no_kernel(page, lab):
    n = page.page.locator(".rk-predict").nth(1)
    box, feedback = n.get_by_label("Your answer"), n.locator("[role=status]")
    box.fill("abc")
    box.press("Enter")
    assert re.match(r'Type a number \(for example 0.05\); "abc" is not one\.', feedback.inner_text())
    lab.shutdown_kernels("91_predict.ipynb")
    box.fill("0.06")
    n.get_by_role("button", name="Check").click()
    assert feedback.inner_text().startswith("✗ Not quite. Your number is too high.")
    box.fill("0.051")  # within 0.002 of 2/40
    box.press("Enter")
    assert feedback.inner_text() == "✓ Right."
    assert not [e for e in page.page_errors if "predict" in e.lower()], page.page_errors


def test_an_explorer_waits_for_the_guess_then_play_shows_the_run(page):
    from labdriver import ViewDriver, pixels_changed

    out = page.page.locator(".jp-OutputArea-output:has(.rk-view)").first
    v = ViewDriver(page, out)
    v.root.scroll_into_view_if_needed()
    q = out.locator(".rk-predict")
    veil, status = v.root.locator(".rk-veil"), v.root.locator(".rk-status")
    assert veil.is_visible() and "hidden until you answer" in veil.inner_text()
    assert not status.is_visible() and v.button("Play").is_disabled()
    assert "hidden until you answer" in v.figure.get_attribute("aria-label")
    assert not out.locator(".rk-readouts").is_visible()
    before = page.screenshot(v.figure)

    q.get_by_label("the flat one").check()
    q.get_by_role("button", name="Check").click()  # a wrong guess is still a committed guess
    assert q.locator("[role=status]").inner_text().startswith("✗ Not quite.")
    status.wait_for(state="visible")
    assert not veil.is_visible() and "converged" in status.inner_text()
    assert out.locator(".rk-readouts").is_visible() and not v.button("Play").is_disabled()
    assert "GD: converged" in v.figure.get_attribute("aria-label")
    revealed = page.screenshot(v.figure)
    assert pixels_changed(before, revealed) > 200, "the path did not appear after the answer"
    v.button("Rewind").click()
    v.button("Play").click()
    page.page.wait_for_timeout(400)
    assert pixels_changed(revealed, page.screenshot(v.figure)) > 50, "Play did not animate after the answer"


@pytest.fixture(scope="module")
def exported(tmp_path_factory, browser_requirements):
    """91_predict.ipynb executed with its widget state saved and exported to HTML (nbconvert), opened with
    the widget scripts the site vendors and every other request aborted: a page with no kernel."""
    import nbformat
    from labdriver import SYNTHETIC_DIR
    from nbclient import NotebookClient
    from test_no_kernel import _site_tool

    tool = _site_tool()
    out = tmp_path_factory.mktemp("predict-export")
    tool.vendor(out / "vendor")
    nb = nbformat.read(SYNTHETIC_DIR / "91_predict.ipynb", as_version=4)
    NotebookClient(nb, timeout=300, kernel_name="python3", store_widget_state=True,
                   resources={"metadata": {"path": str(SYNTHETIC_DIR)}}).execute()
    (out / "export.html").write_text(tool.to_html(nb))
    return out


def test_in_an_exported_page_with_no_kernel_questions_check_and_the_explorer_waits(exported, browser):
    from test_no_kernel import _open

    blocked = []
    context, page = _open(browser, exported / "export.html", exported / "vendor", blocked)
    try:
        page.locator(".rk-predict").nth(2).wait_for(state="visible", timeout=60_000)
        choice, number, guess = (page.locator(".rk-predict").nth(i) for i in range(3))
        labels = choice.locator(".rk-predict-option")
        assert [labels.nth(i).inner_text() for i in range(labels.count())] == OPTIONS
        assert page.evaluate("window.__pwned") is None and choice.locator("img").count() == 0
        choice.get_by_label(OPTIONS[2]).check()
        choice.get_by_role("button", name="Check").click()
        assert choice.locator("[role=status]").inner_text().startswith("✗ Not quite.")
        choice.get_by_label(OPTIONS[1]).check()
        choice.get_by_role("button", name="Check").click()
        assert choice.locator("[role=status]").inner_text() == "✓ Right."
        box = number.get_by_label("Your answer")
        box.fill("0.03")
        box.press("Enter")
        assert number.locator("[role=status]").inner_text().startswith("✗ Not quite. Your number is too low.")
        box.fill("0.05")
        box.press("Enter")
        assert number.locator("[role=status]").inner_text() == "✓ Right."

        view = page.locator(".rk-view").first
        assert view.locator(".rk-veil").is_visible() and not view.locator(".rk-status").is_visible()
        guess.get_by_label("the sharp one").check()
        guess.get_by_role("button", name="Check").click()
        view.locator(".rk-status").wait_for(state="visible", timeout=10_000)  # the link works in the page
        assert not view.locator(".rk-veil").is_visible() and "converged" in view.locator(".rk-status").inner_text()
    finally:
        context.close()
