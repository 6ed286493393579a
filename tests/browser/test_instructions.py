"""Every "type v into the explorer and you will see ..." of the notebooks, done in JupyterLab + headless
Chromium exactly as a student does it (click the box, select all, type, Enter; tick a box; pick from a
drop-down), and the status line or read-out checked for the promised words. Plus: at 1024 px wide no
figure (static image or explorer) is wider than its output area.

Each notebook is opened and Run All once, at 1024x768, and closed before the next one. Instructions the
view helper's tests already check (03's 1-D steps 0.095/0.105/0.13/0.18 and 05's dyadic steps and start
0.6, in test_e2e.py) are not repeated here.
"""

from __future__ import annotations

import re

import pytest
from labdriver import RESULTS, LabNotebook, ViewDriver, notebooks, record_measurement

pytestmark = pytest.mark.browser

NOTEBOOKS = {p.name[:2]: p for p in notebooks()}
VIEWPORT = {"width": 1024, "height": 768}


@pytest.fixture(scope="module")
def opened(browser, lab):
    """`opened("03")`: the notebook open and run at 1024x768 (one at a time: the previous one is closed)."""
    current: dict[str, LabNotebook] = {}

    def _open(prefix: str) -> LabNotebook:
        if prefix not in current:
            for nb in current.values():
                nb.close()
            current.clear()
            if prefix not in NOTEBOOKS:
                pytest.skip(f"no notebook {prefix}_*")
            nb = LabNotebook(browser, lab, NOTEBOOKS[prefix].name, viewport=VIEWPORT)
            current[prefix] = nb
            nb.open()
            nb.run_all()
            assert not nb.errors(), nb.errors()
        return current[prefix]

    yield _open
    for nb in current.values():
        nb.close()


def explorer(nb: LabNotebook, pattern: str) -> ViewDriver:
    """The explorer shown by the first code cell whose source matches `pattern`, scrolled into view."""
    nb.refresh_cells()
    cell = next(c["index"] for c in nb.cells if c["type"] == "code" and re.search(pattern, c["source"]))
    out = nb.page.locator(f".jp-OutputArea-child[data-rk-explorer][data-rk-cell='{cell}'] .jp-OutputArea-output").first
    out.scroll_into_view_if_needed()
    figs = nb.wait_drawn(out)
    assert figs and all(f["drawn"] for f in figs), f"{nb.name}: the explorer of cell {cell} is not drawn: {figs}"
    view = ViewDriver(nb, out)
    veil = view.root.locator(".rk-veil")
    if veil.is_visible():  # it waits for a guess (rk.predict): these tests are about the explorer itself
        veil.get_by_role("button", name="show anyway").click()
    view.settle()
    return view


def readout(view: ViewDriver) -> str:
    return " ".join(view.output.locator(".rk-readout").first.text_content().split())


def tick(view: ViewDriver, label: str, on: bool = True) -> str:
    """Click the checkbox labelled `label` (if it is not already as wanted); the status once settled."""
    box = view.output.locator(".widget-checkbox").filter(
        has=view.page.get_by_text(label, exact=True)).locator("input[type=checkbox]").first
    if box.is_checked() != on:
        box.click()
    view.settle()
    return view.status.text_content()


def choose(view: ViewDriver, label: str, option: str) -> str:
    """Pick the option whose text contains `option` in the drop-down labelled `label`."""
    name = view.page.locator("label.widget-label", has_text=re.compile(rf"^\s*{re.escape(label)}\s*$"))
    select = view.output.locator(".widget-dropdown").filter(has=name).locator("select").first
    texts = select.locator("option").all_text_contents()
    select.select_option(label=next(t for t in texts if option in t))
    view.settle()
    return view.status.text_content()


def check_all(seen: dict, expected: dict, name: str):
    wrong = {k: seen[k] for k in expected if not all(w in seen[k] for w in expected[k])}
    assert not wrong, f"{name}: what the explorer says is not what the text promises: " + \
        "; ".join(f"{k}: wanted {expected[k]}, saw {seen[k]!r}" for k in wrong)


# -- the instructions, notebook by notebook ---------------------------------------------------------

