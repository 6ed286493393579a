"""Colab, faked as anywidget's own tests fake it: a ``google.colab.output`` module in sys.modules
whose ``_widgets._installed_url`` names Colab's custom widget manager. What an explorer's display
message carries there (the metadata that makes Colab load that manager, on the output that shows
the outer Box) is checked here; that Colab then draws it needs one look in a real Colab."""

import json
import sys
import types
from pathlib import Path

import ipywidgets as W
import pytest

from reachkit import landscapes
from reachkit.explorers.dynamics_model import explore
from reachkit.explorers.view import widget_metadata

ROOT = Path(__file__).resolve().parents[1]
URL = "https://ssl.gstatic.com/colaboratory-static/widgets/colab-cdn-widget-manager/2b70e893a8ba7c0f/manager.min.js"
WIDGET = "application/vnd.jupyter.widget-view+json"


@pytest.fixture
def colab(monkeypatch):
    enabled = []
    output = types.ModuleType("google.colab.output")
    output.enable_custom_widget_manager = lambda: enabled.append(True)
    output._widgets = types.SimpleNamespace(_installed_url=URL)
    google = types.ModuleType("google")
    google.colab = types.ModuleType("google.colab")
    google.colab.output = output
    for name, module in (("google", google), ("google.colab", google.colab), ("google.colab.output", output)):
        monkeypatch.setitem(sys.modules, name, module)
    return enabled


def _shown(monkeypatch, obj):
    import IPython.display

    shown = []
    monkeypatch.setattr(IPython.display, "display",
                        lambda data, raw=False, metadata=None: shown.append((data, metadata or {})))
    obj._ipython_display_()
    return shown


def test_in_colab_the_explorer_output_names_the_custom_widget_manager(colab, monkeypatch):
    ex = explore(landscapes.saddle(), n_steps=20)
    (live, meta), (still, still_meta) = _shown(monkeypatch, ex)
    assert live[WIDGET]["model_id"] == ex.widget.model_id  # the outer Box is what is displayed...
    assert isinstance(ex.widget, W.Box)
    assert meta == {WIDGET: {"colab": {"custom_widget_manager": {"url": URL}}}}  # ...and it carries the manager
    assert colab  # anywidget switched the manager on
    assert "rk-still" in still["text/html"] and still_meta == {}


def test_outside_colab_the_output_has_no_colab_metadata(monkeypatch):
    ex = explore(landscapes.saddle(), n_steps=20)
    (live, meta), _ = _shown(monkeypatch, ex)
    assert live[WIDGET]["model_id"] == ex.widget.model_id and meta == {}


def test_the_explorer_uses_no_widget_colab_breaks():
    """Accordion and Tab fail in Colab's custom widget manager (googlecolab/colabtools#3571)."""
    ex = explore(landscapes.saddle(), n_steps=20)
    seen, queue = [], [ex.widget]
    while queue:
        w = queue.pop()
        seen.append(type(w))
        queue.extend(getattr(w, "children", ()))
    assert W.Accordion not in seen and W.Tab not in seen and len(seen) > 5


def test_widget_metadata_finds_the_anywidget_inside_boxes(colab):
    ex = explore(landscapes.saddle(), n_steps=20)
    nested = W.VBox([W.HBox([W.Label("x")]), W.HBox([ex.widget])])
    assert widget_metadata(nested)[WIDGET]["colab"]["custom_widget_manager"]["url"] == URL
    assert widget_metadata(W.Label("no anywidget")) == {}


def test_check_says_colab_and_its_probe_carries_the_metadata(colab):
    import reachkit as rk

    c = rk.check()
    assert c.front_end == "Google Colab"
    data, meta = c._repr_mimebundle_()
    assert WIDGET in data and meta[WIDGET]["colab"]["custom_widget_manager"]["url"] == URL


def _install_cell():
    sys.path.insert(0, str(ROOT / "tools"))
    try:
        import colab_cell
    finally:
        sys.path.remove(str(ROOT / "tools"))
    return colab_cell


def _run_cell(source, modules, monkeypatch):
    """Run a cell's source as IPython would (its %pip becomes run_line_magic) with a recording shell."""
    from IPython.core.inputtransformer2 import TransformerManager

    calls = []
    shell = types.SimpleNamespace(run_line_magic=lambda name, line: calls.append((name, line)))
    for name, module in modules.items():
        monkeypatch.setitem(sys.modules, name, module)
    exec(TransformerManager().transform_cell(source), {"get_ipython": lambda: shell})
    return calls


def test_the_install_cell_installs_from_github_only_in_colab(colab, monkeypatch):
    source = _install_cell().INSTALL
    ((magic, line),) = _run_cell(source, {}, monkeypatch)
    assert magic == "pip" and line.split()[:2] == ["install", "--quiet"]
    assert '"reachkit @ git+https://github.com/reachkit/reachkit"' in line
    assert "restart the session" in source and "carry on with the next cell" in source


def test_the_install_cell_does_nothing_elsewhere(monkeypatch):
    monkeypatch.delitem(sys.modules, "google.colab", raising=False)
    assert _run_cell(_install_cell().INSTALL, {}, monkeypatch) == []


def test_every_notebook_opens_with_the_launch_links_and_the_install_cell():
    """tools/colab_cell.py put them there and they are current (`python tools/colab_cell.py` fixes it)."""
    assert _install_cell().main(["--check"]) == 0
    for path in sorted((ROOT / "notebooks").glob("[0-9][0-9]_*.ipynb")):
        cells = json.loads(path.read_text())["cells"]
        assert cells[0]["cell_type"] == "markdown" and cells[0]["source"][0].startswith("# ")
        assert cells[1]["metadata"]["tags"] == ["rk-launch"] and cells[2]["metadata"]["tags"] == ["rk-colab-install"]
        assert f"colab.research.google.com/github/reachkit/reachkit/blob/main/notebooks/{path.name}" in "".join(
            cells[1]["source"])
