"""Drive the live explorers as a user would, with no browser, and check what they show.

Every check compares the plotted artists' data and the read-out text with a fresh computation
by reachkit.dynamics / reachkit.analysis for the same settings. The canvas is ipympl's widget
canvas (as in a notebook); where a front-end is needed we send the messages it would send.
"""

import gc
import subprocess
import sys
import textwrap
import tracemalloc

import numpy as np
import pytest

pytest.importorskip("ipywidgets")
pytest.importorskip("ipympl")

import ipywidgets as W  # noqa: E402
import matplotlib.pyplot as plt  # noqa: E402
from matplotlib.backend_bases import MouseEvent  # noqa: E402
from matplotlib.colors import to_rgba  # noqa: E402

from reachkit import analysis, dynamics, landscapes, plotting, schedules  # noqa: E402
from reachkit.widgets import Explorer1D, Explorer2D, explore  # noqa: E402


@pytest.fixture
def ex2():
    ex = explore(landscapes.sharp_flat_2d(), start=(0.2, 0.9), n_steps=60)
    yield ex
    ex.close()


@pytest.fixture
def ex1():
    ex = explore(landscapes.sharp_flat_double_well(), start=-0.5, n_steps=80)
    yield ex
    ex.close()


def start_of(ex):
    return np.array([s.value for s in ex.start])


def gd(ex, step=None):
    return dynamics.gradient_descent(ex.landscape, start_of(ex), step or ex.step.value,
                                     ex.n_steps.value)


def frontend_ready(ex):
    """What the browser does after showing the canvas: 'initialized', then ask for a draw."""
    c = ex.fig.canvas
    c._handle_message(c, {"type": "initialized"}, [])
    c._handle_message(c, {"type": "draw"}, [])


# ----------------------------------------------------------------------------------------------
# Construction
# ----------------------------------------------------------------------------------------------
def test_explore_dispatches_and_checks_input():
    e1, e2 = explore(landscapes.cubic()), explore(landscapes.saddle())
    assert isinstance(e1, Explorer1D) and isinstance(e2, Explorer2D)
    e1.close(), e2.close()
    with pytest.raises(ValueError, match="1-D and 2-D"):
        explore(landscapes.quadratic((1.0, 2.0, 3.0)))
    with pytest.raises(ValueError, match="finite-sum"):
        explore(landscapes.sharp_flat_2d(), methods=("sgd",))
    with pytest.raises(ValueError, match="unknown method"):
        explore(landscapes.saddle(), methods=("newton",))


def test_canvas_is_an_ipympl_widget_in_the_layout_and_pyplot_untouched(ex2):
    from ipympl.backend_nbagg import Canvas

    before = plt.get_fignums()
    ex = explore(landscapes.saddle())
    c = ex.fig.canvas
    assert ex.canvas_kind == "ipympl" and isinstance(c, Canvas) and isinstance(c, W.DOMWidget)
    assert not (c.header_visible or c.footer_visible or c.toolbar_visible)
    top = ex.widget.children[0]
    assert top.children[0] is c and ex.readout in top.children[1].children
    assert plt.get_fignums() == before  # the explorer's figure is not in pyplot's registry
    ex.close()


def test_an_explorer_leaves_pyplots_backend_alone():
    # importing ipympl switches pyplot to it; a notebook's static figures must stay inline images
    code = textwrap.dedent("""
        import matplotlib
        matplotlib.use("svg")
        import matplotlib.pyplot as plt
        import sys
        from reachkit import landscapes, widgets
        assert "ipympl" not in sys.modules
        ex = widgets.explore(landscapes.saddle())
        assert "ipympl" in sys.modules and ex.canvas_kind == "ipympl"
        print(matplotlib.get_backend(), type(plt.figure().canvas).__module__)
    """)
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=120)
    assert out.returncode == 0, out.stderr
    assert out.stdout.split() == ["svg", "matplotlib.backends.backend_svg"]


