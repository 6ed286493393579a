"""The explorer's static picture: a :class:`~reachkit.explorers.runs.StaticLayer` drawn with matplotlib (Agg,
no pyplot) into a PNG at twice the CSS size, with the axes' pixel box and data limits the view
needs to draw paths on it. Also the still pictures (``ex.save``, the static fallback): the same
layer with the runs drawn on top.
"""

from __future__ import annotations

import contextlib
import io

import matplotlib as mpl
import numpy as np
from matplotlib.lines import Line2D
from matplotlib.patches import Patch

from .. import plotting
from .runs import CurvesLayer

SCALE = 2  # PNG pixels per CSS pixel (HiDPI)
FIGSIZE = {1: (6.0, 4.4), 2: (6.0, 4.4)}  # inches at 100 CSS px per inch


def _styled(lecture: bool):
    return plotting.lecture_style() if lecture else contextlib.nullcontext()


def figure(layer, lecture: bool = False, figsize=None):
    """A new (untracked) figure with the static layer drawn; returns (fig, main axes)."""
    if isinstance(layer, CurvesLayer):
        return curves_figure(layer, lecture)
    ls = layer.landscape
    # lecture: the same size with the lecture style's larger fonts and lines; a larger figure would
    # only be scaled down again to fit plot, Play, step slider and status on a 1280x720 projector
    size = figsize or FIGSIZE[ls.dim]
    with _styled(lecture):
        if layer.bifurcation is not None:
            fig, (ax, ax_bif) = plotting.new_figure((size[0], size[1] * 1.25), nrows=2,
                                                    height_ratios=[3, 2])
        else:
            fig, (ax,) = plotting.new_figure(size)
        plotting.draw_landscape(ax, ls)
        if layer.basins is not None:
            plotting.draw_basins(ax, ls, layer.basins)
        for x, y, marker, label in layer.markers:
            ax.plot([x], [y], marker, ms=mpl.rcParams["lines.markersize"] * 1.8,
                    color=plotting.OKABE_ITO["yellow"], mec="black", mew=1.2, zorder=3.5, label=label)
        handles = [Line2D([], [], color=c, lw=2.5, label=name)
                   for _, name, c in layer.series]
        handles += [h for h in ax.get_lines() if h.get_label() in {m[3] for m in layer.markers}]
        if layer.basins is not None:  # the basins' colour key, with each outcome's share
            handles += [Patch(color=c, alpha=0.6, label=f"{name} {f:.0%}")
                        for name, c, f in plotting.basin_legend(ls, layer.basins, 0.005)]
        if handles:
            ax.legend(handles=handles, loc="upper right", fontsize="small", framealpha=0.85)
        ax.set_title(layer.title, fontsize="medium")
        if layer.bifurcation is not None:
            plotting.draw_bifurcation(ax_bif, layer.bifurcation)
            plotting.draw_thresholds(ax_bif, ls)
            ax_bif.set_ylim(*ls.bounds[0])
            if ax_bif.get_legend_handles_labels()[0]:  # no thresholds drawn (no smooth minimum): no legend
                ax_bif.legend(loc="upper left", fontsize="x-small", framealpha=0.8)
        fig.tight_layout()
    return fig, ax


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
    """The view's background traits (2x PNG, CSS size, axes box, limits) for the static layer."""
    from .view import background_traits

    fig, ax = figure(layer, lecture, figsize)
    # the view marks the step in use on the bifurcation diagram
    step_ax = fig.axes[1] if getattr(layer, "bifurcation", None) is not None else None
    traits = background_traits(fig, ax, scale=SCALE, step_ax=step_ax)
    fig.clear()
    return traits


def still(layer, run, keys, lecture: bool = False, frame: int | None = None, trail: int = 20,
          dpi: int = 100) -> bytes:
    """PNG of the static layer with every series of ``run`` drawn up to iterate ``frame``
    (default: the whole path) -- what ``ex.png()``, ``ex.save("x.png")`` and the fallback show."""
    fig, ax = figure(layer, lecture)
    colors = {k: c for k, _, c in layer.series}
    with _styled(lecture):
        for k in keys:
            pa = plotting.PathArtists(ax, run.xy[k], color=colors.get(k, "black"), trail=trail)
            pa.show(frame, whole=frame is None)
    buf = io.BytesIO()
    fig.savefig(buf, format="png", dpi=dpi)
    fig.clear()
    return buf.getvalue()
