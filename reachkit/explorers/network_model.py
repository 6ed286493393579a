"""The network explorer (notebook 07): GD on a network's loss from a start built for a chosen minimum
(:func:`reachkit.network.reach_minimum`) and from a random init, side by side, as curves against the
iteration: the distance to the minimum, the loss, and the sharpness against 2/a_k.

    reach = rk.network.reach_minimum(land, target, 0.01)
    ex = rk.explore_network(reach)        # drag the step: the same start ends sharp or flat

The step slider's positions are precomputed in one batch (the fan), so a drag swaps runs in the
browser; a typed step between them is run exactly. Plain Python: no widgets, no matplotlib.
"""

from __future__ import annotations

import numpy as np

from .. import checks, network
from ..methods import OKABE_ITO
from .model import Cancelled, ExplorerModel
from .runs import CurvesLayer, Run
from .settings import Setting, resolve

__all__ = ["explore_network", "NetworkModel", "FAN_STEPS"]

#: the step slider's positions (3 significant digits, so the number box shows them as they are)
FAN_STEPS = (0.005, 0.01, 0.02, 0.03, 0.05, 0.07, 0.1, 0.15, 0.2, 0.3)
SCHEDULES = (("constant", "constant step a"), ("decay", "a_k = a/(k+1)^0.5"))
RUNS = (("built", "start built for the minimum", OKABE_ITO["vermillion"]),
        ("init", "a random init", OKABE_ITO["blue"]))
#: the panels, top to bottom: (title, low, high, log scale)
PANELS = (("distance to θ*", 1e-12, 1e2, True), ("loss", 0.05, 5.0, True), ("sharpness λ_max", 0.0, 50.0, False))
BOXES = ((0.665, 0.885), (0.39, 0.61), (0.115, 0.335))
MARKERS = ("circle", "square")
THRESHOLD_COLOR = "#555555"


def explore_network(reach, *, lecture=None, reduced_motion=False, trail=8, speed=30, predict=None, **options):
    """A live explorer of GD on a network from ``reach.start`` (a
    :class:`~reachkit.network.NetworkReach`) and from a random init. Options: ``step`` (a, or
    a0 of the decaying steps), ``schedule`` ("constant" or "decay": a/(k+1)^0.5), ``init_seed``
    (which random init), ``n_steps`` (30000), ``frames`` (up to 150 distinct log-spaced iterations drawn),
    ``background``; display: ``lecture``, ``reduced_motion``, ``trail``, ``speed``, ``predict``."""
    from .explorer import Explorer, display_options

    display = display_options(lecture, reduced_motion, trail, speed, predict)
    return Explorer(NetworkModel(reach, **options), **display)