def drag(view: ViewDriver, press: tuple, to: tuple, seconds: float = 0.6) -> str:
    """Press on the plot at `press`, drag to `to` (page px), release; the status once settled."""
    view.settle()
    view.page.mouse.move(*press)
    view.page.mouse.down()
    view.page.mouse.move(*to, steps=max(2, int(seconds * 30)))
    view.page.mouse.up()
    view.settle()
    return view.status.text_content()


def plot_pixel(view: ViewDriver):
    """`to_px(x, y)`: the page pixel of the data point (x, y), learned from two clicks and the start
    boxes they fill (the view's linear data -> pixel mapping)."""
    view.figure.scroll_into_view_if_needed()
    box = view.figure.bounding_box()
    pts = []
    for f in (0.35, 0.65):
        px, py = box["x"] + f * box["width"], box["y"] + f * box["height"]
        view.page.mouse.click(px, py)
        view.settle()
        x, y = (float(view.setting(f"start {c}0").input_value()) for c in "xy")
        pts.append((px, py, x, y))
    (pa, qa, xa, ya), (pb, qb, xb, yb) = pts
    return lambda x, y: (pa + (x - xa) * (pb - pa) / (xb - xa), qa + (y - ya) * (qb - qa) / (yb - ya))


def test_00_predict_then_move_the_slider(opened):
    """00: a = 0.04 sharp, 0.12 flat with ABOVE for the sharp minimum, 0.2 diverges; the flow goes to the
    sharp minimum; start (-0.5, 1.0) with a = 0.11 cycles with period 2."""
    nb = opened("00")
    ex = explorer(nb, r"rk\.explore\(ls, start=\(-0\.7, 1\.2\)")
    seen, expected = {}, {
        "a 0.04": ["GD: converged to the sharp minimum"],
        "a 0.12": ["GD: converged to the flat minimum"],
        "a 0.12 read-out": ["sharp minimum: sharpness λ = 20", "step 0.12 is ABOVE: linearly unstable",
                            "flat minimum: sharpness λ = 1, 2/λ = 2 — step 0.12 is below"],
        "a 0.2": ["GD: diverged"],
        "flow at a 0.04": ["gradient flow: converged to the sharp minimum"],
        "start (-0.5, 1.0), a 0.11": ["GD: cycling with period 2"],
    }
    seen["a 0.04"] = ex.type_step("0.04")
    seen["a 0.12"] = ex.type_step("0.12")
    seen["a 0.12 read-out"] = readout(ex)
    seen["a 0.2"] = ex.type_step("0.2")
    ex.type_step("0.04")
    seen["flow at a 0.04"] = tick(ex, "gradient flow")
    tick(ex, "gradient flow", on=False)
    ex.type_setting("start x0", "-0.5")
    ex.type_setting("start y0", "1.0")
    seen["start (-0.5, 1.0), a 0.11"] = ex.type_step("0.11")
    (RESULTS / "instructions-00-period2.png").write_bytes(nb.screenshot(ex.output))
    check_all(seen, expected, nb.name)


def test_01_gd_and_the_flow_side_by_side(opened):
    """01, start (-1.4, 0.8): a = 0.02 both sharp; a = 0.08 GD flat, the flow sharp."""
    nb = opened("01")
    ex = explorer(nb, r"rk\.explore\(ls, start=\(-1\.4, 0\.8\)")
    seen = {"0.02": ex.type_step("0.02"), "0.08": ex.type_step("0.08")}
    check_all(seen, {
        "0.02": ["GD: converged to the sharp minimum", "gradient flow: converged to the sharp minimum"],
        "0.08": ["GD: converged to the flat minimum", "gradient flow: converged to the sharp minimum"],
    }, nb.name)
    assert "step 0.08 is below: linearly stable" in readout(ex)  # "although the read-out says ... stable"


