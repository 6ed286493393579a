"""``explore(landscape, ...)`` and the model behind it: settings in; runs, the step slider's fan, read-outs
and status out. Plain Python (no widgets, no matplotlib), so tests drive it directly::

    m = DynamicsModel(landscapes.smooth_double_well(), start=-0.95, step=0.095)
    m.update(step=0.13)                 # exactly 0.13
    m.current.paths["gd"].period[0]     # 8

Methods: "gd" (gradient descent; the subgradient method on a nonsmooth landscape), "sgd"
(finite-sum landscapes) and "flow" (gradient flow over the same total time, smooth only).
Schedules: constant a, a/(k+1)^p, Armijo backtracking from a.

The fan: whenever anything but the step changes, the runs for every step-slider position are
computed at once (GD with a constant step is ONE batched call: the start repeated, one step per
copy; the flow is integrated once to the longest horizon and each position samples its own
time grid from the solver's dense output). A step on the grid then costs no computation; any other step is run exactly.
"""

from __future__ import annotations

import numpy as np

from .. import analysis, checks, dynamics, plotting, schedules
from ..landscapes import FiniteSum, Landscape
from . import dynamics_text
from .dynamics_text import method_name
from .runs import Run, StaticLayer, drawing_xy, path_row, point_text, short, value_and_slope
from .settings import Setting, resolve, with_changes

FAN_SIZE = 40  # log-spaced step-slider positions
SCHEDULES = (("constant", "constant a"), ("power", "a/(k+1)^p"), ("armijo", "adaptive (Armijo)"))


def explore(landscape, *, lecture=None, reduced_motion=False, trail=20, speed=20, **options):
    """A live explorer for a 1-D or 2-D landscape.

    Settings (exact values; see :func:`declarations`): ``step`` (default:
    0.4 x the smallest 2/sharpness), ``start``, ``methods`` (a tuple of "gd", "sgd", "flow"),
    ``schedule`` ("constant", "power", "armijo"), ``exponent`` p of a/(k+1)^p, ``n_steps``,
    ``batch_size``, ``seed``, the landscape's declared parameters, ``basins`` and (1-D)
    ``bifurcation`` overlays; ``basin_resolution``, ``basin_steps``. Display (see
    :func:`reachkit.explorers.explorer.display_options`): ``lecture`` (projector scale; default: on while
    ``rk.lecture_style()`` is), ``reduced_motion``, ``trail``, ``speed``.
    """
    from .explorer import Explorer, display_options

    display = display_options(lecture, reduced_motion, trail, speed)
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
    is_sum = isinstance(landscape, FiniteSum)
    methods = [("gd", method_name(landscape, "gd"))] + ([("sgd", "SGD")] if is_sum else []) \
        + ([("flow", "gradient flow")] if landscape.smooth else [])
    out = [
        Setting("step", "real", a0, "step a", "step size (a0 of the decaying and adaptive schedules)",
                positive=True, log=True),
        Setting("start", "point", start, "start", "initial point" + (" (or click on the plot)"
                if landscape.dim == 2 else ""), size=landscape.dim, bounds=tuple(map(tuple, b))),
        Setting("methods", "subset", ("gd",), "methods", "the dynamics to run", options=tuple(methods)),
        Setting("schedule", "choice", "constant", "schedule", "step-size rule a_k", options=SCHEDULES),
        Setting("exponent", "real", 0.6, "exponent p", "a_k = a/(k+1)^p: summable steps when p > 1",
                low=0.0, high=4.0),
        Setting("n_steps", "integer", 300, "steps", "number of steps (the flow runs for the same "
                "total time)", low=1, high=100_000),
        Setting("batch_size", "integer", 1, "batch", "SGD minibatch size", low=1,
                high=landscape.n_samples if is_sum else 1),
        Setting("seed", "seed", 0, "seed", "random seed of the SGD minibatches"),
    ]
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


