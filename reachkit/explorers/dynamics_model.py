"""``explore(landscape, ...)`` and the model behind it: settings in; runs, the step slider's fan, read-outs
and status out. Plain Python (no widgets, no matplotlib), so tests drive it directly::

    m = DynamicsModel(landscapes.smooth_double_well(), start=-0.95, step=0.095)
    m.update(step=0.13)                 # exactly 0.13
    m.current.paths["gd"].period[0]     # 8

Methods come from the registry (:mod:`reachkit.methods`): "gd" (gradient descent; the subgradient
method on a nonsmooth landscape), "sgd" (finite-sum landscapes), "flow" (gradient flow over the
same total time, smooth only) and "momentum" (heavy ball, smooth only). Schedules: constant a,
a/(k+1)^p, Armijo backtracking from a (GD, SGD).

What is shown comes first: the run at the step in use for every ticked method, the landscape at
the parameters, a coarse basin map while dragging (``update(final=False, ...)``). Then, when a
change is final, the rest: the fan (the runs for every step-slider position: a batched method
with a constant step is ONE call, the start repeated with one step per copy; the flow is
integrated once to the longest horizon and each position samples its own time grid from the
solver's dense output), the full basin map and the bifurcation diagram, in the background
inside a running kernel (see :class:`~reachkit.explorers.model.ExplorerModel`). A step on the
fan's grid then costs no computation; any other step is run exactly. Work above the budget
(:data:`BUDGET_SECONDS`, :data:`BUDGET_BYTES`) is refused with the estimate and how to lower it.
"""

from __future__ import annotations

import time

import numpy as np

from .. import analysis, checks, dynamics, methods, schedules
from ..landscapes import Landscape
from . import dynamics_text
from .model import (
    DRAG_SECONDS,
    SHOWN_SECONDS,
    Cancelled,
    ExplorerModel,
    cancellable,
    grid_seconds,
    measured,
    measured_grid,
    never,
    seconds_per_step,
)
from .runs import Run, StaticLayer, drawing_xy, path_row, point_text, short, value_and_slope
from .settings import Setting, resolve

FAN_SIZE = 40  # log-spaced step-slider positions
SCHEDULES = (("constant", "constant a"), ("power", "a/(k+1)^p"), ("armijo", "adaptive (Armijo)"))
EXPLORE_METHODS = ("gd", "sgd", "flow", "momentum")  # the registry's methods explore() offers
BUDGET_SECONDS = 30.0  # background work (the fan, basins) refused above this estimate
BUDGET_BYTES = 256 * 2**20  # ... or above this memory


def explore(landscape, *, lecture=None, reduced_motion=False, trail=20, speed=20, predict=None, **options):
    """A live explorer for a 1-D or 2-D landscape.

    Settings (exact values; see :func:`declarations`): ``step`` (default:
    0.4 x the smallest 2/sharpness), ``start``, ``methods`` (a tuple of "gd", "sgd", "flow",
    "momentum"), ``schedule`` ("constant", "power", "armijo"), ``exponent`` p of a/(k+1)^p,
    ``n_steps``, the methods' options (``batch_size``, ``seed`` for SGD, ``mu`` for momentum),
    the landscape's declared parameters, ``basins`` and (1-D) ``bifurcation`` overlays;
    ``basin_resolution``, ``basin_steps``. Display (see
    :func:`reachkit.explorers.explorer.display_options`): ``lecture`` (projector scale; default: on while
    ``rk.lecture_style()`` is), ``reduced_motion``, ``trail``, ``speed``, ``predict`` (an
    ``rk.predict`` question: the path and the status wait until it is answered).
    """
    from .explorer import Explorer, display_options

    display = display_options(lecture, reduced_motion, trail, speed, predict)
    return Explorer(DynamicsModel(landscape, **options), **display)


def default_steps(landscape: Landscape) -> tuple[float, float, float]:
    """(default step, slider min, slider max): 0.4 x the smallest 2/sharpness, and a range from
    0.05 x the smallest to 3 x the largest 2/sharpness of the listed minima."""
    thr = [t for _, _, t in analysis.minima_thresholds(landscape) if np.isfinite(t) and t > 0]
    if thr:
        return 0.4 * min(thr), 0.05 * min(thr), 3.0 * max(thr)
    L = landscape.lipschitz
    a = 0.5 / L if L else 0.1
    return a, a / 100, a * 100