def test_02_exponent_reach_and_himmelblau(opened):
    """02: p <= 1 still moving, p > 1 still moving with summable steps; the reach explorer: 0.12
    ABOVE (reach not run), 0.099 reached, 0.101 ABOVE; Himmelblau: the first saddle not reached
    (comes within ~3e-11), the saddle near (3.39, 0.07) comes within ~1e-13 and is reported as not
    reached."""
    nb = opened("02")
    seen, expected = {}, {}
    powers = explorer(nb, r"rk\.explore\(quad, start=1\.0")
    for p in ("0.6", "0.9", "1.0", "1.1", "2"):
        seen[f"p {p}"] = powers.type_setting("exponent p", p)
        expected[f"p {p}"] = ["still moving"] + ([] if float(p) <= 1 else ["the steps are summable"])

    reach = explorer(nb, r"rk\.explore_reach\(well, step=0\.04\)")
    for a in ("0.12", "0.101"):
        seen[f"reach a {a}"] = reach.type_step(a) + " " + readout(reach)
        expected[f"reach a {a}"] = ["reach is not run", f"step a = {a} is ABOVE 2/λ = 0.1"]
    seen["reach a 0.099"] = reach.type_step("0.099") + " " + readout(reach)
    expected["reach a 0.099"] = ["the sharp minimum is reached", "Not fragile"]
    reach.type_step("0.04")
    # "Your own start: press on the plot and drag (along x here, in 1-D) ... reach is not run"
    reach.figure.scroll_into_view_if_needed()
    box = reach.figure.bounding_box()
    y = box["y"] + 0.5 * box["height"]
    x_before = float(reach.setting("start x0").input_value())
    seen["drag your start"] = drag(reach, (box["x"] + 0.3 * box["width"], y), (box["x"] + 0.7 * box["width"], y))
    expected["drag your start"] = ["GD from your start"]
    assert float(reach.setting("start x0").input_value()) > x_before, "the start did not follow the drag"
    # "the parameter sliders ... update the path while you drag them; reach runs when you let go"
    slider = reach.param("sharp").locator(".rk-paramslider")
    sb = slider.bounding_box()
    seen["drag sharp"] = drag(reach, (sb["x"] + 0.67 * sb["width"], sb["y"] + sb["height"] / 2),
                              (sb["x"] + 0.5 * sb["width"], sb["y"] + sb["height"] / 2))
    expected["drag sharp"] = ["sharp minimum"]
    assert float(reach.param("sharp").locator(".rk-parambox").input_value()) < 20
    assert "your start" not in seen["drag sharp"], seen["drag sharp"]
    reach.type_setting("sharp", "20")

    himmel = explorer(nb, r"rk\.explore_reach\(rk\.landscapes\.himmelblau\(\)")
    seen["saddle (0.09, 2.88)"] = himmel.status.text_content() + " " + readout(himmel)
    expected["saddle (0.09, 2.88)"] = ["is NOT reached", "converged to the minimum (3, 2)", "comes very close"]
    seen["saddle (3.39, 0.07)"] = choose(himmel, "target", "3.39") + " " + readout(himmel)
    expected["saddle (3.39, 0.07)"] = ["is NOT reached", "comes very close to the target and then leaves"]
    check_all(seen, expected, nb.name)
    closest = float(re.search(r"closest distance: ([0-9.e+-]+)", seen["saddle (3.39, 0.07)"]).group(1))
    assert closest < 1e-12, seen["saddle (3.39, 0.07)"]  # "within about 1e-13 of it"
    closest = float(re.search(r"closest distance: ([0-9.e+-]+)", seen["saddle (0.09, 2.88)"]).group(1))
    assert 1e-11 < closest < 1e-10, seen["saddle (0.09, 2.88)"]  # "within about 3e-11"


