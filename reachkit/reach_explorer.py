"""The reachability explorer: pick a critical point and a dynamics; ``reach`` finds a start from
which the dynamics converges to it, and the explorer animates that path.

    import reachkit as rk
    rk.explore_reach(rk.landscapes.sharp_flat_double_well())          # 1-D
    rk.explore_reach(rk.landscapes.curve_of_minima(), step=0.1)         # a point (t, 1/t) by slider
    rk.explore_reach(rk.landscapes.himmelblau(), target="saddle (3.39, 0.07)")

It is built on :class:`reachkit.widgets.Explorer1D` / :class:`~reachkit.widgets.Explorer2D`
(figure, blit, Play, status line, static fallback, reduced motion, lecture style) and replaces
their "run from a start" by ``rk.reach(landscape, target, step, method=...)``. Controls and
artists are attributes (``ex.target``, ``ex.dynamics``, ``ex.step``, ``ex.exponent``, ``ex.t``,
``ex.frame``, ``ex.artists["gd"]``, ``ex.target_marker``, ``ex.start_marker``) and the last
outcome is ``ex.outcome`` (with the :class:`~reachkit.analysis.ReachResult` as
``ex.outcome.result``), so tests drive it like a user.

``reach`` can take seconds (saddles, slow convergence). In a running kernel, a change of the
controls computes it in a worker thread while the status line says so, and the figure updates
when it is done; ``ex.wait()`` blocks until then. Results are cached per setting.
"""

from __future__ import annotations

import asyncio
import dataclasses
import html
import math
import time
from collections import OrderedDict
from concurrent.futures import ThreadPoolExecutor

import ipywidgets as W
import matplotlib as mpl
import numpy as np

from . import analysis, dynamics, landscapes, plotting, schedules
from .landscapes import CriticalPoint, Landscape
from .widgets import _STYLE, Explorer1D, Explorer2D, _g, _grid, _point, plain_left_click

__all__ = ["explore_reach", "ReachExplorer1D", "ReachExplorer2D", "ReachOutcome", "DYNAMICS"]

#: the dynamics menu: (name shown, key)
DYNAMICS = [("GD, constant step a", "constant"), ("GD, a_k = a/(k+1)^p", "power"),
            ("gradient flow", "flow")]
_FAMILY = "family"
_DEMO_OFFSET = 1e-3  # how far from the target the "unstable step" demonstration starts
_DEMO_STEPS = 300
_CACHE_SIZE = 48


def _in_kernel() -> bool:
    """True inside a running IPython kernel (its callbacks run on the kernel's event loop)."""
    try:
        from IPython import get_ipython
    except ImportError:
        return False
    shell = get_ipython()
    return shell is not None and getattr(shell, "kernel", None) is not None


def explore_reach(landscape: Landscape, **options):
    """A live explorer of reachability on a 1-D or 2-D smooth landscape.

    Options: ``target`` (a critical point's label, its index in ``critical_points()``, or
    "family" for the point of ``family`` at ``t``), ``dynamics`` ("constant", "power", "flow"),
    ``step`` (a, or a0 for the decaying steps), ``exponent`` p, ``t`` and ``t_range`` with
    ``family`` (a function t -> critical point; for :func:`~reachkit.landscapes.curve_of_minima`
    it is :func:`~reachkit.landscapes.curve_point` unless ``family=None``), ``radius`` and
    ``max_steps`` (passed to :func:`~reachkit.analysis.reach`), ``background`` ("auto", True,
    False: compute in a worker thread inside a running kernel), ``reduced_motion``, ``lecture``,
    ``canvas``, ``figsize``, ``trail``.
    """
    if landscape.dim == 1:
        return ReachExplorer1D(landscape, **options)
    if landscape.dim == 2:
        return ReachExplorer2D(landscape, **options)
    raise ValueError(f"explore_reach draws 1-D and 2-D landscapes; this one has dim={landscape.dim}")


@dataclasses.dataclass
class ReachOutcome:
    """What the explorer shows for one setting.

    ``result`` is reach's ReachResult (None when reach was not run: an unstable constant step,
    or an error); ``path`` is the path drawn (reach's path, or the demonstration run from next to
    the target when the step is unstable), cut after its last move; ``unstable`` is True for a
    constant step above 2/sharpness of the target; ``seconds`` is the computing time.
    """

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


