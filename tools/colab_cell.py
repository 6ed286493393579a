"""Put the launch links and the Colab install cell right after each notebook's title cell.

    python tools/colab_cell.py            # every notebooks/NN_*.ipynb, in place; run it again at will
    python tools/colab_cell.py --check    # exit 1 if a notebook lacks them or has an old version

Both cells carry a tag (``rk-launch``, ``rk-colab-install``), so a second run replaces them rather
than adding more; everything else in the notebook is left byte for byte (same JSON layout as
nbstripout writes: indent 1, a final newline).
"""

from __future__ import annotations

import argparse
import json
import pathlib
import sys

ROOT = pathlib.Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
from reachkit.links import GITHUB, launch_links  # noqa: E402

INSTALL = f"""\
# In Google Colab only: install reachkit from GitHub (about a minute). Elsewhere this cell does nothing.
# If Colab then offers to restart the session, accept, and carry on with the next cell.
import sys

if "google.colab" in sys.modules:
    %pip install --quiet "reachkit @ git+https://github.com/{GITHUB}"
"""


def launch_text(name: str) -> str:
    links = launch_links(name)
    return (f"*No install needed:* open this notebook in [Colab]({links['colab']}) or on "
            f"[Binder]({links['binder']}) ([GESIS's Binder]({links['binder (GESIS)']}) when mybinder.org is full). "
            "An explorer stays blank? Run `rk.check()`: it says where the notebook runs and what to do.")


def cell(kind: str, tag: str, source: str) -> dict:
    lines = source.splitlines(keepends=True)
    lines[-1] = lines[-1].rstrip("\n")
    c = {"cell_type": kind, "id": tag, "metadata": {"tags": [tag]}, "source": lines}
    if kind == "code":
        c.update(execution_count=None, outputs=[])
    return {k: c[k] for k in sorted(c)}


def updated(nb: dict, name: str) -> dict:
    ours = {"rk-launch", "rk-colab-install"}
    cells = [c for c in nb["cells"] if not ours & set(c.get("metadata", {}).get("tags", []))]
    at = 1 if cells and cells[0]["cell_type"] == "markdown" else 0  # after the title cell
    new = [cell("markdown", "rk-launch", launch_text(name)), cell("code", "rk-colab-install", INSTALL)]
    return {**nb, "cells": cells[:at] + new + cells[at:]}


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--check", action="store_true", help="report, do not write")
    args = parser.parse_args(argv)
    stale = []
    for path in sorted((ROOT / "notebooks").glob("[0-9][0-9]_*.ipynb")):
        old = path.read_text()
        new = json.dumps(updated(json.loads(old), path.name[:2]), indent=1, ensure_ascii=False) + "\n"
        if new != old:
            stale.append(path.name)
            if not args.check:
                path.write_text(new)
    print(("stale: " if args.check else "updated: ") + (", ".join(stale) or "none"))
    return 1 if args.check and stale else 0


if __name__ == "__main__":
    sys.exit(main())