def test_03_cascade_and_basin(opened):
    """03: 1-D x0 = -0.95, a = 0.15 still moving (the other steps: test_e2e.py); 2-D from (-0.5, 1.0):
    0.099 still moving, 0.105 period 2, 0.12 still moving, 0.13 flat minimum."""
    nb = opened("03")
    one = explorer(nb, r"rk\.explore\(S, start=-0\.95")
    seen = {"1-D 0.15": one.type_step("0.15")}
    two = explorer(nb, r"rk\.explore\(L2, start=\(-0\.5, 1\.0\)")
    for a in ("0.099", "0.105", "0.12", "0.13"):
        seen[f"2-D {a}"] = two.type_step(a)
    seen["2-D 0.099 frame"] = ""
    two.type_step("0.099")
    seen["2-D 0.099 frame"] = two.readout.text_content()
    check_all(seen, {
        "1-D 0.15": ["GD: still moving"],
        "2-D 0.099": ["GD: still moving"],
        "2-D 0.105": ["GD: cycling with period 2"],
        "2-D 0.12": ["GD: still moving"],
        "2-D 0.13": ["GD: converged to the flat minimum"],
    }, nb.name)
    # "drag the start across the plot and watch where the path flips between the minima" (a = 0.04)
    two.type_step("0.04")
    to_px = plot_pixel(two)
    two.page.mouse.move(*to_px(-1.2, 0.6))
    two.page.mouse.down()
    two.page.mouse.move(*to_px(-0.9, 0.6), steps=8)
    two.settle()
    near_sharp = two.status.text_content()  # while the pointer is still down: the path has followed
    two.page.mouse.move(*to_px(1.8, 0.6), steps=20)
    two.page.mouse.up()
    two.settle()
    assert "GD: converged to the sharp minimum" in near_sharp, near_sharp
    assert "GD: converged to the flat minimum" in two.status.text_content(), two.status.text_content()
    assert float(two.setting("start x0").input_value()) == pytest.approx(1.8, abs=0.02)
    grad = re.search(r"\|grad f\| = ([0-9.e+-]+)", seen["2-D 0.099"])
    assert grad and float(grad.group(1)) < 1e-5, f"0.099: |grad f| not below 1e-5: {seen['2-D 0.099']!r}"


def test_04_seeds_and_batches(opened):
    """04, start (-0.6, 0.66): a = 0.095 batch 1: seeds 1-6 sharp, 0 and 7 flat; a = 0.11: GD period 2,
    batch 1: seeds 2 and 7 diverge, the others flat; batch 2: seeds 0, 1, 6, 7 sharp."""
    nb = opened("04")
    ex = explorer(nb, r"rk\.explore\(fs2, start=\(-0\.6, 0\.66\)")

    def sgd_ends() -> list[str]:
        ends = []
        for seed in range(8):
            status = ex.type_setting("seed", seed)
            m = re.search(r"SGD: (converged to the (\w+) minimum|diverged|[^;]*)", status)
            ends.append(m.group(2) or m.group(1).split()[0] if m else status)
        return ends

    at_095 = sgd_ends()
    assert [s for s, e in enumerate(at_095) if e == "sharp"] == [1, 2, 3, 4, 5, 6], at_095
    gd = ex.type_step("0.11")
    assert "GD: cycling with period 2" in gd, gd
    batch1 = sgd_ends()
    assert [s for s, e in enumerate(batch1) if e == "diverged"] == [2, 7], batch1
    assert all(e == "flat" for s, e in enumerate(batch1) if s not in (2, 7)), batch1
    ex.type_setting("batch", 2)
    batch2 = sgd_ends()
    assert [s for s, e in enumerate(batch2) if e == "sharp"] == [0, 1, 6, 7], batch2


def test_05_subgradient_step_not_on_the_lattice(opened):
    """05: x0 = 0.625 with a = 0.1 cycles (the dyadic steps and x0 = 0.6: test_e2e.py)."""
    nb = opened("05")
    ex = explorer(nb, r"rk\.explore\(ab, step=1 / 8")
    assert "converged to the minimum (kink) (at step 5)" in ex.status.text_content()
    # "its methods row offers no gradient flow ... its read-out quotes no sharpness and no 2/λ"
    boxes = [t.strip("\u200b ") for t in ex.output.locator(".widget-checkbox").all_text_contents()]
    assert "subgradient method" in boxes and not any("flow" in b for b in boxes), boxes
    assert "no sharpness (f is not smooth)" in readout(ex) and "2/λ" not in readout(ex), readout(ex)
    status = ex.type_step("0.1")
    assert "cycling with period 2" in status, status
    ex.type_step("0.125")