def test_every_control_is_a_described_widget(ex2):
    controls = [ex2.step, ex2.schedule, ex2.exponent, ex2.n_steps, *ex2.methods.values(),
                ex2.batch_size, ex2.seed, *ex2.start, *ex2.params.values(), ex2.play, ex2.frame,
                ex2.speed, ex2.basins, ex2.reduced_motion, ex2.reset]
    for w in controls:
        assert isinstance(w, W.Widget)
        assert w.tooltip, w
    assert isinstance(ex2.step, W.FloatLogSlider)


def test_param_sliders_come_from_param_specs(ex1):
    specs = ex1.landscape.param_specs
    assert list(ex1.params) == [p.name for p in specs]
    for p in specs:
        s = ex1.params[p.name]
        assert isinstance(s, W.FloatLogSlider if p.log else W.FloatSlider)
        assert s.value == p.default and s.tooltip == p.description
    lin = landscapes.from_functions(
        lambda x, c: 0.5 * c * x[..., 0] ** 2, lambda x, c: c * x, dim=1, bounds=[(-1, 1)],
        params=[landscapes.Param("c", 1.0, 0.5, 3.0, "curvature")])
    ex = explore(lin)
    assert isinstance(ex.params["c"], W.FloatSlider) and ex.params["c"].max == 3.0
    ex.close()


# ----------------------------------------------------------------------------------------------
# Sliders -> artists and read-outs
# ----------------------------------------------------------------------------------------------
def test_step_slider_redraws_the_gd_path_2d(ex2):
    for a in (0.03, 0.12, 0.5):
        ex2.step.value = a
        path = gd(ex2, a)
        np.testing.assert_allclose(ex2.artists["gd"].full.get_xydata(), path.trajectory(0))
        # the marker sits at the last iterate (the frame follows the end of the run)
        assert ex2.frame.value == ex2.frame.max == len(path.times) - 1
        np.testing.assert_allclose(ex2.artists["gd"].marker.get_xydata()[0], path.final[0])
        assert f"GD: {path.describe(0)}" in ex2.status.value


def test_frame_scrubber_moves_marker_and_fading_trail(ex2):
    path = gd(ex2)
    traj = path.trajectory(0)
    ex2.frame.value = 7
    pa = ex2.artists["gd"]
    np.testing.assert_allclose(pa.marker.get_xydata()[0], traj[7])
    segs = pa.trail.get_segments()
    assert len(segs) == 7  # trail of 20 would reach before iterate 0: all 7 segments
    np.testing.assert_allclose(segs[-1][1], traj[7])
    alphas = pa.trail.get_colors()[:, 3]
    assert np.all(np.diff(alphas) > 0)  # fades towards the past
    ex2.frame.value = 40
    segs = pa.trail.get_segments()
    assert len(segs) == pa.trail_length
    np.testing.assert_allclose(segs[0][0], traj[40 - pa.trail_length])
    # the whole path is unchanged by scrubbing
    np.testing.assert_allclose(pa.full.get_xydata(), traj)
    assert "step k = 40" in ex2.readout.value


def test_play_is_linked_to_the_scrubber_in_the_browser(ex2):
    link = ex2.play_link
    assert link.source == (ex2.play, "value") and link.target == (ex2.frame, "value")
    assert link._model_name == "LinkModel"  # jslink: the browser moves the scrubber, no round trip
    assert ex2.play.max == ex2.frame.max
    ex2.speed.value = 40
    assert ex2.play.interval == 25


def test_1d_path_is_drawn_on_the_graph(ex1):
    ex1.step.value = 0.12
    path = gd(ex1, 0.12)
    want = np.column_stack([path.trajectory(0)[:, 0], path.values[:, 0]])
    np.testing.assert_allclose(ex1.artists["gd"].full.get_xydata(), want)
    assert f"GD: {path.describe(0)}" in ex1.status.value
    ex1.frame.value = 3
    np.testing.assert_allclose(ex1.artists["gd"].marker.get_xydata()[0], want[3])


