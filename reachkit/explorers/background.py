"""The explorer's static picture: a :class:`~reachkit.explorers.runs.StaticLayer` drawn with matplotlib (Agg,
no pyplot) into a PNG at twice the CSS size, with the axes' pixel box and data limits the view
needs to draw paths on it. Also the still pictures (``ex.save``, the static fallback): the same
layer with the runs drawn on top.
"""

from __future__ import annotations

import contextlib
import io

import matplotlib as mpl
import matplotlib.transforms as mtransforms
import numpy as np
from matplotlib.lines import Line2D
from matplotlib.patches import Patch

from .. import plotting
from . import scene
from .runs import CurvesLayer

SCALE = 2  # PNG pixels per CSS pixel (HiDPI)
FIGSIZE = {1: (6.0, 4.4), 2: (6.0, 4.4)}  # inches at 100 CSS px per inch


def _styled(lecture: bool):
    return plotting.lecture_style() if lecture else contextlib.nullcontext()


def frame(layer, lecture: bool = False, figsize=None):
    """A new (untracked) figure with what does not move with a parameter: the axes laid out with
    their limits, ticks, labels and the title, no content. Returns (fig, main axes, bifurcation axes
    or None). The screen shows it as a PNG under the browser-drawn scene; the exports draw into it."""
    ls = layer.landscape
    # lecture: the same size with the lecture style's larger fonts and lines; a larger figure would
    # only be scaled down again to fit plot, Play, step slider and status on a 1280x720 projector
    size = figsize or FIGSIZE[ls.dim]
    x0, x1, y0, y1 = scene.build_limits(ls)
    with _styled(lecture):
        if layer.bifurcation is not None:
            fig, (ax, ax_bif) = plotting.new_figure((size[0], size[1] * 1.25), nrows=2,
                                                    height_ratios=[3, 2])
            ax_bif.set_xscale("log")
            ax_bif.set_xlim(layer.bifurcation.steps[0], layer.bifurcation.steps[-1])
            ax_bif.set_ylim(*ls.bounds[0])
            ax_bif.set(xlabel="step size a", ylabel="long-run x")
        else:
            fig, (ax,) = plotting.new_figure(size)
            ax_bif = None
        ax.set(xlim=(x0, x1), ylim=(y0, y1), xlabel="x", ylabel="f(x)" if ls.dim == 1 else "y")
        ax.set_title(layer.title, fontsize="medium")
        fig.tight_layout()
    return fig, ax, ax_bif


def frame_key(layer, lecture: bool = False) -> tuple:
    """Changes exactly when :func:`frame` draws something else."""
    if isinstance(layer, CurvesLayer):
        return ("curves", repr(layer), lecture)
    bif = layer.bifurcation
    steps = None if bif is None else (float(bif.steps[0]), float(bif.steps[-1]))
    return (layer.landscape.dim, scene.build_limits(layer.landscape), layer.title, steps,
            tuple(map(tuple, layer.landscape.bounds)), lecture)


def figure(layer, lecture: bool = False, figsize=None):
    """The whole picture drawn by matplotlib (exports, the static fallback): the :func:`frame` with
    the landscape, basins, markers, legends and bifurcation diagram drawn into it; returns (fig, main axes)."""
    if isinstance(layer, CurvesLayer):
        return curves_figure(layer, lecture)
    ls = layer.landscape
    fig, ax, ax_bif = frame(layer, lecture, figsize)
    with _styled(lecture):
        plotting.draw_landscape(ax, ls)
        if layer.basins is not None:
            plotting.draw_basins(ax, ls, layer.basins)
        for x, y, marker, label in layer.markers:
            ax.plot([x], [y], marker, ms=mpl.rcParams["lines.markersize"] * scene.MARKER_SIZE,
                    color=plotting.OKABE_ITO["yellow"], mec="black", mew=1.2, zorder=3.5, label=label)
        handles = [_handle(e) for e in scene.legend_entries(layer)]
        if handles:
            ax.legend(handles=handles, loc="upper right", fontsize=scene.LEGEND_FONT["main"],
                      framealpha=scene.LEGEND_ALPHA["main"])
        if ax_bif is not None:
            plotting.draw_bifurcation(ax_bif, layer.bifurcation)
            plotting.draw_thresholds(ax_bif, ls)
            ax_bif.set_ylim(*ls.bounds[0])
            if ax_bif.get_legend_handles_labels()[0]:  # no thresholds drawn (no smooth minimum): no legend
                ax_bif.legend(loc="upper left", fontsize=scene.LEGEND_FONT["bifurcation"],
                              framealpha=scene.LEGEND_ALPHA["bifurcation"])
    return fig, ax


def _handle(entry: dict):
    """A legend handle for one of :func:`scene.legend_entries`."""
    if entry["kind"] == "line":
        return Line2D([], [], color=entry["color"], lw=scene.SERIES_WIDTH, label=entry["label"])
    if entry["kind"] == "marker":
        return Line2D([], [], ls="none", marker=entry["marker"], color=entry["color"], mec="black", mew=1.2,
                      ms=mpl.rcParams["lines.markersize"] * scene.MARKER_SIZE, label=entry["label"])
    return Patch(color=entry["color"], alpha=0.6, label=entry["label"])


