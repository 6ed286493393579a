"""The reachability explorer: pick a critical point and a dynamics; ``reach`` finds a start from
which the dynamics converges to it, and the explorer animates that path.

    import reachkit as rk
    rk.explore_reach(rk.landscapes.sharp_flat_double_well())          # 1-D
    rk.explore_reach(rk.landscapes.curve_of_minima(), step=0.1)         # a point (t, 1/t) by t
    rk.explore_reach(rk.landscapes.himmelblau(), target="saddle (3.39, 0.07)")

:class:`ReachModel` is plain Python (settings in, the path and read-outs out); the view, controls
and read-outs panel are :class:`reachkit.explorers.explorer.Explorer`'s. ``reach`` can take seconds
(saddles, slow convergence): in a running kernel it runs in a worker thread while the status line
says so, and the figure updates when it is done (``ex.wait()`` blocks until then). Results are
cached per setting. The last outcome is ``ex.outcome`` (``ex.outcome.result`` is reach's
:class:`~reachkit.analysis.ReachResult`).
"""

from __future__ import annotations

import dataclasses
import time

import numpy as np

from .. import analysis, checks, dynamics, landscapes, methods, schedules
from ..landscapes import CriticalPoint, Landscape
from .dynamics_model import default_steps
from .model import DRAG_SECONDS, ExplorerModel, seconds_per_step, timed_run
from .reach_text import readout_lines, status_line, trial_lines, trial_status
from .runs import Run, StaticLayer, drawing_xy, point_text, short, value_and_slope
from .settings import Setting, resolve

__all__ = ["explore_reach", "ReachModel", "ReachOutcome", "DYNAMICS"]

#: the dynamics menu: (key, name shown)
DYNAMICS = (("constant", "GD, constant step a"), ("power", "GD, a_k = a/(k+1)^p"), ("flow", "gradient flow"))
FAMILY = "family"
_DEMO_OFFSET = 1e-3  # how far from the target the "unstable step" demonstration starts
_DEMO_STEPS = 300
_TRIAL_STEPS = 1000  # the fewest steps the dynamics from your start runs


def explore_reach(landscape: Landscape, *, lecture=None, reduced_motion=False, trail=20, speed=20, predict=None,
                  **options):
    """A live explorer of reachability on a 1-D or 2-D smooth landscape.

    Options: ``target`` (a critical point's label, its index in ``critical_points()``, or
    "family" for the point of ``family`` at ``t``), ``dynamics`` ("constant", "power", "flow"),
    ``step`` (a, or a0 for the decaying steps), ``exponent`` p, ``t`` and ``t_range`` with
    ``family`` (a function t -> critical point; for :func:`~reachkit.landscapes.curve_of_minima`
    it is :func:`~reachkit.landscapes.curve_point` unless ``family=None``), ``radius`` and
    ``max_steps`` (passed to :func:`~reachkit.analysis.reach`), ``background`` ("auto", True,
    False: compute in a worker thread inside a running kernel), the landscape's parameters;
    display: ``lecture``, ``reduced_motion``, ``trail``, ``speed``.
    """
    from .explorer import Explorer, display_options

    display = display_options(lecture, reduced_motion, trail, speed, predict)
    return Explorer(ReachModel(landscape, **options), **display)


@dataclasses.dataclass
class ReachOutcome:
    """What the explorer shows for one setting: ``result`` (reach's ReachResult, or None when
    reach was not run: an unstable constant step, or an error), ``path`` (reach's path, or the
    demonstration from next to the target when the step is unstable; cut after its last move),
    ``unstable`` (a constant step above 2/sharpness of the target), ``seconds``."""

    key: tuple
    target: np.ndarray
    label: str
    kind: str
    method: str
    schedule: object
    result: analysis.ReachResult | None = None
    path: dynamics.Path | None = None
    unstable: bool = False
    error: str | None = None
    seconds: float = 0.0

    @property
    def start(self) -> np.ndarray | None:
        """The start whose path is drawn (reach's start, or the demonstration's)."""
        if self.result is not None:
            return self.result.start
        return None if self.path is None else self.path.trajectory(0)[0]


