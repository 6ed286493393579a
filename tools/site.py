"""The course website and the printable handouts, from the notebooks executed once.

    python tools/site.py site       # _site/: index.html + one page per notebook, explorers play offline
    python tools/site.py handout    # _handouts/NN_name.pdf: prose, still pictures, answers opened

Both start from ``_build/executed/<venv>/*.ipynb`` (every notebook run top to bottom in this
Python with its widget state saved; reused while newer than the notebook and the package; a cell
that raises stops the build, so building is also a run of every notebook). Tool: nbconvert's ``lab``
HTML template, because it is already installed, builds offline and saves the widget state the
explorers replay; the widget JavaScript (html-manager and require.js from npm at the versions
below, anywidget's from the installed wheel) and MathJax 3 (npm; its one-file ``es5/tex-svg.js``:
SVG output needs no font files, which Chromium would refuse to load from file:// pages) are copied
into ``_site/vendor``, so no page loads a script from a CDN and formulas render offline. Handouts
are those pages without widget state, printed by Chromium.
"""

from __future__ import annotations

import argparse
import html
import pathlib
import re
import shutil
import subprocess
import sys
import tarfile
import tempfile
import time

ROOT = pathlib.Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
from reachkit.links import launch_links  # noqa: E402

BUILD, SITE, HANDOUTS = ROOT / "_build", ROOT / "_site", ROOT / "_handouts"
STATE = "application/vnd.jupyter.widget-state+json"
NPM = {"html-manager": "@jupyter-widgets/html-manager@1.0.15", "requirejs": "requirejs@2.3.8",
       "mathjax": "mathjax@3.2.2"}
MATHJAX = "vendor/mathjax/tex-svg.js"
# nbconvert's page configures MathJax 2; MathJax 3 reads this instead (the same delimiters as the notebook)
MATHJAX_CONFIG = ("<script>window.MathJax = {tex: {inlineMath: [['$', '$'], ['\\\\(', '\\\\)']], "
                  "displayMath: [['$$', '$$'], ['\\\\[', '\\\\]']], processEscapes: true, "
                  "processEnvironments: true, tags: 'ams'}, svg: {fontCache: 'global'}};</script>")
CHROMIUM = shutil.which("chromium") or "/usr/bin/chromium"


ONLY: list[str] = []  # --only 00 03: a subset (a quick look); default every notebook


def notebooks() -> list[pathlib.Path]:
    return [p for p in sorted((ROOT / "notebooks").glob("[0-9][0-9]_*.ipynb")) if not ONLY or p.name[:2] in ONLY]


# Run last, then dropped: every explorer's background work (the step slider's fan, basins) is waited for,
# then every widget's state is sent again while this cell runs. nbclient records only the widget messages
# of the cell running; background work that arrives between cells or after the last one sends its own with
# no such parent, so without this the saved state (the page) lacks the fan: the step slider would not replay.
SETTLE = """import gc
import ipywidgets
from reachkit.explorers.explorer import Explorer
for _ex in [o for o in gc.get_objects() if isinstance(o, Explorer)]:
    _ex.model.wait(300)
_all = getattr(ipywidgets.widgets.widget, "_instances", None) or ipywidgets.Widget.widgets
for _w in list(_all.values()):
    _w.send_state()"""


def executed(path: pathlib.Path):
    """The notebook run top to bottom in this Python, widget state saved (cached in _build/executed)."""
    import nbformat
    from nbclient import NotebookClient

    out = BUILD / "executed" / pathlib.Path(sys.prefix).name / path.name  # one cache per environment
    newest = max(p.stat().st_mtime for p in [path, *(ROOT / "reachkit").rglob("*.*")])
    if not out.exists() or out.stat().st_mtime < newest:
        nb = nbformat.read(path, as_version=4)
        nb.cells.append(nbformat.v4.new_code_cell(SETTLE))
        NotebookClient(nb, timeout=600, kernel_name="python3", store_widget_state=True,
                       resources={"metadata": {"path": str(path.parent)}}).execute()
        nb.cells.pop()
        out.parent.mkdir(parents=True, exist_ok=True)
        nbformat.write(nb, out)
    return nbformat.read(out, as_version=4)