def test_readout_matches_the_analysis(ex2):
    ex2.step.value = 0.12
    ex2.frame.value = 10
    path = gd(ex2, 0.12)
    x = path.trajectory(0)[10]
    lam = float(analysis.sharpness(ex2.landscape, x))
    text = ex2.describe()
    assert f"sharpness = {lam:.4g}" in text
    assert f"f = {path.values[10, 0]:.4g}" in text
    assert f"|grad f| = {np.linalg.norm(ex2.landscape.grad(x)):.4g}" in text
    rows = {label: (lam, t) for label, lam, t in analysis.minima_thresholds(ex2.landscape)}
    lam_s, thr_s = rows["sharp minimum"]
    lam_f, thr_f = rows["flat minimum"]
    assert (f"sharp minimum: sharpness λ = {lam_s:.4g}, 2/λ = {thr_s:.4g} — step 0.12 is "
            "ABOVE: linearly unstable") in text
    assert f"flat minimum: sharpness λ = {lam_f:.4g}, 2/λ = {thr_f:.4g} — step 0.12 is below" in text
    assert "ABOVE" in ex2.readout.value and "<b" in ex2.readout.value
    assert f"GD: {path.describe(0)}" in text
    ex2.step.value = 0.05
    assert "ABOVE" not in ex2.describe()


def test_diverging_step_reports_and_the_widget_recovers(ex1):
    ex1.step.value = 1.5  # far above 2/20 on the sharp wall
    path = gd(ex1, 1.5)
    assert path.status[0] == "diverged"
    k = int(path.stopped_at[0])
    assert f"diverged at step {k}" in ex1.status.value
    assert ex1.error is None  # a diverging run is a result, not an error
    ex1.step.value = 0.04
    path = gd(ex1, 0.04)
    assert "converged to the sharp minimum" in ex1.status.value
    np.testing.assert_allclose(ex1.artists["gd"].full.get_xydata()[:, 0], path.trajectory(0)[:, 0])


def test_cubic_divergence_and_recovery():
    ex = explore(landscapes.cubic(), start=-0.5, step=0.5, n_steps=50)
    path = gd(ex)
    assert path.status[0] == "diverged"
    assert f"diverged at step {int(path.stopped_at[0])}" in ex.status.value
    assert "no minimum" in ex.readout.value
    ex.start[0].value = 0.5
    ex.step.value = 0.05
    assert "diverged" not in ex.status.value
    np.testing.assert_allclose(ex.artists["gd"].full.get_xydata()[:, 0], gd(ex).trajectory(0)[:, 0])
    ex.close()


def test_an_exception_in_the_dynamics_shows_in_the_status_line():
    def grad(x):
        if np.any(x > 1.0):
            raise FloatingPointError("gradient undefined beyond x = 1")
        return x

    ls = landscapes.from_functions(lambda x: 0.5 * x[..., 0] ** 2, grad, dim=1, bounds=[(-2, 2)],
                                   critical_points=[((0.0,), "minimum", "minimum")])
    ex = explore(ls, start=0.5, step=0.3, n_steps=30)
    good = ex.artists["gd"].full.get_xydata().copy()
    ex.start[0].value = 1.5  # must not raise out of the observer
    assert "Could not update" in ex.status.value and "gradient undefined" in ex.status.value
    assert ex.error and "FloatingPointError" in ex.error
    np.testing.assert_allclose(ex.artists["gd"].full.get_xydata(), good)  # last valid run kept
    ex.start[0].value = -0.7
    # GD on x^2/2 with step 0.3 multiplies x by 0.7: after 30 steps x = -0.7^31, still moving
    assert ex.error is None and "still moving" in ex.status.value and "1.58e-05" in ex.status.value
    xs = ex.artists["gd"].full.get_xydata()[:, 0]
    np.testing.assert_allclose(xs, -0.7 * 0.7 ** np.arange(31), rtol=1e-12)
    ex.close()