def trim_path(path: dynamics.Path) -> dynamics.Path:
    """``path`` cut just after its last move (a converged or frozen run repeats its end point)."""
    it = path.iterates[:, 0, :]
    moved = np.flatnonzero(np.any(it != it[-1], axis=1))
    n = min(len(it), int(moved[-1]) + 2) if moved.size else 1
    return dataclasses.replace(path, iterates=path.iterates[:n], times=path.times[:n],
                               values=path.values[:n], step_sizes=path.step_sizes[:n])


def _default_family(landscape: Landscape):
    """(function t -> point, (t_min, t_max), name) for landscapes with a known curve of minima."""
    if landscape.name == landscapes.curve_of_minima().name:
        return landscapes.curve_point, (0.4, 2.5), "point (t, 1/t) of the curve xy = 1"
    return None


def _default_step(landscape):
    """0.4 x the smallest 2/sharpness over the listed minima and saddles (stable for them)."""
    thr = [2.0 / lam for c in landscape.critical_points() if c.kind in ("minimum", "saddle")
           for lam in [float(analysis.sharpness(landscape, c.x))] if lam > 0]
    return 0.4 * min(thr) if thr else default_steps(landscape)[0]


def target_choices(landscape, family):
    """(options [(value, label)], [(label, reason)] for the points left out)."""
    options, left_out = [], []
    if family is not None:
        options.append((FAMILY, family[2]))
    for i, c in enumerate(landscape.critical_points()):
        if c.kind in ("maximum", "minimum and maximum"):
            why = ("a local maximum: no path from elsewhere converges to it" if c.kind == "maximum" else
                   "a minimum and a maximum at once (inside a plateau): reached only by starting on it")
            left_out.append((c.label, why))
        else:
            options.append((i, f"{c.label} [{c.kind}]" if c.kind not in c.label else c.label))
    return options, left_out


def _resolve_target(want, options, landscape, family):
    values = [v for v, _ in options]
    if want is None:
        return values[0]
    if isinstance(want, str) and want == FAMILY and FAMILY in values:
        return FAMILY
    cps = landscape.critical_points()
    if isinstance(want, CriticalPoint):
        want = next((i for i, c in enumerate(cps) if np.allclose(c.x, want.x)), want.label)
    if isinstance(want, str):
        idx = [i for i, c in enumerate(cps) if c.label == want]
        if not idx:
            raise ValueError(f"target: no critical point labelled {want!r}; choose from "
                             f"{[c.label for c in cps]}" + (" or 'family'" if family else ""))
        want = idx[0]
    if isinstance(want, (int, np.integer)) and not isinstance(want, (bool, np.bool_)):
        if want in values:
            return int(want)
        if 0 <= want < len(cps):
            raise ValueError(f"target {cps[want].label!r} is {cps[want].kind}: no path from "
                             "elsewhere converges to it, so the explorer does not offer it")
    raise ValueError(f"target must be a label, an index into critical_points() or 'family'; got {want!r}")