def title(nb) -> str:
    for cell in nb["cells"]:
        m = re.search(r"^#\s+(.+)$", "".join(cell["source"]), re.M) if cell["cell_type"] == "markdown" else None
        if m:
            return m[1].strip()
    return "notebook"


def to_html(nb, **exporter) -> str:
    from nbconvert import HTMLExporter

    body, _ = HTMLExporter(template_name="lab", **exporter).from_notebook_node(nb)
    return body


def with_mathjax(nb, **exporter) -> str:
    """The page with MathJax 3 from ``vendor/`` next to it (see :func:`vendor`)."""
    page = to_html(nb, mathjax_url=MATHJAX, **exporter)
    tag = f'<script src="{MATHJAX}"> </script>'
    assert tag in page, "nbconvert's template no longer loads MathJax as expected"
    return page.replace(tag, MATHJAX_CONFIG + tag, 1)


def vendor(target: pathlib.Path):
    """html-manager, require.js and MathJax from npm (pinned), anywidget's AMD module from the installed wheel."""
    import anywidget

    cache = BUILD / "npm"
    cache.mkdir(parents=True, exist_ok=True)
    for name, spec in NPM.items():
        if not list(cache.glob(f"*{name}-*.tgz")):
            subprocess.run(["npm", "pack", "--silent", spec], cwd=cache, check=True, capture_output=True)
    (target / "html-manager").mkdir(parents=True, exist_ok=True)
    with tarfile.open(next(cache.glob("*html-manager-*.tgz"))) as tar:
        for member in tar.getmembers():
            name = pathlib.Path(member.name).name
            # embed-amd.js holds libembed-amd (the pages load it alone); its icon font as woff2/woff,
            # which every current browser takes first (not embed.js, the .map files, eot/ttf/svg fonts)
            wanted = name == "embed-amd.js" or name.endswith((".woff2", ".woff"))
            if member.name.startswith("package/dist/") and wanted:
                (target / "html-manager" / name).write_bytes(tar.extractfile(member).read())
    with tarfile.open(next(cache.glob("requirejs-*.tgz"))) as tar:
        (target / "require.js").write_bytes(tar.extractfile("package/require.js").read())
    (target / "mathjax").mkdir(exist_ok=True)
    with tarfile.open(next(cache.glob("mathjax-*.tgz"))) as tar:
        (target / "mathjax" / "tex-svg.js").write_bytes(tar.extractfile("package/es5/tex-svg.js").read())
    (target / "anywidget").mkdir(exist_ok=True)
    shutil.copy(pathlib.Path(anywidget.__file__).parent / "nbextension" / "index.js", target / "anywidget" / "index.js")


LINK_NAMES = {"binder": "Binder", "binder (GESIS)": "Binder (GESIS, when mybinder.org is full)", "colab": "Colab"}


def launch_bar(path: pathlib.Path) -> str:
    links = launch_links(path.name[:2])
    items = ["<a href='index.html'>All notebooks</a>"] + [
        f"<a href='{html.escape(url, quote=True)}'>Open in {html.escape(LINK_NAMES[name])}</a>"
        for name, url in links.items()]
    return ("<nav class='rk-launch' style='padding:.5em 1em;border-bottom:1px solid #ccc'>"
            + " · ".join(items) + "</nav>")


def sizes(folder: pathlib.Path, pattern: str) -> str:
    return ", ".join(f"{p.name} {p.stat().st_size / 1e6:.2f} MB" for p in sorted(folder.glob(pattern)))