# ----------------------------------------------------------------------------------------------
# Schedules and methods
# ----------------------------------------------------------------------------------------------
def test_schedules_match_the_dynamics(ex2):
    ex2.schedule.value = "power"
    assert not ex2.exponent.disabled
    ex2.exponent.value = 1.5
    want = dynamics.gradient_descent(ex2.landscape, start_of(ex2),
                                     schedules.power(ex2.step.value, 1.5), ex2.n_steps.value)
    np.testing.assert_allclose(ex2.artists["gd"].full.get_xydata(), want.trajectory(0))
    assert "stalled" in ex2.status.value  # summable steps stop short
    ex2.frame.value = 9
    assert f"Step a_k = {ex2.step.value / 10 ** 1.5:.4g}" in ex2.readout.value
    ex2.schedule.value = "armijo"
    assert ex2.exponent.disabled
    want = dynamics.gradient_descent(ex2.landscape, start_of(ex2), schedules.armijo(ex2.step.value),
                                     ex2.n_steps.value)
    np.testing.assert_allclose(ex2.artists["gd"].full.get_xydata(), want.trajectory(0))
    assert "adaptive step, Armijo" in ex2.readout.value


def test_several_methods_each_in_its_colour():
    ls = landscapes.sharp_flat_2d_sum()
    ex = explore(ls, methods=("gd", "sgd", "flow"), start=(0.2, 0.9), n_steps=40, step=0.05)
    x0 = start_of(ex)
    ex.batch_size.value = 3
    ex.seed.value = 7
    sgd = dynamics.sgd(ls, x0, 0.05, 40, batch_size=3, seed=7)
    flow = dynamics.gradient_flow(ls, x0, t_max=40 * 0.05, n_times=41)
    np.testing.assert_allclose(ex.artists["sgd"].full.get_xydata(), sgd.trajectory(0))
    np.testing.assert_allclose(ex.artists["flow"].full.get_xydata(), flow.trajectory(0))
    colors = {m: ex.artists[m].full.get_color() for m in ("gd", "sgd", "flow")}
    assert len(set(colors.values())) == 3
    assert colors["gd"] == plotting.METHODS["gd"][1]
    assert [t.get_text() for t in ex.ax.get_legend().get_texts()] == ["GD", "SGD", "gradient flow"]
    ex.methods["sgd"].value = False
    assert not ex.artists["sgd"].full.get_visible() and "SGD:" not in ex.status.value
    assert not ex.batch_size.disabled
    ex.close()
    ex = explore(landscapes.sharp_flat_2d())
    assert ex.methods["sgd"].disabled and ex.batch_size.disabled and "sgd" not in ex.artists
    ex.close()


def test_flow_alone_has_no_step_threshold(ex2):
    ex2.methods["gd"].value = False
    ex2.methods["flow"].value = True
    assert "no 2/λ limit" in ex2.readout.value and "t = " in ex2.readout.value
    flow = dynamics.gradient_flow(ex2.landscape, start_of(ex2), t_max=ex2.flow_horizon(),
                                  n_times=ex2.n_steps.value + 1)
    np.testing.assert_allclose(ex2.artists["flow"].full.get_xydata(), flow.trajectory(0))
    ex2.methods["flow"].value = False
    assert "No method selected" in ex2.readout.value


# ----------------------------------------------------------------------------------------------
# Click, parameters, overlays, motion, reset
# ----------------------------------------------------------------------------------------------
def test_click_on_the_plot_sets_the_start(ex2):
    frontend_ready(ex2)
    c = ex2.fig.canvas
    px, py = ex2.ax.transData.transform((1.0, -0.5))
    height = c.get_renderer().height
    # the browser's message, as ipympl receives it (y counted from the top)
    c._handle_message(c, {"type": "button_press", "x": px, "y": height - py, "button": 0,
                          "buttons": 1, "modifiers": [], "guiEvent": {}}, [])
    np.testing.assert_allclose(start_of(ex2), (1.0, -0.5), atol=1e-6)
    np.testing.assert_allclose(ex2.artists["gd"].full.get_xydata(), gd(ex2).trajectory(0))
    # a synthetic matplotlib event does the same; a click outside the axes does nothing
    px, py = ex2.ax.transData.transform((-1.2, 0.3))
    c.callbacks.process("button_press_event", MouseEvent("button_press_event", c, px, py, 1))
    np.testing.assert_allclose(start_of(ex2), (-1.2, 0.3), atol=1e-6)
    c.callbacks.process("button_press_event", MouseEvent("button_press_event", c, 2, 2, 1))
    np.testing.assert_allclose(start_of(ex2), (-1.2, 0.3), atol=1e-6)