class ReachModel(ExplorerModel):
    """The reach explorer's model: settings target, dynamics, step, exponent, t (with a family)
    and the landscape's parameters; ``outcome`` and ``current`` (the Run drawn). No fan: every
    step change is a reach computation (in the background inside a running kernel)."""

    def __init__(self, landscape: Landscape, *, target=None, dynamics: str = "constant", step=None,
                 exponent: float = 0.5, t: float = 2.0, t_range=None, family="auto", radius=None,
                 max_steps: int = 20000, background="auto", **params):
        if not landscape.smooth:
            raise ValueError("explore_reach needs a smooth landscape: reach runs the dynamics "
                             "backwards, which needs a gradient (for |x| see the subgradient method)")
        if landscape.dim not in (1, 2):
            raise ValueError(f"explore_reach draws 1-D and 2-D landscapes; this one has dim={landscape.dim}")
        if not (background is True or background is False or background == "auto"):
            raise ValueError(f"background must be 'auto', True or False; got {background!r}")
        self.reach_options = {"radius": None if radius is None else checks.real("radius", radius, positive=True),
                              "max_steps": checks.integer("max_steps", max_steps, low=100)}
        fam = _default_family(landscape) if isinstance(family, str) and family == "auto" else family
        if fam is not None and callable(fam):
            fam = (fam, (0.4, 2.5), "point of the family (slider t)")
        if fam is not None and t_range is not None:
            fam = (fam[0], checks.interval("t_range", t_range), fam[2])
        self.family, self.background = fam, background
        self.base = self.landscape = landscape
        options, self.left_out = target_choices(landscape, fam)
        if not options:
            raise ValueError(f"{landscape.name} lists no critical point that is not a local maximum: give "
                             "from_functions(..., critical_points=[...]) or use analysis.find_critical_points")
        t_lo, t_hi = fam[1] if fam else (0.4, 2.5)
        self.declarations = [
            Setting("target", "choice", _resolve_target(target, options, landscape, fam), "target",
                    "the critical point to reach (local maxima are not offered)", options=tuple(options)),
            Setting("dynamics", "choice", "constant", "dynamics", "gradient descent with a step rule, "
                    "or the flow", options=DYNAMICS),
            Setting("step", "real", _default_step(landscape), "step a", "step size a (a0 of a/(k+1)^p)",
                    positive=True, log=True),
            Setting("exponent", "real", 0.5, "exponent p", "a_k = a/(k+1)^p: nonsummable when p <= 1",
                    low=0.0, high=4.0),
        ] + ([Setting("t", "real", float(np.clip(t, t_lo, t_hi)), "t", "which point of the family is "
                      "the target", low=t_lo, high=t_hi)] if fam else []) + [
            Setting(p.name, "real", float(landscape.params[p.name]), p.name, p.description or p.name,
                    low=p.low, high=p.high, log=p.log) for p in landscape.param_specs] + [
            Setting("start", "point", tuple(float(c) for c in landscape.bounds.mean(axis=1)), "start",
                    "the start drawn: reach's (found again after any other change), or yours (type it, or "
                    "drag on the plot)", size=landscape.dim, bounds=tuple(map(tuple, landscape.bounds)))]
        given = dict(params, dynamics=dynamics, step=step, exponent=exponent)
        self.values = resolve(self.declarations, given)
        _, lo, hi = default_steps(landscape)
        self.step_range = (min(lo, self.values["step"]), max(hi, self.values["step"]))
        self.outcome = self.current = None
        self.own = self.preview = False  # your start is drawn / a drag's preview from the last start
        self._last_length = (0, 0.0)  # steps and time of reach's last path
        self.refresh()  # at once, even inside a kernel: the explorer opens with a path

    # -- the model protocol ----------------------------------------------------------------------

    def series(self) -> list[dict]:
        m = methods.METHODS["flow" if self.values["dynamics"] == "flow" else "gd"]
        return [{"key": m.key, "name": m.name, "color": m.color, "width": 2.0, "marker": m.marker}]

    def step_marks(self) -> list[dict]:
        lam = float(np.linalg.eigvalsh(self.landscape.hess(self.outcome.target))[-1])
        return [{"value": 2.0 / lam, "label": "2/λ target"}] if lam > 0 else []

    def inactive(self) -> set[str]:
        """Settings that do nothing with the current ones (their controls are disabled)."""
        return ({"exponent"} if self.values["dynamics"] != "power" else set()) | \
            ({"t"} if self.values["target"] != FAMILY else set())

    def _show(self, changed: set, final: bool) -> set[str]:
        """Your start alone moved (or was released): the dynamics from it, no reach. Anything else:
        reach's outcome (cached, computed now, or in the worker); while dragging, the path from the
        last start at the new settings (reach runs on release)."""
        params = {p.name: self.values[p.name] for p in self.base.param_specs}
        self.landscape = self.base.with_params(**params) if params else self.base
        if changed == {"start"} or (not changed and self.own):
            self.own, self.preview = True, False
            self._display_trial(final)
            return {"runs"}
        self.own = False
        spec = self._spec()
        outcome = self.made(spec["key"])
        self.preview = outcome is None and not final
        if self.preview:
            self.waiting = True
            self.outcome = self._waiting(spec)
            self._display_trial(final)
            return {"runs", "background"}
        if outcome is None and (self.current is None or not self.in_background()):
            outcome = self.compute(spec)  # at construction, and outside a running kernel: now
            self._keep(spec["key"], outcome)
        self.waiting = outcome is None  # reach runs in the background for it
        self._display(outcome or self._waiting(spec))
        return {"runs", "fan", "background"}

    def _display_trial(self, final: bool):
        """Draw the dynamics from ``values["start"]`` (cut to its first steps while dragging)."""
        self.trial = self.trial_path(self.values["start"], final)
        ls, m = self.landscape, self.series()[0]["key"]
        status = trial_status(self)
        self.current = Run(self.values["step"], {m: drawing_xy(ls, self.trial)},
                           {m: value_and_slope(ls, self.trial.trajectory(0))}, status, f"{ls.name}: {status}",
                           {m: self.trial})

    def trial_path(self, start, final: bool = True) -> dynamics.Path:
        """The explorer's dynamics from ``start``: as many steps (or as long) as reach's last path,
        at least 1000 (steps of a, time 1000 a for the flow), the first ones only while dragging
        when that is slow."""
        key = self.series()[0]["key"]
        x0 = np.array(start, dtype=float)
        if key == "flow":
            t_max = max(self._last_length[1], _TRIAL_STEPS * self.values["step"])
            n_times = max(2, min(2001, int(DRAG_SECONDS / seconds_per_step("flow")) if not final else 2001))
            return dynamics.gradient_flow(self.landscape, x0, t_max=t_max, n_times=n_times)
        n = min(max(self._last_length[0], _TRIAL_STEPS), self.reach_options["max_steps"])
        cost = seconds_per_step("gd") * n
        if not final and cost > DRAG_SECONDS:
            n = max(1, int(n * DRAG_SECONDS / cost))
        return timed_run(methods.METHODS["gd"], self.landscape, x0, self.schedule(), max(1, n))

    def _waiting(self, spec) -> ReachOutcome:
        return ReachOutcome(spec["key"], spec["target"], spec["label"], spec["kind"], spec["method"],
                            spec["schedule"], seconds=float("nan"))

    def _pending(self) -> list:
        if self.own:
            return []
        spec = self._spec()
        return [(spec["key"], lambda cancelled: self.compute(spec))]

    def _settle(self) -> set[str]:
        outcome = self.made(self.outcome.key)
        if outcome is None or not self.waiting or self.own:
            return set()
        self.waiting = False
        self._display(outcome)
        return {"runs", "background"}

    def click(self, point) -> dict:
        """A click near an offered critical point makes it the target (2-D); elsewhere the point
        becomes your start."""
        p = np.asarray(point, float)
        span = float(np.min(np.ptp(self.landscape.bounds, axis=1)))
        cps = self.landscape.critical_points()
        offered = [v for v in self.settings["target"].allowed if v != FAMILY]
        d = [np.linalg.norm(cps[v].x - p) for v in offered] if self.landscape.dim == 2 else []
        j = int(np.argmin(d)) if d else -1
        return {"target": offered[j]} if d and d[j] <= 0.06 * span else {"start": tuple(p)}

    def static_layer(self) -> StaticLayer:
        ls, x = self.landscape, self.outcome.target
        y = float(ls.value(x)) if ls.dim == 1 else float(x[1])
        layer = StaticLayer(ls, [(s["key"], s["name"], s["color"]) for s in self.series()],
                            title=f"{ls.name}: reach the {self.outcome.label}")
        layer.markers = [(float(x[0]), y, "*", "target")]
        return layer

    def static_key(self) -> tuple:
        return (tuple(self.landscape.params.items()), tuple(self.outcome.target), self.values["dynamics"])

    def readout_lines(self, frame=None) -> list[str]:
        left_out = [f"Not offered as a target: the {lab}, {why}." for lab, why in self.left_out]
        if self.own or self.preview:
            return trial_lines(self, frame) + left_out
        return readout_lines(self, frame) + left_out

    def describe(self, frame=None) -> str:
        head = f"{self.landscape.name}: reachability explorer."
        return "\n".join([head, *self.readout_lines(frame), self.current.status])

    # -- computation -----------------------------------------------------------------------------
    def current_target(self):
        """(point, kind, label, what to pass to reach) for the target setting (and t)."""
        v = self.values["target"]
        if v == FAMILY:
            x = np.atleast_1d(np.asarray(self.family[0](self.values["t"]), float))
            label = f"point t = {short(self.values['t'], 4)} of the curve of minima"
            return x, "minimum", label, CriticalPoint(x, "minimum", label)
        c = self.landscape.critical_points()[v]
        return np.asarray(c.x, float), c.kind, c.label, c

    def schedule(self):
        a, d = self.values["step"], self.values["dynamics"]
        return None if d == "flow" else schedules.power(a, self.values["exponent"]) if d == "power" \
            else schedules.constant(a)

    def _spec(self) -> dict:
        x, kind, label, cp = self.current_target()
        d, v = self.values["dynamics"], self.values
        tgt = ("t", v.get("t")) if v["target"] == FAMILY else ("cp", v["target"])
        how = (d,) if d == "flow" else (d, v["step"]) + ((v["exponent"],) if d == "power" else ())
        key = (tuple(self.landscape.params.items()), tgt, how, self.reach_options["radius"],
               self.reach_options["max_steps"])
        unstable = None
        if d == "constant" or (d == "power" and v["exponent"] == 0.0):
            eig, vec = np.linalg.eigh(self.landscape.hess(x))
            if eig[-1] > 0 and v["step"] > 2.0 / eig[-1]:
                unstable = (float(eig[-1]), vec[:, -1])
        return dict(key=key, landscape=self.landscape, target=x, kind=kind, label=label, cp=cp,
                    method="flow" if d == "flow" else "gd", schedule=self.schedule(), unstable=unstable,
                    options=dict(self.reach_options))

    @staticmethod
    def compute(spec: dict) -> ReachOutcome:
        """Run reach (or, for an unstable constant step, GD from next to the target)."""
        out = ReachOutcome(spec["key"], spec["target"], spec["label"], spec["kind"], spec["method"],
                           spec["schedule"])
        ls, t0 = spec["landscape"], time.perf_counter()
        try:
            if spec["unstable"] is not None:
                x0 = spec["target"] + _DEMO_OFFSET * (1 + np.linalg.norm(spec["target"])) * spec["unstable"][1]
                out.path = trim_path(dynamics.gradient_descent(ls, x0, spec["schedule"], _DEMO_STEPS))
                out.unstable = True
            else:
                res = analysis.reach(ls, spec["cp"], spec["schedule"], method=spec["method"], **spec["options"])
                out.result = res
                out.path = None if res.path is None else trim_path(res.path)
        except Exception as exc:  # shown in the status line
            out.error = f"{type(exc).__name__}: {exc}"
        out.seconds = time.perf_counter() - t0
        return out

    @property
    def computing(self) -> bool:
        """True while reach runs in the worker thread for the current setting."""
        return self.waiting

    def _display(self, outcome: ReachOutcome):
        self.outcome = outcome
        s = outcome.start
        start = s if s is not None and np.all(np.isfinite(s)) else outcome.target
        self.values = dict(self.values, start=tuple(float(v) for v in start))  # reach's start is drawn
        if outcome.path is not None:  # a trial from your start runs as long
            self._last_length = (len(outcome.path.times) - 1, float(outcome.path.times[-1]))
        m = "flow" if outcome.method == "flow" else "gd"
        ls = self.landscape
        if outcome.path is None:
            xy, info, paths = np.empty((0, 2)), np.empty((0, 2)), {}
        else:
            xy, info = drawing_xy(ls, outcome.path), value_and_slope(ls, outcome.path.trajectory(0))
            paths = {m: outcome.path}
        status = status_line(self)
        self.current = Run(self.values["step"], {m: xy}, {m: info}, status,
                           f"{ls.name}: reach the {outcome.label} at {point_text(outcome.target)}. {status}", paths)