def half_png(b64: str) -> str:
    """A base64 PNG at half its pixel size (the page shows it at its CSS size: 1x instead of 2x)."""
    import base64
    import io

    from PIL import Image

    image = Image.open(io.BytesIO(base64.b64decode(b64)))
    out = io.BytesIO()
    image.resize((max(1, image.width // 2), max(1, image.height // 2)), Image.LANCZOS).save(out, "PNG", optimize=True)
    return base64.b64encode(out.getvalue()).decode("ascii")


def lean(nb):
    """The site's pages at 1x: each explorer's background and each still picture (made at 2x for HiDPI
    screens and print) halved in pixels; the handouts keep 2x."""
    for model in nb["metadata"].get("widgets", {}).get(STATE, {}).get("state", {}).values():
        for buffer in model.get("buffers", []):
            if buffer["path"] == ["background"] and buffer.get("encoding") == "base64":
                buffer["data"] = half_png(buffer["data"])
    for cell in nb["cells"]:
        for output in cell.get("outputs", []):
            data = output.get("data", {})
            if "image/png" in data and "rk-still" in str(data.get("text/html", "")):
                small = half_png(data["image/png"])
                data["text/html"] = "".join(data["text/html"]).replace(data["image/png"], small)
                data["image/png"] = small
    return nb


def site(folder: pathlib.Path = SITE):
    folder.mkdir(parents=True, exist_ok=True)
    vendor(folder / "vendor")
    rows = []
    for path in notebooks():
        nb = lean(executed(path))
        page = with_mathjax(nb, require_js_url="vendor/require.js",
                            widget_renderer_url="vendor/html-manager/embed-amd.js")
        require = '<script src="vendor/require.js"></script>'
        config = "<script>require.config({paths: {anywidget: 'vendor/anywidget/index'}});</script>"
        page = page.replace(require, require + config, 1)
        body = re.search(r"<body[^>]*>", page)
        page = page[:body.end()] + launch_bar(path) + page[body.end():]
        out = folder / (path.stem + ".html")
        out.write_text(page)
        rows.append(f"<li><a href='{out.name}'>{html.escape(title(nb))}</a> "
                    f"<small>({out.stat().st_size / 1e6:.1f} MB)</small></li>")
    (folder / "index.html").write_text(
        "<!doctype html><html><head><meta charset='utf-8'><title>reachkit: the notebooks</title></head>"
        "<body style='font-family:sans-serif;max-width:50em;margin:2em auto'><h1>Reachability of gradient dynamics</h1>"
        "<p>Read the notebooks in order. The explorers replay their saved runs here (the step slider "
        "walks the precomputed fan); open a notebook on Binder or in Colab to change the rest.</p><ol>"
        + "".join(rows) + "</ol></body></html>\n")
    print(f"wrote {folder}: {sizes(folder, '*.html')}")


def handout(out_dir: pathlib.Path = HANDOUTS, code: bool = False):
    out_dir.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory() as tmp:
        vendor(pathlib.Path(tmp) / "vendor")
        for path in notebooks():
            nb = executed(path)
            nb["metadata"].pop("widgets", None)  # no live views: the still pictures stand in
            page = re.sub(r"<details(?![^>]*\bopen\b)", "<details open", with_mathjax(nb, exclude_input=not code))
            src = pathlib.Path(tmp) / (path.stem + ".html")
            src.write_text(page)
            out = out_dir / (path.stem + ".pdf")
            subprocess.run([CHROMIUM, "--headless", "--no-sandbox", "--disable-gpu", "--no-pdf-header-footer",
                            "--virtual-time-budget=5000", "--host-resolver-rules=MAP * ~NOTFOUND",  # offline
                            f"--print-to-pdf={out}", src.as_uri()],
                           check=True, capture_output=True, timeout=180)
    print(f"wrote {out_dir}: {sizes(out_dir, '*.pdf')}")


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("what", choices=["site", "handout"])
    parser.add_argument("--only", nargs="*", default=[], help="two-digit notebook numbers")
    parser.add_argument("--out", type=pathlib.Path, help="the folder to write (default _site or _handouts)")
    parser.add_argument("--code", action="store_true", help="handouts: print the code cells too")
    args = parser.parse_args()
    ONLY[:] = args.only
    started = time.monotonic()
    if args.what == "site":
        site(args.out or SITE)
    else:
        handout(args.out or HANDOUTS, code=args.code)
    print(f"{args.what}: {time.monotonic() - started:.0f} s (notebooks executed or reused from {BUILD / 'executed'})")