def test_parameter_slider_rebuilds_the_landscape(ex1):
    old_surface = ex1.layers.surface
    ex1.params["sharp"].value = 40.0
    assert ex1.landscape.params["sharp"] == 40.0
    assert ex1.layers.surface is not old_surface and old_surface.axes is None  # replaced
    want = landscapes.sharp_flat_double_well(sharp=40.0)
    np.testing.assert_allclose(ex1.layers.surface.get_ydata(), want.value(want.grid(600)[1]))
    path = dynamics.gradient_descent(want, start_of(ex1), ex1.step.value, ex1.n_steps.value)
    np.testing.assert_allclose(ex1.artists["gd"].full.get_xydata()[:, 0], path.trajectory(0)[:, 0])
    assert "2/λ = 0.05 " in ex1.readout.value


def test_basin_overlay_recomputes_only_when_it_must(monkeypatch):
    ex2 = explore(landscapes.sharp_flat_2d(), start=(0.2, 0.9), n_steps=60, basin_resolution=48)
    calls = []
    real = analysis.basin_map

    def counting(*args, **kw):
        calls.append(kw.get("method"))
        return real(*args, **kw)

    monkeypatch.setattr(analysis, "basin_map", counting)
    ex2.basins.value = True
    assert len(calls) == 1 and ex2.basin_image.get_visible()
    want = real(ex2.landscape, schedules.constant(ex2.step.value), n=48, n_steps=1000)
    np.testing.assert_array_equal(ex2.basin_map.labels, want.labels)
    cols = np.array([to_rgba(c, 0.45) for c in
                     plotting.basin_colors(ex2.landscape, want.names)])
    np.testing.assert_allclose(ex2.basin_image.get_array(), cols[want.labels])
    assert "Basins (GD, 1000 steps)" in ex2.readout.value
    ex2.start[0].value = 0.5  # the start does not change the basins
    ex2.frame.value = 3
    assert len(calls) == 1
    ex2.step.value = 0.12
    assert len(calls) == 2
    ex2.basins.value = False
    ex2.step.value = 0.05  # overlay off: nothing computed
    assert len(calls) == 2 and not ex2.basin_image.get_visible()
    ex2.methods["flow"].value = True
    ex2.methods["gd"].value = False
    ex2.basins.value = True
    assert calls[-1] == "flow" and "Basins (gradient flow)" in ex2.readout.value
    ex2.close()


def test_bifurcation_axes_and_current_step_line(ex1):
    assert not ex1.ax_bif.get_visible()
    ex1.bifurcation.value = True
    assert ex1.ax_bif.get_visible() and ex1.bif is not None
    thr = 2 / 20
    assert ex1.bif.steps[0] < thr < ex1.bif.steps[-1]
    ex1.step.value = 0.08
    assert list(ex1.step_line.get_xdata()) == [0.08, 0.08]
    assert ex1.step_line in ex1._moving()
    # below 2/20 the orbit from next to the sharp minimum is the minimum itself
    i = np.searchsorted(ex1.bif.steps, 0.08)
    pts = ex1.bif.points[i]
    assert np.nanmin(np.abs(pts + 1)) < 1e-6


def test_reduced_motion_shows_the_whole_path(ex2):
    ex2.frame.value = 5
    ex2.reduced_motion.value = True
    pa = ex2.artists["gd"]
    assert ex2.play.disabled and ex2.frame.value == ex2.frame.max
    assert len(pa.trail.get_segments()) == 0 and pa.full.get_alpha() > 0.8
    ex2.step.value = 0.08
    assert ex2.frame.value == ex2.frame.max
    ex2.reduced_motion.value = False
    assert not ex2.play.disabled
    ex = explore(landscapes.saddle(), reduced_motion=True)
    assert ex.play.disabled and ex.reduced_motion.value
    ex.close()


