"""Step-size rules: constant, a0 / (k + 1)^p, and adaptive (Armijo backtracking, Polyak).

A schedule gives the step a_k used to leave iterate k. Fixed schedules depend on k only
(``sizes(k)``); adaptive ones also look at the landscape at the current iterates
(``step(k, x, g, landscape)``, one step per start). Every dynamics function calls ``step``.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from . import checks


def _check_steps(a, name: str = "step"):
    """A positive finite step, or a 1-D array of them (one per start)."""
    if checks.ndim(name, a) == 0:
        return checks.real(name, a, positive=True)
    arr = np.asarray(a)
    if arr.dtype.kind not in "iuf" or arr.ndim != 1:
        raise TypeError(f"{name} must be a real number or a 1-D array of them (one per start); got {a!r}")
    arr = arr.astype(float)
    if arr.size == 0 or not np.all(np.isfinite(arr)) or np.any(arr <= 0):
        raise ValueError(f"{name} must be finite and positive (an array gives one per start); got {a!r}")
    return arr


class Schedule:
    adaptive = False
    summable = False

    def step(self, k: int, x: np.ndarray, g: np.ndarray, landscape) -> np.ndarray:
        """Step for each start at iteration k; shape (batch,) or a scalar."""
        return self.sizes(k)

    def sizes(self, k):
        raise NotImplementedError

    def why_zero(self) -> str:
        """Why this rule can give a zero step (a start then stays put for good)."""
        return f"the step rule ({self}) gave a zero step"


@dataclass(frozen=True)
class Constant(Schedule):
    """a_k = a. ``a`` may be an array with one step per start (a bifurcation diagram uses this)."""

    a: float | np.ndarray

    def __post_init__(self):
        object.__setattr__(self, "a", _check_steps(self.a, "step"))

    def sizes(self, k):
        return np.broadcast_to(self.a, np.shape(k) + np.shape(self.a)) if np.ndim(k) else self.a

    def total(self, n_steps: int | None = None) -> float:
        """sum_{k < n_steps} a_k (n_steps=None: the whole series, inf)."""
        return float("inf") if n_steps is None else float(np.sum(self.a) * n_steps / np.size(self.a))

    def __str__(self):
        return f"constant step {self.a:g}" if np.ndim(self.a) == 0 else "constant step (one per start)"


@dataclass(frozen=True)
class PowerDecay(Schedule):
    """a_k = a0 / (k + 1)^p. Summable (sum a_k < inf) exactly when p > 1."""

    a0: float
    p: float

    def __post_init__(self):
        object.__setattr__(self, "a0", checks.real("a0", self.a0, positive=True))
        object.__setattr__(self, "p", checks.real("exponent p", self.p, low=0.0))

    @property
    def summable(self) -> bool:
        return self.p > 1

    def sizes(self, k):
        if isinstance(k, int):  # one step: plain floats are 10x faster than numpy scalars
            return self.a0 / (k + 1.0) ** self.p
        return self.a0 / (np.asarray(k, dtype=float) + 1.0) ** self.p

    def why_zero(self) -> str:
        return f"a0/(k+1)^p = {self.a0:g}/(k+1)^{self.p:g} underflowed to 0"

    def total(self, n_steps: int | None = None) -> float:
        """sum_{k < n_steps} a_k (n_steps=None: the whole series, inf when p <= 1)."""
        if n_steps is None:
            if not self.summable:
                return float("inf")
            from scipy.special import zeta
            return float(self.a0 * zeta(self.p))
        return float(np.sum(self.sizes(np.arange(n_steps))))

    def __str__(self):
        kind = "summable" if self.summable else "nonsummable"
        return f"a0/(k+1)^p with a0={self.a0:g}, p={self.p:g} ({kind})"


@dataclass(frozen=True)
class Armijo(Schedule):
    """Backtracking: start from a0, multiply by ``shrink`` until
    f(x - a g) <= f(x) - c a |g|^2 (at most ``max_halvings`` times)."""

    a0: float = 1.0
    shrink: float = 0.5
    c: float = 1e-4
    max_halvings: int = 40
    adaptive = True

    def __post_init__(self):
        object.__setattr__(self, "a0", checks.real("a0", self.a0, positive=True))
        for name in ("shrink", "c"):
            value = checks.real(name, getattr(self, name), low=0.0, high=1.0, low_open=True, high_open=True)
            object.__setattr__(self, name, value)
        object.__setattr__(self, "max_halvings", checks.integer("max_halvings", self.max_halvings, low=1))

    def step(self, k, x, g, landscape):
        fx = landscape.value(x)
        g2 = np.sum(g * g, axis=-1)
        a = np.full(x.shape[:-1], float(self.a0))
        todo = np.ones(a.shape, dtype=bool)
        with np.errstate(over="ignore", invalid="ignore"):
            for _ in range(self.max_halvings):
                trial = landscape.value(x[todo] - a[todo, None] * g[todo])
                ok = trial <= fx[todo] - self.c * a[todo] * g2[todo]
                idx = np.flatnonzero(todo)
                todo[idx[ok]] = False
                a[todo] *= self.shrink
                if not todo.any():
                    break
        return a

    def __str__(self):
        return f"Armijo backtracking from {self.a0:g} (shrink {self.shrink:g}, c {self.c:g})"


@dataclass(frozen=True)
class Polyak(Schedule):
    """Polyak's step a_k = (f(x_k) - f_min) / |grad f(x_k)|^2, capped at ``max_step``."""

    f_min: float = 0.0
    max_step: float = 1.0
    adaptive = True

    def __post_init__(self):
        object.__setattr__(self, "f_min", checks.real("f_min", self.f_min))
        object.__setattr__(self, "max_step", checks.real("max_step", self.max_step, positive=True))

    def why_zero(self) -> str:
        return (f"f(x) <= f_min = {self.f_min:g} here, so Polyak's step (f - f_min)/|grad f|^2 is 0; "
                "f_min must not exceed the minimum value of f")

    def step(self, k, x, g, landscape):
        gap = np.maximum(landscape.value(x) - self.f_min, 0.0)
        g2 = np.sum(g * g, axis=-1)
        with np.errstate(divide="ignore", invalid="ignore"):
            a = np.where(g2 > 0, gap / g2, self.max_step)
        return np.minimum(a, self.max_step)

    def __str__(self):
        return f"Polyak step (f_min={self.f_min:g}, capped at {self.max_step:g})"


def constant(a) -> Constant:
    """a_k = a (a > 0; an array gives each start its own step)."""
    return Constant(a)


def power(a0: float, p: float) -> PowerDecay:
    """a_k = a0 / (k + 1)^p: nonsummable for p <= 1, summable for p > 1."""
    return PowerDecay(a0, p)


def armijo(a0: float = 1.0, shrink: float = 0.5, c: float = 1e-4) -> Armijo:
    """Armijo backtracking line search starting from a0 at every step."""
    return Armijo(a0, shrink, c)


def polyak(f_min: float = 0.0, max_step: float = 1.0) -> Polyak:
    """Polyak's step (f - f_min) / |g|^2, capped."""
    return Polyak(f_min, max_step)


def as_schedule(step) -> Schedule:
    """A Schedule from a Schedule or a number (a constant step)."""
    return step if isinstance(step, Schedule) else Constant(step)
