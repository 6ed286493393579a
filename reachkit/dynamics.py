"""Gradient dynamics on a batch of starts: gradient descent, gradient flow, SGD, subgradient method.

Each function takes a landscape and starts of shape ``(batch, dim)`` (or one start ``(dim,)``)
and returns one :class:`Path`. A start whose iterate leaves the escape radius (or overflows) is
frozen at its last finite iterate and flagged ``diverged`` with the step; no overflow warnings.
Arrays returned by the landscape's functions are never written into.
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field

import numpy as np

from . import checks
from .landscapes import FiniteSum, Landscape, _as_points, as_landscape
from .schedules import Constant, as_schedule

STATUSES = ("converged", "diverged", "cycling", "stalled", "stopped", "moving")
_TAIL = 64  # trailing iterates kept to detect cycles
#: a repeating pattern is a cycle only if its amplitude over its last period is at least
#: (1 - CYCLE_SHRINK) times that half the trailing iterates earlier; else it is converging slowly
CYCLE_SHRINK = 1e-3
#: where a run stopped counts as critical if it is within this (relative) of a zero of the gradient
#: (``Landscape.is_critical``); else the stopping test fired at a non-critical point: "stopped"
CRITICAL_RTOL = 1e-6
_CHUNK_POINTS = 2**16  # points per call when the values along a path are evaluated
_BLOCK_POINTS = 2**12  # iterates (times dim) held per block of steps
_FLOAT = np.dtype(float)
_ODE_METHODS = ("RK45", "RK23", "DOP853", "Radau", "BDF", "LSODA")
_IMPLICIT = ("Radau", "BDF", "LSODA")  # they form a dense Jacobian of the whole batch


@dataclass
class Path:
    """The result of running a dynamics from a batch of starts.

    iterates (n_rec, batch, dim) at ``times`` (iteration index, or time t for the flow);
    values (n_rec, batch); step_sizes (n_rec, batch): the step used to leave each recorded
    iterate (NaN once a start has stopped, and for the flow). A start that stopped stays where it
    stopped in the later records. Per start: ``status`` (one of converged / diverged / cycling /
    stalled / stopped / moving: "diverged" means the iterate left the escape radius or the
    gradient function returned NaN or inf; "cycling" a repeating pattern whose amplitude does not
    shrink; "stalled" frozen short of a critical point: a zero step, steps that no longer change
    the iterate in float64, or a failed ODE solve; "stopped" the stopping test fired at a point
    that is not critical; "moving" still moving, also with summable steps, and a slowly shrinking
    alternation), ``reason`` (why, in words, when it is not the
    usual one; "" otherwise), ``limit_label`` in words, ``limit_index`` into ``critical_points``
    (-1 if none), ``stopped_at`` (step or time at which it converged, diverged or stalled; -1 if
    it ran to the end), ``period`` (for cycling starts).
    """

    method: str
    schedule: str
    iterates: np.ndarray
    times: np.ndarray
    values: np.ndarray
    step_sizes: np.ndarray
    final: np.ndarray
    status: np.ndarray
    limit_label: np.ndarray
    limit_index: np.ndarray
    stopped_at: np.ndarray
    period: np.ndarray
    critical_points: list = field(repr=False)
    grad_norm: np.ndarray = field(repr=False, default=None)
    reason: np.ndarray = field(repr=False, default=None)

    @property
    def batch(self) -> int:
        return self.final.shape[0]

    @property
    def dim(self) -> int:
        return self.final.shape[1]

    def trajectory(self, i: int = 0) -> np.ndarray:
        """Recorded iterates of start i, shape (n_rec, dim)."""
        return self.iterates[:, i, :]

    def fractions(self) -> dict[str, float]:
        """Fraction of starts per outcome label, e.g. {'sharp minimum': 0.42, ...}."""
        names = [self._outcome(i) for i in range(self.batch)]
        return {k: v / self.batch for k, v in sorted(Counter(names).items())}

    def _outcome(self, i: int) -> str:
        s = self.status[i]
        return str(self.limit_label[i]) if s == "converged" else str(s)

    def describe(self, i: int = 0) -> str:
        """The outcome of start i in words."""
        s, unit = self.status[i], ("t = " if self.method == "gradient flow" else "step ")
        at = self.stopped_at[i]
        when = f"{at:.4g}" if self.method == "gradient flow" else f"{int(at)}"
        why = "" if self.reason is None else str(self.reason[i])
        if s == "converged":
            where = "" if self.limit_index[i] >= 0 else " at " + _point(self.final[i])
            if why:  # the flow ended within its solver's accuracy of a listed point
                return f"near the {self.limit_label[i]}{where} at the end ({why})"
            return f"converged to the {self.limit_label[i]}{where} (at {unit}{when})"
        if s == "diverged":
            return f"diverged at {unit}{when}: {why}"
        if s == "cycling":
            return f"cycling with period {self.period[i]} (not converging)"
        gn = self.grad_norm[i] if self.grad_norm is not None else float("nan")
        if s == "stopped":
            return stop_words(why, self.final[i], f"{unit}{when}")
        if s == "stalled":
            at = f" at {unit}{when}" if self.stopped_at[i] >= 0 else ""
            return f"stalled{at} at a non-critical point (|grad f| = {gn:.3g}): {why}"
        return f"still moving after the last step (|grad f| = {gn:.3g})" + (f": {why}" if why else "")


def _point(x) -> str:
    return "(" + ", ".join(f"{v:.4g}" for v in x) + ")"


def concatenate_paths(parts: list[Path]) -> Path:
    """One Path from runs of the same dynamics on consecutive slices of a batch of starts."""
    first = parts[0]
    cat = lambda name, axis: np.concatenate([getattr(p, name) for p in parts], axis=axis)  # noqa: E731
    return Path(first.method, first.schedule, cat("iterates", 1), first.times, cat("values", 1),
                cat("step_sizes", 1), cat("final", 0), cat("status", 0), cat("limit_label", 0),
                cat("limit_index", 0), cat("stopped_at", 0), cat("period", 0),
                first.critical_points, cat("grad_norm", 0), cat("reason", 0))


def as_path(value, name: str = "path") -> "Path":
    """``value`` if it is a Path, else a TypeError naming the argument."""
    return checks.instance(name, value, Path, "a Path (what gradient_descent, sgd, gradient_flow, ... return)")


def as_starts(starts, dim: int) -> np.ndarray:
    """Starts as a (batch, dim) array of finite numbers (one start (dim,) becomes a batch of 1)."""
    try:
        kind = np.asarray(starts).dtype.kind
    except ValueError:  # ragged nested lists
        raise ValueError(f"starts must have shape (batch, {dim}) or ({dim},); got {starts!r}") from None
    if kind not in "iuf":
        raise TypeError(f"starts must be real numbers, shape (batch, {dim}) or ({dim},); got {starts!r}")
    x = _as_points(starts, dim, "starts")
    if x.ndim == 1:
        x = x[None, :]
    if x.ndim != 2 or x.shape[0] == 0:
        raise ValueError(f"starts must have shape (batch, {dim}) with batch >= 1, or ({dim},); got {x.shape}")
    if not np.all(np.isfinite(x)):
        raise ValueError("starts must be finite numbers (no NaN or inf)")
    return x.copy()


def _escape_radius(landscape: Landscape, radius) -> float:
    if radius is None:
        bounds = getattr(landscape, "bounds", None)
        return 1e6 * (1.0 + (0.0 if bounds is None else float(np.max(np.abs(bounds)))))
    return checks.real("escape_radius", radius, positive=True)


def _gtol(gtol) -> float:
    return checks.real("gtol", gtol, low=0.0)


def gtol_squared(gtol) -> float:
    """gtol^2 for the test |g|^2 <= gtol^2 (inf above 1e154, where the square overflows a float)."""
    g = _gtol(gtol)
    return g * g if g < 1e154 else np.inf


def _record_every(record_every) -> int | None:
    """None (keep only the final points) or an integer >= 1."""
    return None if record_every is None else checks.integer("record_every", record_every, low=1)


def label_limits(landscape: Landscape, points: np.ndarray, tol: float | None = None):
    """Match points to the landscape's listed critical points: (index or -1, label)."""
    cps = landscape.critical_points()
    n = points.shape[0]
    index = np.full(n, -1)
    labels = np.empty(n, dtype=object)
    if tol is None:
        bounds = getattr(landscape, "bounds", None)
        tol = 1e-3 * (1.0 + (0.0 if bounds is None else float(np.max(np.ptp(bounds, axis=1)))))
    if cps:
        d = _distances(points, np.stack([c.x for c in cps]))
        nearest = np.argmin(d, axis=1)
        hit = d[np.arange(n), nearest] <= tol
        index[hit] = nearest[hit]
    labels[index >= 0] = [cps[i].label for i in index[index >= 0]]
    if np.any(index < 0):
        labels[index < 0] = _unlisted_labels(landscape, points[index < 0])
    return index, labels


