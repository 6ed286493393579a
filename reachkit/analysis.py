"""Reading paths and landscapes: sharpness, 2/sharpness thresholds, critical points, basin maps,
bifurcation diagrams, where ensembles of runs end, and ``reach`` (the reachability theorem made
constructive: a start from which the chosen dynamics converges to a chosen critical point).
"""

from __future__ import annotations

import contextvars
import os
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from functools import partial

import numpy as np

from . import checks
from .dynamics import (
    Path,
    as_path,
    concatenate_paths,
    flow_bytes,
    gradient_descent,
    gradient_flow,
    label_limits,
    run_bytes,
)
from .landscapes import (
    CriticalPoint,
    Landscape,
    _as_points,
    _fmt,
    as_landscape,
    finite_points,
    newton_critical_points,
)
from .schedules import Constant, as_schedule


# ----------------------------------------------------------------------------------------------
# Curvature
# ----------------------------------------------------------------------------------------------
def sharpness(landscape: Landscape, x) -> np.ndarray:
    """lambda_max(Hessian f(x)), the largest Hessian eigenvalue, for x of shape (..., dim).

    A ValueError for NaN or inf coordinates, where the Hessian overflows float64, and where a
    finite-difference Hessian does not settle (a kink: f is not twice differentiable there)."""
    landscape = as_landscape(landscape)
    x = finite_points(x, landscape.dim)
    H = landscape.hess(x)
    if not np.all(np.isfinite(H)):
        bad = x.reshape(-1, landscape.dim)[~np.isfinite(H).reshape(-1, landscape.dim**2).all(axis=1)][0]
        raise ValueError(f"the Hessian of {landscape.name} overflows float64 at x = {_fmt(bad)}: "
                         "no sharpness can be computed there")
    return np.linalg.eigvalsh(H)[..., -1]


def stability_threshold(landscape: Landscape, x) -> np.ndarray:
    """2 / sharpness: constant-step GD is linearly unstable at a minimum x once the step exceeds it.

    The linearisation e_{k+1} = (I - a H) e_k has |1 - a lambda_max| > 1 exactly when
    a > 2 / lambda_max. At a = 2 / lambda_max exactly it is marginal (an eigenvalue -1) and the
    next terms of f decide: on an exact quadratic a period-2 orbit, on the smooth double well slow
    convergence (see :func:`step_verdict`). Returns inf where the sharpness is <= 0. The same
    errors as :func:`sharpness`.
    """
    landscape = as_landscape(landscape)
    lam = np.asarray(sharpness(landscape, x), dtype=float)
    with np.errstate(all="ignore"):
        return np.where(lam > 0, 2.0 / np.where(lam > 0, lam, 1.0), np.inf)


#: a step within this relative distance of a threshold C/sharpness is at the threshold
THRESHOLD_RTOL = 1e-9
#: a constant step against a minimum's threshold C/sharpness, in words
VERDICTS = {"above": "ABOVE: linearly unstable",
            "at": "at the threshold: marginal, the next terms decide",
            "below": "below: linearly stable"}


def step_verdict(step: float, threshold: float) -> str:
    """"above", "at" (within THRESHOLD_RTOL, relative) or "below" the threshold (a key of
    VERDICTS). At the threshold the linearisation has an eigenvalue of modulus 1: neither stable
    nor unstable to first order, and the higher-order terms decide (on the smooth double well at
    a = 2/20 GD converges like 1/sqrt(k); on a quadratic it is a period-2 orbit)."""
    if abs(step - threshold) <= THRESHOLD_RTOL * threshold:
        return "at"
    return "above" if step > threshold else "below"


def minima_thresholds(landscape: Landscape) -> list[tuple[str, float, float]]:
    """For each listed minimum: (label, sharpness, 2 / sharpness). None for a nonsmooth landscape:
    at a kink there is no Hessian, and no 2/sharpness threshold."""
    landscape = as_landscape(landscape)
    if not landscape.smooth:
        return []
    out = []
    for c in landscape.minima():
        lam = float(sharpness(landscape, c.x))
        out.append((c.label, lam, 2.0 / lam if lam > 0 else np.inf))
    return out


def classify(landscape: Landscape, x, tol: float = 1e-8, *, gtol: float = 1e-6):
    """Kind of a critical point: minimum / saddle / maximum from the Hessian's eigenvalues, and
    where one vanishes (or at a kink), from f around x (see ``Landscape.classify``).

    x must be finite (a ValueError otherwise). A point that is not critical is answered
    "not critical (|grad f| = 0.0123)": critical means x is within gtol (1 + |x|) of a zero of
    the gradient, to first order (``Landscape.is_critical``: |H^-1 grad f| <= gtol (1 + |x|),
    relative to the gradient's own scale, so a tiny gradient is not enough); a non-finite
    gradient is not critical."""
    landscape = as_landscape(landscape)
    tol = checks.real("tol", tol, positive=True)
    gtol = checks.real("gtol", gtol, positive=True)
    pts = finite_points(x, landscape.dim)
    flat = pts.reshape(-1, landscape.dim)
    with np.errstate(all="ignore"):
        g = np.linalg.norm(landscape.grad(flat), axis=1)
    critical = landscape.is_critical(flat, gtol)
    kind = np.empty(flat.shape[0], dtype=object)
    kind[~critical] = [f"not critical (|grad f| = {v:.3g})" for v in g[~critical]]
    if critical.any():
        kind[critical] = np.atleast_1d(landscape.classify(flat[critical], tol))
    return kind[0] if pts.ndim == 1 else kind.reshape(pts.shape[:-1])


