"""The adaptive-steps explorer's model (:func:`reachkit.eos_explorer.explore_adaptive`): GD, momentum,
RMSProp or Adam on a 2-D landscape, the path from one start and the basin map of the chosen optimizer.
Plain Python: no widgets, no matplotlib.
"""

from __future__ import annotations

import numpy as np

from .. import analysis, checks, methods, optimizers
from .model import ExplorerModel
from .runs import Run, StaticLayer, drawing_xy, value_and_slope
from .settings import Setting, resolve

OPTIMIZERS = ("gd", "momentum", "rmsprop", "adam")  # the registry's methods this explorer offers


class AdaptiveModel(ExplorerModel):
    """Choose an optimizer and its parameters; see where it ends from every start (basin map: coarse
    while dragging the learning rate, full once a change is final) and the path from one start.

    Settings: ``method`` ("gd", "momentum", "rmsprop", "adam"), ``step`` (the learning rate; ``lr``
    is accepted as its name too), ``beta1`` (Adam's beta1, momentum's mu), ``beta2`` (Adam's beta2,
    RMSProp's rho), ``start``; fixed: ``n_steps`` (of the path), ``resolution`` and ``basin_steps``.
    """

    step_label = "learning rate"

    def __init__(self, landscape, *, lr=0.2, n_steps: int = 1000, resolution: int = 40,
                 basin_steps: int = 1000, background="auto", **options):
        if landscape.dim != 2:
            raise ValueError(f"explore_adaptive needs a 2-D landscape; got dim={landscape.dim}")
        if not (background is True or background is False or background == "auto"):
            raise ValueError(f"background must be 'auto', True or False; got {background!r}")
        self.landscape, self.background = landscape, background
        self.n_steps = checks.integer("n_steps", n_steps, low=1, high=100_000)
        self.resolution = checks.integer("resolution", resolution, low=4, high=512)
        self.basin_steps = checks.integer("basin_steps", basin_steps, low=1, high=100_000)
        b = landscape.bounds
        self.declarations = [
            Setting("method", "choice", "adam", "optimizer", "the update rule",
                    options=tuple((k, methods.METHODS[k].name) for k in OPTIMIZERS)),
            Setting("step", "real", 0.2, "learning rate", "learning rate lr", low=1e-3, high=10.0, log=True),
            Setting("beta1", "real", 0.9, "β1 (μ)", "Adam's beta1, momentum's mu", low=0.0, high=0.99),
            Setting("beta2", "real", 0.999, "β2 (ρ)", "Adam's beta2, RMSProp's rho", low=0.9, high=0.9999),
            Setting("start", "point", (-0.6, 0.5), "start", "initial point (or click on the plot)", size=2,
                    bounds=tuple(map(tuple, b))),
        ]
        options.setdefault("step", checks.real("lr", lr, low=1e-3, high=10.0))
        self.values = resolve(self.declarations, options)
        self.step_range = (1e-3, 10.0)
        self._basins = None  # (key, BasinMap, full resolution?)
        self.refresh()

    @property
    def path(self):
        return self.current.paths["path"]

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

    def _basin_key(self) -> tuple:
        m = self.values["method"]
        return ("basins", m, self.step, tuple(sorted(self.options().items())))

    def _show(self, changed: set, final: bool) -> set[str]:
        ls, m, lr = self.landscape, self.values["method"], self.step
        path = optimizers.run(ls, np.array(self.start), m, lr, self.n_steps, gtol=1e-8, **self.options())
        status = f"{methods.METHODS[m].name}, learning rate {lr!r}: {path.describe(0)}"
        self.current = Run(lr, {"path": drawing_xy(ls, path)}, {"path": value_and_slope(ls, path.trajectory(0))},
                           status, f"{ls.name}: {status}", {"path": path})
        key = self._basin_key()
        if self._basins is None or self._basins[0] != key:
            full = self.made(key)
            self._basins = (key, full, True) if full is not None else \
                (key, optimizers.basin_map(ls, m, lr, n=max(4, self.resolution // 4), n_steps=self.basin_steps,
                                           **self.options()), False)
        return {"runs", "background"} if changed - {"start"} else {"runs"}

    def _pending(self) -> list:
        if self._basins[2]:
            return []
        ls, m, lr, opts = self.landscape, self.values["method"], self.step, self.options()
        n, steps = self.resolution, self.basin_steps
        return [(self._basin_key(), lambda cancelled: optimizers.basin_map(ls, m, lr, n=n, n_steps=steps, **opts))]

    def _settle(self) -> set[str]:
        full = self.made(self._basin_key())
        if full is None or self._basins[2]:
            return set()
        self._basins = (self._basin_key(), full, True)
        return {"background"}

    @property
    def basin_map(self):
        """The full basin map (waits for it while it is computed in the background)."""
        if not self._basins[2]:
            self.wait()
        return self._basins[1]

    def static_layer(self) -> StaticLayer:
        m = self.values["method"]
        return StaticLayer(self.landscape, [("path", "path from the start", "#000000")],
                           title=f"{methods.METHODS[m].name}, learning rate {self.step:.3g}", basins=self._basins[1],
                           pending=() if self._basins[2] else ("basins",))

    def static_key(self) -> tuple:
        return self._basins[0], self._basins[2]

    def readout_lines(self, frame=None) -> list[str]:
        """The numbers beside the plot, in words (also the text description)."""
        p, ls = self.path, self.landscape
        lines = [f"From the start: {p.describe(0)}."]
        if len(p.times) > 1:
            lines.append(f"First step length |x1 - x0| = {np.linalg.norm(p.iterates[1, 0] - p.iterates[0, 0]):.3g} "
                         f"(learning rate {self.step:.3g}).")
        coarse = "" if self._basins[2] else " (a coarse map; the full one is being computed)"
        lines.append(f"Where every start ends{coarse}: " + ", ".join(
            f"{name} {f:.0%}" for name, f in self._basins[1].shares(0.005)) + ".")
        lines.append("Sharpness of the minima: " + ", ".join(
            f"{lab} {lam:g} (GD's 2/λ = {thr:.3g})" for lab, lam, thr in analysis.minima_thresholds(ls)) + ".")
        return lines

    def describe(self, frame=None) -> str:
        return "\n".join([f"{methods.METHODS[self.values['method']].name} on {self.landscape.name}, "
                          f"learning rate {self.step:.3g}.", *self.readout_lines(frame)])