def declarations(landscape: Landscape) -> list[Setting]:
    """The settings of :func:`reachkit.explore` for this landscape."""
    a0, _, _ = default_steps(landscape)
    b = landscape.bounds
    start = tuple(float(v) for v in b[:, 0] + np.array([0.4, 0.8])[:landscape.dim] * (b[:, 1] - b[:, 0]))
    offered = [(k, methods.METHODS[k].name_on(landscape)) for k in EXPLORE_METHODS
               if methods.METHODS[k].available(landscape)]
    out = [
        Setting("step", "real", a0, "step a", "step size (a0 of the decaying and adaptive schedules)",
                positive=True, log=True),
        Setting("start", "point", start, "start", "initial point" + (" (or click on the plot)"
                if landscape.dim == 2 else ""), size=landscape.dim, bounds=tuple(map(tuple, b))),
        Setting("methods", "subset", ("gd",), "methods", "the dynamics to run", options=tuple(offered)),
        Setting("schedule", "choice", "constant", "schedule", "step-size rule a_k", options=SCHEDULES),
        Setting("exponent", "real", 0.6, "exponent p", "a_k = a/(k+1)^p: summable steps when p > 1",
                low=0.0, high=4.0),
        Setting("n_steps", "integer", 300, "steps", "number of steps (the flow runs for the same "
                "total time)", low=1, high=100_000),
    ]
    out += [Setting(o.name, o.kind, o.default, o.label, o.help, low=o.low, high=o.upper(landscape))
            for k in EXPLORE_METHODS for o in methods.METHODS[k].options]
    out += [Setting(p.name, "real", float(landscape.params[p.name]), p.name, p.description or p.name,
                    low=p.low, high=p.high, log=p.log) for p in landscape.param_specs]
    out.append(Setting("basins", "flag", False, "basins", "colour every start by where the current "
                       "method ends"))
    if landscape.dim == 1:
        out.append(Setting("bifurcation", "flag", False, "bifurcation diagram",
                           "long-run GD orbits against the step"))
    return out


def sampled_flow(landscape: Landscape, start, horizons, n: int) -> list[tuple[np.ndarray, str]]:
    """(points (n+1, dim), status) of the gradient flow from ``start`` for each horizon H, sampled at
    t = k H / n: ONE solve to the longest horizon (scipy's DOP853 with its dense output, the
    tolerances of gradient_flow). It stops where |grad f| <= 1e-10 (the flow stays there) or
    where it leaves the escape radius (frozen there, as gradient_flow does)."""
    from scipy.integrate import solve_ivp

    ls, x0 = landscape, np.array(start, dtype=float)
    radius = 1e6 * (1.0 + float(np.max(np.abs(ls.bounds))))  # gradient_flow's default escape radius

    def settled(t, y):
        return float(np.linalg.norm(ls.grad(y))) - 1e-10

    def escaped(t, y):
        return radius - float(np.abs(y).max())

    settled.terminal = escaped.terminal = True
    with np.errstate(all="ignore"):
        sol = solve_ivp(lambda t, y: -ls.grad(y), (0.0, max(horizons)), x0, method="DOP853",
                        rtol=1e-10, atol=1e-12, dense_output=True, events=(settled, escaped))
    t_end, end = sol.t[-1], sol.y[:, -1]
    out = []
    for H in horizons:
        ts = np.linspace(0.0, H, n + 1)
        pts = np.where((ts <= t_end)[:, None], sol.sol(np.minimum(ts, t_end)).T, end)
        if sol.status == 1 and t_end <= H and sol.t_events[0].size:
            _, label = dynamics.label_limits(ls, end[None])
            near = np.abs(pts - end).max(axis=1) <= 1e-9 * (1 + np.abs(end).max())
            status = f"converged to the {label[0]} (at t = {ts[np.argmax(near)]:g})"  # as gradient_flow says
        elif sol.status == 1 and t_end <= H:
            status = f"diverged at t = {t_end:g}: the iterate left every bounded region"
        else:
            g = float(np.linalg.norm(ls.grad(pts[-1])))
            status = f"still moving at t = {short(H, 3)} (|grad f| = {g:.3g})"
        out.append((pts, status))
    return out


def _about(seconds: float, nbytes: float) -> str:
    return f"about {seconds:.2g} s and {nbytes / 2**20:.3g} MB"