def _distance_to_listed(landscape: Landscape, points: np.ndarray) -> np.ndarray:
    """Distance from each point to the nearest listed critical point (inf if none are listed)."""
    cps = landscape.critical_points()
    if not cps:
        return np.full(points.shape[0], np.inf)
    return _distances(points, np.stack([c.x for c in cps])).min(axis=1)


def _distances(points: np.ndarray, centres: np.ndarray) -> np.ndarray:
    """|points[i] - centres[j]| for every pair, shape (n, m); tiny or huge coordinates give 0 or inf
    without a floating-point warning."""
    with np.errstate(under="ignore", over="ignore"):
        return np.linalg.norm(points[:, None, :] - centres[None], axis=-1)


def _unlisted_labels(landscape: Landscape, points: np.ndarray) -> list[str]:
    """'minimum (not listed)' and the like, for limits that are not listed critical points."""
    if not getattr(landscape, "smooth", False) or not hasattr(landscape, "classify") or landscape.dim > 3:
        return ["critical point (not listed)"] * points.shape[0]
    return [f"{k} (not listed)" for k in np.atleast_1d(landscape.classify(points))]


def row_sqnorm(v: np.ndarray) -> np.ndarray:
    """Row-wise |v|^2 for v of shape (n, dim); column sums are faster than einsum for small dim."""
    if v.shape[1] > 4 or v.shape[0] < 512:  # einsum: less overhead on few rows
        return np.einsum("ij,ij->i", v, v)
    out = v[:, 0] * v[:, 0]
    for j in range(1, v.shape[1]):
        out += v[:, j] * v[:, j]
    return out


def _as_direction(d, shape, where: str) -> np.ndarray:
    """The direction a user function returned, as a float array of the iterates' shape."""
    d = np.asarray(d, dtype=float)
    if d.shape != shape:
        raise ValueError(f"the gradient function returned shape {d.shape} at {where} for iterates "
                         f"of shape {shape}; it must return one gradient per point, shape {shape}")
    return d


def _record_rows(n_steps: int, every: int) -> np.ndarray:
    """The steps that are recorded: 0, every, 2 every, ... and the last step."""
    rows = np.arange(0, n_steps + 1, every)
    return rows if rows[-1] == n_steps else np.append(rows, n_steps)


def _tail_rows(n_steps: int) -> int:
    """How many trailing iterates a run of ``n_steps`` steps keeps to detect cycles."""
    return min(_TAIL, n_steps + 1)