def test_06_armijo_and_adam(opened):
    """06: Armijo reads a_k = 0.0625 with the sharp basin about a quarter; constant 0.15: no sharp basin;
    Adam with lr 0.2 has a sharp basin and first step 0.283; lr 1: none."""
    nb = opened("06")
    ex = explorer(nb, r"rk\.explore\(ls, schedule=\"armijo\"")
    opening = readout(ex)
    assert "Step a_k = 0.0625" in opening, opening
    share = float(re.search(r"sharp minimum (\d+)%", opening).group(1))
    assert 20 <= share <= 35, opening
    choose(ex, "schedule", "constant")
    ex.type_step("0.15")
    constant = readout(ex)
    assert "Basins" in constant and "sharp minimum" not in constant.split("Basins")[1], constant
    choose(ex, "schedule", "Armijo")
    for a0 in ("0.05", "5"):
        ex.type_step(a0)
        share = float(re.search(r"Basins[^:]*: sharp minimum (\d+)%", readout(ex)).group(1))
        assert 20 <= share <= 35, (a0, readout(ex))

    adam = explorer(nb, r"ee\.explore_adaptive\(ls, method=\"adam\"")
    text = readout(adam)
    assert "First step length |x1 - x0| = 0.283" in text and "sharp minimum 2" in text, text
    # "While you drag the learning rate the path follows ...; the full map is computed when you let go"
    adam.step_slider.scroll_into_view_if_needed()
    before, sb = adam.status.text_content(), adam.step_slider.bounding_box()
    x, y = adam._thumb_x()
    drag(adam, (x, y), (x + 0.15 * sb["width"], y))
    lr = float(adam.step())
    assert lr > 0.2 and adam.status.text_content() != before, (lr, adam.status.text_content())
    assert f"learning rate {lr:g}:" in adam.status.text_content(), (lr, adam.status.text_content())
    assert "coarse" not in readout(adam), readout(adam)
    adam.type_step("1")
    text = readout(adam)
    assert "Where every start ends" in text and "sharp minimum" not in text.split("Where every start ends")[1]\
        .split(".")[0], text


def test_07_network_explorer_draws_and_a_step_drag_changes_it(opened):
    """07: the network explorer draws; a drag of the step slider swaps the precomputed runs in the
    browser (new pixels, new step in the box, new status); 0.05 still reaches θ*, 0.07 bounces next to
    it, 0.1 a period-2 orbit, 0.2 the flattest minimum (5.53); the random init near a saddle at 0.01."""
    nb = opened("07")
    ex = explorer(nb, r"rk\.explore_network\(reach\b")
    seen = {"opening": ex.status.text_content()}
    ex.show_whole_path()
    before, step_before = ex.checksum(), ex.step()
    mouse = ex.measure_drag(seconds=1.0)
    ex.settle()
    assert mouse["positions_crossed"] > 0 and mouse["new_frames"] > 0, mouse
    assert ex.checksum() != before and ex.step() != step_before, (ex.step(), step_before)
    play = ex.measure_play(seconds=3.0, speed=30)  # 150 frames: Play runs 5 s at 30 frames/s
    record_measurement("network-drag", {"mouse_drag": mouse, "play": play}, explorer=f"{nb.name}, "
                       f"rk.explore_network(reach), {int(ex.step_slider.get_attribute('max')) + 1} step positions")
    assert play["new_frames_per_s"] > 2 and play["kernel_messages"] == 0, play
    for a in ("0.05", "0.07", "0.1", "0.2"):
        seen[a] = ex.type_step(a)
    (RESULTS / "instructions-07-network.png").write_bytes(nb.screenshot(ex.output))
    check_all(seen, {
        "opening": ["GD with a = 0.01", "the built start converges to the chosen minimum θ*",
                    "the random init sits near a saddle"],
        "0.05": ["the built start converges to the chosen minimum θ*"],
        "0.07": ["the built start bounces next to θ*"],
        "0.1": ["the built start bounces on a period-2 orbit", "converges to a minimum of sharpness 6.04"],
        "0.2": ["the built start converges to a minimum of sharpness 5.53", "minimum of sharpness 5.64"],
    }, nb.name)
    ex.type_step("0.01")


# -- every figure whole at 1024 px ------------------------------------------------------------------

