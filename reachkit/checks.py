"""Argument checks shared by the public API: one rule for every function.

Bools and strings are not numbers; every argument is checked where it enters the library; the
message names the argument, the value received and what is allowed::

    step = checks.real("step", step, positive=True)        # 0.1, np.float32(0.1); not True, "0.1"
    n_steps = checks.integer("n_steps", n_steps, low=1)     # 5, np.int64(5); not 5.0, True
    seed = checks.seed("seed", seed)                        # 0 <= seed < 2**32

Each returns the value as a plain ``float`` / ``int`` or raises ``TypeError`` (wrong kind) or
``ValueError`` (right kind, value not allowed).
"""

from __future__ import annotations

import numbers

import numpy as np

#: the memory one call may use (a hub pod has 1-2 GB): larger work is refused before it starts
MEMORY_BUDGET = 2**30

__all__ = ["real", "integer", "seed", "flag", "choice", "interval", "ndim", "ode_tolerances", "MEMORY_BUDGET", "memory"]


def _describe(low, high, low_open, high_open) -> str:
    parts = []
    if low is not None:
        parts.append(f"{'>' if low_open else '>='} {low:g}")
    if high is not None:
        parts.append(f"{'<' if high_open else '<='} {high:g}")
    return " and ".join(parts)


def real(name: str, value, *, positive: bool = False, low: float | None = None,
         high: float | None = None, low_open: bool = False, high_open: bool = False,
         finite: bool = True) -> float:
    """``value`` as a float: a real number (not a bool or a string), finite unless ``finite=False``,
    > 0 if ``positive``, within [low, high] (open ends with ``low_open`` / ``high_open``)."""
    if isinstance(value, (bool, np.bool_)) or not isinstance(value, numbers.Real):
        raise TypeError(f"{name} must be a real number; got {value!r} ({type(value).__name__})")
    v = float(value)
    if np.isnan(v) or (finite and not np.isfinite(v)):
        raise ValueError(f"{name} must be a finite number; got {value!r}")
    if positive and not v > 0:
        raise ValueError(f"{name} must be a positive number; got {value!r}")
    too_low = low is not None and (v < low or (low_open and v == low))
    too_high = high is not None and (v > high or (high_open and v == high))
    if too_low or too_high:
        raise ValueError(f"{name} must be {_describe(low, high, low_open, high_open)}; got {value!r}")
    return v


def integer(name: str, value, *, low: int | None = None, high: int | None = None) -> int:
    """``value`` as an int: an integer type (not a bool, a float or a string), within [low, high]."""
    if isinstance(value, (bool, np.bool_)) or not isinstance(value, numbers.Integral):
        raise TypeError(f"{name} must be an integer; got {value!r} ({type(value).__name__})")
    v = int(value)
    if (low is not None and v < low) or (high is not None and v > high):
        raise ValueError(f"{name} must be an integer {_describe(low, high, False, False)}; got {value!r}")
    return v


def seed(name: str, value) -> int:
    """A random seed: an integer with 0 <= seed < 2**32."""
    return integer(name, value, low=0, high=2**32 - 1)


def flag(name: str, value) -> bool:
    """A bool (``True``/``False``, numpy bools too); 0, 1 and strings are refused."""
    if not isinstance(value, (bool, np.bool_)):
        raise TypeError(f"{name} must be True or False; got {value!r} ({type(value).__name__})")
    return bool(value)


def choice(name: str, value, allowed):
    """``value`` if it is one of ``allowed`` (compared with ==), else a ValueError listing them."""
    allowed = tuple(allowed)
    if not isinstance(value, str) and any(isinstance(a, str) for a in allowed):
        raise TypeError(f"{name} must be one of {allowed}; got {value!r} ({type(value).__name__})")
    if value not in allowed:
        raise ValueError(f"{name} must be one of {allowed}; got {value!r}")
    return value


def interval(name: str, value) -> tuple[float, float]:
    """A pair (low, high) of finite reals with low < high."""
    try:
        low, high = value
    except (TypeError, ValueError):
        raise TypeError(f"{name} must be a pair (low, high); got {value!r}") from None
    low, high = real(f"{name}[0]", low), real(f"{name}[1]", high)
    if not low < high:
        raise ValueError(f"{name} must have low < high; got {value!r}")
    return low, high


def ndim(name: str, value) -> int:
    """``np.ndim(value)``; a ragged list gets a ValueError that names the argument."""
    try:
        return np.ndim(value)
    except ValueError:
        raise ValueError(f"{name} must be a number or a rectangular array of numbers; "
                         f"got a ragged list {value!r}") from None


def ode_tolerances(rtol, atol) -> tuple[float, float]:
    """(rtol, atol) of an ODE solver: 1e-13 <= rtol <= 1e-3 and 1e-100 <= atol <= 1e-3.

    A looser tolerance is no longer the flow (and overflows inside the solver's error norm); a
    tighter rtol is below float64's resolution; below atol = 1e-100 LSODA's squared error norm,
    with weights 1 / atol, overflows and the solver never finishes."""
    return (real("rtol", rtol, low=1e-13, high=1e-3),
            real("atol", atol, low=1e-100, high=1e-3))


def memory(what: str, nbytes: float, lower: str) -> None:
    """Refuse, before it starts, work that needs more than :data:`MEMORY_BUDGET` bytes; the
    message says what needs how much, and ``lower``: how to ask for less."""
    if nbytes > MEMORY_BUDGET:
        raise ValueError(f"{what} needs about {_bytes(nbytes)}, above the memory budget of "
                         f"{_bytes(MEMORY_BUDGET)} per call (reachkit.checks.MEMORY_BUDGET): {lower}")


def _bytes(n: float) -> str:
    return f"{n / 2**30:.3g} GiB" if n >= 2**30 else f"{n / 2**20:.3g} MiB"
