"""Live explorers: sliders, Play and a figure wired to the dynamics, redrawing only what changed.

    from reachkit import landscapes
    from reachkit.widgets import explore
    explore(landscapes.sharp_flat_2d())          # one line in a notebook cell

:func:`explore` returns an :class:`Explorer1D` or :class:`Explorer2D`. It displays itself as a
live widget; a static render (nbconvert, GitHub) shows a PNG of its state with a text
description instead. Controls and artists are attributes, so tests drive it like a user:
``ex.step.value = 0.12``, ``ex.frame.value = 30``, ``ex.artists["gd"].full.get_xydata()``.

Speed: the landscape (contours, basins, bifurcation diagram) is drawn once per landscape,
parameter or overlay change; a step, start or frame change only moves the path artists and
blits them over a background captured after the last full draw (``draw_event``).
"""

from __future__ import annotations

import base64
import contextlib
import html
import io
import math
import warnings

import ipywidgets as W
import numpy as np
from matplotlib.figure import Figure

from . import analysis, dynamics, plotting, schedules
from .landscapes import FiniteSum, Landscape

__all__ = ["explore", "Explorer", "Explorer1D", "Explorer2D"]

_STYLE = {"description_width": "initial"}
_ORDER = ("gd", "sgd", "flow")
_SCHEDULES = [("constant a", "constant"), ("a/(k+1)^p", "power"), ("adaptive (Armijo)", "armijo")]


def explore(landscape: Landscape, **options) -> "Explorer":
    """A live explorer for a 1-D or 2-D landscape (options: see :class:`Explorer`)."""
    if landscape.dim == 1:
        return Explorer1D(landscape, **options)
    if landscape.dim == 2:
        return Explorer2D(landscape, **options)
    raise ValueError(f"explore draws 1-D and 2-D landscapes; this one has dim={landscape.dim}")


def figure_with_view(figsize, canvas: str = "auto"):
    """A figure and the widget that shows it: an ipympl canvas (header, toolbar and footer hidden)
    or, with ``canvas="image"`` or no ipympl, an Image widget the caller fills with PNGs.
    Returns (fig, view, kind) with kind "ipympl" or "image"; the figure is not registered with pyplot."""
    fig = Figure(figsize=figsize, dpi=100)
    kind = canvas
    if kind in ("auto", "ipympl"):
        import matplotlib

        backend = matplotlib.get_backend()
        try:
            from ipympl.backend_nbagg import Canvas, FigureManager
        except ImportError:
            if kind == "ipympl":
                raise
            kind = "image"
        if matplotlib.get_backend() != backend:  # importing ipympl makes it pyplot's backend:
            matplotlib.use(backend)  # keep the notebook's own (static figures stay inline images)
    if kind == "image":
        from matplotlib.backends.backend_agg import FigureCanvasAgg
        FigureCanvasAgg(fig)
        return fig, W.Image(format="png", layout=W.Layout(width=f"{figsize[0] * 100:.0f}px")), "image"
    c = Canvas(fig)
    with warnings.catch_warnings():  # ipympl's Toolbar vs traitlets, harmless
        warnings.filterwarnings("ignore", "Passing unrecognized arguments", DeprecationWarning)
        FigureManager(c, id(fig))
    c.header_visible = c.footer_visible = c.toolbar_visible = False
    return fig, c, "ipympl"


def plain_left_click(event, ax) -> bool:
    """A left click inside ``ax`` that is not part of a toolbar zoom or pan."""
    if event.inaxes is not ax or event.xdata is None or int(event.button) != 1:
        return False
    tb = getattr(event.canvas, "toolbar", None)
    return not (tb is not None and str(getattr(tb, "mode", "")))


def slider_number(v) -> float:
    """A slider value rounded to 12 significant digits: the browser computes it as min + k * step
    (or 10 ** exponent for a log slider), which turns 0.125 into 0.12500000000000003; exact
    landings (|x| with a = 1/8 from 5/8) need the number the student sees."""
    return float(f"{float(v):.12g}")


def _g(v, digits: int = 4) -> str:
    """A number in short form (nan, inf and huge values are written as such)."""
    v = float(v)
    return f"{v:.{digits}g}" if np.isfinite(v) else str(v)


def _point(x) -> str:
    x = np.atleast_1d(x)
    return _g(x[0]) if x.size == 1 else "(" + ", ".join(_g(v, 3) for v in x) + ")"


def _grid(lo: float, hi: float, value: float, step: float, inside: bool = True):
    """Slider (min, max, step) with ``value`` exactly on the slider's grid min + k * step.

    A browser slider snaps to that grid, so a value off it would be shown rounded. With
    ``inside`` the range stays within [lo, hi] (the step is adjusted); otherwise the range is
    widened to whole steps around ``value``.
    """
    if inside:
        k = max(1, round((value - lo) / step)) if value > lo else 0
        if k:
            step = (value - lo) / k
        n = max(1, math.floor((hi - lo) / step + 1e-9))
        return lo, lo + n * step, step
    below = math.ceil((value - lo) / step - 1e-9)
    above = math.ceil((hi - value) / step - 1e-9)
    return value - below * step, value + above * step, step


