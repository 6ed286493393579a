"""Screenshots for reading the notebooks as a student and as a lecturer (not a test).

    .venv/bin/python tests/browser/notebook_screenshots.py [00 03 ...]

For each notebook: Run All in JupyterLab + headless Chromium at 1024x768, and a copy with every explorer
made with ``lecture=True`` and ``rk.lecture_style()`` at 1280x720; one screenshot per explorer, scrolled
so the view's top is at the top of the notebook. Written to results/browser/notebooks/.
"""

from __future__ import annotations

import json
import re
import sys
import tempfile
import time
from pathlib import Path

from labdriver import CHROMIUM_ARGS, RESULTS, LabNotebook, LabServer, chromium_path, notebooks

OUT = RESULTS / "notebooks"
EXPLORE = re.compile(r"(rk\.explore(?:_reach)?|ee\.explore_adaptive)\(")

_JS_SCROLL_TO_VIEW = r"""
(out) => {
  const view = out.querySelector('.rk-view') || out;
  let scroller = out.parentElement;
  const scrolls = (el) => el.scrollHeight > el.clientHeight + 1 && /(auto|scroll)/.test(getComputedStyle(el).overflowY);
  while (scroller && !scrolls(scroller)) scroller = scroller.parentElement;
  if (scroller) scroller.scrollTop += view.getBoundingClientRect().top - scroller.getBoundingClientRect().top - 4;
}
"""


def with_lecture(source: str) -> str:
    """`source` with ``lecture=True`` added to each explorer call."""
    out, pos = "", 0
    for m in EXPLORE.finditer(source):
        if m.start() < pos:
            continue
        depth, i = 1, m.end()
        while depth:
            depth += {"(": 1, ")": -1}.get(source[i], 0)
            i += 1
        out, pos = out + source[pos:i - 1] + ", lecture=True)", i
    return out + source[pos:]


def lecture_copy(src: Path, dst: Path):
    nb = json.loads(src.read_text())
    for c in nb["cells"]:
        if c["cell_type"] == "code":
            s = with_lecture("".join(c["source"]))
            c["source"] = re.sub(r"^import reachkit as rk$", "import reachkit as rk\nrk.lecture_style()", s, flags=re.M)
    dst.write_text(json.dumps(nb))


def main(prefixes: list[str]):
    from playwright.sync_api import sync_playwright

    OUT.mkdir(parents=True, exist_ok=True)
    lab = LabServer(Path(tempfile.mkdtemp()))
    lab.start()
    pw = sync_playwright().start()
    browser = pw.chromium.launch(executable_path=chromium_path(), headless=True, args=CHROMIUM_ARGS)
    try:
        for path in notebooks():
            if prefixes and path.name[:2] not in prefixes:
                continue
            lecture = "L" + path.name
            lecture_copy(path, lab.root / "notebooks" / lecture)
            for name, viewport, tag in [(path.name, {"width": 1024, "height": 768}, "1024"),
                                        (lecture, {"width": 1280, "height": 720}, "1280-lecture")]:
                t0 = time.monotonic()
                nb = LabNotebook(browser, lab, name, viewport=viewport)
                try:
                    nb.open()
                    nb.run_all()
                    for e in nb.errors():
                        print(f"{name}: {e[:300]}")
                    outputs = nb.explorer_outputs()
                    for i, out in enumerate(outputs):
                        for _ in range(3):  # JupyterLab may move the view again while it renders
                            out.evaluate(_JS_SCROLL_TO_VIEW)
                            time.sleep(0.7)
                        nb.page.screenshot(path=str(OUT / f"{path.name[:2]}-{tag}-explorer{i}.png"))
                    print(f"{name} at {tag}: {len(outputs)} explorers, {time.monotonic() - t0:.0f} s", flush=True)
                finally:
                    nb.close()
    finally:
        browser.close()
        pw.stop()
        lab.stop()


if __name__ == "__main__":
    main(sys.argv[1:])