def find_critical_points(landscape: Landscape, n_starts: int = 400, seed: int = 0,
                         newton_steps: int = 60, gtol: float = 1e-9) -> list[CriticalPoint]:
    """Critical points found numerically: Newton on grad f = 0 from many random starts in the
    plotting bounds (least-squares steps where the Hessian is singular), deduplicated, classified,
    labelled as the listed critical point they match (else by their kind)."""
    landscape = as_landscape(landscape)
    pts = newton_critical_points(
        landscape, checks.integer("n_starts", n_starts, low=1), checks.seed("seed", seed),
        checks.integer("newton_steps", newton_steps, low=1), checks.real("gtol", gtol, positive=True))
    out = []
    for p in pts:
        kind = landscape.classify(p)
        idx, labels = label_limits(landscape, p[None], tol=1e-6)
        out.append(CriticalPoint(p, kind, labels[0] if idx[0] >= 0 else kind))
    return out


# ----------------------------------------------------------------------------------------------
# Basin maps, bifurcations, ensembles
# ----------------------------------------------------------------------------------------------
@dataclass
class BasinMap:
    """``labels[i, j]`` is the index into ``names`` of where the start (xs[j], ys[i]) ended.

    For 1-D landscapes ``ys`` is None and ``labels`` has shape (n,). ``names`` lists the listed
    critical points' labels, then "diverged", "cycling", "stalled", "stopped", "moving",
    "other critical point".
    """

    xs: np.ndarray
    ys: np.ndarray | None
    labels: np.ndarray
    names: list[str]
    path: Path

    def fraction(self, name: str) -> float:
        """The fraction of starts that end at ``name`` (one of ``names``)."""
        if not isinstance(name, str) or name not in self.names:
            raise ValueError(f"unknown outcome {name!r}; known: {self.names}")
        return float(np.mean(self.labels == self.names.index(name)))

    def shares(self, min_fraction: float = 0.0) -> list[tuple[str, float]]:
        """(name, fraction of starts) for each outcome covering more than ``min_fraction``, in ``names`` order."""
        counts = np.bincount(self.labels.ravel(), minlength=len(self.names)) / self.labels.size
        return [(name, float(f)) for name, f in zip(self.names, counts, strict=True) if f > min_fraction]


OUTCOMES = ("diverged", "cycling", "stalled", "stopped", "moving", "other critical point")
MAX_BASIN_N = {1: 1_000_000, 2: 2000}  # grid points per axis (2-D: up to 4 million starts)


def basin_map(landscape: Landscape, step=0.04, n: int = 256, n_steps: int = 1000, *,
              bounds=None, method: str = "gd", t_max: float = 30.0, gtol: float = 1e-8) -> BasinMap:
    """Where GD (or the flow, ``method="flow"``) from every start of an n (x n) grid ends.

    One batched run over all grid points (not a Python loop over pixels), keeping only the
    final points.
    """
    landscape = as_landscape(landscape)
    if landscape.dim not in (1, 2):
        raise ValueError(f"basin_map is for 1-D and 2-D landscapes; this one has dim={landscape.dim}")
    n = checks.integer("n", n, low=2, high=MAX_BASIN_N[landscape.dim])
    n_steps = checks.integer("n_steps", n_steps, low=1)
    method = checks.choice("method", method, ("gd", "flow"))
    t_max = checks.real("t_max", t_max, positive=True)
    gtol = checks.real("gtol", gtol, positive=True)
    B, dim = n**landscape.dim, landscape.dim
    run = run_bytes(B, dim, n_steps) if method == "gd" else flow_bytes(B, dim, 2, "DOP853")
    checks.memory(f"basin_map with n={n} ({B} starts, {method})", run + 8 * B * (2 * dim + 4),  # grid, labels
                  f"use a smaller n (memory grows as n^{dim})")
    grid = landscape.grid(n, bounds)
    pts = grid[-1].reshape(-1, landscape.dim)
    fewer = "fewer n_steps" if method == "gd" else "a smaller t_max"
    with checks.work(f"basin_map with n={n} ({B} starts, {method})",
                     f"a smaller n (the work grows as n^{dim}) or {fewer}", bounded=method == "gd"):
        if method == "gd":
            path = _gd_in_threads(landscape, pts, step, n_steps, gtol)
        else:
            path = gradient_flow(landscape, pts, t_max, 2, gtol=gtol, rtol=1e-6, atol=1e-9)
    names = [c.label for c in landscape.critical_points()] + list(OUTCOMES)
    k = len(landscape.critical_points())
    labels = np.where(path.limit_index >= 0, path.limit_index, k + len(OUTCOMES) - 1)
    for j, s in enumerate(OUTCOMES[:-1]):
        labels = np.where(path.status == s, k + j, labels)
    shape = (n,) if landscape.dim == 1 else (n, n)
    xs = grid[0] if landscape.dim == 1 else grid[0][0]
    ys = None if landscape.dim == 1 else grid[1][:, 0]
    return BasinMap(xs, ys, labels.reshape(shape), names, path)


