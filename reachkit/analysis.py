"""Reading paths and landscapes: sharpness, 2/sharpness thresholds, critical points, basin maps,
bifurcation diagrams, where ensembles of runs end, and ``reach`` (the reachability theorem made
constructive: a start from which the chosen dynamics converges to a chosen critical point).
"""

from __future__ import annotations

import os
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from functools import partial

import numpy as np

from .dynamics import Path, concatenate_paths, gradient_descent, gradient_flow, label_limits
from .landscapes import CriticalPoint, Landscape, _as_points
from .schedules import Constant, as_schedule


# ----------------------------------------------------------------------------------------------
# Curvature
# ----------------------------------------------------------------------------------------------
def sharpness(landscape: Landscape, x) -> np.ndarray:
    """lambda_max(Hessian f(x)), the largest Hessian eigenvalue, for x of shape (..., dim)."""
    return np.linalg.eigvalsh(landscape.hess(x))[..., -1]


def stability_threshold(landscape: Landscape, x) -> np.ndarray:
    """2 / sharpness: constant-step GD is linearly unstable at a minimum x once the step exceeds it.

    The linearisation e_{k+1} = (I - a H) e_k has |1 - a lambda_max| > 1 exactly when
    a > 2 / lambda_max. Returns inf where the sharpness is <= 0.
    """
    lam = np.asarray(sharpness(landscape, x), dtype=float)
    with np.errstate(divide="ignore"):
        return np.where(lam > 0, 2.0 / np.where(lam > 0, lam, 1.0), np.inf)


def minima_thresholds(landscape: Landscape) -> list[tuple[str, float, float]]:
    """For each listed minimum: (label, sharpness, 2 / sharpness)."""
    out = []
    for c in landscape.minima():
        lam = float(sharpness(landscape, c.x))
        out.append((c.label, lam, 2.0 / lam if lam > 0 else np.inf))
    return out


def classify(landscape: Landscape, x, tol: float = 1e-8) -> str:
    """Classify a critical point by its Hessian eigenvalues: minimum / saddle / maximum / degenerate."""
    eig = np.linalg.eigvalsh(landscape.hess(_as_points(x, landscape.dim)))
    scale = tol * max(1.0, float(np.max(np.abs(eig))))
    if np.any(np.abs(eig) <= scale):
        return "degenerate"
    if np.all(eig > 0):
        return "minimum"
    if np.all(eig < 0):
        return "maximum"
    return "saddle"


def find_critical_points(landscape: Landscape, n_starts: int = 400, seed: int = 0,
                         newton_steps: int = 60, gtol: float = 1e-9) -> list[CriticalPoint]:
    """Critical points found numerically: Newton on grad f = 0 from many random starts in the
    plotting bounds (least-squares steps where the Hessian is singular), deduplicated, classified."""
    rng = np.random.default_rng(seed)
    lo, hi = landscape.bounds[:, 0], landscape.bounds[:, 1]
    x = rng.uniform(lo, hi, size=(n_starts, landscape.dim))
    with np.errstate(all="ignore"):
        for _ in range(newton_steps):
            g, H = landscape.grad(x), landscape.hess(x)
            ok = np.all(np.isfinite(H), axis=(1, 2)) & np.all(np.isfinite(g), axis=1)
            x[~ok] = np.nan
            x[ok] = x[ok] - (np.linalg.pinv(H[ok]) @ g[ok][..., None])[..., 0]
        ok = np.all(np.isfinite(x), axis=1)
        ok[ok] &= np.linalg.norm(landscape.grad(x[ok]), axis=1) <= gtol * (1 + np.abs(x[ok]).max(axis=1))
    pad = 0.05 * (hi - lo)
    ok[ok] &= np.all((x[ok] >= lo - pad) & (x[ok] <= hi + pad), axis=1)
    found: list[np.ndarray] = []
    for p in x[ok]:
        if all(np.linalg.norm(p - q) > 1e-6 * (1 + np.linalg.norm(q)) for q in found):
            found.append(p)
    found.sort(key=lambda p: tuple(p))
    out = []
    for p in found:
        kind = classify(landscape, p)
        idx, labels = label_limits(landscape, p[None], tol=1e-6)
        label = labels[0] if idx[0] >= 0 else kind
        out.append(CriticalPoint(p, kind, label))
    return out