def curves_figure(layer: CurvesLayer, lecture: bool = False):
    """The panels of a :class:`~reachkit.explorers.runs.CurvesLayer` at their fixed places (log-scale
    iteration axis shared), and over them an invisible master axes (x = log10(k + 1), y in [0, 1]
    across the bands) in whose data coordinates the view draws; returns (fig, master axes)."""
    from matplotlib.figure import Figure

    with _styled(lecture):
        fig = Figure(figsize=layer.figsize, dpi=100)
        width = layer.right - layer.left
        for i, ((title, lo, hi, log), (bottom, top)) in enumerate(zip(layer.panels, layer.boxes, strict=True)):
            ax = fig.add_axes([layer.left, bottom, width, top - bottom])
            ax.set_xscale("log")
            ax.set_xlim(1, layer.n_steps + 1)
            if log:
                ax.set_yscale("log")
            ax.set_ylim(lo, hi)
            ax.set_ylabel(title, fontsize="small")
            ax.grid(True, which="major", alpha=0.3)
            if i < len(layer.panels) - 1:
                ax.tick_params(labelbottom=False)
            else:
                ax.set_xlabel("iteration k + 1")
            for panel, value, label in layer.lines:
                if panel == i:
                    ax.axhline(value, color="0.35", ls=":", lw=1.4)
                    ax.annotate(label, (1.15, value), fontsize="x-small", color="0.3", va="bottom")
        low, high = layer.extent
        master = fig.add_axes([layer.left, low, width, high - low], frameon=False)
        master.set_xlim(0, np.log10(layer.n_steps + 1))
        master.set_ylim(0, 1)
        master.set_xticks([])
        master.set_yticks([])
        handles = [Line2D([], [], color=c, lw=2.5, label=name) for name, c in layer.legend]
        fig.legend(handles=handles, loc="upper center", ncols=len(handles), fontsize="small", frameon=False)
        if layer.title:
            fig.text(0.5, 0.94, layer.title, ha="center", fontsize="small")
    return fig, master


def render(layer, lecture: bool = False, figsize=None) -> dict:
    """The view's background traits (2x PNG, CSS size, axes box, limits, step line) of the
    :func:`frame`, transparent: the browser draws the scene under it on white (a CurvesLayer does
    not move with a parameter: its whole picture is the background)."""
    from .view import background_traits

    if isinstance(layer, CurvesLayer):
        fig, ax = curves_figure(layer, lecture)
        step_ax = None
    else:
        fig, ax, step_ax = frame(layer, lecture, figsize)
    traits = background_traits(fig, ax, scale=SCALE, step_ax=step_ax, transparent=not isinstance(layer, CurvesLayer))
    fig.clear()
    return traits


# the view's start marker and step line (static/view.js draw()), in CSS px, x 1.6 in lecture style
START_RING = {"radius": 6, "width": 2}  # 2-D: a hollow ring at the start
START_TRIANGLE = 7  # 1-D: a triangle of this half-width, 1.6 x as tall, on the axes' bottom edge
STEP_LINE = {"width": 1.5, "dashes": (6, 4)}  # the step in use on the bifurcation diagram


def still(layer, run, keys, lecture: bool = False, frame: int | None = None, trail: int = 20,
          dpi: int = 100, start=None, step=None) -> bytes:
    """PNG of the static layer with every series of ``run`` drawn up to iterate ``frame``
    (default: the whole path), the ``start`` marker and the ``step`` line on a bifurcation diagram as
    the screen shows them -- what ``ex.png()``, ``ex.save("x.png")`` and the fallback show."""
    fig, ax = figure(layer, lecture)
    colors = {k: c for k, _, c in layer.series}
    big, pt = (1.6 if lecture else 1.0), 1 / scene.PX
    with _styled(lecture):
        for k in keys:
            pa = plotting.PathArtists(ax, run.xy[k], color=colors.get(k, "black"), trail=trail)
            pa.show(frame, whole=frame is None)
        if isinstance(layer, CurvesLayer):
            pass  # curves against the iteration: no start point, no step axis
        elif start is not None and len(start) == 2:
            ax.plot([start[0]], [start[1]], "o", ms=2 * START_RING["radius"] * big * pt, mfc="white", mec="black",
                    mew=START_RING["width"] * big * pt, zorder=7)
        elif start is not None:
            r = START_TRIANGLE * big
            up = mtransforms.offset_copy(ax.get_xaxis_transform(), fig, y=0.8 * r * pt, units="points")
            ax.plot([start[0]], [0], "^", transform=up, ms=2 * r * pt, mfc="white", mec="black",
                    mew=2 * big * pt, zorder=7, clip_on=False)
        if step is not None and getattr(layer, "bifurcation", None) is not None:
            fig.axes[1].axvline(step, color="black", lw=STEP_LINE["width"] * big * pt, zorder=3,
                                dashes=[d / STEP_LINE["width"] for d in STEP_LINE["dashes"]])
    buf = io.BytesIO()
    fig.savefig(buf, format="png", dpi=dpi)
    fig.clear()
    return buf.getvalue()