def _gd_in_threads(landscape, pts, step, n_steps, gtol) -> Path:
    """Final points of GD from many starts, the batch split over the CPU cores (numpy releases
    the GIL inside array operations, so two halves run in parallel on two cores)."""
    n_workers = min(os.cpu_count() or 1, 4, max(1, pts.shape[0] // 4096))
    run = partial(gradient_descent, landscape, step=step, n_steps=n_steps, record_every=None,
                  gtol=gtol)
    if n_workers == 1:
        return run(pts)
    contexts = [contextvars.copy_context() for _ in range(n_workers)]  # each part sees the caller's work meter
    with ThreadPoolExecutor(n_workers) as pool:
        parts = list(pool.map(lambda c, part: c.run(run, part), contexts, np.array_split(pts, n_workers)))
    return concatenate_paths(parts)


MAX_BIFURCATION_POINTS = 10_000_000


@dataclass
class Bifurcation:
    """Long-run orbit points of 1-D GD: ``points[i]`` are the last iterates at step ``steps[i]``."""

    steps: np.ndarray
    points: np.ndarray  # (n_steps_values, n_starts * n_keep)


def bifurcation(landscape: Landscape, steps, starts=(-0.95,), n_transient: int = 2000,
                n_keep: int = 64) -> Bifurcation:
    """Orbit diagram of the 1-D GD map x -> x - a f'(x): for each step a, the iterates after
    ``n_transient`` steps, one batched run over all (step, start) pairs."""
    landscape = as_landscape(landscape)
    if landscape.dim != 1:
        raise ValueError(f"bifurcation is for 1-D landscapes; this one has dim={landscape.dim}")
    a = checks.array("steps", steps, max_ndim=1).ravel()
    x0 = checks.array("starts", starts).ravel()  # (n,) or (n, 1) for this 1-D map
    if not a.size or np.any(a <= 0):
        raise ValueError(f"steps must be a non-empty list of positive step sizes; got {steps!r}")
    if not x0.size:
        raise ValueError(f"starts must be a non-empty list of numbers; got {starts!r}")
    n_transient = checks.integer("n_transient", n_transient, low=0)
    n_keep = checks.integer("n_keep", n_keep, low=1)
    if a.size * x0.size * n_keep > MAX_BIFURCATION_POINTS:
        raise ValueError(f"bifurcation would keep {a.size * x0.size * n_keep} points (len(steps) x len(starts) "
                         f"x n_keep); at most {MAX_BIFURCATION_POINTS}: use fewer steps, starts or n_keep")
    B = a.size * x0.size
    orbits = run_bytes(B, 1, n_keep, n_rec=n_keep + 1) + 16 * B * n_keep  # + the points, twice
    checks.memory(f"bifurcation of {a.size} steps x {x0.size} starts keeping {n_keep} points each",
                  max(orbits, run_bytes(B, 1, n_transient) if n_transient else 0),
                  "use fewer steps, starts or n_keep")
    A = Constant(np.repeat(a, x0.size))
    X = np.tile(x0, a.size)[:, None]
    diverged = np.zeros(X.shape[0], bool)
    if n_transient:  # the transient keeps no path: memory does not grow with n_transient
        first = gradient_descent(landscape, X, A, n_transient, gtol=0.0, record_every=None)
        diverged = first.status == "diverged"
        X = np.where(diverged[:, None] | ~np.isfinite(first.final), 0.0, first.final)
    path = gradient_descent(landscape, X, A, n_keep, gtol=0.0)
    diverged |= path.status == "diverged"
    pts = path.iterates[-n_keep:, :, 0].T.reshape(a.size, x0.size * n_keep)
    return Bifurcation(a, np.where(diverged.reshape(a.size, x0.size).repeat(n_keep, axis=1), np.nan, pts))


@dataclass
class LimitSummary:
    """Where an ensemble of runs ended: fraction per outcome and the sharpness of each limit."""

    fractions: dict[str, float]
    limit_sharpness: np.ndarray  # sharpness at the limit of every converged run
    n_runs: int


def summarize_limits(landscape: Landscape, path: Path) -> LimitSummary:
    landscape = as_landscape(landscape)
    path = as_path(path)
    conv = path.status == "converged"
    lam = sharpness(landscape, path.final[conv]) if conv.any() else np.empty(0)
    return LimitSummary(path.fractions(), np.asarray(lam), path.batch)


# ----------------------------------------------------------------------------------------------
# Reachability made constructive
# ----------------------------------------------------------------------------------------------
@dataclass
class ReachResult:
    """A start from which the dynamics converges to ``target``, and how well it does.

    ``path`` is the forward run from ``start`` (it stops at the stopping test |grad f| <= tol);
    ``final_distance`` and ``closest_distance`` say how close it gets. The run is then continued
    well past the stopping test (``continued_steps`` more GD steps, or more flow time, with no
    stopping test): ``success`` means the forward run ended within max(tol, 1e-6) of the target
    AND the continued run is still there (``continued_distance``). ``left`` is True when the
    forward run got there but the continued run left (a saddle reached only to within the
    stopping tolerance in float64). ``fragile`` is True when the good starts form a set of
    measure zero that rounding can miss (a saddle, a point of a curve of minima); ``note``
    explains in words. ``refused`` is True when reach did not look for a start (see
    :func:`reach`): ``start`` and ``path`` then show what the dynamics does instead.
    """

    target: np.ndarray
    target_kind: str
    start: np.ndarray
    path: Path
    final_distance: float
    closest_distance: float
    success: bool
    fragile: bool
    note: str
    method: str
    continued_distance: float = np.nan
    continued_steps: int = 0
    left: bool = False
    refused: bool = False


def _resolve_target(landscape: Landscape, target) -> tuple[np.ndarray, str, str]:
    """(point, kind, label) from a CriticalPoint, a label (or its unique short form without the
    parenthesis: "minimum 1" for "minimum 1 (sharpness 24.9)"), an index or coordinates."""
    cps = landscape.critical_points()
    if isinstance(target, CriticalPoint):
        return finite_points(target.x, landscape.dim, "target").reshape(landscape.dim), target.kind, target.label
    if isinstance(target, str):
        matches = [c for c in cps if c.label == target] or [c for c in cps if c.label.split(" (")[0] == target]
        if len(matches) == 1:
            return matches[0].x.copy(), matches[0].kind, matches[0].label
        what = "is ambiguous" if matches else "is not a label of a critical point"
        raise ValueError(f"target {target!r} {what}; known: {[c.label for c in cps]}")
    if isinstance(target, (int, np.integer)) and not isinstance(target, bool):
        if not 0 <= target < len(cps):
            raise ValueError(f"target index must be in [0, {len(cps)}); got {target}")
        c = cps[target]
        return c.x.copy(), c.kind, c.label
    x = finite_points(target, landscape.dim, "target")
    if x.size != landscape.dim:
        raise ValueError(f"target must be one point of shape ({landscape.dim},); got shape {x.shape}")
    x = x.reshape(landscape.dim)
    with np.errstate(all="ignore"):  # |x| near 1e300 overflows to inf: not critical
        g = np.linalg.norm(landscape.grad(x))
    if not landscape.is_critical(x, 1e-8):
        raise ValueError(f"target must be a critical point (grad f = 0); |grad f| = {g:.3g} there")
    idx, labels = label_limits(landscape, x[None], tol=1e-9)
    if idx[0] >= 0:
        return x, cps[idx[0]].kind, str(labels[0])
    kind = classify(landscape, x)
    return x, kind, f"{kind} at (" + ", ".join(f"{v:.4g}" for v in x) + ")"


def _candidate_directions(landscape: Landscape, x: np.ndarray) -> list[np.ndarray]:
    """Directions to leave the target backwards: +-eigenvectors of its Hessian with eigenvalue >= 0
    (the stable and centre directions), stiffest first."""
    eig, vec = np.linalg.eigh(landscape.hess(x))
    scale = 1e-9 * max(1.0, float(np.abs(eig).max()))
    order = [i for i in np.argsort(-eig) if eig[i] >= -scale]
    return [s * vec[:, i] for i in order for s in (1.0, -1.0)]


def _gd_preimage(landscape: Landscape, z: np.ndarray, a: float, iters: int = 30) -> np.ndarray:
    """Solve y - a grad f(y) = z row-wise by Newton's method (unique when a < 1/L: the GD map is
    then a homeomorphism). Rows where Newton fails come back as NaN."""
    with np.errstate(all="ignore"):
        y = z + a * landscape.grad(z)
        eye = np.eye(z.shape[-1])
        for _ in range(iters):
            r = y - a * landscape.grad(y) - z
            if np.all((np.abs(r) <= 1e-15 * (1 + np.abs(z))) | np.isnan(r)):
                break
            J = eye - a * landscape.hess_for_search(y)  # the residual is checked below
            singular = ~np.isfinite(J).all(axis=(1, 2)) | (np.abs(np.linalg.det(J)) < 1e-12)
            J[singular] = eye
            y = y - np.linalg.solve(J, r[..., None])[..., 0]
            y[singular] = np.nan
        r = y - a * landscape.grad(y) - z
        ok = np.all(np.abs(r) <= 1e-12 * (1 + np.abs(z)), axis=-1)
    y[~ok] = np.nan
    return y


def _backward_gd(landscape, target, offsets, steps_rev, r_stop):
    """Run the GD map backwards from target + offsets (one row each) through the steps
    a_{N-1}, ..., a_0. Rows whose preimage fails or that run past r_stop become NaN."""
    y = target + offsets
    for a in steps_rev:
        y = _gd_preimage(landscape, y, float(a))
        with np.errstate(invalid="ignore"):
            y[np.linalg.norm(y - target, axis=1) > r_stop] = np.nan
        if np.isnan(y).all():
            break
    return y


def _shoot(run_final, start, target, tangent, tol, max_iter=40):
    """Secant iteration on s so that the limit of the run from start + s * tangent has no
    component along ``tangent`` away from the target (for non-isolated targets)."""
    def miss(s):
        return float(np.dot(run_final(start + s * tangent) - target, tangent))

    s0, m0 = 0.0, miss(0.0)
    s1 = -m0 if m0 != 0 else 1e-8
    m1 = miss(s1)
    for _ in range(max_iter):
        if abs(m1) <= tol or m1 == m0:
            break
        s0, s1, m0 = s1, s1 - m1 * (s1 - s0) / (m1 - m0), m1
        m1 = miss(s1)
    return start + s1 * tangent


def _shoot_saddle(run, start, target, unstable, rounds: int = 8, n: int = 33):
    """Bisection, batched: the runs from start + s * u leave a saddle on one side or the other
    (sign of <x_end - x*, u>); the sign change brackets the saddle's stable manifold."""
    lo, hi = -1e-2, 1e-2
    for _ in range(rounds):
        s = np.linspace(lo, hi, n)
        ends = run(start + s[:, None] * unstable).final
        side = np.sign((ends - target) @ unstable)
        change = np.flatnonzero(side[:-1] * side[1:] <= 0)
        if not change.size:
            break
        lo, hi = s[change[0]], s[change[0] + 1]
        if side[change[0]] == 0:
            hi = lo
            break
    return start + 0.5 * (lo + hi) * unstable


def reach(landscape: Landscape, target, step=None, *, method: str = "gd", radius: float | None = None,
          tol: float = 1e-8, max_steps: int = 20000) -> ReachResult:
    """A start away from ``target`` from which GD (with the given step or schedule) or the gradient
    flow (``method="flow"``) converges to it: the reachability theorem made constructive.

    The target is a critical point that is not a local maximum (a CriticalPoint, its label, its
    index in ``landscape.critical_points()``, or coordinates). We leave the target backwards along
    a stable or centre direction of its Hessian: for GD by inverting the GD map (unique preimages
    for steps below 1/L), for the flow by integrating backwards in time, until the path is
    ``radius`` away. If the forward run then settles on a different critical point next to the
    target (a curve of minima), the start is refined by shooting along the critical set.

    Success is checked honestly: the run from the start is continued well past its stopping test
    (|grad f| <= ``tol``) with no stopping test at all; a run that got there and then leaves (a
    saddle reached only to within rounding) is reported as "reached to within d, then left",
    with ``success=False`` and ``left=True``. Refused (``refused=True``, with the reason in
    ``note`` and the run from next to the target or from ``radius`` away as ``path``): summable
    steps, and a constant step above or at 2/sharpness of a minimum (above: linearly unstable;
    at: marginal, the next terms decide). Arguments are checked: ``tol`` > 0, ``max_steps`` an
    integer >= 1, ``radius`` None or > 0.
    """
    landscape = as_landscape(landscape)
    if not landscape.smooth:
        raise ValueError("reach needs a smooth landscape (for |x| with a constant step, the starts "
                         "that reach 0 are the lattice points x* + a Z)")
    method = checks.choice("method", method, ("gd", "flow"))
    tol = checks.real("tol", tol, positive=True)
    max_steps = checks.integer("max_steps", max_steps, low=1)
    if radius is not None:
        radius = checks.real("radius", radius, positive=True)
    x_star, kind, label = _resolve_target(landscape, target)
    if kind in ("maximum", "minimum and maximum"):
        raise ValueError(f"the target ({label}) is a local maximum: no path from elsewhere converges "
                         "to it; it is reached only by starting on it")
    width = float(np.min(np.ptp(landscape.bounds, axis=1)))
    r = 0.3 * width if radius is None else radius
    if method == "gd":
        if step is None:
            raise ValueError("reach with method='gd' needs a step size or a schedule (e.g. 0.04, power(0.04, 0.5))")
        schedule = as_schedule(step)
        if schedule.adaptive:
            raise ValueError("reach inverts the GD map step by step; it needs a step rule that does "
                             "not depend on the iterate (constant or a0/(k+1)^p), not an adaptive one")
        if np.ndim(getattr(schedule, "a", 0.0)):
            raise ValueError("reach needs one step rule for the single start, not an array of steps")
        refusal = _gd_refusal(landscape, x_star, label, schedule)
        if refusal:  # show what happens instead: from r away (summable) or from next to it (unstable)
            v = _candidate_directions(landscape, x_star)[0]
            near = 1e-3 * (1 + np.linalg.norm(x_star))
            shown = x_star + (_room(landscape, x_star, v, r) if schedule.summable else near) * v
            path = gradient_descent(landscape, shown, schedule, min(max_steps, 2000), gtol=tol * 1e-3)
            dist = np.linalg.norm(path.iterates[:, 0, :] - x_star, axis=1)
            return ReachResult(x_star, kind, shown, path, float(dist[-1]), float(dist.min()), False,
                               kind != "minimum", refusal, method, refused=True)
        start, n_land = _start_gd(landscape, x_star, schedule, r, max_steps)
        n_total = n_land + max_steps

        def run(s, n=n_total):
            return gradient_descent(landscape, s, schedule, n, gtol=tol * 1e-3)
    else:
        start, t_land = _start_flow(landscape, x_star, r)
        lam = np.linalg.eigvalsh(landscape.hess(x_star))
        lam_pos = lam[lam > 1e-9]
        t_total = t_land + (40.0 / lam_pos.min() if lam_pos.size else 200.0)

        def run(s, n=None):
            return gradient_flow(landscape, s, t_total, 801, gtol=tol * 1e-3)

    if start is None:
        return ReachResult(x_star, kind, np.full(landscape.dim, np.nan), None, np.inf, np.inf,
                           False, kind != "minimum", _failure_note(label),
                           method)
    path = run(start)
    final = path.final[0]
    eig, vec = np.linalg.eigh(landscape.hess(x_star))
    null = np.abs(eig) <= 1e-8 * max(1.0, np.abs(eig).max())
    shot = False
    if np.linalg.norm(final - x_star) > tol and null.any() and path.status[0] == "converged":
        start = _shoot(lambda s: run(s).final[0], start, x_star, vec[:, np.argmax(null)], tol * 1e-2)
        path, shot = run(start), True
        final = path.final[0]
    if np.linalg.norm(final - x_star) > tol and kind == "saddle":
        start, shot = _shoot_saddle(run, start, x_star, vec[:, np.argmin(eig)]), True
        path = run(start)
    dist = np.linalg.norm(path.iterates[:, 0, :] - x_star, axis=1)
    final_d = float(dist[-1])
    fragile = kind in ("saddle", "degenerate") or shot or bool(null.any())
    near = max(tol, 1e-6)
    cont_d, n_cont = _continued_distance(landscape, x_star, start, path, schedule if method == "gd" else None,
                                         t_total if method == "flow" else None)
    left = final_d <= near and not cont_d <= near
    note = _note(label, kind, shot, null.any(), method)
    if left:
        how = f"{n_cont} more GD steps" if method == "gd" else f"t = {n_cont} more of the flow"
        note = (f"Reached to within {final_d:.2g} of the {label} (the stopping test |grad f| <= {tol:g} "
                f"fired), then left: continued with no stopping test, the run is {cont_d:.3g} away "
                f"after {how}. In float64 this {kind} is reached only to within the stopping "
                "tolerance. " + note)
    return ReachResult(x_star, kind, start, path, final_d, float(dist.min()), final_d <= near and not left,
                       fragile, note, method, cont_d, n_cont, left)


MAX_CONTINUED_STEPS = 200_000


def _continued_distance(landscape, x_star, start, path, schedule, t_total) -> tuple[float, int]:
    """Distance to the target after running on well past the stopping test, and how far on.

    GD: from ``start`` again, with no stopping test (gtol = 0), for the forward run's steps plus
    max(forward steps, 1000, enough steps that an unstable direction (Hessian eigenvalue mu < 0)
    would grow by e^40: sum a_k |mu| >= 40), at most ``MAX_CONTINUED_STEPS``. Flow: for
    t_total + max(t_total, 40 / |mu|). A run that stays is still there at the end."""
    mu = float(np.linalg.eigvalsh(landscape.hess(x_star))[0])
    grow = 40.0 / -mu if mu < 0 else 0.0
    with np.errstate(all="ignore"):
        if schedule is None:
            extra = max(t_total, grow)
            end = gradient_flow(landscape, start, t_total + extra, 2, gtol=1e-300).final[0]
            return float(np.linalg.norm(end - x_star)), float(f"{extra:.3g}")
        n_run = int(path.stopped_at[0]) if path.stopped_at[0] >= 0 else int(path.times[-1])
        n = max(n_run, 1000)
        if grow > 0:
            block = np.cumsum(schedule.sizes(np.arange(n_run, n_run + MAX_CONTINUED_STEPS)))
            n = max(n, int(np.searchsorted(block, grow)) + 1)
        n = min(n, MAX_CONTINUED_STEPS)
        end = gradient_descent(landscape, start, schedule, n_run + n, gtol=0.0, record_every=None).final[0]
    return float(np.linalg.norm(end - x_star)), n


def _gd_refusal(landscape, x_star, label, schedule) -> str:
    """Why no start away from the target can work for this schedule ('' if none is known)."""
    if schedule.summable:
        return (f"No start away from the {label}: the steps are summable (sum a_k = {schedule.total():.3g}), "
                "so every path has length at most sup|grad f| * sum a_k and stops short of far targets.")
    a = getattr(schedule, "a", None)
    lam = float(sharpness(landscape, x_star))
    verdict = step_verdict(a, 2 / lam) if a is not None and lam > 0 else "below"
    if verdict == "above":
        return (f"No start found: the step {a:g} exceeds 2/sharpness = {2 / lam:.6g} at the {label}, "
                "which is then linearly unstable; reach needs a step below 2/sharpness.")
    if verdict == "at":
        return (f"No start sought: the step {a:g} is at 2/sharpness = {2 / lam:.6g} of the {label}, "
                f"{VERDICTS['at']} (GD may converge there, slowly, or not); reach needs a step "
                "below 2/sharpness.")
    return ""


def _room(landscape, x_star, v, r):
    """How far to go from x_star along v: r, capped to stay inside the plotting bounds."""
    lo, hi = landscape.bounds[:, 0], landscape.bounds[:, 1]
    with np.errstate(divide="ignore", invalid="ignore"):
        t = np.where(v > 0, (hi - x_star) / v, np.where(v < 0, (lo - x_star) / v, np.inf))
    return min(r, 0.95 * float(np.min(t)))


def _start_gd(landscape, x_star, schedule, r, max_steps):
    """Find N and delta such that N backward GD steps from target + delta v end between r/2 and r
    away: all deltas (log-spaced) run backwards at once, N doubling until one gets far enough."""
    scale = 1.0 + float(np.linalg.norm(x_star))
    deltas = np.logspace(-11, -2, 46) * scale
    best, best_d = (None, 0), 0.0
    for v in _candidate_directions(landscape, x_star):
        r_v = _room(landscape, x_star, v, r)
        n = 8
        while n <= max_steps // 4:
            Y = _backward_gd(landscape, x_star, deltas[:, None] * v, schedule.sizes(np.arange(n))[::-1], r_v)
            d = np.linalg.norm(Y - x_star, axis=1)
            with np.errstate(invalid="ignore"):
                resting = np.linalg.norm(landscape.grad(np.nan_to_num(Y)), axis=1) <= 1e-8
            d = np.where(np.isfinite(d) & ~resting, d, -1.0)
            i = int(np.argmax(d))
            if d[i] > best_d:
                best, best_d = (Y[i], n), d[i]
            if d[i] >= 0.5 * r_v or np.all(d < 0) or (d >= 0).sum() < 3:
                break
            n *= 2
        if best_d >= 0.5 * r:
            break
    return best if best_d > 1e-3 * r else (None, 0)


def _start_flow(landscape, x_star, r):
    """Integrate x' = +grad f (the flow backwards in time) from target + delta v until |x - x*| = r."""
    from scipy.integrate import solve_ivp

    delta = 1e-4 * (1.0 + float(np.linalg.norm(x_star)))
    best = (None, 0.0)
    for v in _candidate_directions(landscape, x_star):
        r_v = _room(landscape, x_star, v, r)

        def far(t, z, r_v=r_v):
            return np.linalg.norm(z - x_star) - r_v

        def resting(t, z):  # the backward flow settled on a critical point (e.g. a maximum)
            return np.linalg.norm(landscape.grad(z)) - 1e-9 if t > 1.0 else 1.0
        far.terminal = resting.terminal = True
        sol = solve_ivp(lambda t, z: landscape.grad(z), (0.0, 1e5), x_star + delta * v,
                        method="DOP853", rtol=1e-12, atol=1e-14, events=(far, resting))
        if sol.t_events[0].size:
            return sol.y_events[0][0], float(sol.t_events[0][0])
        end = sol.y[:, -1]
        moving = np.linalg.norm(landscape.grad(end)) > 1e-8  # not resting on a critical point
        if best[0] is None and moving and np.linalg.norm(end - x_star) > 1e-3 * r:
            best = (end, float(sol.t[-1]))
    return best


def _note(label, kind, shot, degenerate, method) -> str:
    how = "gradient flow" if method == "flow" else "gradient descent"
    if kind == "saddle":
        return (f"The {label} is reached by {how} only from a set of starts of measure zero (its "
                "stable manifold); a perturbation of 1e-16 can push the path off it, so this is "
                "fragile in floating point.")
    if kind == "degenerate":
        return f"The {label} is degenerate (neither a minimum nor a maximum): convergence is slow (sublinear)."
    if degenerate:
        how_found = ", found here by shooting on the start" if shot else ""
        return (f"The {label} has a flat direction (a zero Hessian eigenvalue), as on a curve of minima: "
                f"the starts that reach this exact point form a thin set{how_found}; rounding the start "
                "moves the limit along the flat direction.")
    return f"The {label} is an isolated minimum: starts near this one converge to it too."


def _failure_note(label) -> str:
    return (f"No start away from the {label} was found by running the dynamics backwards (the "
            "backward path stayed near it or settled on another critical point); try another radius.")


# ----------------------------------------------------------------------------------------------
# SGD at an interpolating minimum
# ----------------------------------------------------------------------------------------------
@dataclass
class InterpolationStability:
    """Linear stability of GD and SGD at a minimum every sample shares, f = mean_i a_i x^2 / 2.

    SGD multiplies x by m_B = 1 - eta * mean_{i in B} a_i at each step. GD is stable iff
    |1 - eta mean a| < 1; SGD is mean-square stable iff E m_B^2 <= 1 (E x_k^2 stays bounded)
    and converges almost surely iff E log|m_B| < 0. Expectations are exact (all minibatches).
    """

    step: float
    batch_size: int
    gd_factor: float
    mean_square_factor: float
    log_growth: float

    @property
    def gd_stable(self) -> bool:
        return self.gd_factor < 1

    @property
    def mean_square_stable(self) -> bool:
        return self.mean_square_factor <= 1

    @property
    def almost_surely_convergent(self) -> bool:
        return self.log_growth < 0


def interpolation_stability(weights, step: float, batch_size: int = 1) -> InterpolationStability:
    """Exact GD / mean-square / almost-sure stability factors for mean_i a_i x^2/2 (minibatches
    drawn without replacement, all equally likely)."""
    from itertools import combinations

    a = checks.array("weights", getattr(weights, "weights", weights), max_ndim=1).ravel()
    n = a.size
    if not n:
        raise ValueError(f"weights must be a non-empty list of numbers; got {weights!r}")
    batch_size = checks.integer("batch_size", batch_size, low=1, high=n)
    eta = checks.real("step", step, positive=True)
    batches = np.array([a[list(c)].mean() for c in combinations(range(n), batch_size)])
    with np.errstate(divide="ignore", over="ignore"):  # huge factors overflow to inf: unstable
        m = 1 - eta * batches
        log_growth = float(np.mean(np.log(np.abs(m))))
        return InterpolationStability(eta, int(batch_size), abs(1 - eta * a.mean()),
                                      float(np.mean(m**2)), log_growth)


# ----------------------------------------------------------------------------------------------
# SGD ensembles (notebook 04)
# ----------------------------------------------------------------------------------------------
@dataclass
class SGDOutcomes:
    """Where SGD runs from the same starts end, on a grid of step sizes x batch sizes.

    ``fractions[i, j, m]`` is the fraction of starts that, with step ``steps[i]`` and batch size
    ``batch_sizes[j]``, ended at ``names[m]``: a listed critical point's label, or "diverged",
    "cycling", "stalled", "stopped", "moving", "other critical point" (as in :class:`BasinMap`). A batch
    size equal to the number of samples is full-batch gradient descent.
    """

    steps: np.ndarray
    batch_sizes: np.ndarray
    names: list[str]
    fractions: np.ndarray  # (n_steps_values, n_batch_sizes, n_names)
    n_starts: int
    n_steps: int

    def fraction(self, name: str) -> np.ndarray:
        """Fraction of starts ending at ``name``, shape (len(steps), len(batch_sizes))."""
        if name not in self.names:
            raise ValueError(f"unknown outcome {name!r}; known: {self.names}")
        return self.fractions[:, :, self.names.index(name)]

    def table(self, name: str) -> str:
        """The fractions for ``name`` as a text table: one row per step, one column per batch."""
        head = "step    " + "".join(f"batch {b:<4d}" for b in self.batch_sizes)
        rows = [f"{a:<8.4g}" + "".join(f"{v:<10.3f}" for v in row)
                for a, row in zip(self.steps, self.fraction(name), strict=True)]
        return "\n".join([f"fraction ending at: {name}", head, *rows])


def outcome_indices(landscape: Landscape, path: Path) -> tuple[np.ndarray, list[str]]:
    """Per start, the index into ``names`` of where it ended (names as in :class:`BasinMap`)."""
    landscape = as_landscape(landscape)
    path = as_path(path)
    names = [c.label for c in landscape.critical_points()] + list(OUTCOMES)
    k = len(landscape.critical_points())
    idx = np.where(path.limit_index >= 0, path.limit_index, k + len(OUTCOMES) - 1)
    for j, s in enumerate(OUTCOMES[:-1]):
        idx = np.where(path.status == s, k + j, idx)
    return idx, names


def start_seeds(seed: int, n: int) -> np.ndarray:
    """n integer seeds in [0, 2**32) drawn from ``seed`` (numpy's SeedSequence): one per start."""
    return np.random.SeedSequence(seed).generate_state(n, np.uint32).astype(np.int64)


def sgd_outcomes(landscape, steps, batch_sizes, starts, n_steps: int = 2000, *, seed: int = 0,
                 gtol: float = 1e-10) -> SGDOutcomes:
    """Run SGD from every start for every (step, batch size) pair and count where runs end.

    One batched :func:`~reachkit.dynamics.sgd` run per batch size covers all (step, start)
    pairs at once (one step per run). Common random numbers: start j draws the same random
    stream in every (step, batch size) cell (the integer seed ``start_seeds(seed, n)[j]``), so a
    cell does not depend on which other steps are listed and cells differ only by their setting.
    Use it on a finite sum with interpolation (e.g. ``sharp_flat_2d_sum()``), where runs can
    settle at a minimum; without interpolation constant-step SGD keeps moving.
    """
    landscape = as_landscape(landscape)
    from .dynamics import sgd
    from .landscapes import FiniteSum

    if not isinstance(landscape, FiniteSum):
        raise ValueError(f"sgd_outcomes needs a finite-sum landscape; got {landscape!r}")
    a = checks.array("steps", steps, max_ndim=1).ravel()
    if a.size == 0 or np.any(a <= 0):
        raise ValueError(f"steps must be a non-empty list of finite positive numbers; got {steps!r}")
    n = landscape.n_samples
    bs = np.array([checks.integer("batch_sizes", b, low=1, high=n) for b in np.ravel(
        np.asarray(batch_sizes, dtype=object))], dtype=int)
    if bs.size == 0:
        raise ValueError(f"batch_sizes must be a non-empty list of integers in [1, {n}]; got {batch_sizes!r}")
    n_steps = checks.integer("n_steps", n_steps, low=1)
    seed = checks.seed("seed", seed)
    gtol = checks.real("gtol", gtol, positive=True)
    x0 = _as_points(starts, landscape.dim, "starts").reshape(-1, landscape.dim)
    S = np.repeat(a, x0.shape[0])
    X = np.tile(x0, (a.size, 1))
    seeds = np.tile(start_seeds(seed, x0.shape[0]), a.size)
    fr = None
    for j, b in enumerate(bs.tolist()):
        path = sgd(landscape, X, Constant(S), n_steps, batch_size=int(b), seed=seeds,
                   record_every=None, gtol=gtol)
        idx, names = outcome_indices(landscape, path)
        counts = np.stack([np.bincount(row, minlength=len(names))
                           for row in idx.reshape(a.size, x0.shape[0])])
        if fr is None:
            fr = np.zeros((a.size, bs.size, len(names)))
        fr[:, j, :] = counts / x0.shape[0]
    return SGDOutcomes(a, bs.astype(int), names, fr, int(x0.shape[0]), int(n_steps))