class DynamicsModel:
    """explore's model. ``values`` holds every setting exactly; ``current`` is the Run for the
    current step, ``fan`` the Runs for ``fan_steps``; ``update(**changes)`` checks and applies."""

    clickable = True

    def __init__(self, landscape: Landscape, *, basin_resolution: int = 96, basin_steps: int = 1000,
                 **options):
        if landscape.dim not in (1, 2):
            raise ValueError(f"explore draws 1-D and 2-D landscapes; this one has dim={landscape.dim}")
        self.base = self.landscape = landscape
        self.basin_resolution = checks.integer("basin_resolution", basin_resolution, low=4, high=1024)
        self.basin_steps = checks.integer("basin_steps", basin_steps, low=1)
        self.declarations = declarations(landscape)
        self._decl = {s.name: s for s in self.declarations}
        self.values = resolve(self.declarations, options)
        if "sgd" in self.values["methods"] and not isinstance(landscape, FiniteSum):
            raise ValueError("SGD needs a finite-sum landscape (e.g. landscapes.sharp_flat_2d_sum())")
        self.landscape = self._landscape(self.values)
        _, lo, hi = default_steps(landscape)
        a = self.values["step"]
        self.step_range = (min(lo, a), max(hi, a))
        self.fan: list[Run] = []
        self.fan_steps: list[float] = []
        self._static_cache: dict = {}
        self._refresh(fan=True)

    # -- settings --------------------------------------------------------------------------------
    @property
    def step(self) -> float:
        return self.values["step"]

    @property
    def start(self) -> tuple:
        return self.values["start"]

    @property
    def methods(self) -> tuple:
        return self.values["methods"]

    @property
    def paths(self) -> dict:
        """{method: Path} of the current run (exact)."""
        return self.current.paths

    def series(self) -> list[dict]:
        """The view's series: one per method run, in its standard colour."""
        marks = {"gd": "circle", "sgd": "square", "flow": "diamond"}
        return [{"key": m, "name": method_name(self.landscape, m), "color": plotting.METHODS[m][1],
                 "width": 2.0, "marker": marks[m]} for m in self.methods]

    def step_marks(self) -> list[dict]:
        """2/sharpness of each listed minimum, for ticks on the step slider."""
        return [{"value": float(t), "label": f"2/λ {lab.split()[0]}"}
                for lab, _, t in analysis.minima_thresholds(self.landscape) if np.isfinite(t)]

    def inactive(self) -> set[str]:
        """Settings that do nothing with the current ones (their controls are disabled)."""
        v, out = self.values, set()
        if v["schedule"] != "power":
            out.add("exponent")
        if "sgd" not in v["methods"]:
            out |= {"batch_size", "seed"}
        return out

    def _landscape(self, values) -> Landscape:
        p = {s.name: values[s.name] for s in self.base.param_specs}
        return self.base.with_params(**p) if p else self.base

    def update(self, **changes) -> set[str]:
        """Apply checked changes (all or nothing); return what changed: "runs" (always), "fan"
        (anything but the step changed) and "background" (the static layer may differ)."""
        new = with_changes(self._decl, self.values, changes)
        changed = {k for k in changes if new[k] != self.values[k]}
        if not changed:
            return set()
        old = (self.values, self.landscape, self.current, self.fan, self.fan_steps)
        try:
            self.values = new
            if changed & {s.name for s in self.base.param_specs}:
                self.landscape = self._landscape(new)
            self._refresh(fan=bool(changed - {"step"}))
        except Exception:
            self.values, self.landscape, self.current, self.fan, self.fan_steps = old
            raise
        return {"runs"} | ({"fan"} if changed - {"step"} else set()) | {"background"}

    def schedule(self, step=None) -> schedules.Schedule:
        """The step-size schedule for ``step`` (default: the current one)."""
        a = self.step if step is None else step
        kind = self.values["schedule"]
        if kind == "power":
            return schedules.power(a, self.values["exponent"])
        return schedules.armijo(a) if kind == "armijo" else schedules.constant(a)

    def horizon(self, step) -> float:
        """Time the flow runs: the total of the steps (n a for a constant step)."""
        n = self.values["n_steps"]
        if self.values["schedule"] == "power":
            return self.schedule(step).total(n)
        return n * float(step)

    # -- computation -----------------------------------------------------------------------------
    def _refresh(self, fan: bool):
        if fan:
            lo, hi = self.step_range
            # 3 significant digits: the view's number box shows a slider position as it is
            grid = {float(f"{a:.3g}") for a in np.geomspace(lo, hi, FAN_SIZE)} | {self.step}
            self.fan_steps = sorted(grid)
            self.fan = self.compute(self.fan_steps, exact_flow=False)
        i = self.fan_index(self.step)
        if i is None:
            self.current = self.compute([self.step])[0]
        else:
            self.current = self.fan[i]
            if "flow" in self.methods:  # the fan's flow is sampled; the run in use is exact
                paths = dict(self.current.paths, flow=self._flow_exact(self.step))
                self.current = self._run(self.step, paths, {})
        if self.current.failed:  # the step in use must run: refuse the settings (the caller reports)
            raise RuntimeError(self.current.failed)

    def fan_index(self, step) -> int | None:
        """Index of ``step`` in fan_steps (exact match), or None."""
        try:
            return self.fan_steps.index(float(step))
        except ValueError:
            return None

    def compute(self, steps, exact_flow: bool = True) -> list[Run]:
        """One Run per step: every method's path for the current settings. A constant-step GD or
        subgradient run is one batched call over all steps; the flow is one dense solve that each
        step samples (``exact_flow``: a solve of its own per step)."""
        steps = [float(a) for a in steps]
        per_step: list[dict] = [{} for _ in steps]
        sampled: list[dict] = [{} for _ in steps]
        for m in self.methods:
            if m == "flow" and not exact_flow:
                horizons = [self.horizon(a) for a in steps]
                for j, (pts, status) in enumerate(sampled_flow(self.landscape, self.start, horizons,
                                                               self.values["n_steps"])):
                    sampled[j]["flow"] = (pts, status)
                continue
            try:
                paths = self._paths(m, steps)
            except Exception:
                if len(steps) == 1:
                    raise
                paths = [self._path_or_error(m, a) for a in steps]  # only some steps fail
            for j, p in enumerate(paths):
                per_step[j][m] = p
        return [self._run(a, per_step[j], sampled[j]) for j, a in enumerate(steps)]

    def _path_or_error(self, m: str, step):
        """The path at one step, or the error it raised in words (shown for that fan position)."""
        try:
            return self._paths(m, [step])[0]
        except Exception as exc:
            return f"{type(exc).__name__}: {exc}"

    def _paths(self, m: str, steps) -> list[dynamics.Path]:
        ls, n = self.landscape, self.values["n_steps"]
        x0 = np.array(self.start, dtype=float)
        if m == "flow":
            return [self._flow_exact(a) for a in steps]
        if m == "gd" and self.values["schedule"] == "constant":
            run = dynamics.gradient_descent if ls.smooth else dynamics.subgradient_method
            both = run(ls, np.repeat(x0[None], len(steps), axis=0), schedules.constant(np.array(steps)), n)
            return [_as_single(path_row(both, j), a) for j, a in enumerate(steps)]
        out = []
        for a in steps:
            if m == "gd":
                run = dynamics.gradient_descent if ls.smooth else dynamics.subgradient_method
                out.append(run(ls, x0, self.schedule(a), n))
            else:
                out.append(dynamics.sgd(ls, x0, self.schedule(a), n, batch_size=self.values["batch_size"],
                                        seed=self.values["seed"]))
        return out

    def _flow_exact(self, step) -> dynamics.Path:
        n = self.values["n_steps"]
        return dynamics.gradient_flow(self.landscape, np.array(self.start), t_max=self.horizon(step),
                                      n_times=n + 1)

    def _run(self, step, paths: dict, sampled: dict) -> Run:
        ls = self.landscape
        xy, info, words, failed = {}, {}, [], []
        for m in self.methods:
            if isinstance(paths.get(m), str):  # this step could not run
                xy[m] = info[m] = np.empty((0, 2))
                failed.append(f"{method_name(ls, m)} could not run at step {step!r}: {paths.pop(m)}")
                words.append(failed[-1])
            elif m in paths:
                p = paths[m]
                xy[m] = drawing_xy(ls, p)
                info[m] = value_and_slope(ls, p.trajectory(0))
                words.append(f"{method_name(ls, m)}: {p.describe(0)}")
            else:
                pts, status = sampled[m]
                info[m] = value_and_slope(ls, pts)
                xy[m] = np.column_stack([pts[:, 0], info[m][:, 0]]) if ls.dim == 1 else pts
                words.append(f"{method_name(ls, m)}: {status}")
        status = "; ".join(words) if words else "No method selected: tick GD, SGD or gradient flow."
        alt = (f"{ls.name}: {', '.join(method_name(ls, m) for m in self.methods) or 'no method'} from "
               f"{point_text(self.start)} with step {step!r}, {self.values['n_steps']} steps. {status}")
        return Run(step, xy, info, status, alt, paths, "; ".join(failed))

    # -- static layer and read-outs ----------------------------------------------------------------
    def static_layer(self) -> StaticLayer:
        """Landscape, the basin map of the first method (if on) and the bifurcation diagram (1-D,
        if on), computed only when what they depend on changed."""
        ls = self.landscape
        params = tuple(ls.params.items())
        series = [(s["key"], s["name"], s["color"]) for s in self.series()]
        layer = StaticLayer(ls, series, title=ls.name)
        if self.values["basins"]:
            kind = "flow" if self.methods[:1] == ("flow",) else "gd"
            key = ("basins", params, kind, "" if kind == "flow" else str(self.schedule()))
            if key not in self._static_cache:
                n = self.basin_resolution * (4 if ls.dim == 1 else 1)
                n = max(16, n // 2) if kind == "flow" else n
                self._static_cache = {k: v for k, v in self._static_cache.items() if k[0] != "basins"}
                self._static_cache[key] = analysis.basin_map(ls, self.schedule(), n=n, method=kind,
                                                             n_steps=self.basin_steps)
            layer.basins = self._static_cache[key]
        if self.values.get("bifurcation"):
            key = ("bifurcation", params, self.step_range)
            if key not in self._static_cache:
                starts = [c.x[0] + 0.02 * np.ptp(ls.bounds) for c in ls.minima()] or [self.start[0]]
                lo, hi = self.step_range
                self._static_cache[key] = analysis.bifurcation(ls, np.geomspace(lo, hi, 240), starts,
                                                               n_transient=600, n_keep=32)
            layer.bifurcation = self._static_cache[key]
        return layer

    def static_key(self) -> tuple:
        """Changes exactly when the static layer does."""
        basin = ("flow" if self.methods[:1] == ("flow",) else str(self.schedule())) if self.values["basins"] else None
        return (tuple(self.landscape.params.items()), tuple(self.methods), basin,
                self.values.get("bifurcation"))

    @property
    def basin_map(self):
        """The basin map shown (None when the overlay is off)."""
        return self.static_layer().basins if self.values["basins"] else None

    def readout_lines(self, frame: int | None = None) -> list[str]:
        """The read-outs in words at iterate ``frame`` (default: the last) of the first method."""
        return dynamics_text.readout_lines(self, frame)

    def describe(self, frame: int | None = None) -> str:
        """A text description of the state: settings, read-outs and the outcome of each run."""
        head = f"{self.landscape.name}, start {point_text(self.start)}, {self.values['n_steps']} steps."
        return "\n".join([head, *self.readout_lines(frame), *self.current.status.split("; ")])


def _as_single(path: dynamics.Path, step: float) -> dynamics.Path:
    """A row of a batched constant-step run, labelled with its own step."""
    path.schedule = str(schedules.constant(step))
    return path