def test_reset_restores_the_initial_run(ex2, monkeypatch):
    first = ex2.artists["gd"].full.get_xydata().copy()
    ex2.step.value, ex2.n_steps.value, ex2.schedule.value = 0.3, 20, "power"
    ex2.start[1].value = -1.0
    ex2.params["sharp"].value = 10.0
    n = []
    monkeypatch.setattr(ex2, "_compute_paths", lambda real=ex2._compute_paths: (n.append(1), real()))
    ex2.reset.click()
    assert len(n) == 1  # one recomputation for all the controls
    assert ex2.step.value == pytest.approx(0.4 * 2 / 20)  # the default: 0.4 x smallest 2/λ
    assert ex2.schedule.value == "constant" and ex2.params["sharp"].value == 20.0
    np.testing.assert_allclose(ex2.artists["gd"].full.get_xydata(), first)


# ----------------------------------------------------------------------------------------------
# Redrawing: blit after the front-end's first draw, full redraws only for static changes
# ----------------------------------------------------------------------------------------------
def test_blit_for_moving_artists_full_draw_for_the_landscape(ex2, monkeypatch):
    c = ex2.fig.canvas
    assert ex2._bg is None  # no front-end yet: nothing drawn
    frontend_ready(ex2)
    assert ex2._bg is not None
    counts = {"blit": 0, "draw": 0, "draw_idle": 0}

    def count(name, real=None):
        def f(*args):
            counts[name] += 1
            return real(*args) if real else None
        return f

    monkeypatch.setattr(c, "blit", count("blit", c.blit))
    monkeypatch.setattr(c, "draw", count("draw", c.draw))
    monkeypatch.setattr(c, "draw_idle", count("draw_idle"))

    def browser_asks_for_a_frame():
        c._handle_message(c, {"type": "draw"}, [])

    # a moving-artist change asks the front-end for a frame; the frame is a blit
    ex2.step.value = 0.07
    assert counts == {"blit": 0, "draw": 0, "draw_idle": 1}
    browser_asks_for_a_frame()
    assert counts == {"blit": 1, "draw": 0, "draw_idle": 1}
    # several changes before the front-end is ready give one frame showing the latest state
    ex2.frame.value = 4
    ex2.start[0].value = 0.0
    browser_asks_for_a_frame()
    assert counts == {"blit": 2, "draw": 0, "draw_idle": 3}
    buf = np.asarray(c.get_renderer().buffer_rgba())
    assert buf.shape[:2] == (440, 600)
    # the landscape changes: a full redraw, and the old background is dropped at once
    ex2.params["flat"].value = 2.0
    assert ex2._bg is None
    ex2.step.value = 0.08  # no blit over a stale background
    browser_asks_for_a_frame()
    assert counts["draw"] == 1 and counts["blit"] == 3  # 3rd: the redraw's own, from draw_event
    assert ex2._bg is not None


def test_the_blitted_frames_composite_to_the_current_picture(ex2):
    """Replay the images ipympl sends the way its front-end paints them (full, or diff over the
    last image): after a run of updates the page shows the current path and no old one."""
    import io

    from PIL import Image

    c = ex2.fig.canvas
    sent = []
    real = c.send_binary
    c.send_binary = lambda data: (sent.append((c._current_image_mode, data)), real(data))
    frontend_ready(ex2)
    for a in np.geomspace(0.03, 0.09, 8):
        ex2.step.value = float(a)
        c._handle_message(c, {"type": "draw"}, [])
    ex2.start[0].value, ex2.start[1].value = -0.7, -0.8
    c._handle_message(c, {"type": "draw"}, [])
    page = None
    for mode, data in sent:
        im = np.asarray(Image.open(io.BytesIO(data)).convert("RGBA"))
        if page is None or mode == "full":
            page = im.copy()
        else:
            page[im[..., 3] > 0] = im[im[..., 3] > 0]
    with Image.open(io.BytesIO(ex2.png())) as im:
        want = np.asarray(im.convert("RGBA"))
    assert np.abs(page.astype(int) - want.astype(int)).max() <= 2