_JS_TOO_WIDE = r"""
(area) => {
  const found = [];
  let measured = 0;
  area.querySelectorAll('.jp-OutputArea-output').forEach((out) => {
    const box = out.getBoundingClientRect();
    out.querySelectorAll('img, canvas, .rk-view, .rk-explorer').forEach((fig) => {
      if (fig.closest('.rk-view') && fig !== fig.closest('.rk-view')) return;  // the view's own layers
      const r = fig.getBoundingClientRect();
      if (r.width > 0) measured++;
      if (r.width > 0 && (r.right > box.right + 1 || r.width > box.width + 1)) {
        const cell = out.closest('[data-rk-cell]');
        found.push({cell: cell ? cell.getAttribute('data-rk-cell') : '?', kind: fig.tagName.toLowerCase() +
                    (fig.className ? '.' + String(fig.className).split(' ')[0] : ''),
                    width: Math.round(r.width), output_width: Math.round(box.width)});
      }
    });
  });
  return {found, measured};
}
"""


def too_wide_figures(nb: LabNotebook) -> tuple[list, int]:
    """Figures wider than their output area, and how many figures were measured."""
    outputs = nb.page.locator(".jp-Notebook .jp-OutputArea-output")
    too_wide, measured = [], 0
    for i in range(outputs.count()):  # scrolled into view one by one: off-screen cells are not laid out
        out = outputs.nth(i)
        if out.locator("img, canvas").count() and out.is_visible():  # (a live explorer's still is hidden)
            out.evaluate("(e) => e.scrollIntoView({block: 'center'})")
            nb.page.wait_for_timeout(50)
            seen = out.locator("xpath=..").evaluate(_JS_TOO_WIDE)
            too_wide += seen["found"]
            measured += seen["measured"]
    return too_wide, measured


@pytest.mark.parametrize("prefix", sorted(NOTEBOOKS))
def test_no_figure_is_wider_than_its_output_at_1024(opened, prefix):
    nb = opened(prefix)
    nb.refresh_cells()
    too_wide, measured = too_wide_figures(nb)
    assert measured > 0, f"{nb.name}: no figure found to measure"
    assert not too_wide, f"{nb.name}: figures wider than their output area at 1024 px: {too_wide}"


def test_the_width_check_sees_a_fixed_width_canvas(opened):
    """The check above on a figure that is too wide: a 1400 px canvas in a new cell of the last notebook."""
    nb = opened(sorted(NOTEBOOKS)[-1])
    nb.append_and_run("from IPython.display import HTML\nHTML('<canvas width=1400 height=40></canvas>')")
    too_wide, _ = too_wide_figures(nb)
    assert [f["width"] for f in too_wide] == [1400], too_wide


NOT_A_QUESTION = ":not(.rk-predict-explanation)"  # an rk.predict question folds its explanation too


def solution_outputs(nb: LabNotebook) -> list[tuple[bool, bool]]:
    """(open, text visible) of each folded solution output (``rk.folded_output``) on the page."""
    outputs = nb.page.locator(".jp-Notebook .jp-OutputArea-output")
    found = []
    for i in range(outputs.count()):
        out = outputs.nth(i)
        folded = out.locator(f"details{NOT_A_QUESTION}")
        if folded.count():
            out.evaluate("(e) => e.scrollIntoView({block: 'center'})")
            found.append((folded.first.evaluate("(d) => d.open"), folded.locator("pre").first.is_visible()))
    return found


def _printing_solutions(path) -> int:
    import json

    cells = json.loads(path.read_text())["cells"]
    return sum("solution" in c.get("metadata", {}).get("tags", []) and "folded_output" in "".join(c["source"])
               for c in cells)


@pytest.mark.parametrize("prefix", [p for p in sorted(NOTEBOOKS) if _printing_solutions(NOTEBOOKS[p])])
def test_solutions_print_nothing_visible_after_run_all(opened, prefix):
    """After Run All a solution's numbers are folded under "Show the solution's output", not printed
    under the exercise (JupyterLab unfolds a collapsed output when its cell runs)."""
    nb = opened(prefix)
    nb.refresh_cells()
    found = solution_outputs(nb)
    assert len(found) == _printing_solutions(NOTEBOOKS[prefix]), found
    assert found == [(False, False)] * len(found), found
    first = nb.page.locator(f".jp-Notebook .jp-OutputArea-output details{NOT_A_QUESTION}").first
    first.scroll_into_view_if_needed()
    first.locator("summary").click()  # a student opens one: the numbers are there
    first.locator("pre").wait_for(state="visible", timeout=5000)
    assert first.locator("pre").inner_text().strip()
