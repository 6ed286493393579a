"""Draw landscapes, paths, basin maps and bifurcation diagrams onto a matplotlib Axes.

Each ``draw_*`` function draws onto an Axes you pass and returns the artists it made, so a
caller (the live explorers, the animation exporter, a notebook cell) can move them later with
``set_data`` instead of drawing again. Nothing here touches pyplot's figure registry
(:func:`new_figure` makes a figure pyplot does not track) or imports ipywidgets.

Colours are the Okabe-Ito palette (readable with the common colour-vision deficiencies);
:func:`lecture_style` adds large fonts and thick lines for a projector.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import matplotlib as mpl
import numpy as np
from cycler import cycler
from matplotlib.collections import LineCollection
from matplotlib.colors import LinearSegmentedColormap, to_rgba
from matplotlib.figure import Figure

from . import checks
from . import methods as _methods
from .landscapes import Landscape

OKABE_ITO = _methods.OKABE_ITO
_OI = OKABE_ITO

#: method key -> (name shown to the reader, colour), from the registry (:mod:`reachkit.methods`)
METHODS = {k: (m.name, m.color) for k, m in _methods.METHODS.items()}

#: a light grey ramp for the landscape, so coloured paths and basins stand out on it
LANDSCAPE_CMAP = LinearSegmentedColormap.from_list("reachkit_landscape", ["#ffffff", "#8c8c8c"])

_MARKERS = {"minimum": "o", "saddle": "X", "maximum": "^", "degenerate": "D",
            "minimum and maximum": "s"}

LECTURE_RC = {
    "font.size": 16, "axes.titlesize": 18, "axes.labelsize": 16, "xtick.labelsize": 14,
    "ytick.labelsize": 14, "legend.fontsize": 13, "lines.linewidth": 3.0,
    "lines.markersize": 11, "axes.linewidth": 1.6, "xtick.major.width": 1.4,
    "ytick.major.width": 1.4, "axes.prop_cycle": cycler(color=list(OKABE_ITO.values())),
}


class lecture_style:  # noqa: N801 (used like a function)
    """Projector style: large fonts, thick lines, the colour-blind-safe Okabe-Ito cycle.

    ``lecture_style()`` switches it on for the rest of the session and ``lecture_style(False)``
    switches it off again; ``with lecture_style(): ...`` applies it only inside the block.
    """

    _before: dict | None = None  # rcParams before the first global switch-on

    def __init__(self, on: bool = True):
        on = checks.flag("on", on)  # "no" would be truthy
        self._saved = {k: mpl.rcParams[k] for k in LECTURE_RC}
        if on:
            if lecture_style._before is None:
                lecture_style._before = dict(self._saved)
            mpl.rcParams.update(LECTURE_RC)
        elif lecture_style._before is not None:
            mpl.rcParams.update(lecture_style._before)
            lecture_style._before = None

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        mpl.rcParams.update(self._saved)
        return False


def is_lecture_style() -> bool:
    """True while the lecture style is on."""
    return all(mpl.rcParams[k] == v for k, v in LECTURE_RC.items())


def new_figure(figsize=(6.0, 4.2), dpi: int = 100, nrows: int = 1, height_ratios=None):
    """A figure with ``nrows`` axes and a plain Agg canvas, not registered with pyplot.

    Nothing displays it behind your back and nothing leaks if you drop it. Returns (fig, axes)
    with ``axes`` a list.
    """
    from matplotlib.backends.backend_agg import FigureCanvasAgg

    fig = Figure(figsize=figsize, dpi=dpi)
    FigureCanvasAgg(fig)
    gs = fig.add_gridspec(nrows, 1, height_ratios=height_ratios)
    axes = [fig.add_subplot(gs[i]) for i in range(nrows)]
    return fig, axes


# ----------------------------------------------------------------------------------------------
# The landscape
# ----------------------------------------------------------------------------------------------
@dataclass
class LandscapeArtists:
    """What :func:`draw_landscape` drew: the graph (1-D) or filled contours and lines (2-D)."""

    surface: object
    lines: object = None
    critical: list = field(default_factory=list)
    labels: list = field(default_factory=list)


def _value_limits(landscape: Landscape, f: np.ndarray):
    """y-limits of a 1-D graph: all of it, unless steep walls would flatten the critical points
    (then up to a few times their spread of values)."""
    f = f[np.isfinite(f)]
    lo, hi = float(f.min()), float(f.max())
    b = landscape.bounds[0]
    crit = [float(landscape.value(c.x)) for c in landscape.critical_points()
            if b[0] <= c.x[0] <= b[1]]
    if len(crit) >= 2 and max(crit) - min(crit) > 0:
        hi = min(hi, max(crit) + 4.0 * (max(crit) - min(crit)))
    pad = 0.08 * (hi - lo or 1.0)
    return lo - 2.5 * pad, hi + pad  # room below for the minima's labels, clear of the x-axis


#: grid of the 2-D landscape (points along x, along y): the explorers' screen and their exports
SURFACE_SHAPE = (160, 120)
GRAPH_POINTS = 600  # samples of a 1-D graph
CONTOUR_GREY = "0.45"  # the contour lines (0.5 pt wide)
GRAPH_GREY = "0.25"  # the graph of f in 1-D


def graph(landscape: Landscape, n: int | None = None):
    """The 1-D graph: (xs, f(xs), (ymin, ymax)) over the bounds, ``n`` samples."""
    xs, pts = landscape.grid(n or GRAPH_POINTS)
    f = landscape.value(pts)
    return xs, f, _value_limits(landscape, f)


def surface(landscape: Landscape, shape=None):
    """The 2-D picture's data: (xs, ys, Z) with Z[j, i] = log(1 + f(xs[i], ys[j]) - min f) on a
    ``shape`` = (nx, ny) grid over the bounds (min over the grid; nan where f is not finite)."""
    nx, ny = shape or SURFACE_SHAPE
    (x0, x1), (y0, y1) = landscape.bounds
    xs, ys = np.linspace(x0, x1, nx), np.linspace(y0, y1, ny)
    X, Y = np.meshgrid(xs, ys)
    with np.errstate(all="ignore"):
        Z = landscape.value(np.stack([X, Y], axis=-1))
        Z = np.log1p(np.clip(Z - np.nanmin(Z), 0, None))
    return xs, ys, Z


def contour_levels(Z, levels: int = 18):
    """(levels, band colours): about ``levels`` round levels spanning Z (matplotlib's choice for
    ``contourf(levels=n)``) and the grey of each band between two levels (LANDSCAPE_CMAP at its
    middle), so the browser and matplotlib draw the same bands."""
    from matplotlib.colors import Normalize, to_hex
    from matplotlib.ticker import MaxNLocator

    z = Z[np.isfinite(Z)]
    lo, hi = (float(z.min()), float(z.max())) if z.size else (0.0, 1.0)
    lev = MaxNLocator(levels + 1, min_n_ticks=1).tick_values(lo, hi if hi > lo else lo + 1.0)
    under, over = np.nonzero(lev < lo)[0], np.nonzero(lev > hi)[0]
    lev = lev[(under[-1] if len(under) else 0):(over[0] + 1 if len(over) else len(lev))]
    mids = Normalize(lev[0], lev[-1])((lev[:-1] + lev[1:]) / 2)
    return lev, [to_hex(c) for c in LANDSCAPE_CMAP(mids)]


@dataclass
class CriticalMark:
    """A critical point as drawn: where (x, f(x) in 1-D), its marker, its label and whether the
    label is written (below the point for a minimum, above it otherwise)."""

    x: float
    y: float
    marker: str
    label: str
    written: bool
    below: bool


def critical_marks(landscape: Landscape, annotate: int = 5) -> list[CriticalMark]:
    """The critical points inside the bounds, marked by kind; labelled in words when there are at
    most ``annotate`` of them (when there are more, the minima alone, if at most ``annotate``)."""
    b = landscape.bounds
    cps = [c for c in landscape.critical_points()
           if np.all((c.x >= b[:, 0]) & (c.x <= b[:, 1]))]
    labelled = cps if len(cps) <= annotate else [c for c in cps if c.kind == "minimum"]
    labelled = {id(c) for c in labelled} if len(labelled) <= annotate else set()
    return [CriticalMark(float(c.x[0]), float(landscape.value(c.x)) if landscape.dim == 1 else float(c.x[1]),
                         _MARKERS.get(c.kind, "o"), c.label, id(c) in labelled, c.kind == "minimum")
            for c in cps]


def draw_landscape(ax, landscape: Landscape, *, n: int | None = None, levels: int = 18,
                   critical: bool = True, annotate: int = 5) -> LandscapeArtists:
    """Draw f over ``landscape.bounds``: its graph in 1-D, contours of log(1 + f - min f) in 2-D
    (on an n x n grid, default :data:`SURFACE_SHAPE`).

    Critical points are marked by kind (o minimum, X saddle, ^ maximum, D degenerate) and, when
    there are at most ``annotate`` of them, labelled in words (when there are more, the minima
    alone, if there are at most ``annotate`` minima). Axis limits are the bounds.
    """
    b = landscape.bounds
    if landscape.dim == 1:
        xs, f, ylim = graph(landscape, n)
        (surface_,) = ax.plot(xs, f, color=GRAPH_GREY, lw=mpl.rcParams["lines.linewidth"] * 0.9,
                              zorder=2)
        ax.set_xlim(*b[0])
        ax.set_ylim(*ylim)
        ax.set_xlabel("x")
        ax.set_ylabel("f(x)")
        out = LandscapeArtists(surface_)
    elif landscape.dim == 2:
        xs, ys, Z = surface(landscape, (n, n) if n else None)
        lev, greys = contour_levels(Z, levels)
        surface_ = ax.contourf(xs, ys, Z, levels=lev, colors=greys, zorder=0)
        lines = ax.contour(xs, ys, Z, levels=lev, colors=CONTOUR_GREY, linewidths=0.5, zorder=1)
        ax.set_xlim(*b[0])
        ax.set_ylim(*b[1])
        ax.set_xlabel("x")
        ax.set_ylabel("y")
        out = LandscapeArtists(surface_, lines)
    else:
        raise ValueError(f"only 1-D and 2-D landscapes can be drawn; this one has dim={landscape.dim}")
    if critical:
        _draw_critical(ax, landscape, out, annotate)
    return out


CRITICAL_SIZE = 1.1  # a critical point's marker, in units of lines.markersize
LABEL_SIZE = 0.75  # a critical point's label, in units of font.size
LABEL_OFFSET = 9  # points between a critical point and its label


def _draw_critical(ax, landscape, out: LandscapeArtists, annotate: int):
    for c in critical_marks(landscape, annotate):
        (m,) = ax.plot([c.x], [c.y], c.marker, color="white", mec="black",
                       mew=1.2, ms=mpl.rcParams["lines.markersize"] * CRITICAL_SIZE, zorder=3,
                       label=c.label)
        out.critical.append(m)
        if c.written:  # minima labelled below the point, the others above
            t = ax.annotate(c.label, (c.x, c.y), xytext=(0, -LABEL_OFFSET if c.below else LABEL_OFFSET),
                            textcoords="offset points", ha="center",
                            va="top" if c.below else "bottom",
                            fontsize=mpl.rcParams["font.size"] * LABEL_SIZE, color="0.1", zorder=3)
            out.labels.append(t)


# ----------------------------------------------------------------------------------------------
# Paths
# ----------------------------------------------------------------------------------------------
def path_xy(landscape: Landscape, path, i: int = 0) -> np.ndarray:
    """Plot coordinates of start i's recorded iterates, shape (n_rec, 2): (x_k, f(x_k)) in 1-D,
    (x_k, y_k) in 2-D."""
    traj = path.trajectory(i)
    if traj.shape[1] == 1:
        return np.column_stack([traj[:, 0], path.values[:, i]])
    if traj.shape[1] == 2:
        return traj.copy()
    raise ValueError(f"only 1-D and 2-D paths can be drawn; this one has dim={traj.shape[1]}")


class PathArtists:
    """One run on an Axes: the whole path (thin), a fading trail and the current iterate.

    ``set_path(xy)`` replaces the data; ``show(k)`` moves the marker to iterate k with the
    trail behind it; ``show(k, whole=True)`` shows the whole path strongly and no trail (the
    reduced-motion view).
    """

    def __init__(self, ax, xy=None, *, color, label: str = "", trail: int = 20,
                 animated: bool = False):
        lw = mpl.rcParams["lines.linewidth"]
        ms = mpl.rcParams["lines.markersize"]
        self.trail_length = int(trail)
        (self.full,) = ax.plot([], [], ".-", color=color, lw=0.6 * lw, ms=0.45 * ms, alpha=0.35,
                               label=label, animated=animated, zorder=4)
        self.trail = LineCollection([], linewidths=1.4 * lw, capstyle="round",
                                    animated=animated, zorder=5)
        ax.add_collection(self.trail, autolim=False)
        (self.marker,) = ax.plot([], [], "o", color=color, mec="black", mew=1.2, ms=1.2 * ms,
                                 animated=animated, zorder=6)
        self._rgba = np.array(to_rgba(color))
        self.xy = np.empty((0, 2))
        if xy is not None:
            self.set_path(xy)

    @property
    def artists(self) -> list:
        return [self.full, self.trail, self.marker]

    def set_path(self, xy):
        self.xy = np.asarray(xy, dtype=float).reshape(-1, 2)
        self.full.set_data(self.xy[:, 0], self.xy[:, 1])

    def show(self, k: int | None = None, whole: bool = False):
        """Marker at iterate k (default: the last) with the fading trail up to it."""
        n = len(self.xy)
        k = n - 1 if k is None else int(np.clip(k, 0, max(n - 1, 0)))
        self.full.set_alpha(0.9 if whole else 0.35)
        if n == 0:
            self.marker.set_data([], [])
            self.trail.set_segments([])
            return
        self.marker.set_data(self.xy[k:k + 1, 0], self.xy[k:k + 1, 1])
        lo = 0 if whole else max(0, k - self.trail_length)
        pts = self.xy[lo:k + 1]
        segs = np.stack([pts[:-1], pts[1:]], axis=1) if len(pts) > 1 else np.empty((0, 2, 2))
        if whole or len(segs) == 0:
            self.trail.set_segments([])
            return
        colors = np.tile(self._rgba, (len(segs), 1))
        colors[:, 3] = np.linspace(0.08, 1.0, len(segs))
        self.trail.set_segments(segs)
        self.trail.set_color(colors)

    def set_visible(self, on: bool):
        for a in self.artists:
            a.set_visible(on)


def draw_path(ax, landscape: Landscape, path, i: int = 0, *, method: str | None = None,
              color=None, label: str | None = None, trail: int = 20, k: int | None = None,
              animated: bool = False) -> PathArtists:
    """Draw start i of ``path`` with its marker at iterate k (default: the end).

    ``method`` (a key of :mod:`reachkit.methods`: "gd", "sgd", "flow", ...) picks its colour and name.
    """
    name, col = METHODS.get(method, (path.method, _OI["vermillion"]))
    pa = PathArtists(ax, path_xy(landscape, path, i), color=color or col,
                     label=name if label is None else label, trail=trail, animated=animated)
    pa.show(k)
    return pa


# ----------------------------------------------------------------------------------------------
# Basins and bifurcations
# ----------------------------------------------------------------------------------------------
_OUTCOME_COLORS = {"diverged": "#222222", "cycling": _OI["reddish purple"],
                   "stalled": "#b0b0b0", "moving": "#d9d9d9", "other critical point": "#7f7f7f"}
_BASIN_COLORS = [_OI["orange"], _OI["sky blue"], _OI["yellow"], _OI["bluish green"],
                 _OI["reddish purple"], _OI["blue"]]


def basin_colors(landscape: Landscape, names) -> list:
    """One colour per basin-map name: minima in palette colours, other outcomes in greys."""
    minima = {c.label for c in landscape.minima()}
    out, i = [], 0
    for name in names:
        if name in _OUTCOME_COLORS:
            out.append(_OUTCOME_COLORS[name])
        elif name in minima:
            out.append(_BASIN_COLORS[i % len(_BASIN_COLORS)])
            i += 1
        else:  # a saddle or maximum reached (measure zero) or another listed point
            out.append("#7f7f7f")
    return out


def _basin_rgba(landscape, basins, alpha):
    cols = np.array([to_rgba(c, alpha) for c in basin_colors(landscape, basins.names)])
    lab = np.atleast_2d(basins.labels)
    return cols[lab]


BASIN_ALPHA = 0.45  # the basin map over the landscape's grey bands
ORBIT_STYLE = {"color": "0.2", "ms": 2.5, "alpha": 0.6}  # the bifurcation diagram's dots


def draw_basins(ax, landscape: Landscape, basins, *, alpha: float = BASIN_ALPHA):
    """Colour each start of a :class:`~reachkit.analysis.BasinMap` by where it ended.

    2-D: an image under the contour lines. 1-D: a band over the whole height of the axes.
    Returns the AxesImage (update it with :func:`update_basins`).
    """
    rgba = _basin_rgba(landscape, basins, alpha)
    x0, x1 = basins.xs[0], basins.xs[-1]
    if basins.ys is None:
        y0, y1 = ax.get_ylim()
    else:
        y0, y1 = basins.ys[0], basins.ys[-1]
    im = ax.imshow(rgba, extent=(x0, x1, y0, y1), origin="lower", aspect="auto",
                   interpolation="nearest", zorder=0.5)
    ax.set_xlim(*landscape.bounds[0])
    if basins.ys is not None:
        ax.set_ylim(*landscape.bounds[1])
    else:
        ax.set_ylim(y0, y1)
    return im


def update_basins(image, landscape: Landscape, basins, *, alpha: float = BASIN_ALPHA):
    """Show a new basin map in an image made by :func:`draw_basins`."""
    image.set_data(_basin_rgba(landscape, basins, alpha))


def basin_legend(landscape: Landscape, basins, min_fraction: float = 0.0) -> list:
    """(name, colour, fraction of starts) for each outcome present in the map."""
    cols = dict(zip(basins.names, basin_colors(landscape, basins.names), strict=True))
    return [(name, cols[name], frac) for name, frac in basins.shares(min_fraction)]


def draw_bifurcation(ax, bif, *, color=ORBIT_STYLE["color"], log: bool = True):
    """Orbit diagram: the long-run iterates of 1-D GD against the step. Returns the Line2D."""
    a = np.repeat(bif.steps, bif.points.shape[1])
    (pts,) = ax.plot(a, bif.points.ravel(), ".", ms=ORBIT_STYLE["ms"], mew=0, color=color,
                     alpha=ORBIT_STYLE["alpha"], zorder=2,
                     rasterized=True)  # dots of a few pixels: visible when projected
    if log:
        ax.set_xscale("log")
    ax.set_xlim(bif.steps[0], bif.steps[-1])
    ax.set_xlabel("step size a")
    ax.set_ylabel("long-run x")
    return pts


def thresholds(landscape: Landscape) -> list:
    """(2/sharpness, colour, label) of each listed minimum with a finite threshold (a step axis)."""
    from .analysis import minima_thresholds

    return [(thr, _BASIN_COLORS[j % len(_BASIN_COLORS)], f"2/λ of the {label}")
            for j, (label, _lam, thr) in enumerate(minima_thresholds(landscape)) if np.isfinite(thr)]


def draw_thresholds(ax, landscape: Landscape, *, vertical: bool = True) -> list:
    """Dashed lines at 2/sharpness of each listed minimum (a step axis), labelled."""
    return [(ax.axvline if vertical else ax.axhline)(thr, color=col, ls="--", lw=1.2, zorder=1, label=label)
            for thr, col, label in thresholds(landscape)]


# ----------------------------------------------------------------------------------------------
# A static picture in one call (notebooks, fallbacks)
# ----------------------------------------------------------------------------------------------
def plot_paths(landscape: Landscape, paths, ax=None, *, basins=None, legend: bool = True,
               title: str | None = None):
    """Landscape plus one or more paths (a Path, or a dict method -> Path) on one Axes.

    Returns the Axes (a new untracked figure if ``ax`` is None; get it with ``ax.figure``).
    """
    if ax is None:
        _, (ax,) = new_figure()
    draw_landscape(ax, landscape)
    if basins is not None:
        draw_basins(ax, landscape, basins)
    if not isinstance(paths, dict):
        paths = {None: paths}
    for m, p in paths.items():
        draw_path(ax, landscape, p, method=m)
    if legend:
        ax.legend(loc="best", fontsize="small", framealpha=0.8)
    if title:
        ax.set_title(title)
    return ax