def test_animated_artists_are_left_out_of_the_background(ex2):
    frontend_ready(ex2)
    for a in ex2._moving():
        assert a.get_animated()
    assert not any(a.get_animated() for a in ex2.layers.critical)


def test_image_canvas_without_ipympl():
    ex = explore(landscapes.saddle(), canvas="image", n_steps=30)
    assert ex.canvas_kind == "image" and isinstance(ex.view, W.Image)
    before = ex.view.value
    assert before[:8] == b"\x89PNG\r\n\x1a\n"
    ex.step.value = 0.5
    assert ex.view.value != before
    ex.close()


# ----------------------------------------------------------------------------------------------
# Display, static fallback, lecture style, leaks
# ----------------------------------------------------------------------------------------------
def test_mimebundle_has_widget_view_and_static_fallbacks(ex2):
    import base64
    import io

    from PIL import Image

    ex2.step.value = 0.12
    b = ex2._repr_mimebundle_()
    assert b["application/vnd.jupyter.widget-view+json"]["model_id"] == ex2.widget.model_id
    png = base64.b64decode(b["image/png"])
    with Image.open(io.BytesIO(png)) as im:
        assert im.size == (600, 440)
    assert b["text/plain"] == ex2.describe()
    assert "<img src='data:image/png;base64," in b["text/html"]
    assert "ABOVE: linearly unstable" in b["text/html"]  # alt text and caption
    assert ex2.fig.canvas._data_url.startswith("data:image/png;base64,")


def test_static_png_shows_the_path():
    """The moving artists are animated (left out of normal draws) but present in the PNG."""
    import io

    from PIL import Image

    ex = explore(landscapes.saddle(), n_steps=40, methods=("gd",))
    with Image.open(io.BytesIO(ex.png())) as im:
        rgb = np.asarray(im.convert("RGB")).astype(int)
    target = np.array(to_rgba(plotting.METHODS["gd"][1])[:3]) * 255
    assert (np.abs(rgb - target).sum(axis=2) < 40).sum() > 30
    ex.close()


def test_lecture_option_uses_large_fonts_and_leaves_rcparams_alone():
    import matplotlib as mpl

    size = mpl.rcParams["font.size"]
    ex = explore(landscapes.saddle(), lecture=True)
    assert ex.ax.xaxis.label.get_fontsize() == plotting.LECTURE_RC["axes.labelsize"]
    assert ex.fig.get_figwidth() > 6.0
    assert mpl.rcParams["font.size"] == size
    ex.close()


def _rss() -> float:
    """Resident memory of this process in bytes (Linux), or traced Python memory elsewhere."""
    try:
        with open("/proc/self/statm") as f:
            import os
            return int(f.read().split()[1]) * os.sysconf("SC_PAGE_SIZE")
    except OSError:
        if not tracemalloc.is_tracing():
            tracemalloc.start()
        return tracemalloc.get_traced_memory()[0]


def test_500_updates_keep_figures_and_memory_flat():
    ex = explore(landscapes.sharp_flat_2d(), n_steps=5)
    w = ex.widget
    steps = np.geomspace(0.01, 0.3, 50)
    for a in steps[:10]:  # warm caches
        ex.step.value = a
    figs = plt.get_fignums()
    gc.collect()
    base = _rss()
    for i in range(500):
        ex.step.value = float(steps[i % 50])
    gc.collect()
    grown = _rss() - base
    assert plt.get_fignums() == figs
    assert grown < 20e6, f"memory grew by {grown / 1e6:.1f} MB"
    np.testing.assert_allclose(ex.artists["gd"].full.get_xydata(), gd(ex).trajectory(0))
    ex.close()
    assert ex.fig.axes == [] and w.comm is None and ex.step.comm is None


