"""Figures and a small live explorer for adaptive steps and the edge of stability (notebook 06).

    from reachkit import eos_explorer as ee
    ee.draw_eos((ax_loss, ax_sharp), results)      # GD on a network: loss, sharpness, 2/step lines
    ee.draw_basin_panels(fig, landscape, maps)       # where each optimizer ends, one panel each
    ee.explore_adaptive(landscape, method="adam")    # sliders for GD / momentum / RMSProp / Adam

The drawing functions draw onto axes you pass and return the artists, like
:mod:`reachkit.plotting`. The explorer (:class:`reachkit.explorers.adaptive_model.AdaptiveModel` in the standard
:class:`reachkit.explorers.explorer.Explorer`) recomputes the basin map of the chosen optimizer when a
setting changes and shows the path from one start (click on the plot to move it; the learning
rate is the view's step slider, exact when typed).
"""

from __future__ import annotations

import math

import numpy as np

from . import plotting
from .methods import METHODS

__all__ = ["draw_eos", "draw_optimizer_sharpness", "draw_basin_panels", "explore_adaptive"]

_COLORS = [plotting.OKABE_ITO[c] for c in ("vermillion", "blue", "bluish green", "reddish purple")]
#: colour of each optimizer in the figures (the registry's, :mod:`reachkit.methods`)
COLORS = {k: METHODS[k].color for k in ("gd", "momentum", "rmsprop", "adam")}


def draw_eos(axes, results: dict, *, colors=None) -> dict:
    """GD runs on a network (``{step: EoSResult}``): the loss (log scale) on ``axes[0]`` and the
    sharpness on ``axes[1]``, each run with a dashed line at its own 2/step.

    Returns ``{step: (loss_line, sharpness_line, threshold_line)}``.
    """
    ax_loss, ax_sharp = axes
    colors = colors or _COLORS
    out = {}
    # the axis shows every sharpness curve with room to spare; a 2/a line far above is named only
    top = 1.7 * max(float(np.nanmax(r.sharpness)) for r in results.values())
    for j, (step, r) in enumerate(sorted(results.items(), reverse=True)):
        col = colors[j % len(colors)]
        (lo,) = ax_loss.semilogy(r.iterations, r.loss, color=col, lw=1.2, label=f"step a = {step:g}")
        (sh,) = ax_sharp.plot(r.sharpness_iterations, r.sharpness, color=col, lw=1.6,
                              label=f"a = {step:g}")
        above = "" if r.threshold <= top else " (above the chart)"
        th = ax_sharp.axhline(r.threshold, color=col, ls="--", lw=1.2,
                              label=f"2/a = {r.threshold:g}{above}")
        out[step] = (lo, sh, th)
    ax_loss.set_xlabel("iteration k")
    ax_loss.set_ylabel("training loss")
    ax_loss.set_title("loss")
    ax_sharp.set_xlabel("iteration k")
    ax_sharp.set_ylabel("sharpness λ_max")
    ax_sharp.set_title("sharpness (dashed: 2 / step)")
    ax_sharp.set_ylim(0, max([top] + [1.08 * r.threshold for r in results.values() if r.threshold <= top]))
    for ax in axes:
        ax.legend(fontsize="small", loc="best", framealpha=0.85)
    return out


def draw_optimizer_sharpness(axes, gd, adam_path, trace, *, lr=None) -> dict:
    """GD (an EoSResult) against Adam (its OptimizerPath and :func:`~reachkit.optimizers.track_sharpness`
    trace) on the same network: ``axes[0]`` the loss, ``axes[1]`` the plain sharpness of both with
    GD's 2/step, ``axes[2]`` Adam's preconditioned sharpness with its limit 38/lr."""
    ax_loss, ax_raw, ax_pre = axes
    lr = float(adam_path.step_sizes[0, 0]) if lr is None else float(lr)
    cg, ca = COLORS["gd"], COLORS["adam"]
    out = {}
    out["loss"] = (ax_loss.semilogy(gd.iterations, gd.loss, color=cg, lw=1.2, label=f"GD, a = {gd.step:g}")[0],
                   ax_loss.semilogy(adam_path.times, adam_path.values[:, 0], color=ca, lw=1.2,
                                    label=f"Adam, lr = {lr:g}")[0])
    out["sharpness"] = (ax_raw.plot(gd.sharpness_iterations, gd.sharpness, color=cg, lw=1.6, label="GD")[0],
                        ax_raw.plot(trace.iterations, trace.sharpness, color=ca, lw=1.6, label="Adam")[0],
                        ax_raw.axhline(gd.threshold, color=cg, ls="--", lw=1.2, label=f"GD's 2/a = {gd.threshold:g}"))
    out["preconditioned"] = (
        ax_pre.plot(trace.iterations, trace.preconditioned, color=ca, lw=1.6, label="Adam: λ_max(P⁻¹H)")[0],
        ax_pre.axhline(trace.limit[-1], color=ca, ls="--", lw=1.2, label=f"38/lr = {trace.limit[-1]:.4g}"))
    ax_loss.set_ylabel("training loss")
    ax_loss.set_title("loss")
    ax_raw.set_ylabel("sharpness λ_max(H)")
    ax_raw.set_title("plain sharpness")
    ax_raw.set_ylim(0, 1.25 * max(gd.threshold, float(np.nanmax(trace.sharpness)),
                                  float(np.nanmax(gd.sharpness))))
    ax_pre.set_ylabel("preconditioned sharpness")
    ax_pre.set_title("Adam's preconditioned sharpness")
    ax_pre.set_ylim(0, 1.3 * trace.limit[-1])
    for ax in axes:
        ax.set_xlabel("iteration k")
        ax.legend(fontsize="small", loc="best", framealpha=0.85)
    return out


def draw_basin_panels(fig, landscape, maps: dict, *, ncols: int = 3) -> list:
    """One small panel per named basin map (``{title: BasinMap}``): the landscape's contours, the
    map coloured by outcome, and the shares of the minima in the title. Returns the axes."""
    n = len(maps)
    nrows = math.ceil(n / ncols)
    axes = [fig.add_subplot(nrows, ncols, i + 1) for i in range(n)]
    for ax, (title, bm) in zip(axes, maps.items(), strict=True):
        plotting.draw_landscape(ax, landscape, levels=12, annotate=0)
        plotting.draw_basins(ax, landscape, bm)
        shares = ", ".join(f"{name.split()[0]} {f:.0%}" for name, _, f in
                           plotting.basin_legend(landscape, bm, 0.005))
        ax.set_title(f"{title}\n{shares}", fontsize="small")
        ax.set_xlabel("")
        ax.set_ylabel("")
        ax.tick_params(labelsize="x-small")
    return axes


# ----------------------------------------------------------------------------------------------
# The explorer
# ----------------------------------------------------------------------------------------------
def explore_adaptive(landscape, *, lecture=None, reduced_motion=False, trail=20, speed=20, predict=None, **options):
    """A live explorer of GD / momentum / RMSProp / Adam on a 2-D landscape (see AdaptiveModel)."""
    from .explorers.adaptive_model import AdaptiveModel
    from .explorers.explorer import Explorer, display_options

    display = display_options(lecture, reduced_motion, trail, speed, predict)
    return Explorer(AdaptiveModel(landscape, **options), **display)
