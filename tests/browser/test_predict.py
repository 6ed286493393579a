"""rk.predict in JupyterLab + headless Chromium (``tests/browser/synthetic/91_predict.ipynb``): what a
student does (choose or type, Check, wrong then right, the keyboard) and what must follow (the feedback
words in a polite live region, the explanation, the kernel told), with option text that holds HTML,
quotes, dollars and unicode shown as written and never executed; then the kernel is stopped and the
numeric question still checks (the rule runs in the page)."""

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