def run_bytes(batch: int, dim: int, n_steps: int, n_rec: int = 0, n_also: int = 0) -> int:
    """Peak bytes of an :func:`iterate` run, in float64: ``n_rec`` records of iterates, values,
    step sizes (and one number of headroom: the oldest numpy allowed peaked 0.6 % above the estimate
    without it) and ``n_also`` more arrays of the iterates' shape (an optimizer's preconditioner),
    the trailing iterates kept for cycle detection, and the loop's and the Path's working
    arrays: 32 + 12 dim numbers per start (measured: 28 + 9 dim), and the chunks in which values
    along the records and cycles are computed (:data:`_CHUNK_POINTS` points, dim + 8 numbers each)."""
    per_start = n_rec * ((1 + n_also) * dim + 3) + _tail_rows(n_steps) * dim + 32 + 12 * dim
    return 8 * (batch * per_start + _CHUNK_POINTS * (dim + 8))


def flow_bytes(batch: int, dim: int, n_times: int, method: str) -> int:
    """Peak bytes of :func:`gradient_flow`, in float64: per start, three copies of the sampled
    iterates (scipy's samples, their stacking, the Path) with values and step sizes, and the
    solver's stages, 16 + 40 dim numbers (measured for DOP853: 39 dim); an implicit method adds
    10 numbers per entry of the (batch dim)^2 Jacobian (measured for BDF: 9.7)."""
    jacobian = 10 * (batch * dim) ** 2 if method in _IMPLICIT else 0
    return 8 * (batch * (n_times * (3 * dim + 2) + 16 + 40 * dim) + jacobian)


def check_run_size(n_rec: int, n_steps: int, batch: int, dim: int, also: tuple[str, ...] = ()) -> None:
    """Refuse a run above the memory budget (:func:`checks.memory`, :func:`run_bytes`)."""
    kept = (f"{n_rec} records ({', '.join(('iterates', 'values', 'step sizes') + also)})" if n_rec
            else "only the final points")
    checks.memory(
        f"a run of {batch} starts in {dim}-D keeping {kept} and "
        f"{_tail_rows(n_steps)} trailing iterates (for cycle detection)",
        run_bytes(batch, dim, n_steps, n_rec, len(also)),
        ("record fewer points (a larger record_every, or record_every=None to keep only the final "
         "points), or " if n_rec else "") + "run fewer starts: a start's run does not depend on "
        "the others, so a batch can be run in parts")