def _first_step(schedule) -> float:
    """a for a constant step, a0 for a/(k+1)^p."""
    return float(schedule.a0 if isinstance(schedule, schedules.PowerDecay) else schedule.a)


def _eigen(landscape: Landscape, x: np.ndarray):
    """Hessian eigenvalues (ascending) and eigenvectors at x."""
    return np.linalg.eigh(landscape.hess(x))


class _ReachMixin:
    """The reach-specific parts shared by the 1-D and 2-D explorers."""

    def __init__(self, landscape: Landscape, *, target=None, dynamics: str = "constant", step=None,
                 exponent: float = 0.5, t: float = 2.0, t_range=None, family="auto", radius=None,
                 max_steps: int = 20000, background="auto", reduced_motion: bool = False,
                 lecture: bool = False, canvas: str = "auto", figsize=None, trail: int = 20):
        if not landscape.smooth:
            raise ValueError("explore_reach needs a smooth landscape: reach runs the dynamics "
                             "backwards, which needs a gradient (for |x| see the subgradient method)")
        if dynamics not in dict((k, n) for n, k in DYNAMICS):
            raise ValueError(f"dynamics must be one of {[k for _, k in DYNAMICS]}; got {dynamics!r}")
        if background not in ("auto", True, False):
            raise ValueError(f"background must be 'auto', True or False; got {background!r}")
        if isinstance(max_steps, bool) or not isinstance(max_steps, (int, np.integer)) or max_steps < 100:
            raise ValueError(f"max_steps must be an integer >= 100; got {max_steps!r}")
        if radius is not None and not (np.isfinite(radius) and radius > 0):
            raise ValueError(f"radius must be a finite positive distance; got {radius!r}")
        fam = _default_family(landscape) if family == "auto" else family
        if fam is not None and callable(fam):
            fam = (fam, (0.4, 2.5), "point of the family (slider t)")
        if fam is not None and t_range is not None:
            fam = (fam[0], tuple(float(v) for v in t_range), fam[2])
        self.family = fam
        self._t0 = float(t)
        self.reach_options = {"radius": radius, "max_steps": int(max_steps)}
        self.background = background
        self._target0, self._dynamics0 = target, dynamics
        self._results: OrderedDict[tuple, ReachOutcome] = OrderedDict()
        self._gen = 0
        self._job = None  # (generation, key, future) of the computation in the worker thread
        self._pool = None
        self._constructing = True
        self.outcome: ReachOutcome | None = None
        a0 = step if step is not None else self._default_reach_step(landscape)
        super().__init__(landscape, step=a0, methods=("gd", "flow"), schedule="constant",
                         exponent=exponent, n_steps=1, reduced_motion=reduced_motion,
                         lecture=lecture, canvas=canvas, figsize=figsize, trail=trail)
        self._constructing = False

    @staticmethod
    def _default_reach_step(landscape):
        """0.4 x the smallest 2/sharpness over the listed minima and saddles (stable for them)."""
        thr = []
        for c in landscape.critical_points():
            if c.kind in ("minimum", "saddle"):
                lam = float(analysis.sharpness(landscape, c.x))
                if lam > 0:
                    thr.append(2.0 / lam)
        return 0.4 * min(thr) if thr else None

    # -- controls -------------------------------------------------------------------------------
    def _target_choices(self, landscape):
        """(options for the dropdown, [(label, reason)] for the points left out)."""
        options, left_out = [], []
        if self.family is not None:
            options.append((self.family[2], _FAMILY))
        for i, c in enumerate(landscape.critical_points()):
            if c.kind in ("maximum", "minimum and maximum"):
                why = ("a local maximum: no path from elsewhere converges to it"
                       if c.kind == "maximum" else
                       "a minimum and a maximum at once (inside a plateau): reached only by starting on it")
                left_out.append((c.label, why))
            else:
                options.append((f"{c.label} [{c.kind}]" if c.kind not in c.label else c.label, i))
        return options, left_out

    def _resolve_initial_target(self, options, landscape):
        values = [v for _, v in options]
        want = self._target0
        if want is None:
            return values[0]
        if want == _FAMILY and _FAMILY in values:
            return _FAMILY
        cps = landscape.critical_points()
        if isinstance(want, CriticalPoint):
            want = next((i for i, c in enumerate(cps) if np.allclose(c.x, want.x)), want.label)
        if isinstance(want, str):
            idx = [i for i, c in enumerate(cps) if c.label == want]
            if not idx:
                raise ValueError(f"no critical point labelled {want!r}; choose from "
                                 f"{[c.label for c in cps]}" + (" or 'family'" if self.family else ""))
            want = idx[0]
        if isinstance(want, (int, np.integer)) and not isinstance(want, bool):
            if want in values:
                return int(want)
            if 0 <= want < len(cps):
                raise ValueError(f"the target {cps[want].label!r} is {cps[want].kind}: no path from "
                                 "elsewhere converges to it, so the explorer does not offer it")
        raise ValueError(f"target must be a label, an index into critical_points() or 'family'; got {want!r}")

    def _build_controls(self, step, start, methods, schedule, exponent, n_steps, batch_size, seed,
                        basins, bifurcation, reduced_motion):
        super()._build_controls(step, start, methods, schedule, exponent, n_steps, batch_size, seed,
                                basins, bifurcation, reduced_motion)
        ls = self.landscape
        options, left_out = self._target_choices(ls)
        if not options:
            raise ValueError(f"{ls.name} lists no critical point that is not a local maximum: "
                             "give from_functions(..., critical_points=[...]) or use "
                             "analysis.find_critical_points")
        self.step.continuous_update = False  # reach can take a while: compute on release
        self.step.description = "step a"
        self.step.tooltip = "step size a (a0 of the decaying steps a/(k+1)^p); log scale"
        self.exponent.continuous_update = False
        self.exponent.tooltip = "a_k = a/(k+1)^p: nonsummable when p <= 1, summable when p > 1"
        self.target = W.Dropdown(options=options, value=self._resolve_initial_target(options, ls),
                                 description="target", style=_STYLE,
                                 layout=W.Layout(width="max-content"),
                                 tooltip="the critical point to reach (local maxima are not offered)")
        self.dynamics = W.Dropdown(options=DYNAMICS, value=self._dynamics0, description="dynamics",
                                   style=_STYLE, tooltip="gradient descent with a step rule, or the flow")
        lo, hi = self.family[1] if self.family else (0.4, 2.5)
        t0 = float(np.clip(self._t0, lo, hi))
        lo, hi, st = _grid(lo, hi, t0, 10 ** math.floor(math.log10((hi - lo) / 100)))
        self.t = W.FloatSlider(value=t0, min=lo, max=hi, step=st, description="t", style=_STYLE,
                               readout_format=".3f", continuous_update=False,
                               tooltip="which point of the family is the target")
        self.left_out = W.HTML(self._left_out_html(left_out))
        self._left_out = left_out
        self._sync_disabled()

    @staticmethod
    def _left_out_html(left_out) -> str:
        if not left_out:
            return ""
        rows = "".join(f"<li>{html.escape(lab)}: {html.escape(why)}.</li>" for lab, why in left_out)
        return f"<div style='font-size:0.9em'>Not offered as targets:<ul style='margin:0'>{rows}</ul></div>"

    def _sync_disabled(self):
        d = self.dynamics.value
        self.step.disabled = d == "flow"
        self.exponent.disabled = d != "power"
        self.t.disabled = self.family is None or self.target.value != _FAMILY
        self.t.layout.display = None if self.family is not None else "none"

    def _state(self) -> dict:
        state = super()._state()
        for w in (self.target, self.dynamics, self.t):
            state[w] = w.value
        return state

    def _observe(self):
        super()._observe()
        for w in (self.target, self.dynamics, self.t):
            w.observe(lambda _c: (self._sync_disabled(), self._changed("paths")), "value")

    # -- figure ---------------------------------------------------------------------------------
    def _build_figure(self, canvas, figsize):
        super()._build_figure(canvas, figsize)
        ms = mpl.rcParams["lines.markersize"]
        (self.target_marker,) = self.ax.plot([], [], "*", ms=2.0 * ms, color=plotting.OKABE_ITO["yellow"],
                                             mec="black", mew=1.2, animated=True, zorder=8,
                                             label="target")
        (self.start_marker,) = self.ax.plot([], [], "s", ms=1.1 * ms, color="white", mec="black",
                                            mew=1.5, animated=True, zorder=7, label="start found")

    def _moving(self) -> list:
        return super()._moving() + [a for a in (self.target_marker, self.start_marker) if a.get_visible()]

    def _legend(self):
        handles = [self.artists[m].full for m in self.active_methods] + [self.target_marker,
                                                                          self.start_marker]
        if self.ax.get_legend() is not None:
            self.ax.get_legend().remove()
        leg = self.ax.legend(handles=handles, loc="upper right", fontsize="small", framealpha=0.85)
        leg.set_zorder(9)

    def _xy(self, x) -> tuple[float, float]:
        """Plot coordinates of a point: (x, f(x)) in 1-D, (x, y) in 2-D."""
        x = np.atleast_1d(np.asarray(x, float))
        if self.dim == 1:
            return float(x[0]), float(self.landscape.value(x))
        return float(x[0]), float(x[1])

    # -- computation ----------------------------------------------------------------------------
    @property
    def active_methods(self) -> list[str]:
        return ["flow"] if self.dynamics.value == "flow" else ["gd"]

    def make_schedule(self) -> schedules.Schedule:
        a = float(self.step.value)
        if self.dynamics.value == "power":
            return schedules.power(a, float(self.exponent.value))
        return schedules.constant(a)

    def current_target(self) -> tuple[np.ndarray, str, str, object]:
        """(point, kind, label, what to pass to reach) for the dropdown (and t) as they are."""
        v = self.target.value
        if v == _FAMILY:
            x = np.atleast_1d(np.asarray(self.family[0](float(self.t.value)), float))
            label = f"point t = {_g(self.t.value, 4)} of the curve of minima"
            cp = CriticalPoint(x, "minimum", label)
            return x, "minimum", label, cp
        c = self.landscape.critical_points()[v]
        return np.asarray(c.x, float), c.kind, c.label, c

    def _key(self) -> tuple:
        d = self.dynamics.value
        tgt = ("t", float(self.t.value)) if self.target.value == _FAMILY else ("cp", self.target.value)
        how = (d,) if d == "flow" else (d, float(self.step.value)) + \
            ((float(self.exponent.value),) if d == "power" else ())
        return (tuple(self.landscape.params.items()), tgt, how, self.reach_options["radius"],
                self.reach_options["max_steps"])

    def _unstable_step(self, x) -> tuple[float, np.ndarray] | None:
        """(sharpness, sharpest direction) if the constant step is above 2/sharpness at x."""
        constant = self.dynamics.value == "constant" or (self.dynamics.value == "power"
                                                         and float(self.exponent.value) == 0.0)
        if not constant:
            return None
        eig, vec = _eigen(self.landscape, x)
        lam = float(eig[-1])
        if lam > 0 and float(self.step.value) > 2.0 / lam:
            return lam, vec[:, -1]
        return None

    def _spec(self) -> dict:
        """Everything one computation needs, read from the controls (the worker reads no widget)."""
        x, kind, label, cp = self.current_target()
        method = "flow" if self.dynamics.value == "flow" else "gd"
        return dict(key=self._key(), landscape=self.landscape, target=x, kind=kind, label=label, cp=cp,
                    method=method, schedule=None if method == "flow" else self.make_schedule(),
                    unstable=self._unstable_step(x), options=dict(self.reach_options))

    @staticmethod
    def compute(spec: dict) -> ReachOutcome:
        """Run reach (or, for an unstable constant step, GD from next to the target)."""
        out = ReachOutcome(spec["key"], spec["target"], spec["label"], spec["kind"], spec["method"],
                           spec["schedule"])
        ls, t0 = spec["landscape"], time.perf_counter()
        try:
            if spec["unstable"] is not None:
                _, v = spec["unstable"]
                x0 = spec["target"] + _DEMO_OFFSET * (1 + np.linalg.norm(spec["target"])) * v
                out.path = trim_path(dynamics.gradient_descent(ls, x0, spec["schedule"], _DEMO_STEPS))
                out.unstable = True
            else:
                res = analysis.reach(ls, spec["cp"], spec["schedule"], method=spec["method"],
                                     **spec["options"])
                out.result = res
                out.path = None if res.path is None else trim_path(res.path)
        except Exception as exc:  # shown in the status line
            out.error = f"{type(exc).__name__}: {exc}"
        out.seconds = time.perf_counter() - t0
        return out

    def _remember(self, outcome: ReachOutcome):
        self._results[outcome.key] = outcome
        self._results.move_to_end(outcome.key)
        while len(self._results) > _CACHE_SIZE:
            self._results.popitem(last=False)

    def _in_background(self) -> bool:
        if self.background is False or self._constructing:
            return False
        if self.background == "auto" and not _in_kernel():
            return False  # e.g. under pytest, where another library may run an event loop
        try:
            asyncio.get_running_loop()
        except RuntimeError:
            return False
        return True

    def _compute_paths(self):
        spec = self._spec()
        key = spec["key"]
        outcome = self._results.get(key)
        if outcome is None and self._job is not None and self._job[1] == key:
            outcome = self._pending_outcome(spec)  # already being computed
        elif outcome is None and self._in_background():
            self._submit(spec)
            outcome = self._pending_outcome(spec)
        elif outcome is None:
            self._gen += 1  # a synchronous result supersedes any computation in flight
            self._job = None
            outcome = self.compute(spec)
            self._remember(outcome)
        self._show_outcome(outcome)

    @staticmethod
    def _pending_outcome(spec) -> ReachOutcome:
        return ReachOutcome(spec["key"], spec["target"], spec["label"], spec["kind"], spec["method"],
                            spec["schedule"], seconds=float("nan"))

    def _show_outcome(self, outcome: ReachOutcome):
        self.outcome = outcome
        m = "flow" if outcome.method == "flow" else "gd"
        self.paths = {} if outcome.path is None else {m: outcome.path}
        for name, pa in self.artists.items():
            if name in self.paths:
                pa.set_path(plotting.path_xy(self.landscape, outcome.path))
            pa.set_visible(name in self.paths)
        self.target_marker.set_data(*([v] for v in self._xy(outcome.target)))
        start = outcome.start
        if start is not None and np.all(np.isfinite(start)):
            self.start_marker.set_data(*([v] for v in self._xy(start)))
            self.start_marker.set_visible(True)
        else:
            self.start_marker.set_visible(False)

    @property
    def computing(self) -> bool:
        """True while reach runs in the worker thread for the current setting."""
        return self.outcome is not None and self.outcome.key not in self._results

    def _submit(self, spec):
        loop = asyncio.get_running_loop()
        if self._pool is None:
            self._pool = ThreadPoolExecutor(1, thread_name_prefix="reachkit-reach")
        self._gen += 1
        gen = self._gen

        def job():
            return None if gen != self._gen else self.compute(spec)  # skip superseded requests

        fut = self._pool.submit(job)
        self._job = (gen, spec["key"], fut)
        fut.add_done_callback(lambda f: loop.call_soon_threadsafe(self._job_done, gen, f))

    def _job_done(self, gen, fut):
        """Back in the kernel's thread: keep the result, show it if it is still wanted. Never raises."""
        try:
            if self._closed or fut.cancelled():
                return
            outcome = fut.result()
            if outcome is not None:
                self._remember(outcome)
            if self._job is not None and self._job[0] == gen:
                self._job = None
                self._changed("paths")
        except Exception as exc:  # pragma: no cover - defensive
            self.error = f"{type(exc).__name__}: {exc}"
            self.status.value = f"<b>Could not update:</b> {html.escape(self.error)}"

    def wait(self, timeout: float | None = None):
        """Block until the computation in the worker thread (if any) is done, then show it."""
        job = self._job
        if job is not None:
            outcome = job[2].result(timeout)
            if self._job is job:
                self._job = None
                if outcome is not None:
                    self._remember(outcome)
                self._changed("paths")
        return self

    # -- read-outs ------------------------------------------------------------------------------
    def _dynamics_text(self, outcome) -> str:
        if outcome.method == "flow":
            return "Dynamics: gradient flow x' = -grad f(x) (no step size)."
        s = outcome.schedule
        if isinstance(s, schedules.PowerDecay):
            kind = "summable: sum a_k < ∞" if s.summable else "nonsummable: sum a_k = ∞"
            return f"Dynamics: GD with a_k = {_g(s.a0)}/(k+1)^{_g(s.p, 3)} ({kind})."
        return f"Dynamics: GD with constant step a = {_g(s.a)}."

    def _fragility_text(self, outcome) -> str:
        """Why this target is (or is not) fragile, in words."""
        if outcome.kind == "saddle":
            return ("Fragile: a saddle is reached only from a set of starts of measure zero (its stable "
                    "manifold); a rounding error of 1e-16 in the start can push the path off it.")
        if outcome.kind == "degenerate":
            return ("Degenerate point (a zero Hessian eigenvalue): convergence to it is typically slow "
                    "(sublinear), so the path may still be far from it after many steps.")
        eig, _ = _eigen(self.landscape, outcome.target)
        if np.any(np.abs(eig) <= 1e-8 * max(1.0, float(np.abs(eig).max()))):
            if self.family is not None:
                return ("Fragile: this minimum is not isolated (it lies on a curve of minima). The starts "
                        "that reach this very point form a thin set; a small change of the start moves "
                        "the limit along the curve.")
            return ("This minimum has a zero Hessian eigenvalue (a flat direction): other minima may "
                    "lie next to it, and where paths end can depend on the start's digits.")
        return ("Not fragile: an isolated minimum with positive curvature. Once a path is close to it, "
                "small steps keep it converging, so a small error in the start does not matter.")

    def _step_warnings(self, outcome) -> list[str]:
        lines = []
        s = outcome.schedule
        if outcome.method == "flow" or s is None:
            return lines
        eig, _ = _eigen(self.landscape, outcome.target)
        lam = float(eig[-1])
        thr = 2.0 / lam if lam > 0 else float("inf")
        if isinstance(s, schedules.PowerDecay) and s.p > 0:
            if s.summable:
                lines.append("WARNING: these steps are summable (p > 1). A path then has finite length "
                             "(at most sup|grad f| × sum a_k), so from a start away from the target it "
                             "generally stops short of it: the result needs sum a_k = ∞.")
            if s.a0 > thr:
                k = math.ceil((s.a0 / thr) ** (1.0 / s.p)) - 1
                lines.append(f"The first steps are above 2/λ = {_g(thr)} of the target; from step "
                             f"k = {k} on they are below it.")
            return lines
        a = _first_step(s)
        L = self.landscape.lipschitz
        if L and a > 1.0 / L and a <= thr:
            lines.append(f"Note: a = {_g(a)} is above 1/L = {_g(1.0 / L)} (L = {_g(L)}). a ≤ 1/L is a safe "
                         "choice: the GD map is then one-to-one, which reach relies on when it runs GD "
                         "backwards.")
        return lines

    def readout_lines(self) -> list[str]:
        o = self.outcome
        if o is None:
            return ["No target yet."]
        eig, _ = _eigen(self.landscape, o.target)
        lam = float(eig[-1])
        thr = f", 2/λ = {_g(2.0 / lam)}" if lam > 0 else ""
        lines = [f"Target: the {o.label}: x* = {_point(o.target)} ({o.kind}); sharpness λ = {_g(lam)}{thr}.",
                 self._dynamics_text(o)]
        if o.error:
            return lines + [f"reach could not run: {o.error}"]
        if self.computing:
            return lines + ["Computing a start with reach() … (the figure updates when it is done)"]
        if o.unstable:
            a = _first_step(o.schedule)
            factor = abs(1 - a * lam)
            lines += [
                f"WARNING: the step a = {_g(a)} is ABOVE 2/λ = {_g(2.0 / lam)} at the target. There GD is "
                f"linearly unstable: near the target, errors along its sharpest direction are "
                f"multiplied by |1 − aλ| = {_g(factor, 3)} > 1 at every step, so iterates near it are "
                "pushed away. reach is not run: the reachability result needs small steps.",
                f"Shown instead: GD started {_g(_DEMO_OFFSET * (1 + np.linalg.norm(o.target)), 2)} from "
                f"the target along its sharpest direction: {o.path.describe(0)}.",
                f"Lower the step below {_g(2.0 / lam)} to reach the {o.label}."]
            return lines
        r = o.result
        if r.path is None:
            return lines + [f"No start found. {r.note}"]
        dist = np.linalg.norm(o.path.iterates[:, 0, :] - o.target, axis=1)
        k_best = int(np.argmin(dist))
        when = "t = " + _g(o.path.times[k_best], 3) if o.method == "flow" else f"step {k_best}"
        lines += [
            f"Start found by reach: x0 = {_point(r.start)} (distance {_g(np.linalg.norm(r.start - o.target), 3)} "
            "from the target).",
            f"Final distance to the target: {_g(r.final_distance, 3)}; closest distance: "
            f"{_g(r.closest_distance, 3)} (at {when}).",
        ]
        if r.success:
            lines.append("Reached: the final distance is at most 1e-6.")
        elif r.closest_distance < 1e-6:
            lines.append("Not reached: the path comes very close to the target and then leaves it. The "
                         "good starts form a set of measure zero, and the start is known to about 16 "
                         "digits only: the unstable direction amplifies the remaining error.")
        else:
            lines.append(f"Not reached: the final distance is above 1e-6 ({o.path.describe(0)}).")
        lines.append(self._fragility_text(o))
        lines += self._step_warnings(o)
        k = min(self.frame.value, len(o.path.times) - 1)
        x = o.path.trajectory(0)[k]
        now = f"t = {_g(o.path.times[k], 3)}" if o.method == "flow" else f"step k = {k}"
        lines.append(f"Showing {now}: x = {_point(x)}, distance to the target {_g(np.linalg.norm(x - o.target), 3)}.")
        return lines

    def status_lines(self) -> list[str]:
        if self.error:
            return [f"Could not update: {self.error}"]
        o = self.outcome
        if o is None:
            return []
        if o.error:
            return [f"reach failed: {o.error}"]
        if self.computing:
            return ["Computing a start with reach() …"]
        name = plotting.METHODS["flow" if o.method == "flow" else "gd"][0]
        if o.unstable:
            return [f"Step above 2/sharpness of the {o.label}: reach is not run (see the warning). "
                    f"{name} from next to the target: {o.path.describe(0)}"]
        if o.result.path is None:
            return [f"reach found no start ({o.seconds:.2f} s): {o.result.note}"]
        verdict = "reached" if o.result.success else "NOT reached"
        return [f"reach ({o.seconds:.2f} s): the {o.label} is {verdict}; {name} from the start found: "
                f"{o.path.describe(0)}"]

    def describe(self) -> str:
        head = f"{self.landscape.name}: reachability explorer."
        return "\n".join([head, *self.readout_lines(), *self.status_lines()])

    def _readout_html(self) -> str:
        rows = []
        for line in self.readout_lines():
            t = html.escape(line)
            for word in ("WARNING", "ABOVE", "Not reached", "Fragile"):
                t = t.replace(word, f"<b style='color:#D55E00'>{word}</b>")
            rows.append(f"<div>{t}</div>")
        return "<div style='font-size:0.95em;line-height:1.35'>" + "".join(rows) + "</div>"

    # -- display ---------------------------------------------------------------------------------
    @property
    def widget(self) -> W.Widget:
        if getattr(self, "_widget", None) is None:
            def row(*children, align="center"):
                return W.HBox(list(children), layout=W.Layout(flex_flow="row wrap", align_items=align))

            self.readout.layout.width = "420px"
            top = row(self.view, W.VBox([self.readout, self.status],
                                        layout=W.Layout(margin="1em 0 0 1em")), align="flex-start")
            self._widget = W.VBox([
                top,
                row(self.target, self.t),
                row(self.dynamics, self.step, self.exponent),
                row(self.play, self.frame, self.speed),
                row(*self.params.values(), self.reduced_motion, self.reset),
                self.left_out,
            ])
        return self._widget

    def close(self):
        if self._closed:
            return
        self._gen += 1  # results still in flight are dropped
        self._job = None
        if self._pool is not None:
            self._pool.shutdown(wait=False, cancel_futures=True)
        for w in (self.left_out.layout, getattr(self.left_out, "style", None), self.left_out):
            if w is not None:
                w.close()
        super().close()


class ReachExplorer1D(_ReachMixin, Explorer1D):
    """Reachability explorer for a 1-D landscape (the graph, with the path as (x_k, f(x_k)))."""


class ReachExplorer2D(_ReachMixin, Explorer2D):
    """Reachability explorer for a 2-D landscape; a click near a critical point makes it the target."""

    def _on_click(self, event):
        try:
            if not plain_left_click(event, self.ax):
                return
            p = np.array([event.xdata, event.ydata])
            span = float(np.min(np.ptp(self.landscape.bounds, axis=1)))
            cps = self.landscape.critical_points()
            offered = [v for _, v in self.target.options if v != _FAMILY]
            if not offered:
                return
            d = [np.linalg.norm(cps[v].x - p) for v in offered]
            j = int(np.argmin(d))
            if d[j] <= 0.06 * span:
                self.target.value = offered[j]
        except Exception as exc:  # pragma: no cover - defensive
            self.error = f"{type(exc).__name__}: {exc}"
            self.status.value = html.escape(self.error)
