"""Adaptive optimizers as practitioners use them: heavy-ball momentum, RMSProp and Adam.

Each function runs from a batch of starts ``(batch, dim)`` (or one start ``(dim,)``) with the same
loop as :func:`reachkit.gradient_descent` (divergence detection, cycle detection, recording) and
returns an :class:`OptimizerPath`: a :class:`reachkit.Path` that also records the optimizer's
diagonal preconditioner. Every start keeps its own optimizer state (momentum, squared-gradient
average), so one call runs a whole grid of starts as independent training runs.

Notation: g_k = grad f(x_k), a_k the learning rate (``lr``: a number, one number per start, or a
fixed schedule such as ``reachkit.power(a0, p)``), products and square roots coordinate-wise.

    momentum   b_{k+1} = mu b_k + g_k,                           x_{k+1} = x_k - a_k b_{k+1}
    RMSProp    v_{k+1} = rho v_k + (1 - rho) g_k^2,              x_{k+1} = x_k - a_k g_k / (sqrt(v_{k+1}) + eps)
    Adam       m_{k+1} = beta1 m_k + (1 - beta1) g_k,  v_{k+1} = beta2 v_k + (1 - beta2) g_k^2,
               x_{k+1} = x_k - a_k mhat / (sqrt(vhat) + eps),  mhat = m_{k+1} / (1 - beta1^{k+1}),
                                                              vhat = v_{k+1} / (1 - beta2^{k+1})

with b_0 = m_0 = v_0 = 0 (the conventions of PyTorch's SGD(momentum), RMSprop and Adam).

Linear stability (a quadratic with Hessian H, the preconditioner P^{-1} frozen): the iteration is
stable iff a * lambda_max(P^{-1/2} H P^{-1/2}) < :func:`stability_constant` (2 for GD and RMSProp,
2 (1 + mu) for momentum, 2 (1 + beta1) / (1 - beta1) = 38 for Adam with beta1 = 0.9).
lambda_max(P^{-1/2} H P^{-1/2}) is the *preconditioned sharpness* (:func:`preconditioned_sharpness`);
Cohen et al. (2022) observed that Adam trains networks with it hovering near 38 / a.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from . import checks, dynamics
from . import methods as _methods
from .dynamics import Path
from .landscapes import as_landscape
from .schedules import Schedule, as_schedule

__all__ = ["OptimizerPath", "METHODS", "momentum", "rmsprop", "adam", "run", "basin_map",
           "limits_table", "stability_constant", "preconditioned_sharpness", "SharpnessTrace",
           "track_sharpness"]

#: method key -> name shown to the reader (from the registry, :mod:`reachkit.methods`)
METHODS = {k: _methods.METHODS[k].name for k in ("gd", "momentum", "rmsprop", "adam")}


@dataclass
class OptimizerPath(Path):
    """A :class:`reachkit.Path` with the optimizer's diagonal preconditioner.

    ``preconditioner`` (n_rec, batch, dim): the diagonal of P_k^{-1}, the factor by which the
    learning rate is multiplied coordinate-wise when leaving iterate k: 1 / (sqrt(vhat_k) + eps)
    for Adam, 1 / (sqrt(v_{k+1}) + eps) for RMSProp, 1 for momentum. None when the run kept only
    its final point (``record_every=None``). ``stability`` is :func:`stability_constant` for the
    optimizer and its parameters.
    """

    preconditioner: np.ndarray | None = None
    stability: float = 2.0

    def effective_step(self) -> np.ndarray:
        """a_k * diag(P_k^{-1}): the per-coordinate step, shape (n_rec, batch, dim); NaN once a
        start has stopped."""
        if self.preconditioner is None:
            raise ValueError("this run kept only its final point (record_every=None): no preconditioner record")
        return self.step_sizes[:, :, None] * self.preconditioner


def stability_constant(optimizer: str = "gd", *, mu: float = 0.9, beta1: float = 0.9) -> float:
    """C such that the optimizer is linearly stable on a quadratic iff a * lambda < C.

    lambda is the (preconditioned) sharpness. "gd" and "rmsprop": 2; "momentum" (b = mu b + g):
    2 (1 + mu); "adam": 2 (1 + beta1) / (1 - beta1). From the characteristic polynomial
    z^2 - (1 + beta - c) z + beta of the linearised two-step recursion (c = a lambda for momentum,
    a (1 - beta1) lambda for Adam's average), whose roots lie in the unit disc iff 0 < c < 2 (1 + beta).
    """
    if optimizer not in METHODS:
        raise ValueError(f"optimizer must be 'gd', 'momentum', 'rmsprop' or 'adam'; got {optimizer!r}")
    options = {"momentum": {"mu": _unit(mu, "mu", closed=True)},
               "adam": {"beta1": _unit(beta1, "beta1", closed=True)}}.get(optimizer, {})
    return _methods.METHODS[optimizer].stability(**options)  # the registry's C


def _unit(value, name: str, closed: bool = False) -> float:
    """A number in [0, 1) (closed=True) or (0, 1)."""
    return checks.real(name, value, low=0.0, high=1.0, low_open=not closed, high_open=True)


def _eps(value) -> float:
    return checks.real("eps", value, positive=True)


def _lr(lr) -> Schedule:
    """The learning rate as a fixed schedule (adaptive line searches make no sense here)."""
    try:
        sched = as_schedule(lr)
    except (TypeError, ValueError) as e:
        raise type(e)(f"lr must be finite and positive (a number, one number per start, or a "
                      f"fixed schedule); got {lr!r}") from None
    if sched.adaptive:
        raise ValueError(f"lr must be a number, one number per start, or a fixed schedule such as "
                         f"reachkit.power(a0, p); got the adaptive rule {sched}")
    return sched


def _run(landscape, starts, lr, n_steps, update, init_state, *, method, stability, record_every,
         gtol, escape_radius) -> OptimizerPath:
    """The shared loop: ``update(k, g, state, ids)`` returns (direction, diag P^{-1}) for the running
    starts ``ids`` and updates their rows of ``state`` in place."""
    sched = _lr(lr)
    x0 = dynamics.as_starts(starts, landscape.dim)
    gtol2 = dynamics.gtol_squared(gtol)
    n = checks.integer("n_steps", n_steps, low=0)
    every = None if record_every is None else checks.integer("record_every", record_every, low=1)
    state = {name: np.zeros_like(x0) for name in init_state}
    pinv = np.ones_like(x0)  # diag P^{-1} of each start, as last used
    n_rec = 0 if every is None else n // every + 1 + (n % every > 0)  # the rows dynamics records
    dynamics.check_run_size(n_rec, n, *x0.shape, also=("preconditioner",))
    pre = np.empty((n_rec,) + x0.shape)
    written = [0]  # rows of pre filled so far
    grad, params = landscape._grad_fn, landscape.params

    def direction(k, x, ids):
        g = np.asarray(grad(x, **params), dtype=float)
        d, p = update(k, g, state, ids)
        pinv[ids] = p
        if every is not None and (k % every == 0 or k == n):
            row = n_rec - 1 if k == n else k // every
            pre[row], written[0] = pinv, row + 1
        # converged means |grad f| <= gtol (not a small update): zero the update there
        d[dynamics.row_sqnorm(g) <= gtol2] = 0.0
        return d

    path = dynamics.iterate(landscape, x0, n, sched, direction, method=method, record_every=every,
                            gtol=0.0, escape_radius=escape_radius)
    pre[written[0]:] = pinv  # every start had stopped: each keeps its last preconditioner
    fields = {f: getattr(path, f) for f in Path.__dataclass_fields__}
    return OptimizerPath(**fields, preconditioner=pre if every is not None else None, stability=stability)


def momentum(landscape, starts, lr, n_steps: int = 500, *, mu: float = 0.9,
             record_every: int | None = 1, gtol: float = 1e-10,
             escape_radius: float | None = None) -> OptimizerPath:
    """Heavy-ball momentum (PyTorch's ``SGD(momentum=mu)``, full batch), from every start::

        b_{k+1} = mu b_k + grad f(x_k),   x_{k+1} = x_k - a_k b_{k+1},   b_0 = 0.

    With a constant step this is Polyak's x_{k+1} = x_k - a grad f(x_k) + mu (x_k - x_{k-1}).
    Linearly stable at a minimum of sharpness lambda iff a lambda < 2 (1 + mu). A start stops
    (converged) once |grad f| <= gtol; ``lr``: a number, one per start, or a fixed schedule.
    """
    landscape = as_landscape(landscape)
    mu = _unit(mu, "mu", closed=True)

    def update(k, g, s, ids):
        b = mu * s["b"][ids] + g
        s["b"][ids] = b
        return b.copy(), 1.0

    return _run(landscape, starts, lr, n_steps, update, ("b",), method=f"momentum (mu {mu:g})",
                stability=stability_constant("momentum", mu=mu), record_every=record_every,
                gtol=gtol, escape_radius=escape_radius)


def rmsprop(landscape, starts, lr, n_steps: int = 500, *, rho: float = 0.99, eps: float = 1e-8,
            record_every: int | None = 1, gtol: float = 1e-10,
            escape_radius: float | None = None) -> OptimizerPath:
    """RMSProp (Tieleman & Hinton 2012; PyTorch's ``RMSprop(alpha=rho)``), from every start::

        v_{k+1} = rho v_k + (1 - rho) g_k^2,   x_{k+1} = x_k - a_k g_k / (sqrt(v_{k+1}) + eps),

    v_0 = 0, no bias correction: the first step is a_0 g_0 / (sqrt(1 - rho) |g_0| + eps), about
    a_0 / sqrt(1 - rho) = 10 a_0 per coordinate for rho = 0.99 (a known surprise in practice).
    ``lr``: a number, one per start, or a fixed schedule; a start stops once |grad f| <= gtol.
    """
    landscape = as_landscape(landscape)
    rho, eps = _unit(rho, "rho"), _eps(eps)

    def update(k, g, s, ids):
        v = rho * s["v"][ids] + (1.0 - rho) * g * g
        s["v"][ids] = v
        p = 1.0 / (np.sqrt(v) + eps)
        return g * p, p

    return _run(landscape, starts, lr, n_steps, update, ("v",), method=f"RMSProp (rho {rho:g})",
                stability=stability_constant("rmsprop"), record_every=record_every, gtol=gtol,
                escape_radius=escape_radius)


def adam(landscape, starts, lr, n_steps: int = 500, betas=(0.9, 0.999), eps: float = 1e-8, *,
         record_every: int | None = 1, gtol: float = 1e-10,
         escape_radius: float | None = None) -> OptimizerPath:
    """Adam (Kingma & Ba 2015, full batch), from every start::

        m_{k+1} = beta1 m_k + (1 - beta1) g_k,      v_{k+1} = beta2 v_k + (1 - beta2) g_k^2,
        mhat = m_{k+1} / (1 - beta1^{k+1}),         vhat = v_{k+1} / (1 - beta2^{k+1}),
        x_{k+1} = x_k - a_k mhat / (sqrt(vhat) + eps),   m_0 = v_0 = 0.

    The first step is a_0 g_0 / (|g_0| + eps), about a_0 sign(g_0): each coordinate moves by the
    learning rate whatever the curvature. ``lr``: a number, one per start, or a fixed schedule.
    A start stops (converged) once |grad f| <= gtol; with a constant lr Adam usually keeps
    oscillating near a minimum instead (its preconditioned sharpness hovers near 38 / lr).
    """
    landscape = as_landscape(landscape)
    try:
        b1, b2 = betas
    except (TypeError, ValueError):
        raise ValueError(f"betas must be a pair (beta1, beta2); got {betas!r}") from None
    b1, b2, eps = _unit(b1, "betas[0] (beta1)", closed=True), _unit(b2, "betas[1] (beta2)"), _eps(eps)

    def update(k, g, s, ids):
        m = b1 * s["m"][ids] + (1.0 - b1) * g
        v = b2 * s["v"][ids] + (1.0 - b2) * g * g
        s["m"][ids], s["v"][ids] = m, v
        p = 1.0 / (np.sqrt(v / (1.0 - b2 ** (k + 1))) + eps)
        return (m / (1.0 - b1 ** (k + 1))) * p, p

    return _run(landscape, starts, lr, n_steps, update, ("m", "v"),
                method=f"Adam (betas {b1:g}, {b2:g})", stability=stability_constant("adam", beta1=b1),
                record_every=record_every, gtol=gtol, escape_radius=escape_radius)


# ----------------------------------------------------------------------------------------------
# One entry point, basin maps, tables
# ----------------------------------------------------------------------------------------------
def run(landscape, starts, method: str = "adam", lr=0.1, n_steps: int = 1000, **options) -> Path:
    """Run ``method`` ("gd", "momentum", "rmsprop" or "adam") with learning rate ``lr``.

    ``options`` go to the method (``betas``, ``eps``, ``mu``, ``rho``, ``record_every``, ``gtol``,
    ``escape_radius``). For "gd", ``lr`` may also be an adaptive schedule (``reachkit.armijo()``,
    ``reachkit.polyak()``) and the result is a plain :class:`reachkit.Path`.
    """
    landscape = as_landscape(landscape)
    if method == "gd":
        return dynamics.gradient_descent(landscape, starts, lr, n_steps, **options)
    funcs = {"momentum": momentum, "rmsprop": rmsprop, "adam": adam}
    if method not in funcs:
        raise ValueError(f"method must be one of {tuple(METHODS)}; got {method!r}")
    return funcs[method](landscape, starts, lr, n_steps, **options)


def basin_map(landscape, method: str = "adam", lr=0.1, n: int = 48, n_steps: int = 2000, *,
              bounds=None, **options):
    """Where ``method`` ends from every start of an n x n grid over the landscape's bounds.

    The same result type as :func:`reachkit.basin_map` (a :class:`reachkit.analysis.BasinMap`),
    so :func:`reachkit.plotting.draw_basins` draws it. One batched run over all grid points.
    """
    landscape = as_landscape(landscape)
    from .analysis import OUTCOMES, BasinMap

    if landscape.dim != 2:
        raise ValueError(f"basin_map here is for 2-D landscapes; this one has dim={landscape.dim}")
    if isinstance(n, bool) or not isinstance(n, (int, np.integer)) or n < 2:
        raise ValueError(f"n (grid points per axis) must be an integer >= 2; got {n!r}")
    X, Y, pts = landscape.grid(n, bounds)
    options.setdefault("gtol", 1e-8)
    path = run(landscape, pts.reshape(-1, 2), method, lr, n_steps, record_every=None, **options)
    cps = landscape.critical_points()
    names = [c.label for c in cps] + list(OUTCOMES)
    labels = np.where(path.limit_index >= 0, path.limit_index, len(cps) + len(OUTCOMES) - 1)
    for j, s in enumerate(OUTCOMES[:-1]):
        labels = np.where(path.status == s, len(cps) + j, labels)
    return BasinMap(X[0], Y[:, 0], labels.reshape(n, n), names, path)


def limits_table(landscape, paths: dict) -> str:
    """A plain-text table: for each named run (a Path over many starts), the share of starts per
    outcome and the sharpness of the limits reached (:func:`reachkit.summarize_limits`)."""
    landscape = as_landscape(landscape)
    from .analysis import summarize_limits

    sums = {name: summarize_limits(landscape, p) for name, p in paths.items()}
    seen = {k for s in sums.values() for k in s.fractions}
    minima = [m.label for m in landscape.minima() if m.label in seen]
    cols = minima + sorted(seen - set(minima))
    w = max(len(str(n)) for n in paths) + 2
    head = "".ljust(w) + "".join(c[:16].rjust(17) for c in cols) + "   sharpness of the limits"
    rows = [head]
    for name, s in sums.items():
        lam = np.unique(np.round(s.limit_sharpness, 3))
        lam_txt = ", ".join(f"{v:g}" for v in lam) if lam.size else "-"
        rows.append(str(name).ljust(w) + "".join(f"{s.fractions.get(c, 0.0):17.0%}" for c in cols)
                    + "   " + lam_txt)
    return "\n".join(rows)


# ----------------------------------------------------------------------------------------------
# Sharpness seen by a preconditioned method
# ----------------------------------------------------------------------------------------------
def preconditioned_sharpness(landscape, x, preconditioner, **eig_options) -> float:
    """lambda_max(D^{1/2} H(x) D^{1/2}) with D = diag(preconditioner) (= diag P^{-1}).

    Same spectrum as P^{-1} H. With ``preconditioner`` all ones this is the plain sharpness.
    Small landscapes (with ``hess``) use the dense Hessian; networks (with ``hvp``) use Lanczos
    on Hessian-vector products (:func:`reachkit.network.top_eigenvalue`, options passed on).
    """
    landscape = as_landscape(landscape)
    x = np.asarray(x, dtype=float)
    d = np.asarray(preconditioner, dtype=float)
    if x.shape != (landscape.dim,) or d.shape != (landscape.dim,):
        raise ValueError(f"x and preconditioner must have shape ({landscape.dim},); "
                         f"got {x.shape} and {d.shape}")
    if not (np.all(np.isfinite(d)) and np.all(d > 0)):
        raise ValueError("preconditioner must be finite and positive")
    scale = float(d.max())  # lambda_max(D^1/2 H D^1/2) = scale lambda_max((D/scale)^1/2 H (D/scale)^1/2):
    r = np.sqrt(d / scale)  # no overflow inside; a huge result is inf, not NaN
    if hasattr(landscape, "hvp"):
        from .network import top_eigenvalue
        lam = top_eigenvalue(lambda v: r * landscape.hvp(x, r * v), landscape.dim, **eig_options)[0]
    else:
        lam = np.linalg.eigvalsh(r[:, None] * landscape.hess(x) * r[None, :])[-1]
    with np.errstate(over="ignore"):
        return float(scale * lam)


@dataclass
class SharpnessTrace:
    """Sharpness along a recorded run: at ``iterations``, the plain sharpness lambda_max(H) and the
    preconditioned one lambda_max(P^{-1} H); ``limit`` = stability constant / lr (the line they
    are compared with: 2/lr for GD, 38/lr for Adam with beta1 = 0.9)."""

    iterations: np.ndarray
    sharpness: np.ndarray
    preconditioned: np.ndarray
    limit: np.ndarray


def track_sharpness(landscape, path: OptimizerPath, every: int = 10, i: int = 0,
                    tol: float = 1e-4) -> SharpnessTrace:
    """Plain and preconditioned sharpness of start i every ``every`` recorded iterates.

    For networks each Lanczos call is warm-started from the previous eigenvector.
    """
    landscape = as_landscape(landscape)
    if not isinstance(path, OptimizerPath) or path.preconditioner is None:
        raise ValueError("path must be an OptimizerPath with a recorded preconditioner "
                         "(run with record_every set)")
    every = checks.integer("every", every, low=1)
    rows = np.unique(np.r_[np.arange(0, len(path.times), every), len(path.times) - 1])
    rows = rows[np.isfinite(path.step_sizes[rows, i])]
    net = hasattr(landscape, "hvp")
    if net:
        from .network import top_eigenvalue
    out = np.empty((2, rows.size))
    vecs = [None, None]
    for j, r in enumerate(rows):
        x = path.iterates[r, i]
        for which, d in enumerate((np.ones(landscape.dim), path.preconditioner[r, i])):
            if net:
                s = np.sqrt(d)
                out[which, j], vecs[which] = top_eigenvalue(
                    lambda v, s=s, x=x: s * landscape.hvp(x, s * v), landscape.dim, tol=tol,
                    v0=vecs[which], ncv=10)
            else:
                out[which, j] = preconditioned_sharpness(landscape, x, d)
    lim = path.stability / path.step_sizes[rows, i]
    return SharpnessTrace(path.times[rows], out[0], out[1], lim)
