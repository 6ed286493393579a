"""The committed notebooks: stored clean, structured as lessons, public API only.

(Running them is nbval's job: `make test` passes every notebook to pytest with --nbval-lax.)
"""

import json
import pathlib
import re

import pytest

NB_DIR = pathlib.Path(__file__).resolve().parents[1] / "notebooks"
NOTEBOOKS = sorted(NB_DIR.glob("[0-9][0-9]_*.ipynb"))
EXPECTED = ["00_start_here", "01_flow_and_descent", "02_every_minimum_is_reachable",
            "03_sharp_minima_lose_stability", "04_sgd_noise_and_flat_minima",
            "05_beyond_smoothness", "06_edge_of_stability", "07_a_sharp_minimum_of_a_network"]


def load(path):
    return json.loads(path.read_text())


def text(nb, kind=None):
    return "\n".join("".join(c["source"]) for c in nb["cells"] if kind in (None, c["cell_type"]))


def test_the_sequence_exists():
    names = [p.stem for p in NOTEBOOKS]
    missing = [n for n in EXPECTED if n not in names]
    assert not missing, f"missing notebooks: {missing}"


@pytest.mark.parametrize("path", NOTEBOOKS, ids=lambda p: p.stem)
def test_stored_clean(path):
    nb = load(path)
    assert "widgets" not in nb["metadata"], "saved widget state in metadata: strip it"
    for i, cell in enumerate(nb["cells"]):
        if cell["cell_type"] != "code":
            continue
        assert cell.get("outputs") == [], f"cell {i} has stored outputs"
        assert cell.get("execution_count") is None, f"cell {i} has an execution count"
    assert path.stat().st_size < 100_000


@pytest.mark.parametrize("path", NOTEBOOKS, ids=lambda p: p.stem)
def test_lesson_structure(path):
    nb = load(path)
    md = text(nb, "markdown").lower()
    assert "you will learn" in md or "learning goals" in md
    assert "summary" in md
    assert "references" in md or path.stem == "00_start_here"
    if path.stem != "00_start_here":
        assert "exercise" in md
        assert "predict" in md
        assert "<details>" in md or any(
            c.get("metadata", {}).get("jupyter", {}).get("source_hidden") for c in nb["cells"])
        code = text(nb, "code")
        assert re.search(r"^\s*assert ", code, re.M), "the notebook must check its own claims"


@pytest.mark.parametrize("path", NOTEBOOKS, ids=lambda p: p.stem)
def test_public_api_only_and_short_cells(path):
    nb = load(path)
    for i, cell in enumerate(nb["cells"]):
        if cell["cell_type"] != "code":
            continue
        src = "".join(cell["source"])
        assert not re.search(r"reachkit(\.\w+)*\._|rk(\.\w+)*\._\w", src), f"cell {i} uses a private name"
        assert src.count("\n") < 25, f"cell {i} is long: move the logic into reachkit"
        assert not re.search(r"^\s*def \w+\(.*\):(\n\s+.*){12,}", src, re.M), f"cell {i} defines a long function"


@pytest.mark.parametrize("path", NOTEBOOKS, ids=lambda p: p.stem)
def test_every_question_is_checked(path):
    """Each ``q = rk.predict(...)`` has a check cell that asserts ``q.accepts(...)`` (issue 20)."""
    code = text(load(path), "code")
    questions = re.findall(r"^(\w+) = rk\.predict\(", code, re.M)
    unchecked = [q for q in questions if not re.search(rf"^\s*assert .*\b{q}\.accepts\(", code, re.M)]
    assert not unchecked, f"questions whose accepted answer no cell checks: {unchecked}"
