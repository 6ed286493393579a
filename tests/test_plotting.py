"""reachkit.plotting: what each draw_* function puts on the Axes, the lecture style, import cost."""

import subprocess
import sys

import matplotlib as mpl
import numpy as np
import pytest
from matplotlib.colors import to_rgba

from reachkit import analysis, dynamics, landscapes, plotting


@pytest.fixture
def ax():
    fig, (ax,) = plotting.new_figure()
    yield ax
    fig.clear()


def test_import_reachkit_stays_light():
    """``import reachkit`` loads no matplotlib, ipywidgets, ipympl or scipy (they come when a function
    needs them; the import time itself is measured in benchmarks/bench_core.py, not here)."""
    code = ("import sys; import reachkit;"
            "print([m for m in ('matplotlib', 'ipywidgets', 'ipympl', 'scipy') if m in sys.modules])")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=60)
    assert out.stdout.strip() == "[]", (out.stdout, out.stderr)
    out = subprocess.run([sys.executable, "-c", "import reachkit.plotting, sys;"
                          "print('ipywidgets' in sys.modules)"], capture_output=True, text=True,
                         timeout=60)
    assert out.stdout.strip() == "False", out.stderr  # plotting never imports ipywidgets


def test_new_figure_is_not_tracked_by_pyplot():
    import matplotlib.pyplot as plt

    before = plt.get_fignums()
    fig, axes = plotting.new_figure(nrows=2, height_ratios=[2, 1])
    assert len(axes) == 2 and plt.get_fignums() == before


def test_draw_landscape_2d(ax):
    ls = landscapes.sharp_flat_2d()
    art = plotting.draw_landscape(ax, ls)
    assert ax.get_xlim() == tuple(ls.bounds[0]) and ax.get_ylim() == tuple(ls.bounds[1])
    inside = [c for c in ls.critical_points()
              if np.all((c.x >= ls.bounds[:, 0]) & (c.x <= ls.bounds[:, 1]))]
    assert len(art.critical) == len(inside)
    for m, c in zip(art.critical, inside, strict=True):
        np.testing.assert_allclose(m.get_xydata()[0], c.x)
        assert m.get_label() == c.label
    assert {t.get_text() for t in art.labels} == {c.label for c in inside}
    assert art.lines is not None and len(art.surface.levels) > 5


def test_draw_landscape_1d_graph_and_limits(ax):
    ls = landscapes.sharp_flat_double_well()
    art = plotting.draw_landscape(ax, ls)
    xs, pts = ls.grid(600)
    np.testing.assert_allclose(art.surface.get_xydata(), np.column_stack([xs, ls.value(pts)]))
    lo, hi = ax.get_ylim()
    crit = [float(ls.value(c.x)) for c in ls.critical_points()]
    assert lo < min(crit) and hi > max(crit)  # every critical point is in view
    assert hi < ls.value(pts).max()  # the steep wall is cut so the wells are not flattened


def test_draw_landscape_rejects_3d(ax):
    with pytest.raises(ValueError, match="1-D and 2-D"):
        plotting.draw_landscape(ax, landscapes.quadratic((1.0, 2.0, 3.0)))


def test_path_xy_and_path_artists(ax):
    ls = landscapes.smooth_double_well()
    path = dynamics.gradient_descent(ls, [[0.5], [1.5]], 0.05, 30)
    xy = plotting.path_xy(ls, path, 1)
    np.testing.assert_allclose(xy, np.column_stack([path.trajectory(1)[:, 0], path.values[:, 1]]))
    pa = plotting.draw_path(ax, ls, path, 1, method="gd", trail=5, k=12)
    assert pa.full.get_color() == plotting.METHODS["gd"][1] and pa.full.get_label() == "GD"
    np.testing.assert_allclose(pa.marker.get_xydata()[0], xy[12])
    segs = pa.trail.get_segments()
    assert len(segs) == 5
    np.testing.assert_allclose(segs[0][0], xy[7])
    np.testing.assert_allclose(segs[-1][1], xy[12])
    pa.show(whole=True)
    np.testing.assert_allclose(pa.marker.get_xydata()[0], xy[-1])
    assert len(pa.trail.get_segments()) == 0 and pa.full.get_alpha() > 0.8
    pa.show(0)
    assert len(pa.trail.get_segments()) == 0


def test_basins_image_colours_each_start_by_its_limit(ax):
    ls = landscapes.sharp_flat_2d()
    bm = analysis.basin_map(ls, 0.04, n=24, n_steps=400)
    plotting.draw_landscape(ax, ls)
    im = plotting.draw_basins(ax, ls, bm, alpha=0.5)
    cols = plotting.basin_colors(ls, bm.names)
    j = bm.names.index("flat minimum")
    i, k = np.argwhere(bm.labels == j)[0]
    np.testing.assert_allclose(im.get_array()[i, k], to_rgba(cols[j], 0.5))
    assert im.get_extent() == [bm.xs[0], bm.xs[-1], bm.ys[0], bm.ys[-1]]
    legend = plotting.basin_legend(ls, bm)
    assert sum(f for _, _, f in legend) == pytest.approx(1.0)
    # minima get distinct palette colours, not greys
    mins = [cols[bm.names.index(c.label)] for c in ls.minima()]
    assert len(set(mins)) == len(mins) and all(c in plotting.OKABE_ITO.values() for c in mins)


