"""Notebook helpers for the lessons: output a student opens when ready.

    with rk.folded_output():          # in an exercise's solution cell
        print(f"a = {a}: {p.describe(0)}")

JupyterLab unfolds a cell's collapsed output whenever the cell runs, so after Run All a solution's
printed numbers would sit right under the exercise. Inside the block, printed text is held back and
shown as one folded ``<details>`` element instead ("show the solution's output").
"""

from __future__ import annotations

import contextlib
import html
import io

__all__ = ["folded_output"]


@contextlib.contextmanager
def folded_output(summary: str = "Show the solution's output"):
    """Print inside the block into a folded ``<details>`` element (shown even if the block raises)."""
    if not isinstance(summary, str):
        raise TypeError(f"summary must be a string; got {summary!r}")
    buffer = io.StringIO()
    try:
        with contextlib.redirect_stdout(buffer):
            yield
    finally:
        text = buffer.getvalue()
        if text:
            from IPython.display import HTML, display

            display(HTML(f"<details><summary>{html.escape(summary)}</summary>"
                         f"<pre>{html.escape(text)}</pre></details>"))
