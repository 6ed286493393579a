"""Argument checks shared by the public API: one rule for every function.

Bools and strings are not numbers; every argument is checked where it enters the library; the
message names the argument, the value received and what is allowed::

    step = checks.real("step", step, positive=True)        # 0.1, np.float32(0.1); not True, "0.1"
    n_steps = checks.integer("n_steps", n_steps, low=1)     # 5, np.int64(5); not 5.0, True
    seed = checks.seed("seed", seed)                        # 0 <= seed < 2**32
    x = checks.array("starts", starts, finite=True)         # [0.5, 1]; not [True, 0.5], ["1"]

Each returns the value as a plain ``float`` / ``int`` or raises ``TypeError`` (wrong kind) or
``ValueError`` (right kind, value not allowed).
"""

from __future__ import annotations

import contextlib
import contextvars
import numbers
import os
import pathlib
import sys
import time
import warnings

import numpy as np

#: the memory one call may use (a hub pod has 1-2 GB): larger work is refused before it starts
MEMORY_BUDGET = 2**30
#: a call whose pace says it will run longer than this many seconds says so while it runs
LONG_WORK_SECONDS = 10.0
_PACE_AFTER = 0.5  # seconds of a call before its pace is trusted

__all__ = ["real", "integer", "seed", "flag", "choice", "interval", "ndim", "array", "instance", "label",
           "output_file", "ode_tolerances", "MEMORY_BUDGET", "memory", "LONG_WORK_SECONDS", "LongWorkWarning",
           "work", "quiet_work", "progress"]


def _number(v) -> str:
    return str(v) if isinstance(v, numbers.Integral) else f"{v:g}"  # 4294967295, not 4.29497e+09


def _describe(low, high, low_open, high_open) -> str:
    parts = []
    if low is not None:
        parts.append(f"{'>' if low_open else '>='} {_number(low)}")
    if high is not None:
        parts.append(f"{'<' if high_open else '<='} {_number(high)}")
    return " and ".join(parts)


def _short(value, limit: int = 200) -> str:
    text = repr(value)
    return text if len(text) <= limit else text[:limit] + " ..."


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
    """``value`` if it is one of ``allowed`` (compared with ==), else a ValueError listing them.
    A bool is not one of the integers (True == 1), a non-string not one of the strings."""
    allowed = tuple(allowed)
    is_bool = isinstance(value, (bool, np.bool_))
    if (is_bool and not any(isinstance(a, (bool, np.bool_)) for a in allowed)) or (
            not isinstance(value, str) and any(isinstance(a, str) for a in allowed)):
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


def array(name: str, value, *, finite: bool = True, max_ndim: int | None = None) -> np.ndarray:
    """``value`` as a float array of real numbers, finite unless ``finite=False``, with at most
    ``max_ndim`` axes. Bools and strings are refused, inside a list too ([True, 0.5] would become
    [1.0, 0.5]); a TypeError for the wrong kind, a ValueError for NaN/inf or too many axes."""
    try:
        arr = None if isinstance(value, (str, bytes)) else np.asarray(value)
        if arr is not None and not isinstance(value, np.ndarray) and arr.dtype.kind in "iuf" and any(
                isinstance(v, (bool, np.bool_)) for v in np.asarray(value, dtype=object).ravel()):
            arr = None
    except (TypeError, ValueError):  # ragged nesting
        arr = None
    if arr is None or arr.dtype.kind not in "iuf":
        raise TypeError(f"{name} must be real numbers (not bools or strings); got {_short(value)}")
    if max_ndim is not None and arr.ndim > max_ndim:
        raise ValueError(f"{name} must be {'a number' if max_ndim == 0 else 'a list of numbers'}; got an "
                         f"array of shape {arr.shape}")
    arr = arr.astype(float)
    if finite and not np.all(np.isfinite(arr)):
        raise ValueError(f"{name} must be finite numbers (no NaN or inf); got {_short(value)}")
    return arr


def instance(name: str, value, kind: type, what: str):
    """``value`` if it is a ``kind`` (described as ``what``), else a TypeError naming the argument."""
    if not isinstance(value, kind):
        raise TypeError(f"{name} must be {what}; got {_short(value)} ({type(value).__name__})")
    return value