def _default_step(landscape: Landscape):
    """A stable default step and a slider range that reaches well past every 2/sharpness."""
    thr = [t for _, _, t in analysis.minima_thresholds(landscape) if np.isfinite(t) and t > 0]
    if thr:
        return 0.4 * min(thr), 0.05 * min(thr), 3.0 * max(thr)
    L = landscape.lipschitz
    a = 0.5 / L if L else 0.1
    return a, a / 100, a * 100


class Explorer:
    """Base explorer: controls, runs, moving artists, read-outs and the blit; subclasses draw.

    Options: ``step`` (default: 0.4 x the smallest 2/sharpness), ``start``, ``methods`` (any of
    "gd", "sgd", "flow"), ``schedule`` ("constant", "power", "armijo"), ``exponent`` p,
    ``n_steps``, ``batch_size``, ``seed``, ``basins`` and ``bifurcation`` overlays,
    ``reduced_motion`` (whole path, no animation), ``lecture`` (projector style),
    ``canvas`` ("auto", "ipympl", or "image": a PNG redrawn per update, no ipympl needed),
    ``figsize``, ``trail`` (length of the fading trail), ``basin_resolution``, ``basin_steps``.
    """

    def __init__(self, landscape: Landscape, *, step=None, start=None, methods=("gd",),
                 schedule: str = "constant", exponent: float = 0.6, n_steps: int = 300,
                 batch_size: int = 1, seed: int = 0, basins: bool = False,
                 bifurcation: bool = False, reduced_motion: bool = False, lecture: bool = False,
                 canvas: str = "auto", figsize=None, trail: int = 20,
                 basin_resolution: int = 96, basin_steps: int = 1000):
        if landscape.dim != self.dim:
            raise ValueError(f"{type(self).__name__} needs a {self.dim}-D landscape; got dim={landscape.dim}")
        unknown = set(methods) - set(_ORDER)
        if unknown:
            raise ValueError(f"unknown method(s) {sorted(unknown)}; choose from {_ORDER}")
        if "sgd" in methods and not isinstance(landscape, FiniteSum):
            raise ValueError("SGD needs a finite-sum landscape (e.g. landscapes.sharp_flat_2d_sum())")
        if canvas not in ("auto", "ipympl", "image"):
            raise ValueError(f"canvas must be 'auto', 'ipympl' or 'image'; got {canvas!r}")
        self.base = landscape
        self.landscape = landscape
        self.thresholds = analysis.minima_thresholds(landscape)  # [(label, λ, 2/λ)] per minimum
        self.lecture = bool(lecture)
        self.trail_length = int(trail)
        self.basin_resolution = int(basin_resolution)
        self.basin_steps = int(basin_steps)
        self.paths: dict[str, dynamics.Path] = {}
        self._runs: dict[str, tuple] = {}
        self.basin_map = None
        self.bif = None
        self.error: str | None = None
        self._pending: set[str] = set()
        self._hold = 0
        self._bg = None
        self._blit_pending = False
        self._cache: dict[str, tuple] = {}
        self._closed = False
        self._build_controls(step, start, methods, schedule, exponent, n_steps, batch_size, seed,
                             basins, bifurcation, reduced_motion)
        self._initial = self._state()
        with self._styled():
            self._build_figure(canvas, figsize)
        self._observe()
        self._pending = {"params", "paths", "overlays", "motion"}
        self._apply()

    # -- controls -------------------------------------------------------------------------------
    def _build_controls(self, step, start, methods, schedule, exponent, n_steps, batch_size,
                        seed, basins, bifurcation, reduced_motion):
        ls = self.landscape
        a0, lo, hi = _default_step(ls)
        a0 = a0 if step is None else float(step)
        if not (np.isfinite(a0) and a0 > 0):
            raise ValueError(f"step must be a finite positive number; got {step!r}")
        e_lo, e_hi, e_step = _grid(math.log10(min(lo, a0)), math.log10(max(hi, a0)),
                                   math.log10(a0), 0.005, inside=False)
        self.step = W.FloatLogSlider(
            value=a0, base=10, min=e_lo, max=e_hi, step=e_step,
            readout_format=".4g", description="step a", style=_STYLE, layout=W.Layout(width="420px"),
            tooltip="step size (a0 for the decaying and adaptive schedules); log scale")
        self.schedule = W.Dropdown(options=_SCHEDULES, value=schedule, description="schedule",
                                   style=_STYLE, tooltip="step-size rule a_k")
        self.exponent = W.FloatSlider(value=exponent, min=0.0, max=2.0, step=0.05,
                                      description="exponent p", style=_STYLE,
                                      tooltip="a_k = a/(k+1)^p: summable steps when p > 1")
        self.n_steps = W.IntSlider(value=n_steps, min=1, max=max(2000, n_steps),
                                   description="steps", style=_STYLE, continuous_update=False,
                                   tooltip="number of steps (the flow runs for the same total time)")
        is_sum = isinstance(ls, FiniteSum)
        smooth = ls.smooth  # on a nonsmooth landscape GD is the subgradient method and there is no flow
        self.methods = {
            m: W.Checkbox(value=m in methods and (smooth or m != "flow"),
                          description=self._method_name(m),
                          indent=False, disabled=(m == "sgd" and not is_sum) or (m == "flow" and not smooth),
                          layout=W.Layout(width="auto"),
                          tooltip={"gd": "gradient descent with the chosen steps",
                                   "sgd": "minibatch SGD (finite-sum landscapes only)",
                                   "flow": "gradient flow, over the same total time"}[m])
            for m in _ORDER}
        n = ls.n_samples if is_sum else 1
        self.batch_size = W.IntSlider(value=min(batch_size, n), min=1, max=n, description="batch",
                                      disabled=not is_sum, style=_STYLE, continuous_update=False,
                                      tooltip="SGD minibatch size")
        self.seed = W.BoundedIntText(value=seed, min=0, max=2**31 - 1, description="seed",
                                     disabled=not is_sum, style=_STYLE,
                                     layout=W.Layout(width="150px"),
                                     tooltip="random seed of the SGD minibatches")
        x0 = self._default_start() if start is None else np.atleast_1d(np.asarray(start, float))
        if x0.shape != (self.dim,):
            raise ValueError(f"start must have {self.dim} coordinate(s); got {start!r}")
        self.start = []
        for j, name in enumerate("xy"[:self.dim]):
            b_lo, b_hi = ls.bounds[j]
            value = float(np.clip(x0[j], b_lo, b_hi))
            # a power-of-two step on a grid through the start: the browser's min + k * step is then
            # exact for dyadic starts such as 5/8 (exact landings on |x| depend on it)
            lo, hi, step = _grid(b_lo, b_hi, value, 2.0 ** math.floor(math.log2((b_hi - b_lo) / 500)),
                                 inside=False)
            self.start.append(W.FloatSlider(
                value=value, min=lo, max=hi, step=step, readout_format=".3f",
                description=f"start {name}0",
                style=_STYLE, tooltip=f"initial point, coordinate {name}"
                + (" (or click on the plot)" if self.dim == 2 else "")))
        self.params = {}
        for p in ls.param_specs:
            v = ls.params[p.name]
            common = dict(description=p.name, style=_STYLE, continuous_update=False,
                          tooltip=p.description or p.name, readout_format=".3g")
            if p.log:
                lo, hi, st = _grid(math.log10(p.low), math.log10(p.high), math.log10(v),
                                   (math.log10(p.high) - math.log10(p.low)) / 200)
                self.params[p.name] = W.FloatLogSlider(value=v, base=10, min=lo, max=hi, step=st,
                                                       **common)
            else:
                lo, hi, st = _grid(p.low, p.high, v, (p.high - p.low) / 200)
                self.params[p.name] = W.FloatSlider(value=v, min=lo, max=hi, step=st, **common)
        self.play = W.Play(value=1, min=0, max=1, interval=50, description="play",
                           tooltip="play / pause the run", show_repeat=False)
        self.frame = W.IntSlider(value=1, min=0, max=1, description="iterate k", style=_STYLE,
                                 tooltip="which iterate the marker shows")
        self.play_link = W.jslink((self.play, "value"), (self.frame, "value"))  # in the browser
        self.speed = W.IntSlider(value=20, min=1, max=60, description="frames/s", style=_STYLE,
                                 tooltip="animation speed")
        self.basins = W.Checkbox(value=basins, description="basins", indent=False,
                                 layout=W.Layout(width="auto"),
                                 tooltip="colour every start by where the current method ends")
        self.bifurcation = W.Checkbox(value=bifurcation and self.dim == 1, indent=False,
                                      description="bifurcation diagram",
                                      layout=W.Layout(width="auto"),
                                      tooltip="long-run GD orbits against the step (1-D)")
        self.reduced_motion = W.Checkbox(value=reduced_motion, description="reduced motion",
                                         indent=False, layout=W.Layout(width="auto"),
                                         tooltip="show the whole path at once, no animation")
        self.reset = W.Button(description="reset", icon="undo", tooltip="back to the initial settings")
        self.readout = W.HTML(layout=W.Layout(width="420px"))
        self.status = W.HTML()
        self.exponent.disabled = schedule != "power"

    def _default_start(self) -> np.ndarray:
        b = self.landscape.bounds
        frac = np.array([0.4, 0.8])[:self.dim]
        return b[:, 0] + frac * (b[:, 1] - b[:, 0])

    def _state(self) -> dict:
        ws = [self.step, self.schedule, self.exponent, self.n_steps, self.batch_size, self.seed,
              self.speed, self.basins, self.bifurcation, self.reduced_motion,
              *self.methods.values(), *self.start, *self.params.values()]
        return {w: w.value for w in ws}

    def _observe(self):
        def on(widgets, *what):
            for w in widgets:
                w.observe(lambda _c, what=what: self._changed(*what), "value")
        on([self.step, self.schedule, self.exponent, *self.methods.values()], "paths", "basin")
        on([self.n_steps, self.batch_size, self.seed, *self.start], "paths")
        on(self.params.values(), "params")
        on([self.frame], "frame")
        on([self.basins, self.bifurcation], "overlays")
        on([self.reduced_motion], "motion")
        self.speed.observe(lambda c: setattr(self.play, "interval", int(1000 / c["new"])), "value")
        self.schedule.observe(
            lambda c: setattr(self.exponent, "disabled", c["new"] != "power"), "value")
        self.reset.on_click(lambda _b: self.reset_controls())

    def reset_controls(self):
        """Every control back to its initial value (one recomputation)."""
        with self._batch():
            for w, v in self._initial.items():
                w.value = v

    @contextlib.contextmanager
    def _batch(self):
        """Apply several control changes as one update."""
        self._hold += 1
        try:
            yield
        finally:
            self._hold -= 1
            if not self._hold and self._pending:
                self._apply()

    def _changed(self, *what):
        self._pending.update(what)
        if not self._hold:
            self._apply()

    # -- figure ---------------------------------------------------------------------------------
    def _styled(self):
        return plotting.lecture_style() if self.lecture else contextlib.nullcontext()

    def _figsize(self):
        return (6.0, 4.4)

    def _build_figure(self, canvas, figsize):
        size = figsize or self._figsize()
        if self.lecture and figsize is None:
            size = (size[0] * 1.35, size[1] * 1.35)
        self.fig, self.view, kind = figure_with_view(size, canvas)
        if kind == "ipympl":
            self.view.handle_draw = self._handle_draw  # the front-end's "draw" request (see _push)
        self.canvas_kind = "image" if kind == "image" else "ipympl"
        self.fig.canvas.mpl_connect("draw_event", self._on_draw)
        self.fig.canvas.mpl_connect("resize_event", lambda _e: setattr(self, "_bg", None))
        self._make_axes()
        self.artists = {m: plotting.PathArtists(self.ax, color=plotting.METHODS[m][1],
                                                label=self._method_name(m),
                                                trail=self.trail_length, animated=True)
                        for m in _ORDER if m != "sgd" or isinstance(self.base, FiniteSum)}
        self.layers = None
        self.basin_image = None

    def _make_axes(self):
        self.fig.subplots_adjust(left=0.12, right=0.97, bottom=0.12, top=0.92)
        self.ax = self.fig.add_subplot()

    def _moving(self) -> list:
        """The animated artists: everything a step, start or frame change moves."""
        return [a for pa in self.artists.values() for a in pa.artists if a.get_visible()]

    def _on_draw(self, event):
        """After every full draw: keep the background, then draw the moving artists on it."""
        c = self.fig.canvas
        if self.canvas_kind != "ipympl" or c.is_saving():
            return
        self._bg = c.copy_from_bbox(self.fig.bbox)
        for a in self._moving():
            a.axes.draw_artist(a)
        c.blit(self.fig.bbox)

    def _push(self, full: bool):
        """Show the changes: a blit of the moving artists, or a full redraw.

        With ipympl both wait for the front-end's next "draw" request (``draw_idle``), which it
        sends only once it has the previous image: ipympl's front-end keeps one image in flight,
        and a diff image pushed while another is still loading would be dropped, leaving a
        ghost of the old path. Without a front-end nothing is drawn (the artists are current).
        """
        if self._closed:
            return
        if self.canvas_kind == "image":
            self.view.value = self.png()
            return
        if full or self._bg is None:
            self._bg = None  # stale until the next draw_event
            self._blit_pending = False
        else:
            self._blit_pending = True
        self.fig.canvas.draw_idle()

    def _handle_draw(self, event=None):
        """The front-end asks for a frame: blit if only the moving artists changed, else draw."""
        c = self.fig.canvas
        if self._blit_pending and self._bg is not None:
            self._blit_pending = False
            c.restore_region(self._bg)
            for a in self._moving():
                a.axes.draw_artist(a)
            c.blit(self.fig.bbox)
        else:
            self._blit_pending = False
            c.draw()  # draw_event -> _on_draw keeps the new background

    def _draw_landscape(self):
        """(Re)draw the static layer for the current landscape."""
        if self.layers is not None:
            for a in [self.layers.surface, self.layers.lines, *self.layers.critical,
                      *self.layers.labels]:
                if a is not None:
                    a.remove()
        self.layers = plotting.draw_landscape(self.ax, self.landscape)
        self.ax.set_title(self.landscape.name, fontsize="medium")

    def _legend(self):
        handles = [self.artists[m].full for m in self.active_methods]
        if self.ax.get_legend() is not None:
            self.ax.get_legend().remove()
        if handles:
            leg = self.ax.legend(handles=handles, loc="upper right", fontsize="small",
                                 framealpha=0.85)
            leg.set_zorder(7)

    # -- computation ----------------------------------------------------------------------------
    @property
    def active_methods(self) -> list[str]:
        return [m for m in _ORDER if self.methods[m].value and m in self.artists]

    def make_schedule(self) -> schedules.Schedule:
        """The step-size schedule the controls describe."""
        a = slider_number(self.step.value)
        kind = self.schedule.value
        if kind == "power":
            return schedules.power(a, float(self.exponent.value))
        if kind == "armijo":
            return schedules.armijo(a)
        return schedules.constant(a)

    def flow_horizon(self) -> float:
        """Time the flow runs: the total of the GD steps (n * a for a constant step)."""
        sched, n = self.make_schedule(), int(self.n_steps.value)
        if isinstance(sched, schedules.PowerDecay):
            return sched.total(n)
        return n * float(self.step.value)

    def _method_name(self, m: str) -> str:
        """The method's name in words: on a nonsmooth landscape "gd" is the subgradient method."""
        return "subgradient method" if m == "gd" and not self.landscape.smooth else plotting.METHODS[m][0]

    def run(self, method: str) -> dynamics.Path:
        """Compute ``method``'s path for the current controls (what the figure shows)."""
        x0 = np.array([slider_number(s.value) for s in self.start])
        n, sched = int(self.n_steps.value), self.make_schedule()
        if method == "gd" and not self.landscape.smooth:  # at a kink: the subgradient method
            return dynamics.subgradient_method(self.landscape, x0, sched, n)
        if method == "gd":
            return dynamics.gradient_descent(self.landscape, x0, sched, n)
        if method == "sgd":
            return dynamics.sgd(self.landscape, x0, sched, n, batch_size=int(self.batch_size.value),
                                seed=int(self.seed.value))
        if method == "flow":
            return dynamics.gradient_flow(self.landscape, x0, t_max=self.flow_horizon(),
                                          n_times=n + 1)
        raise ValueError(f"unknown method {method!r}")

    def _run_key(self, method: str) -> tuple:
        """Everything ``run(method)`` depends on (a run is reused while its key is unchanged)."""
        key = (method, tuple(self.landscape.params.items()), tuple(s.value for s in self.start),
               self.n_steps.value)
        if method == "flow":
            return key + (self.flow_horizon(),)
        key += (self.schedule.value, self.step.value,
                self.exponent.value if self.schedule.value == "power" else None)
        return key + ((self.batch_size.value, self.seed.value) if method == "sgd" else ())

    def _compute_paths(self):
        new, keys = {}, {}
        for m in self.active_methods:  # all or nothing: an error keeps the previous runs
            keys[m] = self._run_key(m)
            old = self._runs.get(m)
            new[m] = old[1] if old is not None and old[0] == keys[m] else self.run(m)
        self._runs = {m: (keys[m], new[m]) for m in new}
        self.paths = new
        for m, pa in self.artists.items():
            if m in new:
                pa.set_path(plotting.path_xy(self.landscape, new[m]))
            pa.set_visible(m in new)

    def _basin_key(self):
        m = (self.active_methods or ["gd"])[0]
        kind = "flow" if m == "flow" else "gd"
        sched = "" if kind == "flow" else str(self.make_schedule())
        return (tuple(self.landscape.params.items()), kind, sched)

    def _update_basins(self) -> bool:
        """Recompute and show the basin map if the overlay is on and stale; True if it changed."""
        on = self.basins.value
        changed = False
        if self.basin_image is not None and self.basin_image.get_visible() != on:
            self.basin_image.set_visible(on)
            changed = True
        key = self._basin_key()
        if not on or (self._cache.get("basins") == key and self.basin_image is not None):
            return changed
        kind, n = key[1], self.basin_resolution * (4 if self.dim == 1 else 1)
        if kind == "flow":
            n = max(16, n // 2)  # the flow is an ODE solve: a coarser grid keeps it interactive
        self.basin_map = analysis.basin_map(self.landscape, self.make_schedule(), n=n,
                                            n_steps=self.basin_steps, method=kind)
        if self.basin_image is None:
            self.basin_image = plotting.draw_basins(self.ax, self.landscape, self.basin_map)
        else:
            self.basin_image.set_extent(self._basin_extent())
            plotting.update_basins(self.basin_image, self.landscape, self.basin_map)
        self._cache["basins"] = key
        return True

    def _basin_extent(self):
        b = self.basin_map
        y0, y1 = (self.ax.get_ylim() if b.ys is None else (b.ys[0], b.ys[-1]))
        return (b.xs[0], b.xs[-1], y0, y1)

    def _update_overlays(self, what: set) -> bool:
        """Return True if the static layer changed (a full redraw is needed)."""
        full = False
        if what & {"params", "overlays"} or ("basin" in what and self.basins.value):
            full |= self._update_basins()
        return full

    # -- the update loop -------------------------------------------------------------------------
    def _apply(self):
        """Recompute what the pending changes need, then redraw or blit. Never raises."""
        what, full = set(self._pending), False
        self._pending.clear()
        self._hold += 1
        try:
            if "params" in what:
                values = {k: float(s.value) for k, s in self.params.items()}
                self.landscape = self.base.with_params(**values)
                self.thresholds = analysis.minima_thresholds(self.landscape)
                with self._styled():
                    self._draw_landscape()
                full = True
            if what & {"params", "paths"}:
                self._compute_paths()
            if what & {"params", "paths", "overlays"}:
                with self._styled():
                    if self._methods_changed() or "params" in what:
                        self._legend()
                        full = True
                    full |= self._update_overlays(what)
            self._sync_frames()
            self._show_frame()
            self.error = None
            self.status.value = self._status_html()
        except Exception as exc:  # a callback must never raise: report and keep going
            self.error = f"{type(exc).__name__}: {exc}"
            self.status.value = (
                "<span style='color:#D55E00'><b>Could not update:</b> "
                f"{html.escape(self.error)}. The figure still shows the last valid run; "
                "move the control back.</span>")
            full = True
        finally:
            self._hold -= 1
            self._pending.clear()  # frame changes caused by this update are already shown
        try:
            self._push(full)
        except Exception as exc:
            self.error = f"{type(exc).__name__}: {exc}"
            self.status.value = f"<b>Could not redraw:</b> {html.escape(self.error)}"

    def _methods_changed(self) -> bool:
        now = tuple(self.active_methods)
        changed = self._cache.get("methods") != now
        self._cache["methods"] = now
        return changed

    def _sync_frames(self):
        """Scrubber and Play cover the run; the marker stays at the end if it was there."""
        n = max([len(p.times) for p in self.paths.values()], default=1) - 1
        at_end = self.frame.value >= self.frame.max
        reduced = self.reduced_motion.value
        with self.frame.hold_sync(), self.play.hold_sync():
            self.play.max = self.frame.max = max(n, 1)
            self.play.step = max(1, n // 200)
            if at_end or reduced:
                self.frame.value = self.frame.max
            # keep Play's own value equal (the browser links them, the kernel does not): at max,
            # pressing Play rewinds to 0 instead of pausing at once
            self.play.value = self.frame.value
            self.play.disabled = reduced
            if reduced:
                self.play.playing = False

    def _show_frame(self):
        k, whole = self.frame.value, self.reduced_motion.value
        for m, pa in self.artists.items():
            if m in self.paths:
                pa.show(k, whole=whole)
        self.readout.value = self._readout_html()

    # -- read-outs ------------------------------------------------------------------------------
    def _step_at(self, method: str, k: int) -> float:
        """The step a_k used to leave iterate k (nan for the flow)."""
        if method == "flow":
            return float("nan")
        sched = self.make_schedule()
        if isinstance(sched, schedules.Armijo):
            used = self.paths[method].step_sizes[: k + 1, 0]
            used = used[np.isfinite(used)]
            return float(used[-1]) if used.size else float(self.step.value)
        return float(np.asarray(sched.sizes(k)))

    def readout_lines(self) -> list[str]:
        """The numbers beside the plot, as plain text (also the figure's text description)."""
        ls, methods = self.landscape, self.active_methods
        lines = []
        if not methods:
            return ["No method selected: tick GD, SGD or gradient flow."]
        m = methods[0]
        p = self.paths[m]
        k = min(self.frame.value, len(p.times) - 1)
        x = p.trajectory(0)[k]
        name = self._method_name(m)
        with np.errstate(all="ignore"):
            g = float(np.linalg.norm(ls.grad(x)))
            lam = float(analysis.sharpness(ls, x)) if np.all(np.isfinite(x)) else float("nan")
        when = f"t = {_g(p.times[k], 3)}" if m == "flow" else f"step k = {k}"
        curvature = f"sharpness = {_g(lam)}" if ls.smooth else "no sharpness (f is not smooth)"
        lines.append(f"{name} at {when}: x = {_point(x)}, f = {_g(p.values[k, 0])}, "
                     f"|grad f| = {_g(g)}, {curvature}")
        a = self._step_at(m, k)
        if m == "flow":
            lines.append("Gradient flow has no step size: no 2/λ limit applies to it.")
        else:
            kind = {"constant": "constant step", "power": f"a_k = a/(k+1)^{_g(self.exponent.value, 3)}",
                    "armijo": "adaptive step, Armijo"}[self.schedule.value]
            lines.append(f"Step a_k = {_g(a)} ({kind}) against each minimum's 2/sharpness:")
        rows = self.thresholds
        if not ls.smooth:
            lines.append("(f is not smooth: the 2/sharpness rule does not apply at a kink)")
        elif not rows:
            lines.append("(no minimum is listed for this landscape)")
        for label, lam_min, thr in rows:
            line = f"{label}: sharpness λ = {_g(lam_min)}, 2/λ = {_g(thr)}"
            if m != "flow":
                if a > thr:
                    line += f" — step {_g(a)} is ABOVE: linearly unstable"
                else:
                    line += f" — step {_g(a)} is below: linearly stable"
            lines.append(line)
        if self.basins.value and self.basin_map is not None:
            kind = self._cache.get("basins", (None, "gd"))[1]
            what = "gradient flow" if kind == "flow" else f"GD, {self.basin_steps} steps"
            shares = ", ".join(f"{n} {f:.0%}" for n, _, f in
                               plotting.basin_legend(ls, self.basin_map, 0.005))
            note = " (SGD is random: GD basins shown)" if m == "sgd" else ""
            lines.append(f"Basins ({what}){note}: {shares}")
        return lines

    def status_lines(self) -> list[str]:
        """The outcome of each run in words (Path.describe), or the last error."""
        if self.error:
            return [f"Could not update: {self.error}"]
        return [f"{self._method_name(m)}: {p.describe(0)}" for m, p in self.paths.items()]

    def describe(self) -> str:
        """A text description of the figure and its state (kept current)."""
        head = (f"{self.landscape.name}, start {_point([s.value for s in self.start])}, "
                f"{self.n_steps.value} steps.")
        return "\n".join([head, *self.readout_lines(), *self.status_lines()])

    def _readout_html(self) -> str:
        rows = []
        for line in self.readout_lines():
            t = html.escape(line)
            t = t.replace("ABOVE", "<b style='color:#D55E00'>ABOVE</b>")
            if line.startswith("Basins") and self.basin_map is not None:  # colour key
                key = " ".join(
                    f"<span style='white-space:nowrap'><span style='display:inline-block;"
                    f"width:0.9em;height:0.9em;background:{c};border:1px solid #555'></span> "
                    f"{html.escape(n)}</span>"
                    for n, c, _ in plotting.basin_legend(self.landscape, self.basin_map, 0.005))
                t += f"<br>{key}"
            rows.append(f"<div>{t}</div>")
        return "<div style='font-size:0.95em;line-height:1.35'>" + "".join(rows) + "</div>"

    def _status_html(self) -> str:
        rows = "".join(f"<div>{html.escape(s)}</div>" for s in self.status_lines())
        return f"<div role='status' aria-live='polite'>{rows}</div>"

    # -- display ---------------------------------------------------------------------------------
    @property
    def widget(self) -> W.Widget:
        """The whole explorer as one ipywidgets box (built on first use)."""
        if getattr(self, "_widget", None) is None:
            def row(*children, align="center"):
                return W.HBox(list(children), layout=W.Layout(flex_flow="row wrap",
                                                              align_items=align))

            self.batch_size.layout.margin, self.seed.layout.margin = "0 0 0 2em", "0 0 0 1em"
            top = row(self.view, W.VBox([self.readout, self.status],
                                        layout=W.Layout(margin="1em 0 0 1em")), align="flex-start")
            self._widget = W.VBox([
                top,
                row(self.play, self.frame, self.speed),
                row(self.step, self.schedule, self.exponent, self.n_steps),
                row(W.Label("methods:"), *self.methods.values(), self.batch_size, self.seed),
                row(*self.start, *self.params.values()),
                row(self.basins, *([self.bifurcation] if self.dim == 1 else []),
                    self.reduced_motion, self.reset),
            ])
        return self._widget

    def png(self, dpi=None) -> bytes:
        """The figure as it is now (moving artists included), as PNG bytes."""
        buf = io.BytesIO()
        self.fig.savefig(buf, format="png", dpi=dpi or self.fig.dpi)
        return buf.getvalue()

    def _repr_mimebundle_(self, include=None, exclude=None, **kwargs):
        """The live widget, plus a static PNG and text description for renderers without one."""
        bundle = dict(self.widget._repr_mimebundle_(include=include, exclude=exclude) or {})
        b64 = base64.b64encode(self.png()).decode("ascii")
        if self.canvas_kind == "ipympl":  # what an embedded widget state shows for the canvas
            self.fig.canvas._data_url = f"data:image/png;base64,{b64}"
        text = self.describe()
        bundle["text/plain"] = text
        bundle["image/png"] = b64
        bundle["text/html"] = (
            f"<figure><img src='data:image/png;base64,{b64}' alt='{html.escape(text, quote=True)}'/>"
            f"<figcaption><pre>{html.escape(text)}</pre></figcaption></figure>")
        return bundle

    def save(self, filename, **options):
        """Save the current run as GIF / MP4 / HTML (see :func:`reachkit.animation.save_animation`)."""
        from .animation import save_animation
        options.setdefault("lecture", self.lecture)
        return save_animation(self.landscape, filename, paths=self.paths, **options)

    def close(self):
        """Close every widget of the explorer (with their layouts and styles), free the figure."""
        if self._closed:
            return
        self._closed = True
        self.play.playing = False
        seen = set()

        def close(w):
            if not isinstance(w, W.Widget) or id(w) in seen:
                return
            seen.add(id(w))
            for child in getattr(w, "children", ()):
                close(child)
            for part in ("layout", "style", "toolbar"):
                close(getattr(w, part, None))
            w.close()

        for w in [getattr(self, "_widget", None), *self._state(), self.play, self.frame,
                  self.reset, self.readout, self.status, self.view, self.play_link]:
            close(w)
        self.fig.clear()
        self._bg = None


class Explorer2D(Explorer):
    """Explorer for a 2-D landscape: contours, paths, basin image; a click sets the start."""

    dim = 2

    def _build_figure(self, canvas, figsize):
        super()._build_figure(canvas, figsize)
        self.fig.canvas.mpl_connect("button_press_event", self._on_click)

    def _on_click(self, event):
        """Left click inside the axes moves the start there (one recomputation)."""
        try:
            if not plain_left_click(event, self.ax):
                return
            with self._batch():
                for s, v in zip(self.start, (event.xdata, event.ydata), strict=True):
                    s.value = float(np.clip(v, s.min, s.max))
        except Exception as exc:  # pragma: no cover - defensive
            self.error = f"{type(exc).__name__}: {exc}"
            self.status.value = html.escape(self.error)


class Explorer1D(Explorer):
    """Explorer for a 1-D landscape: the graph with (x_k, f(x_k)); optional bifurcation axes."""

    dim = 1

    def _figsize(self):
        return (6.0, 5.2)

    def _make_axes(self):
        gs = self.fig.add_gridspec(2, 1, height_ratios=[3, 2], left=0.12, right=0.97,
                                   bottom=0.1, top=0.93, hspace=0.45)
        self.ax = self.fig.add_subplot(gs[0])
        self.ax_bif = self.fig.add_subplot(gs[1])
        self._pos_split = self.ax.get_position()
        top, bottom = self._pos_split, self.ax_bif.get_position()
        self._pos_single = [top.x0, bottom.y0, top.width, top.y1 - bottom.y0]
        self.step_line = self.ax_bif.axvline(self.step.value, color=plotting.METHODS["gd"][1],
                                             lw=2, animated=True, label="current step")
        self.bif_artists = []

    def _moving(self):
        out = super()._moving()
        return out + [self.step_line] if self.ax_bif.get_visible() else out

    def _bifurcation_steps(self):
        thr = [t for _, _, t in self.thresholds if np.isfinite(t)]
        lo, hi = self.step.min, self.step.max  # log10 exponents
        lo10 = max(lo, math.log10(0.25 * min(thr))) if thr else lo
        hi10 = min(hi, math.log10(3.0 * max(thr))) if thr else hi
        return np.logspace(lo10, max(hi10, lo10 + 0.5), 240)

    def _update_overlays(self, what):
        full = super()._update_overlays(what)
        on = self.bifurcation.value
        if bool(on) != self.ax_bif.get_visible() or not self.bif_artists:
            self.ax_bif.set_visible(on)
            self.ax.set_position(self._pos_split if on else self._pos_single)
            full = True
        if on and (self._cache.get("bif") != tuple(self.landscape.params.items())):
            ls = self.landscape
            starts = [c.x[0] + 0.02 * np.ptp(ls.bounds) for c in ls.minima()] \
                or [self.start[0].value]
            self.bif = analysis.bifurcation(ls, self._bifurcation_steps(), starts,
                                            n_transient=600, n_keep=32)
            self.ax_bif.clear()
            with self._styled():
                self.bif_artists = [plotting.draw_bifurcation(self.ax_bif, self.bif),
                                    *plotting.draw_thresholds(self.ax_bif, ls)]
                self.step_line = self.ax_bif.axvline(self.step.value, lw=2, animated=True,
                                                     color=plotting.METHODS["gd"][1],
                                                     label="current step")
                self.ax_bif.legend(loc="upper left", fontsize="x-small", framealpha=0.8)
            self.ax_bif.set_ylim(*ls.bounds[0])
            self._cache["bif"] = tuple(ls.params.items())
            full = True
        return full

    def _draw_landscape(self):
        super()._draw_landscape()
        if self.basin_image is not None and self.basin_map is not None:
            self.basin_image.set_extent(self._basin_extent())

    def _show_frame(self):
        super()._show_frame()
        m = (self.active_methods or ["gd"])[0]
        if m in self.paths:
            a = self._step_at(m, min(self.frame.value, len(self.paths[m].times) - 1))
            self.step_line.set_xdata([a, a])
            self.step_line.set_visible(np.isfinite(a))
