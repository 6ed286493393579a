"""Figures and a small live explorer for adaptive steps and the edge of stability (notebook 06).

    from reachkit import eos_explorer as ee
    ee.draw_eos((ax_loss, ax_sharp), results)      # GD on a network: loss, sharpness, 2/step lines
    ee.draw_basin_panels(fig, landscape, maps)       # where each optimizer ends, one panel each
    ee.explore_adaptive(landscape, method="adam")    # sliders for GD / momentum / RMSProp / Adam

The drawing functions draw onto axes you pass and return the artists, like
:mod:`reachkit.plotting`. The explorer recomputes the basin map of the chosen optimizer when a
control is released and shows the path from one start (click on the plot to move it).
"""

from __future__ import annotations

import base64
import html
import io
import math

import numpy as np

from . import analysis, optimizers, plotting

__all__ = ["draw_eos", "draw_optimizer_sharpness", "draw_basin_panels", "AdaptiveExplorer",
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
def explore_adaptive(landscape, **options) -> "AdaptiveExplorer":
    """A live explorer of GD / momentum / RMSProp / Adam on a 2-D landscape (see AdaptiveExplorer)."""
    return AdaptiveExplorer(landscape, **options)


class AdaptiveExplorer:
    """Choose an optimizer and its parameters; see where it ends from every start (basin map)
    and the path from one start (sliders, or click on the plot).

    Options: ``method`` ("gd", "momentum", "rmsprop", "adam"), ``lr``, ``beta1`` (Adam's beta1,
    momentum's mu), ``beta2`` (Adam's beta2, RMSProp's rho), ``start``, ``n_steps`` (of the path),
    ``resolution`` and ``basin_steps`` of the basin map, ``canvas`` ("auto", "ipympl", "image").
    Controls are attributes (``ex.lr.value = 0.5``); every update is computed when a control is
    released; an error shows in the status line and never raises.
    """

    def __init__(self, landscape, *, method: str = "adam", lr: float = 0.2, beta1: float = 0.9,
                 beta2: float = 0.999, start=(-0.6, 0.5), n_steps: int = 1000, resolution: int = 40,
                 basin_steps: int = 1000, canvas: str = "auto", figsize=(6.4, 4.4)):
        import ipywidgets as W

        if landscape.dim != 2:
            raise ValueError(f"explore_adaptive needs a 2-D landscape; got dim={landscape.dim}")
        if method not in optimizers.METHODS:
            raise ValueError(f"method must be one of {tuple(optimizers.METHODS)}; got {method!r}")
        if canvas not in ("auto", "ipympl", "image"):
            raise ValueError(f"canvas must be 'auto', 'ipympl' or 'image'; got {canvas!r}")
        lr = float(lr)
        if not (np.isfinite(lr) and 1e-3 <= lr <= 10):
            raise ValueError(f"lr must be a number in [0.001, 10]; got {lr!r}")
        x0 = np.asarray(start, dtype=float).ravel()
        if x0.shape != (2,) or not np.all(np.isfinite(x0)):
            raise ValueError(f"start must be two finite numbers (x0, y0); got {start!r}")
        self.landscape = landscape
        self.resolution, self.basin_steps, self.n_steps = int(resolution), int(basin_steps), int(n_steps)
        st = dict(description_width="initial")
        opts = dict(style=st, continuous_update=False)
        self.method = W.Dropdown(options=[(v, k) for k, v in optimizers.METHODS.items()], value=method,
                                 description="optimizer", style=st)
        self.lr = W.FloatLogSlider(value=lr, base=10, min=-3, max=1, step=0.01, readout_format=".3g",
                                   description="learning rate", **opts)
        self.beta1 = W.FloatSlider(value=beta1, min=0.0, max=0.99, step=0.01, description="β1 (μ)", **opts)
        self.beta2 = W.FloatSlider(value=beta2, min=0.9, max=0.9999, step=0.0001, readout_format=".4f",
                                   description="β2 (ρ)", **opts)
        b = landscape.bounds
        self.start = [W.FloatSlider(value=float(np.clip(s, lo, hi)), min=lo, max=hi, step=(hi - lo) / 500,
                                    readout_format=".3f", description=f"start {n}0", **opts)
                      for s, (lo, hi), n in zip(x0, b, "xy", strict=True)]
        self.readout = W.HTML(layout=W.Layout(width="380px"))
        self.status = W.HTML()
        self.error = None
        self.basin_map = self.path = None
        self._build_figure(canvas, figsize)
        for w in (self.method, self.lr, self.beta1, self.beta2, *self.start):
            w.observe(lambda _c: self.update(), "value")
        self.update()

    # -- figure -----------------------------------------------------------------------------
    def _build_figure(self, canvas, figsize):
        from .widgets import figure_with_view

        self.fig, self.view, kind = figure_with_view(figsize, canvas)
        self.canvas_kind = kind if kind == "image" else "ipympl"
        self.ax = self.fig.add_subplot()
        self.fig.subplots_adjust(left=0.1, right=0.97, bottom=0.12, top=0.9)
        plotting.draw_landscape(self.ax, self.landscape, levels=14)
        self.image = None
        self.artists = plotting.PathArtists(self.ax, color="black", label="path from the start")
        self.fig.canvas.mpl_connect("button_press_event", self._on_click)

    def _on_click(self, event):
        if event.inaxes is not self.ax or event.xdata is None:
            return
        self._hold = True
        try:
            self.start[0].value, self.start[1].value = float(event.xdata), float(event.ydata)
        finally:
            self._hold = False
        self.update()

    # -- computation ------------------------------------------------------------------------
    def options(self) -> dict:
        """The keyword arguments of :func:`reachkit.optimizers.run` for the chosen optimizer."""
        m = self.method.value
        if m == "adam":
            return {"betas": (self.beta1.value, self.beta2.value)}
        if m == "momentum":
            return {"mu": self.beta1.value}
        if m == "rmsprop":
            return {"rho": self.beta2.value}
        return {}

    def update(self):
        """Recompute the basin map and the path for the current controls; never raises."""
        if getattr(self, "_hold", False):
            return
        try:
            m, lr, ls = self.method.value, float(self.lr.value), self.landscape
            self.beta1.disabled = m not in ("adam", "momentum")
            self.beta2.disabled = m not in ("adam", "rmsprop")
            self.basin_map = optimizers.basin_map(ls, m, lr, n=self.resolution, n_steps=self.basin_steps,
                                                  **self.options())
            if self.image is None:
                self.image = plotting.draw_basins(self.ax, ls, self.basin_map)
            else:
                plotting.update_basins(self.image, ls, self.basin_map)
            x0 = np.array([s.value for s in self.start])
            self.path = optimizers.run(ls, x0, m, lr, self.n_steps, gtol=1e-8, **self.options())
            self.artists.set_path(plotting.path_xy(ls, self.path))
            self.artists.show(whole=True)
            self.ax.set_title(f"{optimizers.METHODS[m]}, learning rate {lr:.3g}", fontsize="medium")
            self.error = None
        except Exception as exc:  # a callback must never raise
            self.error = f"{type(exc).__name__}: {exc}"
        self.readout.value = "".join(f"<div>{html.escape(t)}</div>" for t in self.readout_lines())
        self.status.value = ("" if self.error is None else
                             f"<span style='color:#D55E00'><b>Could not update:</b> {html.escape(self.error)}</span>")
        if self.canvas_kind == "image":
            self.view.value = self.png()
        else:
            self.fig.canvas.draw_idle()

    def readout_lines(self) -> list[str]:
        """The numbers beside the plot, in words (also the text description)."""
        if self.error:
            return [f"Could not update: {self.error}"]
        p, ls = self.path, self.landscape
        lines = [f"From the start: {p.describe(0)}."]
        if len(p.times) > 1:
            lines.append(f"First step length |x1 - x0| = {np.linalg.norm(p.iterates[1, 0] - p.iterates[0, 0]):.3g} "
                         f"(learning rate {self.lr.value:.3g}).")
        lines.append("Where every start ends: " + ", ".join(
            f"{name} {f:.0%}" for name, _, f in plotting.basin_legend(ls, self.basin_map, 0.005)) + ".")
        lines.append("Sharpness of the minima: " + ", ".join(
            f"{lab} {lam:g} (GD's 2/λ = {thr:.3g})" for lab, lam, thr in
            analysis.minima_thresholds(ls)) + ".")
        return lines

    def describe(self) -> str:
        return "\n".join([f"{optimizers.METHODS[self.method.value]} on {self.landscape.name}, "
                          f"learning rate {self.lr.value:.3g}.", *self.readout_lines()])

    # -- display ----------------------------------------------------------------------------
    @property
    def widget(self):
        """The explorer as one ipywidgets box."""
        import ipywidgets as W

        if getattr(self, "_widget", None) is None:
            row = dict(layout=W.Layout(flex_flow="row wrap", align_items="center"))
            self._widget = W.VBox([
                W.HBox([self.view, W.VBox([self.readout, self.status])], **row),
                W.HBox([self.method, self.lr], **row), W.HBox([self.beta1, self.beta2], **row),
                W.HBox(self.start, **row)])
        return self._widget

    def png(self) -> bytes:
        buf = io.BytesIO()
        self.fig.savefig(buf, format="png")
        return buf.getvalue()

    def _repr_mimebundle_(self, include=None, exclude=None, **kwargs):
        """The live widget, plus a PNG and a text description for renderers without widgets."""
        bundle = dict(self.widget._repr_mimebundle_(include=include, exclude=exclude) or {})
        b64 = base64.b64encode(self.png()).decode("ascii")
        text = self.describe()
        bundle["text/plain"] = text
        bundle["image/png"] = b64
        return bundle

    def close(self):
        for w in (self.method, self.lr, self.beta1, self.beta2, *self.start, self.readout, self.status,
                  self.view, getattr(self, "_widget", None)):
            if w is not None:
                w.close()
        self.fig.clear()