def test_close_closes_every_widget_it_made():
    from ipywidgets.widgets.widget import _instances

    before = set(_instances)
    ex = explore(landscapes.sharp_flat_2d_sum(), methods=("gd", "sgd"), lecture=True)
    ex._repr_mimebundle_()
    assert len(set(_instances) - before) > 50
    ex.close()
    assert set(_instances) - before == set()
    ex.close()  # twice is fine


def test_in_a_widget_backend_session_nothing_is_shown_twice():
    """With `%matplotlib widget` (pyplot's backend is ipympl) the explorer adds no pyplot figure,
    so ipympl's post-execute hook has nothing to display a second time."""
    code = textwrap.dedent("""
        import matplotlib
        matplotlib.use("module://ipympl.backend_nbagg")
        import matplotlib.pyplot as plt
        from ipympl.backend_nbagg import _Backend_ipympl
        from reachkit import landscapes
        from reachkit.widgets import explore
        ex = explore(landscapes.sharp_flat_2d())
        ex.step.value = 0.2
        assert plt.get_fignums() == [] and _Backend_ipympl._to_show == []
        assert type(ex.fig.canvas).__module__ == "ipympl.backend_nbagg"
        print("ok")
    """)
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=60)
    assert out.stdout.strip() == "ok", out.stderr


def test_save_uses_the_explorers_run(ex2, tmp_path):
    from PIL import Image

    ex2.step.value = 0.12
    out = ex2.save(tmp_path / "run.gif", max_frames=8, dpi=40)
    with Image.open(out) as im:
        assert im.n_frames >= 2


def test_play_value_matches_the_scrubber_so_play_at_the_end_rewinds(ex2):
    """The browser's Play rewinds to 0 only when its value equals max (ipywidgets' animate())."""
    assert ex2.play.value == ex2.frame.value == ex2.play.max
    ex2.step.value = 0.02  # a new run of another length keeps them equal
    assert ex2.play.value == ex2.frame.value == ex2.play.max


def test_nonsmooth_landscape_read_outs_claim_no_sharpness():
    ex = explore(landscapes.absolute_value(), step=0.125, start=0.625, n_steps=20)
    text = ex.describe()
    assert "not smooth" in text and "linearly stable" not in text and "ABOVE" not in text
    assert analysis.minima_thresholds(landscapes.absolute_value()) == []
    ex.close()


def test_nonsmooth_landscapes_run_the_subgradient_method_and_offer_no_flow():
    ls = landscapes.absolute_value()
    ex = explore(ls, step=0.125, start=0.625, n_steps=20, methods=("gd", "flow"))
    assert ex.methods["flow"].disabled and not ex.methods["flow"].value
    assert ex.methods["gd"].description == "subgradient method"
    fresh = dynamics.subgradient_method(ls, [0.625], 0.125, 20)
    np.testing.assert_array_equal(ex.paths["gd"].iterates, fresh.iterates)
    assert "subgradient method: converged to the minimum (kink) (at step 5)" in ex.describe()
    ex.start[0].value = 0.6  # off the lattice 0.125 Z: a 2-cycle
    assert "cycling with period 2" in ex.describe()
    ex.close()


def test_start_slider_grid_reproduces_dyadic_starts_exactly():
    """The browser sends min + k * step back; for 5/8 on |x| that must be 5/8 exactly (exact landing)."""
    ex = explore(landscapes.absolute_value(), step=0.125, start=0.625, n_steps=20)
    s = ex.start[0]
    k = round((s.value - s.min) / s.step)
    assert s.min + k * s.step == 0.625 and s.min <= -2 and s.max >= 2
    ex.close()


def test_slider_values_from_the_browser_are_read_as_the_numbers_shown():
    """A log slider sends 10 ** exponent from the browser: 0.125 may arrive as 0.12500000000000003."""
    ex = explore(landscapes.absolute_value(), step=0.125, start=0.625, n_steps=20)
    ex.step.value = 0.12500000000000003
    ex.start[0].value = 0.6250000000000004
    assert "converged to the minimum (kink) (at step 5)" in ex.describe()
    ex.close()
