"""One registry of the dynamics methods: what a method is, written once.

Each :class:`Method` says how it is named and drawn (``name``, ``color``, ``marker``), how it runs
(``run(landscape, starts, schedule, n_steps, **options) -> Path``; ``batched``: a constant step
may be an array, one step per start, so a whole step fan is one call), its linear-stability
constant C (at a minimum of sharpness lambda, a constant step a > C / lambda is linearly
unstable), its options and the landscapes it needs. The explorers, their read-outs, the plots
and the exports look methods up here (``METHODS[key]``) instead of listing them.

    C = 2 for GD (x_{k+1} = x_k - a grad f; on a quadratic the error is multiplied by 1 - a lambda)
    C = 2 (1 + mu) for heavy-ball momentum (roots of z^2 - (1 + mu - a lambda) z + mu in the unit disc)
    C = 2 and 2 (1 + beta1) / (1 - beta1) for RMSProp and Adam, against the preconditioned sharpness

Colours are the Okabe-Ito palette (Okabe & Ito 2008, readable with the common colour-vision
deficiencies). numpy only: no matplotlib here.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable

import numpy as np

from . import checks, dynamics, schedules

__all__ = ["OKABE_ITO", "Method", "Option", "METHODS", "method", "key_of", "horizon", "basin_map"]

OKABE_ITO = {
    "orange": "#E69F00", "sky blue": "#56B4E9", "bluish green": "#009E73", "yellow": "#F0E442",
    "blue": "#0072B2", "vermillion": "#D55E00", "reddish purple": "#CC79A7", "black": "#000000",
}


@dataclasses.dataclass(frozen=True)
class Option:
    """A numeric option of a method (an explorer shows it as a control): ``kind`` "real",
    "integer" or "seed"; ``high`` may be a function of the landscape (SGD's batch size)."""

    name: str
    kind: str
    default: float
    label: str
    help: str
    low: float | None = None
    high: float | Callable | None = None

    def upper(self, landscape):
        if callable(self.high):
            return None if landscape is None else self.high(landscape)
        return self.high

    def check(self, value, landscape=None):
        """``value`` checked by kind and range; without a landscape, a bound that depends on it is open."""
        if self.kind == "real":
            return checks.real(self.name, value, low=self.low, high=self.upper(landscape))
        if self.kind == "seed":
            return checks.seed(self.name, value)
        return checks.integer(self.name, value, low=self.low, high=self.upper(landscape))


@dataclasses.dataclass(frozen=True)
class Method:
    """One dynamics method. ``run(landscape, starts, schedule, n_steps, **options)`` returns a
    :class:`~reachkit.dynamics.Path` (options: those in ``options`` plus ``record_every`` and
    ``gtol``); ``stability(**options)`` is C; ``has_step`` is False for the flow (no step size);
    ``needs`` "smooth" or "finite sum" (or ""); ``random``: the path depends on a seed."""

    key: str
    name: str
    color: str
    marker: str
    run: Callable = dataclasses.field(repr=False)
    batched: bool = False
    stability: Callable = dataclasses.field(default=lambda **_: 2.0, repr=False)
    options: tuple = ()
    needs: str = ""
    has_step: bool = True
    random: bool = False
    schedules: tuple = ("constant", "power", "armijo")  # the step rules it accepts
    path_names: tuple = ()  # how its Path's ``method`` begins (see :func:`key_of`)
    cost: float = 3e-5  # first estimate of the seconds per step of one start (an explorer measures it)
    grid_cost: float = 4e-8  # ... and per step and start of a large batch (a basin map)

    def name_on(self, landscape) -> str:
        """The name shown for this method on ``landscape`` (GD on a nonsmooth one is the subgradient method)."""
        return "subgradient method" if self.key == "gd" and not landscape.smooth else self.name

    def available(self, landscape) -> bool:
        """Whether the method can run on ``landscape``."""
        from .landscapes import FiniteSum

        return {"": True, "smooth": landscape.smooth, "finite sum": isinstance(landscape, FiniteSum)}[self.needs]

    def why_not(self, landscape) -> str:
        return {"smooth": f"{self.name} needs a smooth landscape",
                "finite sum": f"{self.name} needs a finite-sum landscape (e.g. landscapes.sharp_flat_2d_sum())"
                }.get(self.needs, "")

    def defaults(self) -> dict:
        return {o.name: o.default for o in self.options}

    def threshold(self, lam: float, **options) -> float:
        """C / lambda: constant steps above it are linearly unstable at a minimum of sharpness lambda."""
        return self.stability(**options) / lam if lam > 0 else float("inf")

    def constant(self, **options) -> str:
        """C as written in a read-out: "2", "2(1 + μ) = 3.8"."""
        c = self.stability(**options)
        formula = {"momentum": "2(1 + μ)", "adam": "2(1 + β1)/(1 − β1)"}.get(self.key)
        return f"{formula} = {c:.4g}" if formula else f"{c:g}"


def horizon(schedule, n_steps: int) -> float:
    """The time the flow runs to be compared with n_steps steps of ``schedule``: the total of the
    steps (n a for a constant step; n a0 for an adaptive rule, whose steps are not known ahead)."""
    if isinstance(schedule, schedules.PowerDecay):
        return schedule.total(n_steps)
    a = schedule.a if isinstance(schedule, schedules.Constant) else getattr(schedule, "a0", 0.05)
    return n_steps * float(np.max(a))


def _gd(landscape, starts, schedule, n_steps, **kw):
    run = dynamics.gradient_descent if landscape.smooth else dynamics.subgradient_method
    return run(landscape, starts, schedule, n_steps, **kw)


def _sgd(landscape, starts, schedule, n_steps, *, batch_size=1, seed=0, **kw):
    return dynamics.sgd(landscape, starts, schedule, n_steps, batch_size=batch_size, seed=seed, **kw)


def _flow(landscape, starts, schedule, n_steps, *, record_every=1, gtol=1e-10):
    n_times = n_steps + 1 if record_every is not None else 2
    return dynamics.gradient_flow(landscape, starts, t_max=horizon(schedule, n_steps), n_times=n_times, gtol=gtol)


def _momentum(landscape, starts, schedule, n_steps, *, mu=0.9, **kw):
    from . import optimizers

    return optimizers.momentum(landscape, starts, schedule, n_steps, mu=mu, **kw)


def _momentum_constant(mu=0.9, **_):
    return 2.0 * (1.0 + mu)


def _rmsprop(landscape, starts, schedule, n_steps, *, rho=0.99, **kw):
    from . import optimizers

    return optimizers.rmsprop(landscape, starts, schedule, n_steps, rho=rho, **kw)


def _adam(landscape, starts, schedule, n_steps, *, beta1=0.9, beta2=0.999, **kw):
    from . import optimizers

    return optimizers.adam(landscape, starts, schedule, n_steps, betas=(beta1, beta2), **kw)


def _adam_constant(beta1=0.9, **_):
    return 2.0 * (1.0 + beta1) / (1.0 - beta1)


def _n_samples(landscape):
    return getattr(landscape, "n_samples", 1)


_OI = OKABE_ITO
#: key -> Method, in the order the explorers offer them
METHODS: dict[str, Method] = {m.key: m for m in (
    Method("gd", "GD", _OI["vermillion"], "circle", _gd, batched=True,
           path_names=("gradient descent", "subgradient method"), grid_cost=2e-8),
    Method("sgd", "SGD", _OI["blue"], "square", _sgd, needs="finite sum", random=True, path_names=("SGD",),
           cost=8e-5, options=(
               Option("batch_size", "integer", 1, "batch", "SGD minibatch size", low=1, high=_n_samples),
               Option("seed", "seed", 0, "seed", "random seed of the SGD minibatches"))),
    Method("flow", "gradient flow", _OI["bluish green"], "diamond", _flow, needs="smooth", has_step=False,
           path_names=("gradient flow",), cost=8e-5, grid_cost=2e-6),
    Method("momentum", "momentum", _OI["reddish purple"], "triangle", _momentum, batched=True,
           stability=_momentum_constant, needs="smooth", schedules=("constant", "power"),
           path_names=("momentum",), cost=5e-5, options=(
               Option("mu", "real", 0.9, "momentum μ", "heavy-ball momentum: b = μ b + grad f, x = x - a b",
                      low=0.0, high=0.99),)),
    # RMSProp and Adam: C applies to the preconditioned sharpness (see reachkit.optimizers)
    Method("rmsprop", "RMSProp", _OI["bluish green"], "square", _rmsprop, batched=True, needs="smooth",
           schedules=("constant", "power"), path_names=("RMSProp",), cost=5e-5, options=(
               Option("rho", "real", 0.99, "ρ", "RMSProp's average of squared gradients", low=0.0, high=0.9999),)),
    Method("adam", "Adam", _OI["blue"], "diamond", _adam, batched=True, stability=_adam_constant, needs="smooth",
           schedules=("constant", "power"), path_names=("Adam",), cost=6e-5, options=(
               Option("beta1", "real", 0.9, "β1", "Adam's average of gradients", low=0.0, high=0.99),
               Option("beta2", "real", 0.999, "β2", "Adam's average of squared gradients", low=0.0, high=0.9999))),
)}


def key_of(path) -> str:
    """The registry key of the method that made ``path`` (from its ``method`` text)."""
    for m in METHODS.values():
        if any(path.method.startswith(n) for n in m.path_names):
            return m.key
    raise ValueError(f"no method in the registry made a path of {path.method!r}")


def method(key) -> Method:
    """The registry entry for ``key``, or a ValueError listing the known keys."""
    if not isinstance(key, str) or key not in METHODS:
        raise ValueError(f"method must be one of {tuple(METHODS)}; got {key!r}")
    return METHODS[key]


def basin_map(landscape, key: str, schedule, n: int, n_steps: int, **options):
    """Where method ``key`` ends from every start of an n (x n) grid: a
    :class:`~reachkit.analysis.BasinMap`. GD and the flow use :func:`reachkit.analysis.basin_map`;
    another deterministic method runs the whole grid as one batch."""
    from . import analysis

    m = method(key)
    if m.random:
        raise ValueError(f"{m.name} is random: it has no basin map (one run per start would show one draw)")
    if key in ("gd", "flow"):
        return analysis.basin_map(landscape, schedule, n=n, method=key, n_steps=n_steps)
    n = checks.integer("n", n, low=2, high=analysis.MAX_BASIN_N[landscape.dim])
    grid = landscape.grid(n)
    path = m.run(landscape, grid[-1].reshape(-1, landscape.dim), schedule, n_steps, record_every=None,
                 gtol=1e-8, **options)
    idx, names = analysis.outcome_indices(landscape, path)
    shape = (n,) if landscape.dim == 1 else (n, n)
    xs = grid[0] if landscape.dim == 1 else grid[0][0]
    ys = None if landscape.dim == 1 else grid[1][:, 0]
    return analysis.BasinMap(xs, ys, idx.reshape(shape), names, path)
