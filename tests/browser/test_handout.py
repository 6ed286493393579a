"""Printable handouts (`make handout`, tools/site.py): notebook 03 printed to PDF by Chromium. The
text read back from the PDF holds every heading of the notebook, the "What you should see" notes
and the folded answers (printed opened); no page is blank and no code is printed by default."""

from __future__ import annotations

import json
import re
import subprocess
import sys
from pathlib import Path

import pytest

pytestmark = pytest.mark.browser
ROOT = Path(__file__).resolve().parents[2]
NOTEBOOK = next((ROOT / "notebooks").glob("03_*.ipynb"))


def _words(text: str) -> str:
    """Letters and digits only, spaces collapsed: PDF text and markdown compare on these."""
    return " ".join(re.findall(r"[A-Za-z0-9]+", text.replace("ﬁ", "fi").replace("ﬂ", "fl"))).lower()


@pytest.fixture(scope="module")
def pages(tmp_path_factory, browser_requirements):
    from pypdf import PdfReader

    out = tmp_path_factory.mktemp("handout")
    subprocess.run([sys.executable, str(ROOT / "tools" / "site.py"), "handout", "--only", "03", "--out", str(out)],
                   check=True, capture_output=True, timeout=600)
    reader = PdfReader(out / f"{NOTEBOOK.stem}.pdf")
    return [(page.extract_text() or "", len(page.images)) for page in reader.pages]


def _phrase(markdown: str) -> str:
    """The first four words of the longest stretch with no formula or code (a formula prints as TeX
    offline and as symbols once MathJax loads, so neither side compares there)."""
    plain = max(re.split(r"\$[^$]*\$|`[^`]*`|<[^>]+>|\*\*?|\n\s*\d+\.", markdown), key=lambda t: len(_words(t).split()))
    return " ".join(_words(plain).split()[:4])


def _markdown():
    return ["".join(c["source"]) for c in json.loads(NOTEBOOK.read_text())["cells"] if c["cell_type"] == "markdown"]


def test_every_heading_is_printed(pages):
    text = _words(" ".join(t for t, _ in pages))
    headings = [h for md in _markdown() for h in re.findall(r"^#+\s+(.+)$", md, re.M)]
    assert len(headings) >= 5
    missing = [h for h in headings if _phrase(h) not in text]
    assert not missing, missing


def test_answers_and_what_you_should_see_are_printed_opened(pages):
    text = _words(" ".join(t for t, _ in pages))
    folded = r"<details>\s*<summary>.*?</summary>(.*?)</details>"
    answers = [m for md in _markdown() for m in re.findall(folded, md, re.S)]
    see = [md.split("**What you should see.**", 1)[1] for md in _markdown() if "**What you should see.**" in md]
    assert answers and see
    missing = [_phrase(body) for body in answers + see if _phrase(body) not in text]
    assert not missing, missing


def test_no_blank_page_and_no_code_by_default(pages):
    assert len(pages) >= 3
    assert all(len(t.strip()) > 40 or images for t, images in pages), [len(t) for t, _ in pages]
    assert sum(images for _, images in pages) >= 2  # the still pictures and figures are printed
    assert "import reachkit as rk" not in " ".join(t for t, _ in pages)
