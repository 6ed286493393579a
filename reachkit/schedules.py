"""Step-size rules: constant, a0 / (k + 1)^p, and adaptive (Armijo backtracking, Polyak).

A schedule gives the step a_k used to leave iterate k. Fixed schedules depend on k only
(``sizes(k)``); adaptive ones also look at the landscape at the current iterates
(``step(k, x, g, landscape)``, one step per start). Every dynamics function calls ``step``.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np


def _positive(value, name: str) -> float:
    v = float(value)
    if not np.isfinite(v) or v <= 0:
        raise ValueError(f"{name} must be a finite positive number; got {value!r}")
    return v


def _check_steps(a, name: str = "step"):
    arr = np.asarray(a, dtype=float)
    if arr.size == 0 or not np.all(np.isfinite(arr)) or np.any(arr <= 0):
        raise ValueError(f"{name} must be finite and positive (an array gives one per start); got {a!r}")
    return float(arr) if arr.ndim == 0 else arr


class Schedule:
    adaptive = False
    summable = False

    def step(self, k: int, x: np.ndarray, g: np.ndarray, landscape) -> np.ndarray:
        """Step for each start at iteration k; shape (batch,) or a scalar."""
        return self.sizes(k)

    def sizes(self, k):
        raise NotImplementedError


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
        object.__setattr__(self, "a0", _positive(self.a0, "a0"))
        p = float(self.p)
        if not np.isfinite(p) or p < 0:
            raise ValueError(f"exponent p must be a finite number >= 0; got {self.p!r}")
        object.__setattr__(self, "p", p)

    @property
    def summable(self) -> bool:
        return self.p > 1

    def sizes(self, k):
        return self.a0 / (np.asarray(k, dtype=float) + 1.0) ** self.p

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
        _positive(self.a0, "a0")
        if not (0 < self.shrink < 1):
            raise ValueError(f"shrink must be in (0, 1); got {self.shrink!r}")
        if not (0 < self.c < 1):
            raise ValueError(f"c must be in (0, 1); got {self.c!r}")

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
        _positive(self.max_step, "max_step")
        if not np.isfinite(self.f_min):
            raise ValueError(f"f_min must be finite; got {self.f_min!r}")

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
