"""The adaptive-steps explorer's model (:func:`reachkit.eos_explorer.explore_adaptive`): GD, momentum,
RMSProp or Adam on a 2-D landscape, the path from one start and the basin map of the chosen optimizer.
Plain Python: no widgets, no matplotlib.
"""

from __future__ import annotations

import numpy as np

from .. import analysis, checks, optimizers, plotting
from .runs import Run, StaticLayer, drawing_xy, value_and_slope
from .settings import Setting, resolve, with_changes


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
