"""Figures and a small live explorer for adaptive steps and the edge of stability (notebook 06).

    from reachkit import eos_explorer as ee
    ee.draw_eos((ax_loss, ax_sharp), results)      # GD on a network: loss, sharpness, 2/step lines
    ee.draw_basin_panels(fig, landscape, maps)       # where each optimizer ends, one panel each
    ee.explore_adaptive(landscape, method="adam")    # sliders for GD / momentum / RMSProp / Adam

The drawing functions draw onto axes you pass and return the artists, like
:mod:`reachkit.plotting`. The explorer (:class:`AdaptiveModel` in the standard
:class:`reachkit.explorer.Explorer`) recomputes the basin map of the chosen optimizer when a
setting changes and shows the path from one start (click on the plot to move it; the learning
rate is the view's step slider, exact when typed).
"""

from __future__ import annotations

import math

import numpy as np

from . import analysis, checks, optimizers, plotting
from .runs import Run, StaticLayer, drawing_xy, value_and_slope
from .settings import Setting, resolve, with_changes

__all__ = ["draw_eos", "draw_optimizer_sharpness", "draw_basin_panels", "AdaptiveModel",
           "explore_adaptive"]

_COLORS = [plotting.OKABE_ITO[c] for c in ("vermillion", "blue", "bluish green", "reddish purple")]
#: colour of each optimizer in the figures
COLORS = {"gd": plotting.OKABE_ITO["vermillion"], "momentum": plotting.OKABE_ITO["reddish purple"],
          "rmsprop": plotting.OKABE_ITO["bluish green"], "adam": plotting.OKABE_ITO["blue"]}


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
def explore_adaptive(landscape, *, lecture=None, reduced_motion=False, trail=20, speed=20, **options):
    """A live explorer of GD / momentum / RMSProp / Adam on a 2-D landscape (see AdaptiveModel)."""
    from .explorer import Explorer, display_options

    display = display_options(lecture, reduced_motion, trail, speed)
    return Explorer(AdaptiveModel(landscape, **options), **display)