# ----------------------------------------------------------------------------------------------
# Basin maps, bifurcations, ensembles
# ----------------------------------------------------------------------------------------------
@dataclass
class BasinMap:
    """``labels[i, j]`` is the index into ``names`` of where the start (xs[j], ys[i]) ended.

    For 1-D landscapes ``ys`` is None and ``labels`` has shape (n,). ``names`` lists the listed
    critical points' labels, then "diverged", "cycling", "stalled", "moving", "other critical point".
    """

    xs: np.ndarray
    ys: np.ndarray | None
    labels: np.ndarray
    names: list[str]
    path: Path

    def fraction(self, name: str) -> float:
        return float(np.mean(self.labels == self.names.index(name)))


OUTCOMES = ("diverged", "cycling", "stalled", "moving", "other critical point")


def basin_map(landscape: Landscape, step=0.04, n: int = 256, n_steps: int = 1000, *,
              bounds=None, method: str = "gd", t_max: float = 30.0, gtol: float = 1e-8) -> BasinMap:
    """Where GD (or the flow, ``method="flow"``) from every start of an n (x n) grid ends.

    One batched run over all grid points (not a Python loop over pixels), keeping only the
    final points.
    """
    if landscape.dim not in (1, 2):
        raise ValueError(f"basin_map is for 1-D and 2-D landscapes; this one has dim={landscape.dim}")
    if isinstance(n, bool) or not isinstance(n, (int, np.integer)) or n < 2:
        raise ValueError(f"n (grid points per axis) must be an integer >= 2; got {n!r}")
    grid = landscape.grid(n, bounds)
    pts = grid[-1].reshape(-1, landscape.dim)
    if method == "gd":
        path = _gd_in_threads(landscape, pts, step, n_steps, gtol)
    elif method == "flow":
        path = gradient_flow(landscape, pts, t_max, 2, gtol=gtol, rtol=1e-6, atol=1e-9)
    else:
        raise ValueError(f"method must be 'gd' or 'flow'; got {method!r}")
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
    with ThreadPoolExecutor(n_workers) as pool:
        parts = list(pool.map(run, np.array_split(pts, n_workers)))
    return concatenate_paths(parts)


@dataclass
class Bifurcation:
    """Long-run orbit points of 1-D GD: ``points[i]`` are the last iterates at step ``steps[i]``."""

    steps: np.ndarray
    points: np.ndarray  # (n_steps_values, n_starts * n_keep)


def bifurcation(landscape: Landscape, steps, starts=(-0.95,), n_transient: int = 2000,
                n_keep: int = 64) -> Bifurcation:
    """Orbit diagram of the 1-D GD map x -> x - a f'(x): for each step a, the iterates after
    ``n_transient`` steps, one batched run over all (step, start) pairs."""
    if landscape.dim != 1:
        raise ValueError(f"bifurcation is for 1-D landscapes; this one has dim={landscape.dim}")
    a = np.asarray(steps, dtype=float).ravel()
    x0 = np.asarray(starts, dtype=float).ravel()
    A = np.repeat(a, x0.size)
    X0 = np.tile(x0, a.size)[:, None]
    path = gradient_descent(landscape, X0, Constant(A), n_transient + n_keep, gtol=0.0)
    tail = path.iterates[-n_keep:, :, 0]  # (n_keep, n_a * n_x0)
    pts = tail.T.reshape(a.size, x0.size * n_keep)
    pts = np.where(path.status.reshape(a.size, x0.size).repeat(n_keep, axis=1) == "diverged",
                   np.nan, pts)
    return Bifurcation(a, pts)


@dataclass
class LimitSummary:
    """Where an ensemble of runs ended: fraction per outcome and the sharpness of each limit."""

    fractions: dict[str, float]
    limit_sharpness: np.ndarray  # sharpness at the limit of every converged run
    n_runs: int


def summarize_limits(landscape: Landscape, path: Path) -> LimitSummary:
    conv = path.status == "converged"
    lam = sharpness(landscape, path.final[conv]) if conv.any() else np.empty(0)
    return LimitSummary(path.fractions(), np.asarray(lam), path.batch)
