"""A page with no kernel: the synthetic view notebook (``synthetic/90_view_demo.ipynb``: GD on
(x^2 + 8 y^2) / 2, so a step a diverges exactly when a > 2/8) executed once with its widget state saved,
opened in Chromium with every request to the network aborted.

- ``export.html``: what ``jupyter nbconvert --to html`` writes (the widget scripts named by their CDN
  addresses, which this test answers from the copies ``tools/site.py`` vendors, as a local mirror would).
  The view says once that no kernel answers, plays, and its status line follows the step shown: the
  saved run's own status, not the kernel's last words. Play is measured (results/browser/no-kernel-play.json).
- ``foreign.html``: the output bundle in a plain page whose markup names no front end (no Jupyter
  classes): exactly one picture shows, the live view (its still picture hidden by the view itself); with
  JavaScript off the still picture alone.
"""

from __future__ import annotations

import importlib.util
import json

import pytest
from labdriver import _JS_VIEW_HELPERS, ROOT, SYNTHETIC_DIR, record_measurement

pytestmark = pytest.mark.browser
STATE, VIEW = "application/vnd.jupyter.widget-state+json", "application/vnd.jupyter.widget-view+json"
SHARP = 2 / 8  # 2 / lambda_max of the demo's quadratic
NOTE = "no kernel: the sliders of this picture replay the saved runs; run the notebook to change the rest"