class AdaptiveModel:
    """Choose an optimizer and its parameters; see where it ends from every start (basin map,
    recomputed per change: it is part of the static picture) and the path from one start.

    Settings: ``method`` ("gd", "momentum", "rmsprop", "adam"), ``step`` (the learning rate; ``lr``
    is accepted as its name too), ``beta1`` (Adam's beta1, momentum's mu), ``beta2`` (Adam's beta2,
    RMSProp's rho), ``start``; fixed: ``n_steps`` (of the path), ``resolution`` and ``basin_steps``.
    """

    fan = ()
    fan_steps = ()
    clickable = True
    step_label = "learning rate"

    def __init__(self, landscape, *, lr=0.2, n_steps: int = 1000, resolution: int = 40,
                 basin_steps: int = 1000, **options):
        if landscape.dim != 2:
            raise ValueError(f"explore_adaptive needs a 2-D landscape; got dim={landscape.dim}")
        self.landscape = landscape
        self.n_steps = checks.integer("n_steps", n_steps, low=1, high=100_000)
        self.resolution = checks.integer("resolution", resolution, low=4, high=512)
        self.basin_steps = checks.integer("basin_steps", basin_steps, low=1)
        b = landscape.bounds
        self.declarations = [
            Setting("method", "choice", "adam", "optimizer", "the update rule",
                    options=tuple(optimizers.METHODS.items())),
            Setting("step", "real", 0.2, "learning rate", "learning rate lr", low=1e-3, high=10.0, log=True),
            Setting("beta1", "real", 0.9, "β1 (μ)", "Adam's beta1, momentum's mu", low=0.0, high=0.99),
            Setting("beta2", "real", 0.999, "β2 (ρ)", "Adam's beta2, RMSProp's rho", low=0.9, high=0.9999),
            Setting("start", "point", (-0.6, 0.5), "start", "initial point (or click on the plot)", size=2,
                    bounds=tuple(map(tuple, b))),
        ]
        self._decl = {s.name: s for s in self.declarations}
        options.setdefault("step", checks.real("lr", lr, low=1e-3, high=10.0))
        self.values = resolve(self.declarations, options)
        self.step_range = (1e-3, 10.0)
        self._basins = (None, None)
        self._refresh()

    @property
    def step(self) -> float:
        return self.values["step"]

    @property
    def start(self) -> tuple:
        return self.values["start"]

    @property
    def paths(self) -> dict:
        return self.current.paths

    @property
    def path(self):
        return self.current.paths["path"]

    def fan_index(self, step):
        return None

    def series(self) -> list[dict]:
        return [{"key": "path", "name": "path from the start", "color": "#000000", "width": 2.0,
                 "marker": "circle"}]

    def step_marks(self) -> list[dict]:
        return [{"value": float(t), "label": f"GD 2/λ {lab.split()[0]}"}
                for lab, _, t in analysis.minima_thresholds(self.landscape) if np.isfinite(t)]

    def options(self) -> dict:
        """The keyword arguments of :func:`reachkit.optimizers.run` for the chosen optimizer."""
        m, v = self.values["method"], self.values
        return {"adam": {"betas": (v["beta1"], v["beta2"])}, "momentum": {"mu": v["beta1"]},
                "rmsprop": {"rho": v["beta2"]}}.get(m, {})

    def inactive(self) -> set[str]:
        """Settings that do nothing with the current optimizer (their controls are disabled)."""
        m = self.values["method"]
        return ({"beta1"} if m not in ("adam", "momentum") else set()) | \
            ({"beta2"} if m not in ("adam", "rmsprop") else set())

    def update(self, **changes) -> set[str]:
        new = with_changes(self._decl, self.values, changes)
        if new == self.values:
            return set()
        old, self.values = self.values, new
        try:
            self._refresh()
        except Exception:
            self.values = old
            raise
        return {"runs", "fan", "background"}

    def _refresh(self):
        ls, m, lr = self.landscape, self.values["method"], self.values["step"]
        key = (m, lr, tuple(sorted(self.options().items())))
        if self._basins[0] != key:
            self._basins = (key, optimizers.basin_map(ls, m, lr, n=self.resolution, n_steps=self.basin_steps,
                                                      **self.options()))
        path = optimizers.run(ls, np.array(self.start), m, lr, self.n_steps, gtol=1e-8, **self.options())
        status = f"{optimizers.METHODS[m]}, learning rate {lr!r}: {path.describe(0)}"
        self.current = Run(lr, {"path": drawing_xy(ls, path)}, {"path": value_and_slope(ls, path.trajectory(0))},
                           status, f"{ls.name}: {status}", {"path": path})

    @property
    def basin_map(self):
        return self._basins[1]

    def static_layer(self) -> StaticLayer:
        m = self.values["method"]
        return StaticLayer(self.landscape, [("path", "path from the start", "#000000")],
                           title=f"{optimizers.METHODS[m]}, learning rate {self.step:.3g}", basins=self.basin_map)

    def static_key(self) -> tuple:
        return self._basins[0]

    def readout_lines(self, frame=None) -> list[str]:
        """The numbers beside the plot, in words (also the text description)."""
        p, ls = self.path, self.landscape
        lines = [f"From the start: {p.describe(0)}."]
        if len(p.times) > 1:
            lines.append(f"First step length |x1 - x0| = {np.linalg.norm(p.iterates[1, 0] - p.iterates[0, 0]):.3g} "
                         f"(learning rate {self.step:.3g}).")
        lines.append("Where every start ends: " + ", ".join(
            f"{name} {f:.0%}" for name, _, f in plotting.basin_legend(ls, self.basin_map, 0.005)) + ".")
        lines.append("Sharpness of the minima: " + ", ".join(
            f"{lab} {lam:g} (GD's 2/λ = {thr:.3g})" for lab, lam, thr in analysis.minima_thresholds(ls)) + ".")
        return lines

    def describe(self, frame=None) -> str:
        return "\n".join([f"{optimizers.METHODS[self.values['method']]} on {self.landscape.name}, "
                          f"learning rate {self.step:.3g}.", *self.readout_lines(frame)])