class DynamicsModel(ExplorerModel):
    """explore's model. ``values`` holds every setting exactly; ``current`` is the Run for the
    current step, ``fan`` the Runs for ``fan_steps``; ``update(final=True, **changes)`` checks
    and applies (see :class:`~reachkit.explorers.model.ExplorerModel`)."""

    _CACHE = 8  # fans, basin maps, diagrams kept for settings visited again (a fan is about 1 MB)

    def __init__(self, landscape: Landscape, *, basin_resolution: int = 96, basin_steps: int = 1000,
                 background="auto", **options):
        if landscape.dim not in (1, 2):
            raise ValueError(f"explore draws 1-D and 2-D landscapes; this one has dim={landscape.dim}")
        if not (background is True or background is False or background == "auto"):
            raise ValueError(f"background must be 'auto', True or False; got {background!r}")
        self.background = background
        self.base = self.landscape = landscape
        self.basin_resolution = checks.integer("basin_resolution", basin_resolution, low=4, high=1024)
        self.basin_steps = checks.integer("basin_steps", basin_steps, low=1, high=100_000)
        self.declarations = declarations(landscape)
        asked = options.get("methods") or ()
        for k in asked if isinstance(asked, (tuple, list)) else ():
            if k in methods.METHODS and not methods.METHODS[k].available(landscape):
                raise ValueError(f"methods: {methods.METHODS[k].why_not(landscape)}")
        self.values = resolve(self.declarations, options)
        _, lo, hi = default_steps(landscape)
        a = self.values["step"]
        self.step_range = (min(lo, a), max(hi, a))
        self.fan, self.fan_steps, self.fan_note, self._fan_shown = [], [], "", None
        self._basins = None  # (key, BasinMap, full resolution?) shown
        self._bif = None  # (key, Bifurcation) shown
        self.current, self.waiting = None, False
        self.refresh()

    # -- settings --------------------------------------------------------------------------------
    @property
    def methods(self) -> tuple:
        return self.values["methods"]

    def series(self) -> list[dict]:
        """The view's series: one per method run, in its registry colour and marker."""
        return [{"key": k, "name": methods.METHODS[k].name_on(self.landscape), "color": methods.METHODS[k].color,
                 "width": 2.0, "marker": methods.METHODS[k].marker} for k in self.methods]

    def step_marks(self) -> list[dict]:
        """C/sharpness of each listed minimum for the first method with a step (2/λ for GD,
        2(1 + μ)/λ for momentum), for ticks on the step slider."""
        m = self.stepped()
        opts = self.method_options(m.key)
        label = "2/λ" if m.stability(**opts) == 2.0 else f"{m.constant(**opts).split(' =')[0]}/λ"
        return [{"value": float(m.threshold(lam, **opts)), "label": f"{label} {lab.split()[0]}"}
                for lab, lam, _ in analysis.minima_thresholds(self.landscape) if np.isfinite(m.threshold(lam, **opts))]

    def stepped(self) -> methods.Method:
        """The first ticked method with a step size (GD if none): its stability constant is used."""
        return next((methods.METHODS[k] for k in self.methods if methods.METHODS[k].has_step), methods.METHODS["gd"])

    def method_options(self, key: str, values=None) -> dict:
        """The options of method ``key`` as set."""
        v = self.values if values is None else values
        return {o.name: v[o.name] for o in methods.METHODS[key].options}

    def inactive(self) -> set[str]:
        """Settings that do nothing with the current ones (their controls are disabled)."""
        v, out = self.values, set()
        if v["schedule"] != "power":
            out.add("exponent")
        for k in EXPLORE_METHODS:
            if k not in v["methods"]:
                out |= {o.name for o in methods.METHODS[k].options}
        return out

    def _landscape(self, values) -> Landscape:
        p = {s.name: values[s.name] for s in self.base.param_specs}
        return self.base.with_params(**p) if p else self.base

    def schedule(self, step=None, values=None) -> schedules.Schedule:
        """The step-size schedule for ``step`` (default: the current one)."""
        v = self.values if values is None else values
        a = v["step"] if step is None else step
        kind = v["schedule"]
        if kind == "power":
            return schedules.power(a, v["exponent"])
        return schedules.armijo(a) if kind == "armijo" else schedules.constant(a)

    def horizon(self, step) -> float:
        """Time the flow runs: the total of the steps (n a for a constant step)."""
        return methods.horizon(self.schedule(step), self.values["n_steps"])

    # -- what is shown ---------------------------------------------------------------------------
    def _check_values(self):
        v = self.values
        for k in v["methods"]:
            m = methods.METHODS[k]
            if not m.available(self.landscape):
                raise ValueError(f"methods: {m.why_not(self.landscape)}")
            if v["schedule"] not in m.schedules:
                allowed = [lab for key, lab in SCHEDULES if key in m.schedules]
                raise ValueError(f"{m.name} runs with the schedules {allowed}; got schedule {v['schedule']!r}")
        if v["basins"]:
            _, n, kind = self._basin_spec()
            points = n ** self.landscape.dim
            seconds = grid_seconds(kind) * points * self.basin_steps
            nbytes = points * self.landscape.dim * 8 * 70  # the runs' cycle-detection tail and state
            if seconds > BUDGET_SECONDS or nbytes > BUDGET_BYTES:
                raise ValueError(
                    f"basins: {points:,} starts x {self.basin_steps} steps of {methods.METHODS[kind].name} "
                    f"would take {_about(seconds, nbytes)}, above the budget of {BUDGET_SECONDS:g} s and "
                    f"{BUDGET_BYTES / 2**20:g} MB: make the explorer with a smaller basin_resolution or basin_steps")

    def _fan_key(self, values=None) -> tuple:
        """What the fan depends on: every setting but the step and the overlays."""
        v = self.values if values is None else values
        return ("fan", self.step_range) + tuple((k, x) for k, x in v.items()
                                                if k not in ("step", "basins", "bifurcation"))

    def _show(self, changed: set, final: bool) -> set[str]:
        self._check_values()
        if not changed or changed & {s.name for s in self.base.param_specs}:
            self.landscape = self._landscape(self.values)
        what = {"runs", "background"}
        if self._take_fan():
            what.add("fan")
        n_all = self.values["n_steps"]
        cost = self.shown_seconds()
        i = self.fan_index(self.step)
        made = self.made(self._shown_key())
        self.waiting = False  # True: the exact run is computed in the background
        if made is not None:
            self.current = made
        elif i is not None and (not final or "flow" not in self.methods):
            self.current = self.fan[i]  # exact but for the flow, which the fan samples
        elif i is not None and not (cost > SHOWN_SECONDS and self.in_background()):
            flow = self._runs(self._setup(), [self.step], n_all, keys=("flow",))[0]["flow"]
            self.current = self._run(self.step, dict(self.fan[i].paths, flow=flow), {}, n_all)
        elif i is not None:
            self.current, self.waiting = self.fan[i], True
        elif cost > DRAG_SECONDS and (not final or (cost > SHOWN_SECONDS and self.in_background())):
            n = max(1, int(n_all * DRAG_SECONDS / cost))  # the first steps now, all of them later
            self.current = self._run(self.step, self._runs(self._setup(), [self.step], n)[0], {}, n)
            self.waiting = final
            if final:
                self.current.status = (f"Computing all {n_all} steps (about {cost:.2g} s) … "
                                       + self.current.status.replace("While dragging, the", "Meanwhile the"))
        else:
            self.current = self._run(self.step, self._runs(self._setup(), [self.step], n_all)[0], {}, n_all)
        if self.current.failed:  # the step in use must run: refuse the settings (the caller reports)
            raise RuntimeError(self.current.failed)
        self._show_overlays(final)
        return what

    def _shown_key(self) -> tuple:
        return ("shown", self.step) + self._fan_key()[1:]

    def shown_seconds(self, values=None) -> float:
        """Estimated time of the runs shown (one start per ticked method)."""
        v = self.values if values is None else values
        return sum(seconds_per_step(k) for k in v["methods"]) * v["n_steps"]

    def _show_overlays(self, final: bool):
        """The basin map (coarse until the full one is in) and the bifurcation diagram (the last
        one until the new one is in), for the static layer."""
        if self.values["basins"]:
            key, n, kind = self._basin_spec()
            full = self.made(key)
            if full is None and final and not self.in_background():  # no worker: the full map now
                full = methods.basin_map(self.landscape, kind, self.schedule(), n, self.basin_steps,
                                         **self.method_options(kind))
                self._keep(key, full)
            if full is not None:
                self._basins = (key, full, True)
            elif self._basins is None or self._basins[0] != key:
                self._basins = (key, self._coarse_basins(kind, n), False)
        if self.values.get("bifurcation"):
            made = self.made(self._bif_key())
            if made is not None:
                self._bif = (self._bif_key(), made)

    def _coarse_basins(self, kind: str, n: int):
        """A basin map on a grid coarse enough to take about DRAG_SECONDS (at most n/4 per axis)."""
        dim, steps = self.landscape.dim, self.basin_steps
        fits = DRAG_SECONDS / (grid_seconds(kind) * steps)
        coarse = int(np.clip(fits ** (1.0 / dim), 8, max(8, n // 4)))
        t = time.perf_counter()
        out = methods.basin_map(self.landscape, kind, self.schedule(), coarse, steps, **self.method_options(kind))
        measured_grid(kind, time.perf_counter() - t, coarse ** dim * steps)
        return out

    def _basin_spec(self) -> tuple:
        """(key, resolution, method) of the basin map for the first method (GD for SGD: random)."""
        kind = self.methods[0] if self.methods and not methods.METHODS[self.methods[0]].random else "gd"
        n = self.basin_resolution * (4 if self.landscape.dim == 1 else 1)
        n = max(16, n // 2) if kind == "flow" else n
        opts = self.method_options(kind)
        sched = "" if kind == "flow" else str(self.schedule())
        return ("basins", tuple(self.landscape.params.items()), kind, sched, tuple(opts.items()), n), n, kind

    def _bif_key(self) -> tuple:
        return ("bifurcation", tuple(self.landscape.params.items()), self.step_range)

    # -- the rest, in the background -------------------------------------------------------------
    def _pending(self) -> list:
        out = []
        setup = self._setup()
        n = self.values["n_steps"]
        if self.waiting:
            step = self.step
            out.append((self._shown_key(), lambda cancelled: self._run(
                step, self._runs(setup, [step], n, cancelled)[0], {}, n, setup)))
        fan_key = self._fan_key()
        if not self.fan and self.methods:
            steps = self._fan_grid()
            seconds, nbytes = self.fan_cost(steps)
            if seconds > BUDGET_SECONDS or nbytes > BUDGET_BYTES:
                self.fan_note = self._fan_refusal(steps, seconds, nbytes)
            else:
                self.fan_note = ""
                out.append((fan_key, lambda cancelled: (steps, self._fan(setup, steps, cancelled))))
        if self.values["basins"]:
            key, res, kind = self._basin_spec()
            ls, sched, opts, n_steps = self.landscape, self.schedule(), self.method_options(kind), self.basin_steps
            out.append((key, lambda cancelled: methods.basin_map(ls, kind, sched, res, n_steps, **opts)))
        if self.values.get("bifurcation"):
            ls, (lo, hi), start = self.landscape, self.step_range, self.start
            starts = [c.x[0] + 0.02 * np.ptp(ls.bounds) for c in ls.minima()] or [start[0]]
            out.append((self._bif_key(), lambda cancelled: analysis.bifurcation(
                ls, np.geomspace(lo, hi, 240), starts, n_transient=600, n_keep=32)))
        return out

    def _settle(self) -> set[str]:
        what = set()
        if self.waiting:
            made = self.made(self._shown_key())
            if made is not None:
                self.current, self.waiting = made, False
                what |= {"runs"}
        if self._take_fan():
            what |= {"fan", "runs"}
        before = self._overlays_shown()
        self._show_overlays(True)
        if self._overlays_shown() != before:
            what.add("background")
        return what

    def _overlays_shown(self) -> tuple:
        """Which basin map and bifurcation diagram are shown, by key and object identity
        (the objects hold arrays, which do not compare with ==)."""
        return tuple(None if o is None else (o[0], id(o[1]), o[2:]) for o in (self._basins, self._bif))

    def _take_fan(self) -> bool:
        """Show the fan made for these settings (none if it is not made yet); True if that changed it."""
        key = self._fan_key()
        fan = self.made(key)
        shown = key if fan is not None else None
        if shown == self._fan_shown:
            return False
        self.fan_steps, self.fan = (list(fan[0]), list(fan[1])) if fan is not None else ([], [])
        self._fan_shown = shown
        return True

    def _fan_grid(self) -> list[float]:
        lo, hi = self.step_range
        # 3 significant digits: the view's number box shows a slider position as it is
        grid = {float(f"{a:.3g}") for a in np.geomspace(lo, hi, FAN_SIZE)} | {self.step}
        return sorted(grid)

    def fan_cost(self, steps=None, values=None) -> tuple[float, float]:
        """(seconds, bytes) the fan is estimated to take."""
        v = self.values if values is None else values
        steps = self._fan_grid() if steps is None else steps
        n, k = v["n_steps"] + 1, len(steps)
        per_run = n * (self.landscape.dim + 2 + 4) * 8  # iterates, values, steps; drawing xy and info
        constant = v["schedule"] == "constant"
        one_call = {m for m in v["methods"] if m == "flow" or (methods.METHODS[m].batched and constant)}
        seconds = sum(seconds_per_step(m) * n * (1 if m in one_call else k) for m in v["methods"])
        return seconds, per_run * k * len(v["methods"])

    def _fan_refusal(self, steps, seconds, nbytes) -> str:
        n, k = self.values["n_steps"], len(steps)
        fits = int(n * min(BUDGET_SECONDS / seconds, BUDGET_BYTES / nbytes))
        names = ", ".join(methods.METHODS[m].name for m in self.methods)
        return (f"No step fan: {k} step positions x {len(self.methods)} method(s) ({names}) x {n} steps would "
                f"take {_about(seconds, nbytes)}, above the budget of {BUDGET_SECONDS:g} s and "
                f"{BUDGET_BYTES / 2**20:g} MB; each step is computed when you set it. For an instant step "
                f"slider lower n_steps to about {max(1, fits):,} or tick fewer methods.")

    def _fan(self, setup, steps, cancelled) -> list[Run]:
        n = setup["values"]["n_steps"]
        per_step = self._runs(setup, steps, n, cancelled, exact_flow=False)
        return [self._run(a, paths, sampled, n, setup) for a, (paths, sampled) in zip(steps, per_step, strict=True)]

    # -- computation -----------------------------------------------------------------------------
    def _setup(self) -> dict:
        """What a run depends on, captured (background work must not read the changing model)."""
        return {"landscape": self.landscape, "values": self.values, "start": self.start}

    def compute(self, steps, exact_flow: bool = True) -> list[Run]:
        """One Run per step: every method's path for the current settings."""
        setup, n = self._setup(), self.values["n_steps"]
        out = self._runs(setup, [float(a) for a in steps], n, exact_flow=exact_flow)
        if exact_flow:
            return [self._run(a, paths, {}, n) for a, paths in zip(steps, out, strict=True)]
        return [self._run(a, paths, sampled, n) for a, (paths, sampled) in zip(steps, out, strict=True)]

    def _runs(self, setup, steps, n, cancelled=never, exact_flow=True, keys=None):
        """Per step {method: Path or the error in words}; with ``exact_flow=False`` per step
        (paths, {"flow": (points, status)}) with the flow sampled from one dense solve."""
        ls, v, x0 = setup["landscape"], setup["values"], np.array(setup["start"], dtype=float)
        ls = cancellable(ls, cancelled)
        per_step: list[dict] = [{} for _ in steps]
        sampled: list[dict] = [{} for _ in steps]
        for k in keys or v["methods"]:
            m = methods.METHODS[k]
            opts = self.method_options(k, v)
            if k == "flow" and not exact_flow:
                horizons = [methods.horizon(self.schedule(a, v), n) for a in steps]
                for j, (pts, status) in enumerate(sampled_flow(ls, x0, horizons, n)):
                    sampled[j]["flow"] = (pts, status)
                continue
            t = time.perf_counter()
            if m.batched and v["schedule"] == "constant" and len(steps) > 1:
                try:
                    both = m.run(ls, np.repeat(x0[None], len(steps), axis=0), schedules.constant(np.array(steps)),
                                 n, **opts)
                    paths = [_as_single(path_row(both, j), a) for j, a in enumerate(steps)]
                except Cancelled:
                    raise
                except Exception:  # only some steps fail: run them one by one
                    paths = [self._one(m, ls, x0, self.schedule(a, v), n, opts, cancelled) for a in steps]
            elif len(steps) == 1:
                paths = [m.run(ls, x0, self.schedule(steps[0], v), n, **opts)]
            else:
                paths = [self._one(m, ls, x0, self.schedule(a, v), n, opts, cancelled) for a in steps]
            batch = len(steps) if m.batched and v["schedule"] == "constant" else 1
            measured(k, time.perf_counter() - t, n * len(steps) // batch)
            for j, p in enumerate(paths):
                per_step[j][k] = p
        return per_step if exact_flow else list(zip(per_step, sampled, strict=True))

    @staticmethod
    def _one(m, ls, x0, sched, n, opts, cancelled):
        """The path at one step, or the error it raised in words (shown for that fan position)."""
        if cancelled():
            raise Cancelled
        try:
            return m.run(ls, x0, sched, n, **opts)
        except Cancelled:
            raise
        except Exception as exc:
            return f"{type(exc).__name__}: {exc}"

    def _run(self, step, paths: dict, sampled: dict, n: int, setup=None) -> Run:
        setup = setup or self._setup()
        ls, v = setup["landscape"], setup["values"]
        xy, info, words, failed = {}, {}, [], []
        paths = dict(paths)
        for k in v["methods"]:
            name = methods.METHODS[k].name_on(ls)
            if isinstance(paths.get(k), str):  # this step could not run
                xy[k] = info[k] = np.empty((0, 2))
                failed.append(f"{name} could not run at step {step!r}: {paths.pop(k)}")
                words.append(failed[-1])
            elif k in paths:
                p = paths[k]
                xy[k] = drawing_xy(ls, p)
                info[k] = value_and_slope(ls, p.trajectory(0))
                words.append(f"{name}: {p.describe(0)}")
            else:
                pts, status = sampled[k]
                info[k] = value_and_slope(ls, pts)
                xy[k] = np.column_stack([pts[:, 0], info[k][:, 0]]) if ls.dim == 1 else pts
                words.append(f"{name}: {status}")
        status = "; ".join(words) if words else "No method selected: tick GD, SGD or gradient flow."
        if n < v["n_steps"]:
            status = f"While dragging, the first {n} of {v['n_steps']} steps: {status}"
        names = ", ".join(methods.METHODS[k].name_on(ls) for k in v["methods"]) or "no method"
        alt = (f"{ls.name}: {names} from {point_text(setup['start'])} with step {step!r}, {n} steps. {status}")
        return Run(step, xy, info, status, alt, paths, "; ".join(failed))

    @property
    def paths(self) -> dict:
        """{method: Path} of the current run (exact; waits for a run computed in the background)."""
        if self.waiting:
            self.wait()
        return self.current.paths

    # -- static layer and read-outs ----------------------------------------------------------------
    def static_layer(self) -> StaticLayer:
        """Landscape, the basin map of the first method (if on; coarse until the full one is in)
        and the bifurcation diagram (1-D, if on). Computes nothing."""
        ls = self.landscape
        series = [(s["key"], s["name"], s["color"]) for s in self.series()]
        layer = StaticLayer(ls, series, title=ls.name)
        pending = []
        if self.values["basins"] and self._basins is not None:
            layer.basins = self._basins[1]
            if not self._basins[2]:
                pending.append("basins")
        if self.values.get("bifurcation") and self._bif is not None:
            layer.bifurcation = self._bif[1]
            if self._bif[0] != self._bif_key():
                pending.append("bifurcation")
        layer.pending = tuple(pending)
        return layer

    def static_key(self) -> tuple:
        """Changes exactly when the static layer does."""
        basins = (self._basins[0], self._basins[2]) if self.values["basins"] and self._basins else None
        bif = self._bif[0] if self.values.get("bifurcation") and self._bif else None
        return (tuple(self.landscape.params.items()), tuple(self.methods), basins, bif)

    @property
    def basin_map(self):
        """The basin map at full resolution (None when the overlay is off); waits for it when it
        is being computed in the background."""
        if not self.values["basins"]:
            return None
        if not self._basins[2]:
            self.wait()
        return self._basins[1]

    def shown_basins(self):
        """(BasinMap, full resolution?) shown now, or None."""
        return None if not self.values["basins"] or self._basins is None else self._basins[1:]

    def readout_lines(self, frame: int | None = None) -> list[str]:
        """The read-outs in words at iterate ``frame`` (default: the last) of the first method."""
        lines = dynamics_text.readout_lines(self, frame)
        return lines + ([self.fan_note] if self.fan_note else [])

    def describe(self, frame: int | None = None) -> str:
        """A text description of the state: settings, read-outs and the outcome of each run."""
        head = f"{self.landscape.name}, start {point_text(self.start)}, {self.values['n_steps']} steps."
        return "\n".join([head, *self.readout_lines(frame), *self.current.status.split("; ")])


def _as_single(path: dynamics.Path, step: float) -> dynamics.Path:
    """A row of a batched constant-step run, labelled with its own step."""
    path.schedule = str(schedules.constant(step))
    return path