def iterate(landscape, starts, n_steps, schedule, direction, *, method, record_every=1, gtol=1e-10,
            escape_radius=None, at_rest=None, stop_test=None) -> Path:
    """The shared loop x_{k+1} = x_k - a_k d_k(x_k) over a batch of starts, returning a Path.

    ``direction(k, x, ids)`` gives d_k for the still-running starts ``ids`` (rows of x); a start
    stops when |d_k| <= gtol (or where ``at_rest(x, ids)`` says so: converged), when it leaves
    the escape radius or d_k is not finite (diverged), or when its step is 0 (stalled). The loop
    ends when every start has stopped or after n_steps; a start still running then is cycling,
    stalled (frozen in float64; converged if that is at a critical point) or moving (see
    :class:`Path`). ``record_every=None`` keeps only the final points.
    ``stop_test`` names the stopping test in the read-out of a start it stopped at a point that
    is not critical (default "gtol = ..."; an update rule that zeroes d_k itself names its own). Public
    so that other update rules (momentum, Adam in reachkit.optimizers) reuse its bookkeeping.

    Small batches run in blocks of up to 32 steps with the stopping tests done once per block
    on the block's iterates (a start that stopped inside a block is put back where it stopped),
    so that one start costs little more than its gradient evaluations.
    """
    schedule = as_schedule(schedule)
    x0 = as_starts(starts, landscape.dim)
    n_steps = checks.integer("n_steps", n_steps, low=0)
    record = _Record(n_steps, _record_every(record_every), *x0.shape)
    gtol2 = gtol_squared(gtol)
    r2max = _escape_radius(landscape, escape_radius) ** 2
    B, dim = x0.shape
    a_run = schedule.a if isinstance(schedule, Constant) else None  # fixed step(s) of running starts
    if np.ndim(a_run) and np.shape(a_run) != (B,):
        raise ValueError(f"an array of steps needs one per start: shape ({B},); got {np.shape(a_run)}")
    fixed, adaptive = a_run is not None, schedule.adaptive
    m = min(max(_BLOCK_POINTS // (B * dim), 1), 32)  # steps per block
    X, G, A = np.empty((m, B, dim)), np.empty((m, B, dim)), np.empty((m, B))
    out = _Outcomes(x0, np.sqrt(r2max))
    ids, xa, a_last = np.arange(B), x0, np.full(B, np.nan)  # running starts, iterates, last steps
    k0 = 0  # the step of the first iterate of the block
    long_work = checks.work(f"{method} from {B} start{'s' * (B > 1)} for {n_steps} steps",
                            "fewer steps (n_steps) or starts, or a larger gtol to stop sooner")
    with np.errstate(all="ignore"), long_work:
        while ids.size:
            checks.progress(k0 / max(n_steps, 1))
            nA = ids.size
            Xv, Gv, Av = X[:, :nA], G[:, :nA], A[:, :nA]
            if fixed:
                Av[:] = a_run
                a_col = a_run[:, None] if np.ndim(a_run) else a_run
            J = S = 0  # iterates looked at, steps taken in this block
            for j in range(m):
                k = k0 + j
                try:
                    g = direction(k, xa, ids)
                except Exception:
                    if j == 0:
                        raise
                    break  # maybe a start already out of bounds: check, then try step k again
                if type(g) is not np.ndarray or g.dtype is not _FLOAT or g.shape != xa.shape:
                    g = _as_direction(g, xa.shape, f"step {k}")
                Xv[j] = xa
                Gv[j] = g
                J = j + 1
                if k == n_steps:
                    break
                if not fixed:
                    a = schedule.step(k, xa, g, landscape) if adaptive else schedule.sizes(k)
                    Av[j] = a
                    a_col = a[:, None] if type(a) is np.ndarray else a
                xa = xa - a_col * g
                S = J

            # converged at iterate j (|g_j| <= gtol), stalled at j (a_j = 0), diverged after j
            # (x_{j+1} out of bounds or g_j not finite): each start's first event stops it
            if at_rest is None:
                g2 = row_sqnorm(Gv[:J].reshape(J * nA, dim)).reshape(J, nA)
                conv = g2 <= gtol2 if g2.min() <= gtol2 else None
            else:
                conv = at_rest(Xv[:J].reshape(J * nA, dim), np.tile(ids, J)).reshape(J, nA)
                conv = conv if conv.any() else None
            zero = Av[:S] == 0 if S and not fixed and not Av[:S].min() > 0 else None
            far = None
            if S:
                nxt = xa[None] if S == 1 else np.concatenate([Xv[1:S], xa[None]])
                s2 = row_sqnorm(nxt.reshape(S * nA, dim)).reshape(S, nA)
                far = ~(s2 <= r2max) if not s2.max() <= r2max else None  # also inf and NaN
            stops = None
            if conv is not None or zero is not None or far is not None:
                stops = out.stop_first((conv, zero, far), k0, ids, Xv[:J], Gv[:J], Av[:J], schedule)
            record.write(k0, J, S, ids, Xv, Av)
            if S:
                a_last = Av[S - 1]
            keep = slice(None) if stops is None else ~stops
            if k0 + J - 1 == n_steps:  # the last iterate: the starts left are still moving
                out.final[ids[keep]] = Xv[J - 1][keep]
                record.last_steps(ids[keep], a_last[keep])
                break
            ids, xa, a_last = ids[keep], xa[keep], a_last[keep]
            a_run = a_run[keep] if np.ndim(a_run) else a_run
            k0 += J

    status, reason = out.status, out.reason
    period, ratio = _detect_cycles(record.tail, status)
    shrinking = (period > 0) & (ratio < 1 - CYCLE_SHRINK)
    status[(period > 0) & ~shrinking] = "cycling"
    half = record.tail.shape[0] // 2
    for i in np.flatnonzero(shrinking):
        how = "alternating" if period[i] == 2 else "repeating"
        reason[i] = (f"converging slowly ({how} with period {period[i]}, the amplitude shrinking by a "
                     f"factor {ratio[i]:.3g} over the last {half} steps)")
    period[shrinking] = 0
    frozen, since = _frozen(record.tail, status)
    if frozen.any():
        at_rest = at_critical_point(landscape, out.final[frozen])
        idx = np.flatnonzero(frozen)
        status[idx] = np.where(at_rest, "converged", "stalled")
        out.stopped_at[idx] = record.tail_start + since[idx]
        reason[idx[~at_rest]] = "the steps no longer change the iterate in float64"
    if schedule.summable:
        still = (status == "moving") & (reason == "")
        reason[still] = (f"the steps are summable (sum a_k = {schedule.total():.4g}), so the path has "
                         "finite length and will generally stop short of a critical point")
    iterates, times, steps, last = record.finish(out)
    return _make_path(landscape, method, str(schedule), iterates, times, steps, out.final, status,
                      out.stopped_at, period, reason, last, stop_test or f"gtol = {gtol:g}")


class _Outcomes:
    """Per start: status, the step where it stopped (-1: still running), final point, why."""

    def __init__(self, x0: np.ndarray, radius: float):
        B = x0.shape[0]
        self.radius = radius
        self.final = x0.copy()
        self.status = np.full(B, "moving", dtype=object)
        self.stopped_at = np.full(B, -1)
        self.reason = np.full(B, "", dtype=object)

    def stop_first(self, events, k0, ids, X, G, A, schedule) -> np.ndarray:
        """Stop each running start at its first event in a block of iterates X (steps k0, ...):
        ``events`` = (converged, stalled, diverged) masks (block row, start) or None. Returns
        the mask of starts stopped."""
        J = X.shape[0]
        first = np.full((3, len(ids)), J)
        for kind, mask in enumerate(events):
            if mask is not None:
                hit = mask.any(axis=0)
                first[kind, hit] = mask.argmax(axis=0)[hit]
        when, kind = first.min(axis=0), first.argmin(axis=0)  # a tie goes to the earlier kind
        stops = when < J
        for q in (np.flatnonzero(stops & (kind == c)) for c in range(3)):
            if not q.size:
                continue
            j, who = when[q], ids[q]
            self.final[who] = X[j, q]
            self.stopped_at[who] = k0 + j
            if kind[q[0]] == 0:
                self.status[who], self.reason[who] = "converged", ""
            elif kind[q[0]] == 1:
                self.status[who], self.reason[who] = "stalled", schedule.why_zero()
            else:
                g, a = G[j, q], A[j, q]
                self.status[who] = "diverged"
                self.stopped_at[who] += np.isfinite(g).all(axis=1)  # else the function failed at j
                self.reason[who] = [_why_diverged(*z, self.radius) for z in zip(g, a, X[j, q], strict=True)]
        return stops


class _Record:
    """What a run keeps: iterate k and the step that left it for k = 0, every, 2 every, ... and
    the last step (nothing when ``every`` is None), and the trailing iterates (for cycles)."""

    def __init__(self, n_steps: int, every: int | None, batch: int, dim: int):
        self.n_steps, self.every = n_steps, every
        self.times = (np.array([np.nan]) if every is None else
                      np.append(np.arange(0, n_steps + 1, every), [n_steps] * (n_steps % every > 0)))
        n_rec = 0 if every is None else len(self.times)
        check_run_size(n_rec, n_steps, batch, dim)
        self.iterates = np.empty((n_rec, batch, dim))
        self.steps = np.full((n_rec, batch), np.nan)
        self.tail = np.empty((_tail_rows(n_steps), batch, dim))
        self.tail_start = n_steps + 1 - self.tail.shape[0]

    def write(self, k0, J, S, ids, X, A) -> None:
        """Iterates k0, ..., k0 + J - 1 of the starts ``ids`` (X, A: block rows; S steps taken)."""
        if self.every is not None:
            ks = k0 + np.arange(J)
            js = np.flatnonzero((ks % self.every == 0) | (ks == self.n_steps))
            rows = np.where(ks[js] == self.n_steps, len(self.times) - 1, ks[js] // self.every)
            steps = np.where(js[:, None] < S, A[js], np.nan)
            if len(ids) == self.iterates.shape[1]:
                self.iterates[rows], self.steps[rows] = X[js], steps
            else:
                self.iterates[rows[:, None], ids], self.steps[rows[:, None], ids] = X[js], steps
        if k0 + J > self.tail_start:
            jt = np.arange(max(0, self.tail_start - k0), J)
            self.tail[(k0 + jt - self.tail_start)[:, None], ids] = X[jt]

    def last_steps(self, ids, a) -> None:
        """The last record of a start still moving shows the last step it took."""
        if self.every is not None:
            self.steps[-1, ids] = a

    def finish(self, out: _Outcomes):
        """(iterates, times, step sizes, last): a stopped start stays where it stopped (no step);
        the records after ``last`` repeat it."""
        if self.every is None:
            B = out.final.shape[0]
            return out.final[None].copy(), self.times, np.full((1, B), np.nan), 0
        stopped = out.stopped_at >= 0
        first = np.searchsorted(self.times, out.stopped_at)
        for r in np.unique(first[stopped]):
            cols = stopped & (first == r)
            self.iterates[r:, cols] = out.final[cols]
            self.steps[r:, cols] = np.nan
        end = out.stopped_at.max() if stopped.all() else self.n_steps
        last = min(int(np.searchsorted(self.times, end)), len(self.times) - 1)
        return self.iterates, self.times.astype(float), self.steps, last


def _why_diverged(g, a, x, radius) -> str:
    """What went wrong: the gradient or the step is not finite, or the next iterate left the escape radius."""
    if not np.all(np.isfinite(g)):
        return f"the gradient function returned {'nan' if np.isnan(g).any() else 'inf'} at x = {_point(x)}"
    if not np.isfinite(a):
        return f"the step rule gave the step {a} at x = {_point(x)} (is the function value there finite?)"
    return escape_words(radius)


def escape_words(radius) -> str:
    """Why a start is diverged, when it left the escape radius."""
    return f"the iterate left the escape radius {radius:.3g} (|x| > {radius:.3g})"


def stop_words(test: str, x, when: str) -> str:
    """The read-out of a start that a stopping test (``test``: "|grad f| = 3 <= gtol = 5") stopped
    at a point x that is not critical, at ``when`` ("step 4", "t = 2.5")."""
    return f"stopped: {test} at {_point(x)} ({when}), not a critical point"


def _frozen(tail: np.ndarray, status: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """(mask, since): starts still "moving" whose last iterates are all equal (the step no longer
    changes x in float64), and the row of the trailing iterates from which they are."""
    frozen, since = np.zeros(status.shape[0], dtype=bool), np.zeros(status.shape[0], dtype=int)
    cols = np.flatnonzero(status == "moving")
    last = tail[-1, cols]
    same = np.ones(cols.size, dtype=bool)
    for r in range(tail.shape[0] - 2, -1, -1):  # row by row from the end, while any stays equal
        same &= np.all(tail[r, cols] == last, axis=1)
        if not same.any():
            break
        frozen[cols[same]], since[cols[same]] = True, r
    return frozen, since


def at_critical_point(landscape, points: np.ndarray) -> np.ndarray:
    """Which points are critical (``Landscape.is_critical`` to CRITICAL_RTOL); in more than 3-D
    (no Hessian is computed there) every point where a run stopped counts."""
    if landscape.dim > 3 or not hasattr(landscape, "is_critical") or not points.shape[0]:
        return np.ones(points.shape[0], dtype=bool)
    return np.atleast_1d(landscape.is_critical(points, CRITICAL_RTOL))


def _detect_cycles(tail: np.ndarray, status: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """(period, ratio): the smallest period p >= 2 with x_k = x_{k-p} (to 1e-9, relative) over the
    trailing iterates (0 if none, or if the iterate does not move at all: p = 1), and the
    pattern's amplitude (its range over one period) at the end divided by that half the trailing
    iterates earlier, where the match starts (1 for a cycle; below 1 for an alternation that
    shrinks, converging slowly)."""
    T, dim = tail.shape[0], tail.shape[2]
    period = np.zeros(status.shape[0], dtype=int)
    ratio = np.ones(status.shape[0])
    cols = np.flatnonzero(status == "moving")
    if T < 8 or not cols.size:
        return period, ratio
    m = T // 2  # compare the last m iterates with those p steps earlier, for every p at once
    lags = np.arange(1, T - m + 1)
    per = max(1, _CHUNK_POINTS // (lags.size * m * dim))
    for c in range(0, cols.size, per):
        seg = tail[:, cols[c:c + per]]
        scale = 1.0 + np.abs(seg).max(axis=(0, 2))
        earlier = seg[(T - m - lags)[:, None] + np.arange(m)]  # (lag, m, start, dim)
        close = np.abs(seg[T - m:] - earlier).max(axis=(1, 3)) <= 1e-9 * scale
        first = np.where(close.any(axis=0), lags[close.argmax(axis=0)], 0)
        period[cols[c:c + per]] = np.where(first >= 2, first, 0)
        found = period[cols[c:c + per]]
        for p in np.unique(found[found > 0]):  # one period at the start of the matched window, and the last
            sel = found == p
            early = np.ptp(seg[T - m - p:T - m, sel], axis=0).max(axis=1)
            late = np.ptp(seg[T - p:, sel], axis=0).max(axis=1)
            with np.errstate(all="ignore"):
                ratio[cols[c:c + per][sel]] = np.where(early > 0, late / early, 1.0)
    return period, ratio


def _values(landscape, iterates: np.ndarray, last: int) -> np.ndarray:
    """f along the records, in chunks of rows; the records after ``last`` repeat it."""
    n_rec, B = iterates.shape[:2]
    values = np.empty((n_rec, B))
    rows = max(1, _CHUNK_POINTS // max(B, 1))
    with np.errstate(all="ignore"):
        for r in range(0, last + 1, rows):
            values[r:min(r + rows, last + 1)] = landscape.value(iterates[r:min(r + rows, last + 1)])
    values[last + 1:] = values[last]
    return values


def _make_path(landscape, method, schedule, iterates, times, steps, final, status, stopped_at,
               period, reason, last, stop_test, near_tol=None) -> Path:
    """The Path, with the converged starts labelled; a start the stopping test |grad f| <= tol
    (``stop_test``: "gtol = 1e-10") stopped at a point neither listed nor critical becomes
    "stopped". Converged starts with a reason (the flow's: within its accuracy of a listed point)
    are matched to a listed point to ``near_tol``."""
    values = _values(landscape, iterates, last)
    with np.errstate(all="ignore"):
        g_final = np.linalg.norm(landscape.grad(final), axis=1)
    index = np.full(final.shape[0], -1)
    labels = np.array([""] * final.shape[0], dtype=object)
    conv = status == "converged"
    if conv.any():
        index[conv], labels[conv] = label_limits(landscape, final[conv])
        near = conv & (reason != "")
        if near.any():
            index[near], labels[near] = label_limits(landscape, final[near], near_tol)
        unlisted = np.flatnonzero(conv & (index < 0))
        if unlisted.size:
            off = unlisted[~at_critical_point(landscape, final[unlisted])]
            status[off], labels[off] = "stopped", ""
            reason[off] = [f"|grad f| = {g:.3g} <= {stop_test}" for g in g_final[off]]
    return Path(method, schedule, iterates, times, values, steps, final, status, labels, index,
                stopped_at, period, landscape.critical_points(), g_final, reason)


def gradient_descent(landscape: Landscape, starts, step, n_steps: int = 500, *,
                     record_every: int | None = 1, gtol: float = 1e-10,
                     escape_radius: float | None = None) -> Path:
    """Gradient descent x_{k+1} = x_k - a_k grad f(x_k) from every start.

    ``step`` is a number (constant step; an array gives one per start) or a schedule. A start
    stops when |grad f| <= gtol (converged) or leaves ``escape_radius`` (diverged).
    ``record_every=None`` keeps only the final points (for basin maps over many starts).
    """
    landscape = as_landscape(landscape)
    grad, params = landscape._grad_fn, landscape.params
    return iterate(landscape, starts, n_steps, step, lambda k, x, ids: grad(x, **params),
                   method="gradient descent", record_every=record_every, gtol=gtol,
                   escape_radius=escape_radius)


def subgradient_method(landscape: Landscape, starts, step, n_steps: int = 200, *,
                       record_every: int | None = 1, escape_radius: float | None = None) -> Path:
    """x_{k+1} = x_k - a v_k with v_k a subgradient (``landscape.grad``); stops only where v_k = 0."""
    landscape = as_landscape(landscape)
    grad, params = landscape._grad_fn, landscape.params
    return iterate(landscape, starts, n_steps, step, lambda k, x, ids: grad(x, **params),
                   method="subgradient method", record_every=record_every, gtol=0.0,
                   escape_radius=escape_radius)


_GOLDEN = np.uint64(0x9E3779B97F4A7C15)


def _splitmix64(z: np.ndarray) -> np.ndarray:
    """The splitmix64 output function (Steele, Lea & Flood 2014) on uint64 arrays, mod 2^64."""
    z = (z ^ (z >> np.uint64(30))) * np.uint64(0xBF58476D1CE4E5B9)
    z = (z ^ (z >> np.uint64(27))) * np.uint64(0x94D049BB133111EB)
    return z ^ (z >> np.uint64(31))


class StartStreams:
    """One random stream per start, so a start's SGD run does not depend on the other starts.

    ``seed`` an integer (or None: fresh entropy): start i draws from stream i of that seed, so
    start i runs the same alone or in any batch of more than i starts; ``seed`` a sequence of
    integers, one per start: start i draws from stream 0 of ``seed[i]`` (so seed=3 for one start
    and seed=[..., 3, ...] give that start the same run). Stream keys come from
    ``numpy.random.SeedSequence``; number u of a stream with key s is splitmix64(s + (u+1) golden),
    a counter-based generator that evaluates a whole batch at once (same in every process).
    """

    def __init__(self, seed, batch: int):
        if checks.ndim("seed", seed) == 0:  # an integer, None, or something to refuse with a clear message
            base = [_seed_key(seed)]
            index = np.arange(batch, dtype=np.uint64)
        else:
            seeds = list(seed)
            if np.ndim(seed) != 1 or len(seeds) != batch:
                raise ValueError(f"seed must be an integer or one integer per start ({batch}); got {seed!r}")
            base = [_seed_key(s, f"seed[{i}]") for i, s in enumerate(seeds)]
            index = np.zeros(batch, dtype=np.uint64)
        self.keys = _splitmix64(np.array(base, dtype=np.uint64) + (index + np.uint64(1)) * _GOLDEN)

    def uniform(self, k: int, m: int, ids: np.ndarray) -> np.ndarray:
        """Numbers k m, ..., k m + m - 1 of the streams of starts ``ids``: uniform in [0, 1), shape (len(ids), m)."""
        u = np.uint64(k * m % 2**64) + np.arange(1, m + 1, dtype=np.uint64)
        z = _splitmix64(self.keys[ids, None] + u[None, :] * _GOLDEN)
        return (z >> np.uint64(11)).astype(float) * 2.0**-53


def _seed_key(seed, name: str = "seed") -> np.uint64:
    if seed is not None:
        seed = checks.seed(name, seed)
    return np.random.SeedSequence(seed).generate_state(1, np.uint64)[0]


def sgd(landscape: FiniteSum, starts, step, n_steps: int = 500, *, batch_size: int = 1,
        seed: int | None = 0, record_every: int | None = 1, gtol: float = 1e-10,
        escape_radius: float | None = None) -> Path:
    """Minibatch SGD: x_{k+1} = x_k - a_k (1/b) sum_{i in B_k} grad f_i(x_k).

    Each start draws its own minibatch of ``batch_size`` distinct samples every step from its own
    random stream (:class:`StartStreams`: start i uses stream i of ``seed``, or stream 0 of
    ``seed[i]`` when ``seed`` gives one integer per start), so a start's run does not depend on
    the other starts in the batch, and the same seed gives the same runs. A start stops when
    the full gradient is <= gtol: with interpolation (a minimum every sample shares) SGD can
    settle there. A sum with its own per-sample gradients (``shifted_quadratics``) stops only
    where every sample's gradient is <= gtol, so without interpolation constant-step SGD keeps
    moving.
    """
    landscape = as_landscape(landscape)
    if not isinstance(landscape, FiniteSum):
        raise ValueError("sgd needs a finite-sum landscape (e.g. interpolating_quadratics(), "
                         f"sharp_flat_2d_sum()); got {landscape!r}")
    n = landscape.n_samples
    b = checks.integer("batch_size", batch_size, low=1, high=n)
    gtol2 = gtol_squared(gtol)
    streams = StartStreams(seed, as_starts(starts, landscape.dim).shape[0])
    # scaled copies c_i g: the minibatch gradient is the full one times a factor; any other
    # finite sum (e.g. shifted_quadratics) supplies its own per-sample gradients
    per_sample = type(landscape).sample_grad is not FiniteSum.sample_grad
    grad, params = landscape._grad_fn, landscape.params
    c_mean = landscape.weights.mean()

    def direction(k, x, ids):
        if b == n:
            idx = np.broadcast_to(np.arange(n), (ids.size, n))
        elif b == 1:
            idx = np.minimum(streams.uniform(k, 1, ids) * n, n - 1).astype(np.intp)
        else:
            idx = np.argpartition(streams.uniform(k, n, ids), b - 1, axis=1)[:, :b]
        if per_sample:
            return landscape.sample_grad(x, idx)
        c = landscape.weights[idx].mean(axis=1) / c_mean
        return c[:, None] * grad(x, **params)

    def at_rest(x, ids):
        """Where SGD stays put: every possible minibatch gradient vanishes. With b = n that is the
        full gradient; with b < n every sample's (for scaled copies c_i g, where grad g does);
        without interpolation, nowhere."""
        if per_sample and b < n:
            each = landscape.sample_grad(x[:, None, :], np.arange(n)[:, None])  # (batch, n, dim)
            return np.einsum("bnd,bnd->bn", each, each).max(axis=1) <= gtol2
        return row_sqnorm(np.asarray(grad(x, **params), dtype=float)) <= gtol2

    return iterate(landscape, starts, n_steps, step, direction, method=f"SGD (batch {b})",
                   record_every=record_every, gtol=gtol, escape_radius=escape_radius,
                   at_rest=at_rest)


def gradient_flow(landscape: Landscape, starts, t_max: float = 20.0, n_times: int = 201, *,
                  gtol: float = 1e-10, rtol: float = 1e-10, atol: float = 1e-12,
                  escape_radius: float | None = None, method: str = "DOP853") -> Path:
    """Gradient flow x'(t) = -grad f(x(t)) with scipy's solve_ivp, sampled on a time grid.

    The starts are integrated as one system. A start that leaves ``escape_radius`` (a blow-up
    in finite time) is flagged diverged at the time it crosses it (a terminal event) and stays
    at its exit point; the others are integrated on from there. Integration stops once
    |grad f| <= gtol at every start (the flow then stays put). A start whose gradient is NaN or
    inf is diverged (with that reason) at the first time the solver evaluated it there, and is
    held from where its gradient became undefined (up to one solver step); one the solver fails
    on is stalled (with the solver's message). ``times`` has ``n_times`` points in [0, t_max].
    Tolerances: 1e-13 <= rtol <= 1e-3, 1e-100 <= atol <= 1e-3 (:func:`checks.ode_tolerances`).
    """
    landscape = as_landscape(landscape)
    from scipy.integrate import solve_ivp

    if not getattr(landscape, "smooth", True):  # x' = -sign(x) chatters: the solver would never end
        raise ValueError(f"landscape must be differentiable for the gradient flow; {landscape.name!r} is "
                         "not (smooth=False): its discrete counterpart is reachkit.subgradient_method")
    x0 = as_starts(starts, landscape.dim)
    t_max = checks.real("t_max", t_max, positive=True)
    n_times = checks.integer("n_times", n_times, low=2)
    gtol = _gtol(gtol)  # 0: never stop early
    rtol, atol = checks.ode_tolerances(rtol, atol)
    method = checks.choice("method", method, _ODE_METHODS)
    radius = _escape_radius(landscape, escape_radius)
    B, dim = x0.shape
    implicit = method in _IMPLICIT
    checks.memory(f"the flow of {B} starts in {dim}-D sampled at {n_times} times"
                  + (f" with {method} (a dense {B * dim} x {B * dim} Jacobian)" if implicit else ""),
                  flow_bytes(B, dim, n_times, method),
                  "sample fewer times (n_times), " + ("use an explicit method (DOP853, RK45), " if implicit else "")
                  + "or run fewer starts: a start's flow does not depend on the others, so a batch can be "
                  "run in parts")
    times = np.linspace(0.0, t_max, n_times)
    if not np.all(np.diff(times) > 0):
        raise ValueError(f"t_max must be large enough for {n_times} distinct times (n_times) in [0, t_max]; "
                         f"got {t_max!r}")
    Y = np.empty((n_times, B, dim))
    status = np.full(B, "moving", dtype=object)
    reason = np.full(B, "", dtype=object)
    stopped_at = np.full(B, -1.0)
    grad, params = landscape._grad_fn, landscape.params
    first_bad = {}  # start -> (t, x) where its gradient was first NaN or inf
    last_t = [0.0]  # the latest time the solver looked at

    def settle(out, what, t, z, j, why=""):
        status[out], stopped_at[out], reason[out] = what, t, why
        Y[j:, out] = z

    def gradients(t, y, ids):
        z = y.reshape(-1, dim)
        g = _as_direction(grad(z, **params), z.shape, f"t = {t:.4g}")
        ok = np.isfinite(g).all(axis=1)
        if not ok.all():
            for i in np.flatnonzero(~ok):
                first_bad.setdefault(ids[i], (t, z[i].copy(), "nan" if np.isnan(g[i]).any() else "inf"))
            g = np.where(ok[:, None], g, 0.0)  # that start stops; it is flagged below
        return g

    def solve(ids, t0, y0, j0):
        def rhs(t, y):
            last_t[0] = t
            checks.progress(t / t_max)
            return -gradients(t, y, ids).ravel()

        def escape(t, y):
            return np.abs(y).max() - radius

        def settled(t, y):
            return np.sqrt(row_sqnorm(gradients(t, y, ids)).max()) - gtol

        escape.terminal, escape.direction, settled.terminal = True, 1.0, True
        return solve_ivp(rhs, (t0, t_max), y0.ravel(), method=method, t_eval=times[j0:],
                         rtol=rtol, atol=atol, events=(escape, settled))

    outside = np.abs(x0).max(axis=1) > radius
    settle(np.flatnonzero(outside), "diverged", 0.0, x0[outside], 0, escape_words(radius))
    work = [(np.flatnonzero(~outside), 0.0, x0[~outside], 0)] if not outside.all() else []
    long_work = checks.work(f"the gradient flow of {B} start{'s' * (B > 1)} to t = {t_max:g}",
                            "a smaller t_max, fewer starts or looser tolerances (rtol, atol)", bounded=False)
    with np.errstate(all="ignore"), long_work:
        while work:
            ids, t0, y0, j0 = work.pop()
            sol = solve(ids, t0, y0, j0)
            n = len(sol.t)  # (a list, not an array, when an event came before the first sample)
            j = j0 + n
            Y[j0:j, ids] = np.reshape(sol.y, (ids.size, dim, n)).transpose(2, 0, 1)  # a view: no copy
            if sol.status == 1 and sol.t_events[0].size:  # a start left the escape radius
                te, ze = sol.t_events[0][0], sol.y_events[0][0].reshape(-1, dim)
                reach = np.abs(ze).max(axis=1)
                out = reach >= radius * (1 - 1e-9)
                out[np.argmax(reach)] = True
                settle(ids[out], "diverged", te, ze[out], j, escape_words(radius))
                if not out.all() and j < n_times:
                    work.append((ids[~out], te, ze[~out], j))
            elif sol.status == 1:  # every start settled: the flow stays where it is
                Y[j:, ids] = sol.y_events[1][0].reshape(-1, dim)
            elif sol.status == -1:  # the solver gave up: split the starts to find the culprit
                tr, yr, jr = (times[j - 1], Y[j - 1, ids], j - 1) if j > j0 else (t0, y0, j0)
                if ids.size == 1:
                    settle(ids, "stalled", last_t[0], yr, j,
                           f"the ODE solver ({method}) failed: {sol.message}")
                else:
                    half = ids.size // 2
                    work += [(ids[:half], tr, yr[:half], jr), (ids[half:], tr, yr[half:], jr)]
    for i, (t, x, what) in first_bad.items():
        settle(i, "diverged", t, x, int(np.searchsorted(times, t)),
               f"the gradient function returned {what} at t = {t:.4g}, at x = {_point(x)}")
    final = Y[-1].copy()
    with np.errstate(all="ignore"):
        gnorm = np.linalg.norm(landscape.grad(final), axis=1)
    # converged: the gradient vanished, or the end point sits on a listed critical point to the
    # accuracy the solver was asked for (loose tolerances cannot reach a 1e-8 gradient test)
    near = max(1e-8, 10 * rtol)
    at_listed = _distance_to_listed(landscape, final) <= near * (1 + np.abs(final).max(axis=1))
    conv = (status == "moving") & ((gnorm <= max(gtol, 1e-8)) | at_listed)
    status[conv] = "converged"
    only_near = conv & ~(gnorm <= max(gtol, 1e-8))  # still moving, within the solver's accuracy
    reason[only_near] = [f"|grad f| = {g:.3g}: within {near:g} (10 rtol, relative), the solver's accuracy"
                         for g in gnorm[only_near]]
    if conv.any():
        with np.errstate(under="ignore"):
            below = np.linalg.norm(Y[:, conv] - final[conv], axis=2) <= 1e-9 * (1 + np.abs(final[conv]).max(axis=1))
        stopped_at[conv] = times[np.argmax(below, axis=0)]
    return _make_path(landscape, "gradient flow", "continuous time", Y, times,
                      np.full((n_times, B), np.nan), final, status, stopped_at,
                      np.zeros(B, dtype=int), reason, n_times - 1, f"max(gtol, 1e-8) = {max(gtol, 1e-8):g}",
                      near * (1 + float(np.abs(final[only_near]).max(initial=0.0))))
