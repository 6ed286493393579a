"""The explorer's static picture: a :class:`~reachkit.explorers.runs.StaticLayer` drawn with matplotlib (Agg,
no pyplot) into a PNG at twice the CSS size, with the axes' pixel box and data limits the view
needs to draw paths on it. Also the still pictures (``ex.save``, the static fallback): the same
layer with the runs drawn on top.
"""

from __future__ import annotations

import contextlib
import io

import matplotlib as mpl
from matplotlib.lines import Line2D
from matplotlib.patches import Patch

from .. import plotting

SCALE = 2  # PNG pixels per CSS pixel (HiDPI)
FIGSIZE = {1: (6.0, 4.4), 2: (6.0, 4.4)}  # inches at 100 CSS px per inch


def _styled(lecture: bool):
    return plotting.lecture_style() if lecture else contextlib.nullcontext()


def figure(layer, lecture: bool = False, figsize=None):
    """A new (untracked) figure with the static layer drawn; returns (fig, main axes)."""
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
            ax_bif.legend(loc="upper left", fontsize="x-small", framealpha=0.8)
        fig.tight_layout()
    return fig, ax


def render(layer, lecture: bool = False, figsize=None) -> dict:
    """The view's background traits (2x PNG, CSS size, axes box, limits) for the static layer."""
    from .view import background_traits

    fig, ax = figure(layer, lecture, figsize)
    step_ax = fig.axes[1] if layer.bifurcation is not None else None  # the view marks the step in use there
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