def label(name: str, value) -> str:
    """A string shown in figures: with an even number of unescaped $ (matplotlib's rule for math)
    its $...$ parts must parse as matplotlib mathtext ("$x^2$", not "$x^$")."""
    if not isinstance(value, str):
        raise TypeError(f"{name} must be a string; got {_short(value)} ({type(value).__name__})")
    dollars = value.count("$") - value.count(r"\$")
    if dollars and dollars % 2 == 0:
        from matplotlib.mathtext import MathTextParser

        try:
            MathTextParser("path").parse(value)
        except ValueError as err:  # its message: "", the formula, a caret under the error, the parser's words
            lines = str(err).splitlines() + ["", ""]
            where = f" (matplotlib stops at column {lines[2].find('^') + 1} of {lines[1]!r})" if "^" in lines[2] else ""
            raise ValueError(f"{name} {value!r} is not valid mathtext between its $ signs{where}; fix the "
                             r"formula, or write \$ for a dollar sign") from None
    return value


def output_file(name: str, value, formats) -> pathlib.Path:
    """A file to write: a str or pathlib.Path ending in one of ``formats`` (".png", ...), in a
    folder that exists."""
    if not isinstance(value, (str, os.PathLike)) or not str(value):
        raise TypeError(f"{name} must be a path (str or pathlib.Path); got {_short(value)}")
    out = pathlib.Path(value)
    if out.suffix.lower() not in formats:
        raise ValueError(f"{name} must end in one of {tuple(formats)}; got {str(value)!r}")
    if not out.parent.is_dir():
        raise ValueError(f"the folder {str(out.parent)!r} of {name} {str(value)!r} does not exist; create it first")
    return out


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


class LongWorkWarning(UserWarning):
    """A call is on course to run longer than :data:`LONG_WORK_SECONDS` (it goes on)."""


class _Meter:
    """The pace of one call. A loop whose steps only get cheaper (GD: starts stop, none start) is
    ``fraction`` done after ``elapsed`` seconds, so it takes at most about ``elapsed / fraction``:
    said once, when that exceeds LONG_WORK_SECONDS, looked at after _PACE_AFTER s so that the pace
    is measured, not guessed (a user's gradient may be slow). A call whose pace may change (an ODE
    solver's steps grow or shrink) says so once it has run LONG_WORK_SECONDS."""

    def __init__(self, what: str | None, lower: str, bounded: bool):
        self.what, self.lower, self.bounded = what, lower, bounded
        self.t0, self.said = time.perf_counter(), what is None

    def progress(self, fraction: float):
        if self.said or not fraction > 0:
            return
        elapsed = time.perf_counter() - self.t0
        if self.bounded:
            if elapsed < _PACE_AFTER or elapsed / fraction <= LONG_WORK_SECONDS:
                return
            total = elapsed / fraction
            about = f"{total:.0f}" if total >= 10 else f"{total:.2g}"
            news = (f"is on course for up to about {about} s at its pace so far ({100 * fraction:.2g} % in "
                    f"{elapsed:.2g} s")
        elif elapsed > LONG_WORK_SECONDS:
            news = f"has run for {elapsed:.2g} s and is {100 * fraction:.2g} % of the way (its pace may change"
        else:
            return
        self.said = True
        warnings.warn(f"{self.what} {news}; reachkit says so above {LONG_WORK_SECONDS:g} s, "
                      f"reachkit.checks.LONG_WORK_SECONDS). It goes on; interrupt the kernel to stop it. "
                      f"To finish sooner: {self.lower}", LongWorkWarning, stacklevel=_outside_reachkit())


def _outside_reachkit() -> int:
    """The ``stacklevel`` (for a warning raised by this function's caller) of the first frame outside
    the reachkit package: the warning names the user's line, not the library's loop."""
    package = os.path.dirname(os.path.abspath(__file__)) + os.sep
    frame, level = sys._getframe(1), 1  # level 1: the caller, which warns
    while frame is not None and os.path.abspath(frame.f_code.co_filename).startswith(package):
        frame, level = frame.f_back, level + 1
    return level


_METER: contextvars.ContextVar = contextvars.ContextVar("reachkit_work", default=None)


@contextlib.contextmanager
def work(what: str | None, lower: str, bounded: bool = True):
    """Within: :func:`progress` reports how far the call ``what`` is (``bounded``: its pace can only
    get faster, see :class:`_Meter`); the outermost ``work`` speaks (a basin map's words, not its
    runs'). ``what=None`` keeps it quiet: see :func:`quiet_work`."""
    if _METER.get() is not None:
        yield
        return
    token = _METER.set(_Meter(what, lower, bounded))
    try:
        yield
    finally:
        _METER.reset(token)


def quiet_work():
    """No long-work warning within (an explorer's work has its own budget and its own words)."""
    return work(None, "")


def progress(fraction: float):
    """The current call is ``fraction`` (0-1) done (cheap: called once per block of steps)."""
    meter = _METER.get()
    if meter is not None:
        meter.progress(fraction)