class NetworkModel(ExplorerModel):
    """Settings: ``step``, ``schedule``, ``init_seed``; fixed: ``n_steps``, ``frames``. ``current``
    is the Run for the step in use, ``fan`` the Runs for :data:`FAN_STEPS`; ``run_at(step)`` gives
    one of them, with the two :class:`~reachkit.network.Descent` records behind it."""

    clickable = False
    _CACHE = 8

    def __init__(self, reach, *, n_steps: int = 30_000, frames: int = 150, background="auto", **options):
        if not isinstance(reach, network.NetworkReach) or reach.start is None:
            raise TypeError(f"reach must be a NetworkReach with a start (reachkit.network.reach_minimum); "
                            f"got {type(reach).__name__}" + ("" if reach is None or not hasattr(reach, "note")
                                                             else f": {reach.note}"))
        if not (background is True or background is False or background == "auto"):
            raise ValueError(f"background must be 'auto', True or False; got {background!r}")
        self.reach, self.background = reach, background
        self.landscape, self.target = reach.landscape, reach.target
        self.n_steps = checks.integer("n_steps", n_steps, low=10, high=1_000_000)
        frames = checks.integer("frames", frames, low=2, high=2000)
        self.iterations = np.unique(np.round(np.geomspace(1, self.n_steps + 1, frames)).astype(int) - 1)
        self.step_range = (FAN_STEPS[0], FAN_STEPS[-1])
        self.declarations = [
            Setting("step", "real", 0.01, "step a", "the step (a0 of a decaying schedule)",
                    low=1e-4, high=1.0, log=True, positive=True),
            Setting("schedule", "choice", "constant", "schedule", "constant, or decaying as (k+1)^-0.5",
                    options=SCHEDULES),
            Setting("init_seed", "seed", 0, "random init", "which random init runs beside the built start"),
        ]
        self.values = resolve(self.declarations, options)
        self.layer = CurvesLayer(list(PANELS), list(BOXES), self.n_steps,
                                 [(s["key"], s["name"], s["color"]) for s in self.series()],
                                 [(name, color) for _, name, color in RUNS] + [("2/a_k", THRESHOLD_COLOR)],
                                 lines=[(1, self.target.loss, f"θ*: {self.target.loss:.3f}"),
                                        (2, self.target.sharpness, f"θ*: {self.target.sharpness:.2f}")],
                                 title="")
        self.fan, self.fan_steps, self._fan_shown = [], [], None
        self.refresh()

    # -- settings and series ---------------------------------------------------------------------------
    @property
    def power(self) -> float:
        return 0.5 if self.values["schedule"] == "decay" else 0.0

    def init(self) -> np.ndarray:
        """The random init in use (LeCun-normal, :func:`reachkit.network.random_inits`)."""
        return network.random_inits(self.landscape, 1, self.values["init_seed"])[0]

    def series(self) -> list[dict]:
        out = [{"key": f"{q}_{key}", "name": f"{name} ({q})", "color": color, "width": 2.0, "marker": mk}
               for q in ("distance", "loss", "sharpness") for (key, name, color), mk in zip(RUNS, MARKERS, strict=True)]
        return out + [{"key": "threshold", "name": "2/a_k", "color": THRESHOLD_COLOR, "width": 1.5,
                       "marker": "diamond"}]

    def step_marks(self) -> list[dict]:
        return [{"value": float(self.target.threshold), "label": "2/λ of θ*"}]

    @property
    def start(self) -> tuple:
        """Where the view puts its start ring: the built start's first point (distance panel)."""
        return tuple(self.layer.xy(0, [0], [self.reach.forward.distance[0]])[0])

    # -- the runs --------------------------------------------------------------------------------------
    def _fan_key(self) -> tuple:
        return ("fan", self.values["schedule"], self.values["init_seed"], self.n_steps, len(self.iterations))

    def _compute(self, steps, cancelled=lambda: False) -> list[Run]:
        """The Runs for ``steps``: both starts for every step, in one batch."""
        steps = [float(a) for a in steps]
        starts = np.vstack([np.tile(self.reach.start, (len(steps), 1)), np.tile(self.init(), (len(steps), 1))])
        if cancelled():
            raise Cancelled
        runs = network.descend_batch(self.landscape, starts, steps * 2, self.n_steps, record_at=self.iterations,
                                     power=self.power, target=self.target)
        return [self._run(a, runs[i], runs[len(steps) + i]) for i, a in enumerate(steps)]

    def _run(self, a, built, init) -> Run:
        ks = self.iterations
        xy = {}
        for (key, _, _), d in zip(RUNS, (built, init), strict=True):
            xy[f"distance_{key}"] = self.layer.xy(0, ks, d.distance)
            xy[f"loss_{key}"] = self.layer.xy(1, ks, d.loss)
            xy[f"sharpness_{key}"] = self.layer.xy(2, ks, d.sharpness)
        thr = 2.0 / (a / (ks + 1.0) ** self.power)
        xy["threshold"] = np.where((thr <= PANELS[2][2])[:, None], self.layer.xy(2, ks, thr), np.nan)
        words = {key: self.fate(a, d) for (key, _, _), d in zip(RUNS, (built, init), strict=True)}
        status = (f"{self._schedule_words(a)}: the built start {words['built']}; "
                  f"the random init {words['init']}")
        alt = (f"Three panels against the iteration (log scale), {status}. Distance to θ* from "
               f"{built.distance[0]:.2g} to {built.distance[-1]:.2g} (built start) and {init.distance[-1]:.2g} "
               f"(random init); loss {built.loss[-1]:.4g} and {init.loss[-1]:.4g}; sharpness {built.sharpness[-1]:.2f} "
               f"and {init.sharpness[-1]:.2f} at the end.")
        return Run(a, xy, {}, status, alt, {"built": built, "init": init})

    def _schedule_words(self, a) -> str:
        return f"GD with a = {a:g}" if not self.power else f"GD with a_k = {a:g}/(k+1)^{self.power:g}"

    def fate(self, a, d) -> str:
        """What the run ``d`` (a Descent) does at its end, in words true of the run: Newton's method
        from the last iterate decides which critical point it is next to, and two more GD steps
        whether it bounces on a period-2 orbit."""
        ls, theta = self.landscape, d.theta
        if d.diverged or not np.all(np.isfinite(theta)):
            return "diverged"
        a_end = a / (self.n_steps + 1.0) ** self.power
        _, sharp, lowest, kind, _, landed = network.classify_end(ls, theta, a_end)
        near = network.lands_on(ls, theta, self.target)
        if kind == "minimum":
            return (f"converges to the chosen minimum θ* (sharpness {landed:.2f})" if near else
                    f"converges to a minimum of sharpness {landed:.2f} (θ*: {self.target.sharpness:.2f})")
        if kind == "unstable minimum":
            return (f"bounces next to {'θ*' if near else 'a minimum'} (sharpness {landed:.2f}, unstable for this "
                    f"step: 2/a = {2 / a_end:.3g}), sharpness {sharp:.2f} where it is")
        if kind == "saddle":
            return f"sits near a saddle (negative curvature), sharpness {sharp:.2f} where it is"
        two = network.descend_many(ls, theta[None], a_end, 2, record_every=1)[1][:, 0]
        if np.linalg.norm(two[2] - two[0]) <= 1e-6 * np.linalg.norm(two[1] - two[0]):
            return f"bounces on a period-2 orbit, sharpness {sharp:.2f} and 2/a = {2 / a_end:.3g}"
        curv = "negative curvature, " if lowest < 0 else ""
        return f"is still moving ({curv}sharpness {sharp:.2f} where it is)"

    def run_at(self, step=None) -> Run:
        """The Run for ``step`` (default: the step in use; a fan step waits for the fan): its
        ``status`` in words and its ``paths``, {"built": Descent, "init": Descent}."""
        a = self.step if step is None else checks.real("step", step, positive=True)
        if a == self.step:
            return self.current
        self.wait()
        if self.fan_index(a) is None:
            raise ValueError(f"step {a!r} is neither the step in use nor one of the fan's {list(FAN_STEPS)}")
        return self.fan[self.fan_index(a)]

    def _show(self, changed: set, final: bool) -> set[str]:
        what = {"runs"} | ({"background"} if not changed else set())
        if self._take_fan():
            what.add("fan")
        i = self.fan_index(self.step)
        made = self.made(("shown", self.step) + self._fan_key()[1:])
        if i is not None:
            self.current = self.fan[i]
        elif made is not None:
            self.current = made
        elif final or not FAN_STEPS:
            self.current = self._compute([self.step])[0]
            self._keep(("shown", self.step) + self._fan_key()[1:], self.current)
        return what

    def refresh(self):
        # at construction the initial step is a slider position: compute the fan at once and show
        # from it (computing the shown run first, then the fan in the worker, would run it twice)
        if float(self.step) in FAN_STEPS and self.made(self._fan_key()) is None:
            self._keep(self._fan_key(), (list(FAN_STEPS), self._compute(FAN_STEPS)))
        super().refresh()

    def _pending(self) -> list:
        if self.made(self._fan_key()) is not None:
            return []
        return [(self._fan_key(), lambda cancelled: (list(FAN_STEPS), self._compute(FAN_STEPS, cancelled)))]

    def _settle(self) -> set[str]:
        if not self._take_fan():
            return set()
        i = self.fan_index(self.step)
        if i is not None:
            self.current = self.fan[i]
        return {"fan", "runs"}

    def _take_fan(self) -> bool:
        key = self._fan_key()
        fan = self.made(key)
        shown = key if fan is not None else None
        if shown == self._fan_shown:
            return False
        self.fan_steps, self.fan = (list(fan[0]), list(fan[1])) if fan is not None else ([], [])
        self._fan_shown = shown
        return True

    # -- the picture and the words -----------------------------------------------------------------------
    def static_layer(self) -> CurvesLayer:
        return self.layer

    def static_key(self) -> tuple:
        return ("curves", self.n_steps)

    def frame_iteration(self, frame=None) -> int:
        """The iteration k drawn at ``frame`` (frames are log-spaced iterations)."""
        j = len(self.iterations) - 1 if frame is None else int(np.clip(frame, 0, len(self.iterations) - 1))
        return int(self.iterations[j])

    def readout_lines(self, frame=None) -> list[str]:
        j = len(self.iterations) - 1 if frame is None else int(np.clip(frame, 0, len(self.iterations) - 1))
        k = int(self.iterations[j])
        a = self.step / (k + 1.0) ** self.power
        lines = [f"Frame {j} = iteration k = {k} of {self.n_steps} (frames are log-spaced); a_k = {a:.3g}, "
                 f"2/a_k = {2 / a:.3g}."]
        for key, name, _ in RUNS:
            d = self.current.paths[key]
            lines.append(f"{name}: distance to θ* {d.distance[j]:.3g}, loss {d.loss[j]:.5g}, "
                         f"sharpness {d.sharpness[j]:.3g}.")
        lines.append(f"θ*: loss {self.target.loss:.5g}, sharpness {self.target.sharpness:.4g} "
                     f"(2/λ = {self.target.threshold:.4g}).")
        return lines

    def describe(self, frame=None) -> str:
        return "\n".join([self.current.status, *self.readout_lines(frame)])