def test_bifurcation_and_thresholds(ax):
    ls = landscapes.smooth_double_well()
    bif = analysis.bifurcation(ls, np.geomspace(0.05, 0.2, 20), starts=(-0.95,), n_transient=300,
                               n_keep=8)
    pts = plotting.draw_bifurcation(ax, bif)
    assert pts.get_xydata().shape == (20 * 8, 2) and ax.get_xscale() == "log"
    lines = plotting.draw_thresholds(ax, ls)
    want = [t for _, _, t in analysis.minima_thresholds(ls)]
    assert [ln.get_xdata()[0] for ln in lines] == pytest.approx(want)


def test_plot_paths_one_call():
    ls = landscapes.saddle()
    paths = {"gd": dynamics.gradient_descent(ls, [0.5, 0.5], 0.1, 40),
             "flow": dynamics.gradient_flow(ls, [0.5, 0.5], t_max=4, n_times=41)}
    ax = plotting.plot_paths(ls, paths, title="saddle")
    texts = [t.get_text() for t in ax.get_legend().get_texts()]
    assert "GD" in texts and "gradient flow" in texts and ax.get_title() == "saddle"


def test_lecture_style_as_context_and_as_switch():
    size = mpl.rcParams["font.size"]
    with plotting.lecture_style():
        assert mpl.rcParams["font.size"] == plotting.LECTURE_RC["font.size"]
        assert plotting.is_lecture_style()
        colors = mpl.rcParams["axes.prop_cycle"].by_key()["color"]
        assert [c.upper() for c in colors] == list(plotting.OKABE_ITO.values())
    assert mpl.rcParams["font.size"] == size and not plotting.is_lecture_style()
    try:
        plotting.lecture_style()
        assert mpl.rcParams["lines.linewidth"] == plotting.LECTURE_RC["lines.linewidth"]
    finally:
        plotting.lecture_style(False)
    assert mpl.rcParams["font.size"] == size and not plotting.is_lecture_style()


def test_lecture_style_is_reachable_from_the_package():
    import reachkit

    assert reachkit.lecture_style is plotting.lecture_style


def test_many_critical_points_label_the_minima_only():
    """Himmelblau: 9 critical points (more than ``annotate``), so only its 4 minima are labelled."""
    from reachkit.explorers import background, runs

    ls = landscapes.himmelblau()
    fig = mpl.figure.Figure()
    art = plotting.draw_landscape(fig.add_subplot(), ls)
    minima = {c.label for c in ls.critical_points() if c.kind == "minimum"}
    assert len(ls.critical_points()) == 9 and len(minima) == 4
    assert {t.get_text() for t in art.labels} == minima
    # the explorer's picture (reachkit.explorers.background) shows the same labels
    _, ax = background.figure(runs.StaticLayer(ls, [], title=ls.name))
    assert {t.get_text() for t in ax.texts} >= minima


@pytest.mark.parametrize("make", [landscapes.sharp_flat_double_well, landscapes.smooth_double_well])
def test_1d_minimum_labels_stay_above_the_x_axis(make):
    """A minimum's label is drawn under the point: its box must end above the axes' bottom edge."""
    from matplotlib.backends.backend_agg import FigureCanvasAgg

    fig = mpl.figure.Figure(figsize=(6.0, 4.4))
    ax = fig.add_subplot()
    art = plotting.draw_landscape(ax, make())
    renderer = FigureCanvasAgg(fig).get_renderer()
    bottom = ax.get_window_extent(renderer).y0
    minima = [t for t in art.labels if "minimum" in t.get_text()]
    assert minima
    for t in minima:
        assert t.get_window_extent(renderer).y0 > bottom + 1, (t.get_text(), t.get_window_extent(renderer), bottom)


def test_bifurcation_dots_are_visible():
    """Each long-run point is a dot of several pixels, not a single pixel (visible on a projector)."""
    from matplotlib.backends.backend_agg import FigureCanvasAgg

    ls = landscapes.smooth_double_well()
    bif = analysis.bifurcation(ls, np.geomspace(0.05, 0.09, 12), starts=(-0.95,), n_transient=300, n_keep=4)
    fig = mpl.figure.Figure(figsize=(4, 3), dpi=100)
    ax = fig.add_subplot()
    plotting.draw_bifurcation(ax, bif)
    ax.set_ylim(-1.5, -0.5)
    canvas = FigureCanvasAgg(fig)
    canvas.draw()
    rgb = np.asarray(canvas.buffer_rgba())[..., :3].astype(float)
    x0, y0, x1, y1 = ax.get_window_extent().extents.astype(int)
    h = rgb.shape[0]  # image rows count from the top, display coordinates from the bottom
    inside = rgb[h - y1 + 2:h - y0 - 2, x0 + 2:x1 - 2]
    ink = (inside.mean(axis=2) < 200).sum()
    # below 2/20 every step converges to -1: 12 distinct points on one line, each at least 2x2 pixels
    assert np.allclose(bif.points, -1, atol=1e-6) and ink >= 12 * 4, ink


def test_lecture_style_takes_only_true_or_false():
    with pytest.raises(TypeError, match="on must be True or False; got 'no'"):
        plotting.lecture_style("no")  # a string was truthy: it switched the style on
    assert not plotting.is_lecture_style()
