"""Figures for notebook 07: reaching a chosen minimum of a network's loss.

    from reachkit import network_figures as nf
    nf.draw_orbit(axes, land, reach)              # the backward orbit: loss and distance to the target
    nf.draw_runs(axes, {"a = 0.01": run}, target)  # GD runs: distance, loss, sharpness (2/a dashed)
    nf.draw_end_sharpness(axes, ends, target)      # where random inits are: histograms, 2/a lines

Each function draws onto the axes you pass and returns the artists, like :mod:`reachkit.plotting`.
"""

from __future__ import annotations

import numpy as np

from .plotting import OKABE_ITO

__all__ = ["COLORS", "draw_orbit", "draw_runs", "draw_end_sharpness"]

#: colours of runs, in order (Okabe-Ito)
COLORS = [OKABE_ITO[c] for c in ("vermillion", "blue", "bluish green", "reddish purple", "orange")]
#: colour of each kind of point a random init ends near (see reachkit.network.InitEnds)
KIND_COLORS = {"minimum": OKABE_ITO["blue"], "unstable minimum": OKABE_ITO["orange"],
               "saddle": OKABE_ITO["vermillion"], "no critical point": "0.6"}
KIND_LABELS = {"minimum": "at a stable minimum", "unstable minimum": "next to a minimum unstable for a",
               "saddle": "near a saddle", "no critical point": "no critical point nearby"}


def draw_orbit(axes, landscape, reach) -> dict:
    """The backward orbit of a :class:`~reachkit.network.NetworkReach`, indexed by the forward
    step k (0 = the start): its loss against the level it climbed to (``axes[0]``) and its
    distance to the target (``axes[1]``, log scale)."""
    ax_loss, ax_dist = axes
    k = np.arange(len(reach.orbit))
    loss = landscape.value(reach.orbit)
    dist = np.linalg.norm(reach.orbit - reach.target.theta, axis=1)
    out = {
        "loss": ax_loss.semilogy(k, loss, "o-", color=COLORS[0], ms=4, lw=1.5, label="loss along the orbit")[0],
        "level": ax_loss.axhline(reach.level, color="0.3", ls="--", lw=1.2,
                                 label=f"random init's loss {reach.level:.3g}"),
        "target": ax_loss.axhline(reach.target.loss, color=COLORS[1], ls=":", lw=1.5,
                                  label=f"the minimum's loss {reach.target.loss:.3g}"),
        "distance": ax_dist.semilogy(k, dist, "o-", color=COLORS[0], ms=4, lw=1.5)[0],
    }
    ax_loss.set_title("loss along the backward orbit")
    ax_loss.set_ylabel("training loss")
    ax_dist.set_title("distance to the minimum")
    ax_dist.set_ylabel("|θ_k − θ*|")
    for ax in axes:
        ax.set_xlabel("forward step k (0 = the start)")
    ax_loss.legend(fontsize="small", loc="upper right", framealpha=0.85)
    return out


def draw_runs(axes, runs: dict, target=None) -> dict:
    """GD runs on a network (``{label: Descent}``) against the iteration k + 1 on a log scale:
    the distance to the target (``axes[0]``, log scale), the loss (``axes[1]``, log scale) and
    the sharpness (``axes[2]``), each run with a dashed line at its own 2/a (constant steps) and
    a dotted line at the target's sharpness."""
    ax_dist, ax_loss, ax_sharp = axes
    out = {}
    top = 1.25 * max(float(np.nanmax(r.sharpness)) for r in runs.values())
    for j, (label, r) in enumerate(runs.items()):
        col = COLORS[j % len(COLORS)]
        lines = [ax_dist.loglog(r.iterations + 1, r.distance, color=col, lw=1.6, label=label)[0],
                 ax_loss.loglog(r.iterations + 1, r.loss, color=col, lw=1.6, label=label)[0],
                 ax_sharp.semilogx(r.sharpness_iterations + 1, r.sharpness, color=col, lw=1.6, label=label)[0]]
        if r.threshold is not None and r.threshold <= top:
            lines.append(ax_sharp.axhline(r.threshold, color=col, ls="--", lw=1.2, label=f"2/a = {r.threshold:g}"))
        out[label] = lines
    if target is not None:
        out["target"] = ax_sharp.axhline(target.sharpness, color="0.3", ls=":", lw=1.5,
                                         label=f"the chosen minimum: {target.sharpness:.2f}")
        top = max(top, 1.1 * target.sharpness)
    ax_dist.set_title("distance to the chosen minimum")
    ax_dist.set_ylabel("|θ_k − θ*|")
    ax_loss.set_title("training loss")
    ax_sharp.set_title("sharpness λ_max")
    ax_sharp.set_ylim(0, top)
    for ax in axes:
        ax.set_xlabel("iteration k + 1")
    ax_sharp.legend(fontsize="small", loc="best", framealpha=0.85)
    ax_dist.legend(fontsize="small", loc="best", framealpha=0.85)
    return out


def draw_end_sharpness(axes, ends: dict, target=None, bins=None) -> dict:
    """Where random inits are after their runs (``{step: InitEnds}``, one panel each): a
    histogram of the sharpness at each run's last iterate, stacked by what Newton's method from
    there lands on (a stable minimum, a minimum unstable for the step, a saddle, nothing), with a
    dashed line at 2/a and a dotted line at the target's sharpness."""
    out = {}
    hi = max(float(np.nanmax(e.sharpness)) for e in ends.values())
    if target is not None:
        hi = max(hi, target.sharpness)
    bins = np.linspace(0, 1.1 * hi, 45) if bins is None else bins
    for ax, (step, e) in zip(np.atleast_1d(axes), ends.items(), strict=True):
        kinds = [k for k in KIND_COLORS if np.any(e.landed == k)]
        data = [e.sharpness[e.landed == k] for k in kinds]
        labels = [f"{KIND_LABELS[k]} ({np.sum(e.landed == k)})" for k in kinds]
        parts = ax.hist(data, bins=bins, stacked=True, color=[KIND_COLORS[k] for k in kinds],
                        label=labels, edgecolor="white", linewidth=0.5)
        lines = []
        if e.threshold <= bins[-1]:
            lines.append(ax.axvline(e.threshold, color="0.2", ls="--", lw=1.5, label=f"2/a = {e.threshold:g}"))
        else:
            lines.append(ax.plot([], [], " ", label=f"2/a = {e.threshold:g} (off the scale)")[0])
        if target is not None:
            lines.append(ax.axvline(target.sharpness, color="0.2", ls=":", lw=1.5,
                                    label=f"the chosen minimum: {target.sharpness:.2f}"))
        ax.set_title(f"a = {step:g}: {e.landed.size} random inits after {e.n_steps} steps", fontsize="medium")
        ax.set_xlabel("sharpness where the run is")
        ax.legend(fontsize="small", loc="best", framealpha=0.85)
        out[step] = (parts, lines)
    np.atleast_1d(axes)[0].set_ylabel("number of runs")
    return out