def _site_tool():
    spec = importlib.util.spec_from_file_location("rk_site_tool", ROOT / "tools" / "site.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def _foreign_page(nb) -> str:
    """The first cell that shows a view and its still, in markup of no front end."""
    cell = next(c for c in nb.cells if c.cell_type == "code" and any(VIEW in o.get("data", {}) for o in c.outputs))
    parts = []
    for o in cell.outputs:
        data = o.get("data", {})
        if VIEW in data:
            parts.append(f"<div class='x-result'><script type='{VIEW}'>{json.dumps(data[VIEW])}</script></div>")
        elif "text/html" in data:
            parts.append(f"<div class='x-result'>{data['text/html']}</div>")
    state = json.dumps(nb.metadata["widgets"][STATE]).replace("</", "<\\/")  # script text is not HTML-decoded
    return ("<!doctype html><html><head><meta charset='utf-8'><script src='vendor/require.js'></script>"
            "<script>require.config({paths: {anywidget: 'vendor/anywidget/index'}});</script>"
            "<script src='vendor/html-manager/embed-amd.js'></script>"
            f"<script type='{STATE}'>{state}</script></head>"
            f"<body><main class='post'><h1>Week 1</h1><section class='x-cell'>{''.join(parts)}</section>"
            "</main></body></html>")


@pytest.fixture(scope="module")
def pages(tmp_path_factory, browser_requirements):
    import nbformat
    from nbclient import NotebookClient

    tool = _site_tool()
    out = tmp_path_factory.mktemp("no-kernel")
    tool.vendor(out / "vendor")
    nb = nbformat.read(SYNTHETIC_DIR / "90_view_demo.ipynb", as_version=4)
    NotebookClient(nb, timeout=300, kernel_name="python3", store_widget_state=True,
                   resources={"metadata": {"path": str(SYNTHETIC_DIR)}}).execute()
    (out / "export.html").write_text(tool.to_html(nb))
    (out / "foreign.html").write_text(_foreign_page(nb))
    return out


def _open(browser, path, vendor, blocked, javascript=True):
    """``path`` in a new page; a request off this machine is answered from ``vendor`` when it asks for a
    widget script (by file name), else aborted and recorded in ``blocked``."""
    context = browser.new_context(viewport={"width": 1100, "height": 900}, java_script_enabled=javascript)
    page = context.new_page()

    def route(r):
        url = r.request.url
        if url.startswith("file://"):
            return r.continue_()
        name = url.split("?")[0].rsplit("/", 1)[-1]
        local = (vendor / "html-manager" / name if "html-manager" in url else
                 vendor / "require.js" if name.startswith("require") else
                 vendor / "anywidget" / "index.js" if "anywidget" in url else None)
        if local is not None and local.exists():
            return r.fulfill(path=str(local), content_type="application/javascript")
        blocked.append(url)
        return r.abort()

    page.route("**/*", route)
    page.goto(path.as_uri())
    return context, page


def _shown(locator):
    return [x for x in locator.all() if x.is_visible()]


def test_in_foreign_markup_exactly_one_picture_shows(pages, browser):
    blocked = []
    context, page = _open(browser, pages / "foreign.html", pages / "vendor", blocked)
    try:
        page.locator(".rk-view canvas.rk-paths").first.wait_for(state="visible", timeout=30_000)
        page.wait_for_timeout(300)
        assert len(_shown(page.locator(".rk-view canvas.rk-paths"))) == 1
        assert _shown(page.locator(".rk-still")) == [], "the still picture shows beside the live view"
        assert page.locator(".rk-still").count() == 1 and page.locator("h1").is_visible()  # hidden, not removed
        assert not [u for u in blocked if "mathjax" not in u], blocked
    finally:
        context.close()
    context, page = _open(browser, pages / "foreign.html", pages / "vendor", [], javascript=False)
    try:
        assert len(_shown(page.locator(".rk-still img"))) == 1 and page.locator("canvas").count() == 0
    finally:
        context.close()


@pytest.fixture(scope="module")
def export(pages, browser):
    blocked = []
    context, page = _open(browser, pages / "export.html", pages / "vendor", blocked)
    page.locator(".rk-view .rk-nokernel").first.wait_for(state="visible", timeout=30_000)
    page.evaluate(_JS_VIEW_HELPERS)
    yield page, blocked
    context.close()


def test_the_export_says_once_per_view_that_no_kernel_answers(export):
    page, blocked = export
    views = page.locator(".rk-view")
    assert views.count() == 3
    for i in range(3):
        notes = _shown(views.nth(i).locator(".rk-nokernel"))
        assert [n.inner_text() for n in notes] == [NOTE]
        figure = views.nth(i).locator(".rk-figure")
        assert "rk-clickable" not in figure.get_attribute("class")  # a click on the plot needs the kernel
    assert _shown(page.locator(".rk-still")) == []
    assert not [u for u in blocked if "mathjax" not in u], blocked


def test_the_export_plays_offline(export):
    page, _ = export
    view = page.locator(".rk-view").first
    view.scroll_into_view_if_needed()
    view.locator(".rk-speed input").evaluate(
        "(s) => { s.value = '60'; s.dispatchEvent(new Event('input', {bubbles: true})); }")
    view.get_by_role("button", name="Rewind", exact=True).click()
    view.get_by_role("button", name="Play", exact=True).click()
    page.wait_for_timeout(300)
    counted = view.locator("canvas.rk-paths").evaluate("(c, label) => window.__rkView.count(c, 3000, label)",
                                              view.locator(".rk-frame-readout").element_handle())
    m = record_measurement("no-kernel-play", {
        "new_frames_per_s": round(counted["changes"] / counted["seconds"], 1),
        "iterates_drawn_per_s": round(counted["advances"] / counted["seconds"], 1),
        "display_frames_per_s": round(counted["ticks"] / counted["seconds"], 1), "speed_setting": 60},
        "synthetic view, nbconvert HTML export offline (no kernel)")
    assert m["new_frames_per_s"] > 5 and m["iterates_drawn_per_s"] > 5, f"Play did not animate the canvas: {m}"


def test_the_status_line_follows_the_saved_run_of_the_step_shown(export):
    """Walk the fan with the step slider: each position's status is the closed form's verdict on that step
    (a > 2/8 diverges); a typed step between saved ones goes to the nearest saved step, shown as used."""
    page, _ = export
    view = page.locator(".rk-view").first
    slider, box, status = view.locator("input.rk-step"), view.locator("input.rk-stepbox"), view.locator(".rk-status")
    top = int(slider.get_attribute("max"))
    seen = set()
    for i in range(0, top + 1, 3):
        slider.evaluate("(s, i) => { s.value = String(i); s.dispatchEvent(new Event('input', {bubbles: true})); }", i)
        a = float(box.input_value())
        fate = "diverges" if a > SHARP else "converges"
        words = f"{fate} (a > 2/λ)" if a > SHARP else f"{fate} to the minimum"
        assert status.inner_text() == f"GD with step {a:.4g}: {words}"
        seen.add(fate)
    assert seen == {"diverges", "converges"}
    box.fill("0.29")
    box.press("Enter")
    a = float(box.input_value())
    assert a != 0.29 and abs(a - 0.29) < 0.02  # the nearest saved step, not a number no run was made for
    assert "diverges" in status.inner_text() and view.locator(".rk-busy").is_hidden()
    box.fill("0.05")
    box.press("Enter")
    assert "converges" in status.inner_text()
