"""Loss landscapes: value, gradient and Hessian, vectorised over inputs of shape ``(..., dim)``.

Every landscape declares its parameters (default and allowed range) so that a widget can build
its sliders from them, its plotting bounds, and the critical points known in closed form, each
with a label ("sharp minimum", "saddle", ...). Derivatives are analytic; ``tests/`` checks them
against finite differences.

Build your own with :func:`from_functions`; it is usable everywhere a built-in landscape is.
"""

from __future__ import annotations

import keyword
from dataclasses import dataclass
from typing import Callable, Mapping, Sequence

import numpy as np

from . import checks

KINDS = ("minimum", "saddle", "maximum", "degenerate", "minimum and maximum")

# Central differences of grad f with these two steps (times 1 + |x|) must agree for a
# finite-difference Hessian to count as defined (see ``finite_difference_hessian_checked``).
FD_STEPS = (1e-5, 2e-5)
FD_AGREEMENT = 1e-2


@dataclass(frozen=True)
class Param:
    """A declared landscape parameter: a slider is made from ``default``, ``low``, ``high``."""

    name: str
    default: float
    low: float
    high: float
    description: str = ""
    log: bool = False  # a log-scale slider suits it

    def __post_init__(self):
        """The name is a Python identifier (it becomes a keyword of value(x, **params)); low <= default
        <= high are finite reals; a log-scale slider needs low > 0."""
        if not isinstance(self.name, str) or not self.name.isidentifier() or keyword.iskeyword(self.name):
            raise ValueError(f"Param name must be a Python identifier (letters, digits and _, not starting "
                             f"with a digit, not a keyword): it becomes a keyword argument; got {self.name!r}")
        what = f"Param {self.name!r}"
        low, high = checks.interval(f"{what} (low, high)", (self.low, self.high))
        checks.real(f"{what} default", self.default, low=low, high=high)
        if checks.flag(f"{what} log", self.log) and not low > 0:
            raise ValueError(f"{what} with log=True (a log-scale slider) needs low > 0; got low={self.low!r}")
        if not isinstance(self.description, str):
            raise TypeError(f"{what} description must be a string; got {self.description!r}")


@dataclass(frozen=True)
class CriticalPoint:
    """A point where grad f = 0, with its classification and a label in words."""

    x: np.ndarray
    kind: str  # one of KINDS
    label: str

    def __repr__(self) -> str:
        coords = ", ".join(f"{v:.6g}" for v in np.atleast_1d(self.x))
        return f"CriticalPoint(({coords}), {self.kind!r}, {self.label!r})"


def _as_points(x, dim: int, name: str = "x") -> np.ndarray:
    """Check ``x`` has shape ``(..., dim)`` of real numbers (a scalar is accepted when dim == 1)."""
    arr = x if isinstance(x, np.ndarray) and x.dtype == float else checks.array(name, x, finite=False)
    if dim == 1 and arr.ndim == 0:
        arr = arr.reshape(1)
    if arr.ndim == 0 or arr.shape[-1] != dim:
        raise ValueError(
            f"{name} must have shape (..., {dim}) for this {dim}-D landscape; got shape {arr.shape}"
        )
    return arr


def finite_points(x, dim: int, name: str = "x") -> np.ndarray:
    """Like ``_as_points``, and every coordinate finite (no NaN or inf)."""
    arr = _as_points(x, dim, name)
    if not np.all(np.isfinite(arr)):
        raise ValueError(f"{name} must be finite numbers (no NaN or inf); got {x!r}")
    return arr


class Landscape:
    """A function f: R^dim -> R with its derivatives, parameters and known critical points.

    ``value_fn(x, **params)`` takes an array of shape ``(..., dim)`` and returns ``(...)``;
    ``grad_fn`` returns ``(..., dim)``; ``hess_fn`` returns ``(..., dim, dim)`` or is None
    (then central finite differences of the gradient are used, checked to settle).
    ``critical_fn(**params)`` returns the closed-form critical points. ``lipschitz_fn(**params)``
    returns a global Lipschitz constant L of the gradient, or None when there is none (e.g.
    quartics: the gradient is only locally Lipschitz). ``smooth`` is False for nonsmooth
    functions such as |x|, whose ``grad`` is then a subgradient. Evaluation never prints numpy
    warnings: float64 overflow shows as inf or NaN in the result.
    """

    def __init__(
        self,
        name: str,
        dim: int,
        value_fn: Callable,
        grad_fn: Callable,
        hess_fn: Callable | None = None,
        *,
        bounds: Sequence[Sequence[float]],
        params: Sequence[Param] = (),
        values: Mapping[str, float] | None = None,
        critical_fn: Callable | None = None,
        lipschitz_fn: Callable | None = None,
        smooth: bool = True,
        formula: str = "",
    ):
        self.name = checks.label("name", name)  # the figures' title
        self.dim = checks.integer("dim", dim, low=1)
        self._value_fn, self._grad_fn, self._hess_fn = value_fn, grad_fn, hess_fn
        self.bounds = _checked_bounds(bounds, self.dim)
        self.param_specs = _checked_param_specs(params)
        self._critical_fn = critical_fn
        self._lipschitz_fn = lipschitz_fn
        self.smooth = checks.flag("smooth", smooth)
        self.formula = formula
        self.params = self._checked_params(values or {})

    # -- parameters ---------------------------------------------------------------------------
    def _checked_params(self, values: Mapping[str, float]) -> dict[str, float]:
        specs = {p.name: p for p in self.param_specs}
        unknown = set(values) - set(specs)
        if unknown:
            allowed = ", ".join(specs) or "none"
            raise ValueError(f"unknown parameter(s) {sorted(unknown)} for {self.name}; allowed: {allowed}")
        checked = {}
        for p in self.param_specs:
            v = checks.real(f"parameter {p.name!r}", values.get(p.name, p.default))
            if not (p.low <= v <= p.high):
                raise ValueError(
                    f"parameter {p.name!r} of {self.name} must be in [{p.low}, {p.high}]; got {v}"
                )
            checked[p.name] = v
        return checked

    def with_params(self, **values: float) -> "Landscape":
        """A copy with some parameters changed (checked against their declared ranges)."""
        new = object.__new__(type(self))
        new.__dict__.update(self.__dict__)
        new.params = self._checked_params({**self.params, **values})
        new.__dict__.pop("_critical_cache", None)
        return new

    # -- evaluation ---------------------------------------------------------------------------
    def value(self, x) -> np.ndarray:
        """f(x) for x of shape (..., dim); returns shape (...)."""
        x = _as_points(x, self.dim)
        with np.errstate(all="ignore"):
            return np.asarray(self._value_fn(x, **self.params), dtype=float)

    def grad(self, x) -> np.ndarray:
        """grad f(x) (a subgradient where f is not differentiable); shape (..., dim)."""
        x = _as_points(x, self.dim)
        with np.errstate(all="ignore"):
            return np.asarray(self._grad_fn(x, **self.params), dtype=float)

    def hess(self, x) -> np.ndarray:
        """Hessian of f at x; shape (..., dim, dim). Finite differences of grad f if no Hessian was
        given; a ValueError if they do not settle at some finite x (f is not twice differentiable
        there); NaN rows for non-finite x."""
        x = _as_points(x, self.dim)
        H, settled = self.hess_checked(x)
        unsettled = ~settled & np.all(np.isfinite(x), axis=-1)  # NaN in, NaN out
        if unsettled.any():
            bad = x.reshape(-1, self.dim)[unsettled.ravel()][0]
            raise ValueError(
                f"the Hessian of {self.name} is not defined at x = {_fmt(bad)}: central differences "
                f"of grad f with steps {FD_STEPS[0]:g} and {FD_STEPS[1]:g} disagree (a kink of the "
                "gradient there?). For a nonsmooth function pass smooth=False to from_functions.")
        return H

    def hess_checked(self, x) -> tuple[np.ndarray, np.ndarray]:
        """(Hessian, settled): ``settled[...]`` is False where finite differences of grad f do not
        settle; the Hessian is NaN there. An analytic Hessian is always settled."""
        x = _as_points(x, self.dim)
        with np.errstate(all="ignore"):
            if self._hess_fn is not None:
                return np.asarray(self._hess_fn(x, **self.params), dtype=float), np.ones(x.shape[:-1], bool)
            return finite_difference_hessian_checked(self._grad_fn_bound, x)

    def hess_for_search(self, x) -> np.ndarray:
        """The Hessian for Newton searches whose result is verified afterwards: analytic, or one
        finite-difference step (half the cost of ``hess_checked``; no check that it settles)."""
        with np.errstate(all="ignore"):
            if self._hess_fn is not None:
                return np.asarray(self._hess_fn(x, **self.params), dtype=float)
            return finite_difference_hessian(self._grad_fn_bound, x, FD_STEPS[0] * (1 + np.abs(x).max(axis=-1)))

    def _grad_fn_bound(self, x):
        return np.asarray(self._grad_fn(x, **self.params), dtype=float)

    @property
    def lipschitz(self) -> float | None:
        """Global Lipschitz constant of the gradient, or None if the gradient is only locally Lipschitz."""
        return None if self._lipschitz_fn is None else float(self._lipschitz_fn(**self.params))

    def critical_points(self) -> list[CriticalPoint]:
        """Critical points known in closed form (or found numerically, for from_functions), labelled."""
        if "_critical_cache" not in self.__dict__:
            found = [] if self._critical_fn is None else list(self._critical_fn(**self.params))
            self._critical_cache = found
        return list(self._critical_cache)

    def classify(self, x, tol: float = 1e-8):
        """Kind of the critical point(s) x: by the Hessian's eigenvalues (all > 0: minimum, all < 0:
        maximum, mixed: saddle); where one is ~0 or the Hessian is not defined (a kink), by comparing
        f on a small sphere around x (minimum, maximum, "minimum and maximum" where f is constant
        nearby, else degenerate). Assumes grad f(x) = 0; ``analysis.classify`` checks it."""
        pts = _as_points(x, self.dim)
        flat = pts.reshape(-1, self.dim)
        H, settled = self.hess_checked(flat)
        eig = np.linalg.eigvalsh(np.where(settled[:, None, None], H, 0.0))
        zero = ~settled | np.any(
            np.abs(eig) <= tol * np.maximum(1.0, np.abs(eig).max(axis=1, keepdims=True)), axis=1)
        kind = np.where(np.all(eig > 0, axis=1), "minimum",
                        np.where(np.all(eig < 0, axis=1), "maximum", "saddle")).astype(object)
        if zero.any():
            z = flat[zero]
            u = np.random.default_rng(0).normal(size=(64, self.dim))
            u /= np.linalg.norm(u, axis=1, keepdims=True)
            r = 1e-3 * (1 + np.abs(z).max(axis=1))
            f0 = self.value(z)
            d = self.value(z[:, None, :] + r[:, None, None] * u[None]) - f0[:, None]
            eps = 1e-12 * (1 + np.abs(f0))[:, None]
            up, down = np.all(d >= -eps, axis=1), np.all(d <= eps, axis=1)
            kind[zero] = np.where(up & down, "minimum and maximum",
                                  np.where(up, "minimum", np.where(down, "maximum", "degenerate")))
        return kind[0] if pts.ndim == 1 else kind.reshape(pts.shape[:-1])

    def minima(self) -> list[CriticalPoint]:
        return [c for c in self.critical_points() if c.kind == "minimum"]

    def grid(self, n: int = 200, bounds=None):
        """Grid points covering ``bounds``: 1-D returns (xs, points); 2-D returns (X, Y, points)."""
        n = checks.integer("n", n, low=2)
        b = self.bounds if bounds is None else _checked_bounds(bounds, self.dim)
        axes = [np.linspace(lo, hi, n) for lo, hi in b]
        if self.dim == 1:
            return axes[0], axes[0][:, None]
        if self.dim == 2:
            X, Y = np.meshgrid(*axes)
            return X, Y, np.stack([X, Y], axis=-1)
        raise ValueError(f"grid is for 1-D and 2-D landscapes; this one has dim={self.dim}")

    def __repr__(self) -> str:
        ps = ", ".join(f"{k}={v:g}" for k, v in self.params.items())
        return f"<Landscape {self.name}({ps}) dim={self.dim}>"


def _checked_param_specs(params) -> tuple[Param, ...]:
    """``params`` as a tuple of Params with distinct names."""
    if isinstance(params, (str, Param)) or not isinstance(params, (list, tuple)) or not all(
            isinstance(p, Param) for p in params):
        raise TypeError(f"params must be a list of Param(name, default, low, high); got {params!r}")
    names = [p.name for p in params]
    if len(set(names)) != len(names):
        raise ValueError(f"params must have distinct names; got {names}")
    return tuple(params)


def _check_unreserved(params: Sequence[Param]) -> None:
    """No parameter named like an explorer's setting or keyword (see
    :func:`reachkit.explorers.settings.reserved_names`: a parameter becomes a setting beside them)."""
    from .explorers.settings import reserved_names

    taken = sorted({p.name for p in params} & reserved_names())
    if taken:
        raise ValueError(f"parameter name(s) {taken} are reserved: explore(), explore_reach() and "
                         f"value(x, ...) use them (all reserved: {', '.join(sorted(reserved_names()))}); "
                         "rename the parameter")


def as_landscape(value, name: str = "landscape") -> Landscape:
    """``value`` if it is a Landscape or has its interface (dim, value, grad, hess: a network's
    NetworkLandscape), else a TypeError naming the argument."""
    if not isinstance(value, Landscape) and all(hasattr(value, a) for a in ("dim", "value", "grad", "hess")):
        return value
    return checks.instance(name, value, Landscape, "a landscape (a reachkit.landscapes function's result, "
                           "or from_functions(...))")


def _fmt(x) -> str:
    return "(" + ", ".join(f"{v:.6g}" for v in np.atleast_1d(x)) + ")"


def _checked_bounds(bounds, dim: int) -> np.ndarray:
    """``bounds`` as a (dim, 2) array of finite (low, high) pairs with low < high."""
    try:
        rows = list(bounds)
    except TypeError:
        raise TypeError(f"bounds must be {dim} pair(s) (low, high); got {bounds!r}") from None
    if dim == 1 and len(rows) == 2 and not any(np.ndim(r) for r in rows):
        rows = [rows]  # bounds=(-2, 2) for a 1-D landscape
    if len(rows) != dim:
        raise ValueError(f"bounds must be {dim} pair(s) (low, high), one per coordinate (dim={dim}); "
                         f"got {bounds!r}")
    return np.array([checks.interval(f"bounds[{i}]", r) for i, r in enumerate(rows)], dtype=float)


def central_differences(fn: Callable, x: np.ndarray, eps) -> np.ndarray:
    """(fn(x + eps e_j) - fn(x - eps e_j)) / (2 eps) for each coordinate j, stacked on a new last
    axis: the gradient of a value function, the Jacobian of a gradient. ``eps`` has shape x.shape[:-1]."""
    eps = np.asarray(eps, dtype=float)
    cols = []
    for j in range(x.shape[-1]):
        step = np.zeros(x.shape)
        step[..., j] = eps
        diff = np.asarray(fn(x + step), dtype=float) - np.asarray(fn(x - step), dtype=float)
        cols.append(diff / (2 * eps.reshape(eps.shape + (1,) * (diff.ndim - eps.ndim))))
    return np.stack(cols, axis=-1)


def finite_difference_hessian(grad_fn: Callable, x: np.ndarray, eps: float = 1e-5) -> np.ndarray:
    """Central differences of the gradient, symmetrised: H_ij = (d_j g_i + d_i g_j) / 2."""
    H = central_differences(grad_fn, x, np.broadcast_to(eps, x.shape[:-1]))
    return 0.5 * (H + np.swapaxes(H, -1, -2))


def finite_difference_hessian_checked(grad_fn: Callable, x: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """(H, settled): central differences of grad f with steps h1 < h2 (``FD_STEPS`` times 1 + |x|).

    For a smooth function the two agree to O(h2^2) (a Gaussian well of width 5e-4 still
    passes); across a kink of the gradient (a jump J in grad f within h2 of x) they differ by
    J / (2 h2) or more, i.e. by half of H1 or more when the kink dominates. ``settled`` is
    max|H1 - H2| <= FD_AGREEMENT max(1, max|H1|, max|H2|); H is H1, and NaN where not settled.
    """
    scale = 1.0 + np.abs(x).max(axis=-1)
    H1 = finite_difference_hessian(grad_fn, x, FD_STEPS[0] * scale)
    H2 = finite_difference_hessian(grad_fn, x, FD_STEPS[1] * scale)
    size = np.maximum(1.0, np.maximum(np.abs(H1).max(axis=(-2, -1)), np.abs(H2).max(axis=(-2, -1))))
    settled = np.abs(H1 - H2).max(axis=(-2, -1)) <= FD_AGREEMENT * size
    return np.where(settled[..., None, None], H1, np.nan), settled


def from_functions(
    value: Callable,
    grad: Callable,
    hess: Callable | None = None,
    *,
    dim: int,
    bounds: Sequence[Sequence[float]],
    name: str = "custom",
    params: Sequence[Param] = (),
    critical_points: Sequence[tuple[Sequence[float], str, str]] | Callable | None = None,
    lipschitz: float | Callable | None = None,
    smooth: bool = True,
) -> Landscape:
    """A landscape from your own functions, usable everywhere a built-in one is.

    ``value(x, **params)`` and ``grad(x, **params)`` take x of shape (..., dim) (write them with
    numpy so they broadcast over leading axes: ``x[..., 0]``, ``sum(axis=-1)``) and return float
    arrays of shape (...) and (..., dim). Without ``hess``, the Hessian is computed by central
    finite differences of ``grad`` (a ValueError where they do not settle, e.g. at a kink: pass
    ``smooth=False`` for a nonsmooth function). ``bounds`` are finite (low, high) pairs with
    low < high, one per coordinate; ``lipschitz`` is None or > 0.

    ``critical_points``: by default (None) they are found numerically inside the bounds (Newton
    from many starts, see ``analysis.find_critical_points``), classified and labelled "minimum 1
    (sharpness 24.9)", "saddle 1", ... (numbered left to right). Or give a list of
    ``(x, kind, label)`` triples (each x must be critical: |grad f(x)| at most 1e-6 times the
    typical |grad f| in the bounds), a function of the parameters returning CriticalPoints, or
    ``()`` for none.

    Everything is checked here, once, on a small batch of points inside the bounds (shapes
    (3, dim) and (2, 3, dim)): a function that is not vectorised, returns a list, a float,
    None, integers or non-finite numbers gives a clear error now, not deep inside a run.
    """
    for arg, fn in (("value", value), ("grad", grad)):
        if not callable(fn):
            raise TypeError(f"{arg} must be a function of x (and the parameters); got {fn!r}")
    if hess is not None and not callable(hess):
        raise TypeError(f"hess must be a function of x (and the parameters) or None; got {hess!r}")
    if lipschitz is not None and not callable(lipschitz):
        L = checks.real("lipschitz", lipschitz, positive=True)
        lipschitz = lambda **_: L  # noqa: E731
    ls = Landscape(name, dim, value, grad, hess, bounds=bounds, params=params,
                   lipschitz_fn=lipschitz, smooth=smooth)
    if ls.param_specs:  # (the built-in landscapes' names are checked by the tests)
        _check_unreserved(ls.param_specs)
    typical_grad = _probe_user_functions(ls)
    if lipschitz is not None:
        checks.real("lipschitz (its value at the default parameters)", ls.lipschitz, positive=True)
    if critical_points is None:
        ls._critical_fn = lambda **p: _found_critical_points(ls.with_params(**p))
    elif callable(critical_points):
        ls._critical_fn = critical_points
        _check_critical(ls, critical_points(**ls.params), typical_grad)
    else:
        if isinstance(critical_points, str):
            raise TypeError(f"critical_points must be a list of (x, kind, label); got {critical_points!r}")
        points = []
        for i, item in enumerate(critical_points):
            try:
                x, kind, label = item
            except (TypeError, ValueError):
                raise TypeError(f"critical_points[{i}] must be a triple (x, kind, label); got {item!r}") from None
            points.append(CriticalPoint(finite_points(x, ls.dim, f"critical_points[{i}] x").reshape(ls.dim),
                                        kind, label))
        _check_critical(ls, points, typical_grad)
        ls._critical_fn = lambda **_: points
    return ls


def _probe_user_functions(ls: Landscape) -> float:
    """Call value, grad (and hess) once on points of shape (3, dim) and (2, 3, dim) inside the
    bounds; check types, shapes and finiteness. Returns the typical |grad f| there."""
    lo, hi = ls.bounds[:, 0], ls.bounds[:, 1]
    x = lo + np.random.default_rng(7).uniform(0.3, 0.7, size=(2, 3, ls.dim)) * (hi - lo)
    fns = [("value", ls._value_fn, ()), ("grad", ls._grad_fn, (ls.dim,))]
    if ls._hess_fn is not None:
        fns.append(("hess", ls._hess_fn, (ls.dim, ls.dim)))
    out = None
    for pts in (x[0], x):
        for name, fn, tail in fns:
            with np.errstate(all="ignore"):
                try:
                    out = fn(pts.copy(), **ls.params)
                except Exception as err:
                    raise TypeError(
                        f"{name}(x) failed on a batch of points x of shape {pts.shape} inside the bounds "
                        f"({type(err).__name__}: {err}); {name} must take arrays of shape (..., dim) "
                        "and work along the last axis (x[..., 0], not x[0])") from err
            if not isinstance(out, np.ndarray) or out.dtype.kind != "f":
                what = type(out).__name__ if not isinstance(out, np.ndarray) else f"an array of dtype {out.dtype}"
                raise TypeError(f"{name}(x) must return a float numpy array; got {what} for points of "
                                f"shape {pts.shape}")
            expected = pts.shape[:-1] + tail
            if out.shape != expected:
                raise ValueError(
                    f"{name}(x) returned shape {out.shape} for points x of shape {pts.shape}; expected "
                    f"{expected}: it must broadcast over leading axes (use x[..., i] for coordinate i "
                    "and reduce with axis=-1)")
            if not np.all(np.isfinite(out)):
                raise ValueError(f"{name}(x) returned NaN or inf at points inside the bounds (e.g. x = "
                                 f"{_fmt(pts.reshape(-1, ls.dim)[0])})")
            if name == "grad":
                typical = float(np.median(np.linalg.norm(out, axis=-1)))
    _check_derivative(ls, x, "grad", "value", ls._grad_fn, ls._value_fn)
    if ls._hess_fn is not None:
        _check_derivative(ls, x, "hess", "grad", ls._hess_fn, ls._grad_fn)
    return typical


def _check_derivative(ls: Landscape, x: np.ndarray, name: str, of: str, fn: Callable, base: Callable) -> None:
    """``fn`` (grad or hess) against central differences of ``base`` (value or grad) at the probe
    points x, with the two steps ``FD_STEPS`` times 1 + |x|. Where the two differences agree to
    ``FD_AGREEMENT`` (no kink within the step), ``fn`` must agree with them to ``FD_AGREEMENT`` of
    the larger of the two, plus the rounding error of the differences (1e3 eps |base| / h)."""
    with np.errstate(all="ignore"):
        h = FD_STEPS[0] * (1 + np.abs(x).max(axis=-1))
        d1 = central_differences(lambda y: base(y, **ls.params), x, h)
        d2 = central_differences(lambda y: base(y, **ls.params), x, 2 * h)
        given = np.asarray(fn(x.copy(), **ls.params), dtype=float)
        size = np.abs(base(x.copy(), **ls.params)).reshape(x.shape[0], x.shape[1], -1).max(axis=-1)
    axes = tuple(range(2, d1.ndim))
    rounding = 1e3 * np.finfo(float).eps * (1 + size) / h
    scale = np.maximum(np.abs(d1).max(axis=axes), np.abs(given).max(axis=axes)) + rounding
    settled = np.abs(d1 - d2).max(axis=axes) <= FD_AGREEMENT * scale
    wrong = settled & (np.abs(given - d1).max(axis=axes) > FD_AGREEMENT * scale)
    if wrong.any():
        hint = "the gradient of x**2 / 2 is x" if name == "grad" else "the Hessian is the derivative of grad"
        i = np.argwhere(wrong)[0]
        where = np.unravel_index(np.argmax(np.abs(given - d1)[tuple(i)]), given.shape[2:])
        entry = f"{name}(x)[{', '.join(map(str, where))}]"
        raise ValueError(
            f"{name} does not match {of}: at x = {_fmt(x[tuple(i)])} inside the bounds, {entry} = "
            f"{given[tuple(i)][where]:.6g} but central differences of {of} give {d1[tuple(i)][where]:.6g}. "
            f"Check {name}'s signs and factors ({hint}), "
            f"or {of} itself.")


def _check_critical(ls: Landscape, points, typical_grad: float) -> None:
    """Declared critical points: kinds from KINDS, labels strings, |grad f(x)| small."""
    for c in points:
        if not isinstance(c, CriticalPoint):
            raise TypeError(f"critical points must be CriticalPoint(x, kind, label); got {c!r}")
        if c.kind not in KINDS:
            raise ValueError(f"critical point kind must be one of {KINDS}; got {c.kind!r}")
        if not isinstance(c.label, str):
            raise TypeError(f"critical point label must be a string; got {c.label!r}")
        g = float(np.linalg.norm(ls.grad(c.x)))
        if not g <= 1e-6 * max(typical_grad, 1e-12):
            raise ValueError(
                f"the declared critical point {c.label!r} at x = {_fmt(c.x)} is not critical: |grad f| = "
                f"{g:.3g} there (typical |grad f| in the bounds: {typical_grad:.3g}); give it to more digits")


MAX_FOUND = 12  # at most this many numerically found critical points are listed


def newton_critical_points(ls: Landscape, n_starts: int = 400, seed: int = 0, newton_steps: int = 60,
                           gtol: float = 1e-9) -> np.ndarray:
    """Solutions of grad f = 0 by Newton's method (least-squares steps where the Hessian is
    singular) from ``n_starts`` random starts in the bounds (5% margin), deduplicated, sorted."""
    rng = np.random.default_rng(seed)
    lo, hi = ls.bounds[:, 0], ls.bounds[:, 1]
    x = rng.uniform(lo, hi, size=(n_starts, ls.dim))
    active = np.arange(n_starts)
    with np.errstate(all="ignore"):
        for _ in range(newton_steps):  # one finite-difference step in the search; checked at the end
            y = x[active]
            g = ls._grad_fn_bound(y)
            H = ls.hess_for_search(y)
            ok = np.all(np.isfinite(H), axis=(1, 2)) & np.all(np.isfinite(g), axis=1)
            dx = np.full_like(y, np.nan)
            dx[ok] = (np.linalg.pinv(H[ok]) @ g[ok][..., None])[..., 0]
            x[active] = y - dx
            moving = np.isfinite(dx).all(axis=1) & np.any(np.abs(dx) > 1e-15 * (1 + np.abs(y)), axis=1)
            active = active[moving]
            if not active.size:
                break
        ok = np.all(np.isfinite(x), axis=1)
        ok[ok] &= np.linalg.norm(ls.grad(x[ok]), axis=1) <= gtol * (1 + np.abs(x[ok]).max(axis=1))
        ok[ok] &= ls.hess_checked(x[ok])[1]
    pad = 0.05 * (hi - lo)
    ok[ok] &= np.all((x[ok] >= lo - pad) & (x[ok] <= hi + pad), axis=1)
    found, n = np.empty((int(ok.sum()), ls.dim)), 0
    for p in x[ok]:  # keep p unless it is within 1e-6 (relative) of a point already kept
        q = found[:n]
        if not n or np.all(np.linalg.norm(q - p, axis=1) > 1e-6 * (1 + np.linalg.norm(q, axis=1))):
            found[n], n = p, n + 1
    return found[np.lexsort(found[:n].T[::-1])] if n else found[:0]


_WORDS = {"maximum": "local maximum", "degenerate": "degenerate point"}


def _found_critical_points(ls: Landscape) -> list[CriticalPoint]:
    """Critical points inside the bounds, found numerically and labelled "minimum 1 (sharpness
    24.9)", "saddle 1", ... (numbered in order of position). Isolated points first, at most
    ``MAX_FOUND`` in all: a curve of minima would give one point per start; its points are
    labelled "not isolated" (a zero Hessian eigenvalue)."""
    pts = newton_critical_points(ls)
    if not len(pts):
        return []
    H, settled = ls.hess_checked(pts)
    eig = np.linalg.eigvalsh(np.where(settled[:, None, None], H, 0.0))
    isolated = settled & np.all(np.abs(eig) > 1e-8 * np.maximum(1.0, np.abs(eig).max(axis=1, keepdims=True)), axis=1)
    keep = np.sort(np.argsort(~isolated, kind="stable")[:MAX_FOUND])
    kinds = np.atleast_1d(ls.classify(pts[keep]))
    out, count = [], {}
    for p, kind, lam, iso in zip(pts[keep], kinds, eig[keep, -1], isolated[keep], strict=True):
        count[kind] = count.get(kind, 0) + 1
        notes = [f"sharpness {lam:.3g}"] if kind == "minimum" and lam > 0 else []
        notes += [] if iso else ["not isolated"]
        label = f"{_WORDS.get(kind, kind)} {count[kind]}" + (f" ({', '.join(notes)})" if notes else "")
        out.append(CriticalPoint(p, str(kind), label))
    return out


def _cp(x, kind, label) -> CriticalPoint:
    return CriticalPoint(np.atleast_1d(np.asarray(x, dtype=float)), kind, label)


def _eye_like(x, dim):
    return np.broadcast_to(np.eye(dim), x.shape[:-1] + (dim, dim)).copy()


# ----------------------------------------------------------------------------------------------
# Quadratic
# ----------------------------------------------------------------------------------------------
def quadratic(curvatures: Sequence[float] = (1.0, 10.0)) -> Landscape:
    """f(x) = sum_i c_i x_i^2 / 2: Hessian diag(c), the simplest model of a minimum (c_i > 0)."""
    c = checks.array("curvatures", curvatures, max_ndim=1).ravel()
    if c.size == 0:
        raise ValueError(f"curvatures must be a non-empty list of finite numbers; got {curvatures!r}")
    dim = c.size
    if np.all(c > 0):
        kind, label = "minimum", "minimum"
    elif np.all(c < 0):
        kind, label = "maximum", "maximum"
    elif np.any(c == 0):
        kind, label = "degenerate", "degenerate critical point"
    else:
        kind, label = "saddle", "saddle"
    span = 2.0
    return Landscape(
        "quadratic", dim,
        lambda x: 0.5 * np.sum(c * x**2, axis=-1),
        lambda x: c * x,
        lambda x: _eye_like(x, dim) * c,
        bounds=[(-span, span)] * dim,
        critical_fn=lambda: [_cp(np.zeros(dim), kind, label)],
        lipschitz_fn=lambda: float(np.max(np.abs(c))),
        formula=r"f(x) = \tfrac12 \sum_i c_i x_i^2",
    )


# ----------------------------------------------------------------------------------------------
# Piecewise-quadratic sharp/flat double well (C^{1,1}, semi-algebraic)
# ----------------------------------------------------------------------------------------------
_PW_SHARP_MIN, _PW_FLAT_MIN, _PW_LEFT, _PW_RIGHT = -1.0, 2.0, -0.9, 1.0


def _pw_pieces(sharp, flat):
    """f' = sharp (x+1) on x <= -0.9, linear on [-0.9, 1], flat (x-2) on x >= 1."""
    g_left = sharp * (_PW_LEFT - _PW_SHARP_MIN)          # f'(-0.9) > 0
    g_right = flat * (_PW_RIGHT - _PW_FLAT_MIN)          # f'(1) < 0
    slope = (g_right - g_left) / (_PW_RIGHT - _PW_LEFT)  # < 0 on the hump
    f_left = 0.5 * sharp * (_PW_LEFT - _PW_SHARP_MIN) ** 2
    f_right = f_left + g_left * (_PW_RIGHT - _PW_LEFT) + 0.5 * slope * (_PW_RIGHT - _PW_LEFT) ** 2
    offset = f_right - 0.5 * flat * (_PW_RIGHT - _PW_FLAT_MIN) ** 2  # f(2) so that f is C^1
    return g_left, slope, f_left, offset


def _pw_value(x, sharp, flat):
    g_left, slope, f_left, offset = _pw_pieces(sharp, flat)
    t = x[..., 0]
    d = t - _PW_LEFT
    return np.where(
        t <= _PW_LEFT, 0.5 * sharp * (t - _PW_SHARP_MIN) ** 2,
        np.where(t >= _PW_RIGHT, offset + 0.5 * flat * (t - _PW_FLAT_MIN) ** 2,
                 f_left + g_left * d + 0.5 * slope * d**2))


def _pw_grad(x, sharp, flat):
    g_left, slope, _, _ = _pw_pieces(sharp, flat)
    t = x[..., 0]
    g = np.where(t <= _PW_LEFT, sharp * (t - _PW_SHARP_MIN),
                 np.where(t >= _PW_RIGHT, flat * (t - _PW_FLAT_MIN), g_left + slope * (t - _PW_LEFT)))
    return g[..., None]


def _pw_hess(x, sharp, flat):
    _, slope, _, _ = _pw_pieces(sharp, flat)
    t = x[..., 0]
    h = np.where(t <= _PW_LEFT, sharp, np.where(t >= _PW_RIGHT, flat, slope))
    return h[..., None, None]


def _pw_critical(sharp, flat):
    g_left, slope, _, _ = _pw_pieces(sharp, flat)
    hump = _PW_LEFT - g_left / slope
    return [_cp(_PW_SHARP_MIN, "minimum", "sharp minimum"),
            _cp(hump, "maximum", "local maximum (hump)"),
            _cp(_PW_FLAT_MIN, "minimum", "flat minimum")]


def sharp_flat_double_well(sharp: float = 20.0, flat: float = 1.0) -> Landscape:
    """Piecewise-quadratic double well: f'' = sharp near the minimum -1, f'' = flat near 2.

    f' = sharp (x + 1) for x <= -0.9, linear on [-0.9, 1], flat (x - 2) for x >= 1: C^{1,1}
    and semi-algebraic, with a hump (local maximum) where the linear piece crosses zero.
    """
    return Landscape(
        "sharp/flat double well (piecewise quadratic)", 1, _pw_value, _pw_grad, _pw_hess,
        bounds=[(-3.0, 5.0)],
        params=[Param("sharp", 20.0, 2.0, 60.0, "curvature of the sharp minimum at x = -1", log=True),
                Param("flat", 1.0, 0.1, 4.0, "curvature of the flat minimum at x = 2", log=True)],
        values={"sharp": sharp, "flat": flat},
        critical_fn=_pw_critical,
        lipschitz_fn=lambda sharp, flat: max(sharp, flat, -_pw_pieces(sharp, flat)[1]),
        formula=r"f'(x) = \lambda_s (x+1)\ (x\le -0.9),\ \text{linear},\ \lambda_f (x-2)\ (x \ge 1)",
    )


# Smooth double well with adjustable sharpness (a polynomial: semi-algebraic)
#   f(x) = h(x) (x - m1)^2 (x - m2)^2 / 2,  h(x) = A (1 + kappa (x - c)^2) > 0
# ----------------------------------------------------------------------------------------------
_SM_M1, _SM_M2 = -1.0, 2.0
_SM_D = _SM_M2 - _SM_M1


def _tilt(sharp, flat):
    """(A, kappa, c) with d^2 h(m1) = sharp and d^2 h(m2) = flat; h is smallest at the flatter minimum."""
    if sharp >= flat:
        return flat / _SM_D**2, (sharp / flat - 1) / _SM_D**2, _SM_M2
    return sharp / _SM_D**2, (flat / sharp - 1) / _SM_D**2, _SM_M1


def _well_derivatives(t, sharp, flat):
    """w, w', w'' of the 1-D well and h, h', h'' of the tilt, at t."""
    A, kappa, c = _tilt(sharp, flat)
    u, v = t - _SM_M1, t - _SM_M2
    p, dp, ddp = 0.5 * u**2 * v**2, u * v * (u + v), u**2 + v**2 + 4 * u * v
    h, dh, ddh = A * (1 + kappa * (t - c) ** 2), 2 * A * kappa * (t - c), 2 * A * kappa
    return (p * h, dp * h + p * dh, ddp * h + 2 * dp * dh + p * ddh), (h, dh, ddh)


def _well_hump(sharp, flat) -> float:
    """The one root in (m1, m2) of (u + v) h + (u v / 2) h' = 0 (f'/(uv)): a cubic with one real root."""
    from numpy.polynomial import Polynomial as P

    A, kappa, c = _tilt(sharp, flat)
    x = P([0.0, 1.0])
    u, v = x - _SM_M1, x - _SM_M2
    h = A * (1 + kappa * (x - c) ** 2)
    cubic = (u + v) * h + u * v * (A * kappa) * (x - c)
    roots = cubic.roots()
    real = roots[np.abs(roots.imag) < 1e-9].real
    return float(real[(real > _SM_M1) & (real < _SM_M2)][0])


def _well_critical(sharp, flat, hump_kind="maximum", hump_label="local maximum (hump)"):
    first, second = ("sharp minimum", "flat minimum") if sharp >= flat else ("flat minimum", "sharp minimum")
    return [(_SM_M1, "minimum", first), (_well_hump(sharp, flat), hump_kind, hump_label),
            (_SM_M2, "minimum", second)]


_SHARP_FLAT_PARAMS = [Param("sharp", 20.0, 2.0, 60.0, "sharpness of the minimum at x = -1", log=True),
                      Param("flat", 1.0, 0.1, 4.0, "sharpness of the minimum at x = 2", log=True)]


def smooth_double_well(sharp: float = 20.0, flat: float = 1.0) -> Landscape:
    """Smooth double well f(x) = h(x) (x + 1)^2 (x - 2)^2 / 2 with f''(-1) = sharp, f''(2) = flat.

    h(x) = A (1 + kappa (x - c)^2) > 0 tilts the curvatures; f is a polynomial (semi-algebraic),
    coercive, and both minima have f = 0 (equal depth: they differ only in sharpness). Its only
    other critical point is the hump, the real root of a cubic. The gradient is only locally
    Lipschitz. Just above a step 2/sharp, GD settles on a genuine (attracting) period-2 orbit.
    """
    return Landscape(
        "smooth sharp/flat double well", 1,
        lambda x, sharp, flat: _well_derivatives(x[..., 0], sharp, flat)[0][0],
        lambda x, sharp, flat: _well_grad(x[..., 0], sharp, flat)[0][..., None],
        lambda x, sharp, flat: _well_derivatives(x[..., 0], sharp, flat)[0][2][..., None, None],
        bounds=[(-1.8, 3.2)],
        params=_SHARP_FLAT_PARAMS,
        values={"sharp": sharp, "flat": flat},
        critical_fn=lambda sharp, flat: [_cp(x, k, lab) for x, k, lab in _well_critical(sharp, flat)],
        formula=r"f(x) = \tfrac12 h(x) (x+1)^2 (x-2)^2,\quad h(x) = A(1+\kappa (x-c)^2)",
    )


# 2-D: f(x, y) = w(x) + k(x) y^2 / 2 with k = d^2 h, so k(-1) = sharp and k(2) = flat.
def _sf2_value(z, sharp, flat):
    (w, _, _), (h, _, _) = _well_derivatives(z[..., 0], sharp, flat)
    return w + 0.5 * _SM_D**2 * h * z[..., 1] ** 2


def _well_grad(t, sharp, flat):
    """(w', h, h') at t: the gradient alone, fused (it runs once per GD step)."""
    A, kappa, c = _tilt(sharp, flat)
    u, v, s = t - _SM_M1, t - _SM_M2, t - c
    uv = u * v
    h, dh = A * (1 + kappa * s * s), (2 * A * kappa) * s
    return uv * ((u + v) * h + 0.5 * uv * dh), h, dh


def _sf2_grad(z, sharp, flat):
    y = z[..., 1]
    dw, h, dh = _well_grad(z[..., 0], sharp, flat)
    out = np.empty(np.shape(z))
    out[..., 0] = dw + (0.5 * _SM_D**2) * dh * y * y
    out[..., 1] = _SM_D**2 * h * y
    return out


def _sf2_hess(z, sharp, flat):
    y = z[..., 1]
    (_, _, ddw), (h, dh, ddh) = _well_derivatives(z[..., 0], sharp, flat)
    hxx = ddw + 0.5 * _SM_D**2 * ddh * y * y
    hxy = _SM_D**2 * dh * y
    return np.stack([np.stack([hxx, hxy], -1), np.stack([hxy, _SM_D**2 * h], -1)], -2)


def sharp_flat_2d(sharp: float = 20.0, flat: float = 1.0) -> Landscape:
    """2-D landscape f(x, y) = w(x) + k(x) y^2 / 2: a sharp narrow basin and a wide flat basin.

    w is :func:`smooth_double_well` and k(x) = 9 h(x) > 0 interpolates the curvatures, so the
    Hessian is sharp * I at the minimum (-1, 0) and flat * I at (2, 0); the hump becomes a saddle.
    A polynomial (semi-algebraic) and coercive; its critical points are exactly those of w on y = 0.
    """
    return Landscape(
        "sharp and flat basins (2-D)", 2, _sf2_value, _sf2_grad, _sf2_hess,
        bounds=[(-1.8, 3.2), (-1.5, 1.5)],
        params=_SHARP_FLAT_PARAMS,
        values={"sharp": sharp, "flat": flat},
        critical_fn=lambda sharp, flat: [
            _cp([x, 0.0], k, lab) for x, k, lab in _well_critical(sharp, flat, "saddle", "saddle")],
        formula=r"f(x,y) = w(x) + \tfrac12 k(x) y^2",
    )


# ----------------------------------------------------------------------------------------------
# Curve of minima: f = (xy - 1)^2 / 2
# ----------------------------------------------------------------------------------------------
def _xy_value(z):
    r = z[..., 0] * z[..., 1] - 1
    return 0.5 * r**2


def _xy_grad(z):
    x, y = z[..., 0], z[..., 1]
    r = x * y - 1
    return np.stack([r * y, r * x], axis=-1)


def _xy_hess(z):
    x, y = z[..., 0], z[..., 1]
    hxy = 2 * x * y - 1
    return np.stack([np.stack([y * y, hxy], -1), np.stack([hxy, x * x], -1)], -2)


def curve_of_minima() -> Landscape:
    """f(x, y) = (xy - 1)^2 / 2: minima on the hyperbola xy = 1, a saddle at 0.

    At (t, 1/t) the Hessian has eigenvalues 0 and t^2 + 1/t^2: sharpness varies along the
    curve, flattest at (1, 1) and (-1, -1). Gradient flow conserves x^2 - y^2; a GD step
    multiplies it by 1 - a^2 (xy - 1)^2. The gradient is only locally Lipschitz.
    """
    return Landscape(
        "curve of minima (xy - 1)^2 / 2", 2, _xy_value, _xy_grad, _xy_hess,
        bounds=[(-3.0, 3.0), (-3.0, 3.0)],
        critical_fn=lambda: [_cp([1.0, 1.0], "minimum", "flattest minimum (1, 1)"),
                             _cp([-1.0, -1.0], "minimum", "flattest minimum (-1, -1)"),
                             _cp([0.0, 0.0], "saddle", "saddle")],
        formula=r"f(x,y) = \tfrac12 (xy - 1)^2",
    )


def curve_point(t: float) -> np.ndarray:
    """The point (t, 1/t) of the curve of minima xy = 1 (t != 0)."""
    t = checks.real("t", t)
    if t == 0:
        raise ValueError(f"t must be a finite nonzero number; got {t!r}")
    return np.array([t, 1.0 / t])


# ----------------------------------------------------------------------------------------------
# Saddle x^2/2 + y^4/4 - y^2/2
# ----------------------------------------------------------------------------------------------
def saddle() -> Landscape:
    """f(x, y) = x^2/2 + y^4/4 - y^2/2: a strict saddle at 0 and minima at (0, +-1).

    The saddle's stable set is the line y = 0 (measure zero): only starts with y0 = 0 reach it.
    """
    return Landscape(
        "saddle x^2/2 + y^4/4 - y^2/2", 2,
        lambda z: 0.5 * z[..., 0] ** 2 + 0.25 * z[..., 1] ** 4 - 0.5 * z[..., 1] ** 2,
        lambda z: np.stack([z[..., 0], z[..., 1] ** 3 - z[..., 1]], axis=-1),
        lambda z: np.stack([np.stack([np.ones_like(z[..., 0]), np.zeros_like(z[..., 0])], -1),
                            np.stack([np.zeros_like(z[..., 0]), 3 * z[..., 1] ** 2 - 1], -1)], -2),
        bounds=[(-2.0, 2.0), (-2.0, 2.0)],
        critical_fn=lambda: [_cp([0.0, 0.0], "saddle", "saddle"),
                             _cp([0.0, 1.0], "minimum", "minimum (0, 1)"),
                             _cp([0.0, -1.0], "minimum", "minimum (0, -1)")],
        formula=r"f(x,y) = \tfrac12 x^2 + \tfrac14 y^4 - \tfrac12 y^2",
    )


# ----------------------------------------------------------------------------------------------
# Plateau, cubic, absolute value
# ----------------------------------------------------------------------------------------------
def plateau() -> Landscape:
    """f(x) = max(|x| - 1, 0)^2 / 2: every point of [-1, 1] is a minimum; inside it also a maximum.

    Only the edges +-1 are reached from outside; an interior point is reached only by starting
    on it. The gradient is 1-Lipschitz.
    """
    def grad(x):
        t = x[..., 0]
        return (np.sign(t) * np.maximum(np.abs(t) - 1, 0))[..., None]

    def hess(x):
        return (np.abs(x[..., 0]) > 1).astype(float)[..., None, None]

    return Landscape(
        "plateau max(|x| - 1, 0)^2 / 2", 1,
        lambda x: 0.5 * np.maximum(np.abs(x[..., 0]) - 1, 0) ** 2, grad, hess,
        bounds=[(-3.0, 3.0)],
        critical_fn=lambda: [_cp(-1.0, "minimum", "plateau edge -1"),
                             _cp(0.0, "minimum and maximum", "plateau interior"),
                             _cp(1.0, "minimum", "plateau edge +1")],
        lipschitz_fn=lambda: 1.0,
        formula=r"f(x) = \tfrac12 \max(|x|-1, 0)^2",
    )


def cubic() -> Landscape:
    """f(x) = x^3: 0 is a degenerate critical point (neither minimum nor maximum)."""
    return Landscape(
        "cubic x^3", 1,
        lambda x: x[..., 0] ** 3,
        lambda x: 3 * x**2,
        lambda x: (6 * x[..., 0])[..., None, None],
        bounds=[(-1.0, 1.0)],
        critical_fn=lambda: [_cp(0.0, "degenerate", "degenerate point (inflection)")],
        formula=r"f(x) = x^3",
    )


def absolute_value() -> Landscape:
    """f(x) = |x|, nonsmooth; ``grad`` returns the subgradient sign(x) (0 at 0)."""
    return Landscape(
        "absolute value |x|", 1,
        lambda x: np.abs(x[..., 0]),
        lambda x: np.sign(x),
        lambda x: np.zeros(x.shape[:-1] + (1, 1)),
        bounds=[(-2.0, 2.0)],
        critical_fn=lambda: [_cp(0.0, "minimum", "minimum (kink)")],
        smooth=False,
        formula=r"f(x) = |x|",
    )


def piecewise_linear() -> Landscape:
    """f(x) = max(-x, x/2, 2x - 3) (convex, piecewise linear); ``grad`` is a subgradient."""
    def value(x):
        t = x[..., 0]
        return np.maximum.reduce([-t, 0.5 * t, 2 * t - 3])

    def grad(x):
        t = x[..., 0]
        pieces = np.stack([-t, 0.5 * t, 2 * t - 3])
        slopes = np.array([-1.0, 0.5, 2.0])
        g = slopes[np.argmax(pieces, axis=0)]
        return np.where(t == 0, 0.0, g)[..., None]

    return Landscape(
        "piecewise linear max(-x, x/2, 2x-3)", 1, value, grad,
        lambda x: np.zeros(x.shape[:-1] + (1, 1)),
        bounds=[(-2.0, 4.0)],
        critical_fn=lambda: [_cp(0.0, "minimum", "minimum (kink)")],
        smooth=False,
        formula=r"f(x) = \max(-x,\ x/2,\ 2x-3)",
    )


# ----------------------------------------------------------------------------------------------
# Himmelblau
# ----------------------------------------------------------------------------------------------
_HIMMELBLAU_GUESSES = [
    ((3.0, 2.0), "minimum", "minimum (3, 2)"),
    ((-2.805118, 3.131312), "minimum", "minimum (-2.81, 3.13)"),
    ((-3.779310, -3.283186), "minimum", "minimum (-3.78, -3.28)"),
    ((3.584428, -1.848126), "minimum", "minimum (3.58, -1.85)"),
    ((-0.270845, -0.923039), "maximum", "local maximum"),
    ((0.086677, 2.884254), "saddle", "saddle (0.09, 2.88)"),
    ((-3.073026, -0.081353), "saddle", "saddle (-3.07, -0.08)"),
    ((3.385154, 0.073852), "saddle", "saddle (3.39, 0.07)"),
    ((-0.127961, -1.953715), "saddle", "saddle (-0.13, -1.95)"),
]


def _hb_grad(z):
    x, y = z[..., 0], z[..., 1]
    a, b = x * x + y - 11, x + y * y - 7
    return np.stack([4 * x * a + 2 * b, 2 * a + 4 * y * b], axis=-1)


def _hb_hess(z):
    x, y = z[..., 0], z[..., 1]
    hxx = 12 * x * x + 4 * y - 42
    hyy = 12 * y * y + 4 * x - 26
    hxy = 4 * (x + y)
    return np.stack([np.stack([hxx, hxy], -1), np.stack([hxy, hyy], -1)], -2)


def _hb_critical():
    """Newton-refine tabulated approximations to machine precision."""
    out = []
    for x0, kind, label in _HIMMELBLAU_GUESSES:
        x = np.array(x0)
        for _ in range(20):
            x = x - np.linalg.solve(_hb_hess(x), _hb_grad(x))
        out.append(_cp(x, kind, label))
    return out


def himmelblau() -> Landscape:
    """Himmelblau's f = (x^2 + y - 11)^2 + (x + y^2 - 7)^2: four minima, four saddles, one maximum."""
    return Landscape(
        "Himmelblau", 2,
        lambda z: (z[..., 0] ** 2 + z[..., 1] - 11) ** 2 + (z[..., 0] + z[..., 1] ** 2 - 7) ** 2,
        _hb_grad, _hb_hess,
        bounds=[(-5.0, 5.0), (-5.0, 5.0)],
        critical_fn=_hb_critical,
        formula=r"f(x,y) = (x^2+y-11)^2 + (x+y^2-7)^2",
    )


# ----------------------------------------------------------------------------------------------
# Finite sums for SGD
# ----------------------------------------------------------------------------------------------
class FiniteSum(Landscape):
    """f(x) = (1/n) sum_i f_i(x) with f_i = c_i g(x) (interpolation: every f_i is minimal where g is).

    ``sample_grad(x, idx)`` is the minibatch gradient (1/b) sum_{i in idx} grad f_i(x) for x of
    shape (batch, dim) and idx of shape (batch, b), so SGD noise is real sampling noise.
    With a base ``g`` normalised so that mean(c) = 1, f = g.
    """

    def __init__(self, base: Landscape, weights: Sequence[float], name: str):
        w = checks.array("weights", weights, max_ndim=1).ravel()
        if w.size < 1 or np.any(w < 0):
            raise ValueError(f"weights must be a non-empty list of nonnegative numbers; got {weights!r}")
        with np.errstate(over="ignore"):
            scale = w.mean()
        if not 0 < scale < np.inf:
            raise ValueError(f"weights must not all be zero, and their mean must be finite in float64; got {weights!r}")
        base_specs = base.param_specs
        super().__init__(
            name, base.dim,
            lambda x, **p: scale * base._value_fn(x, **p),
            lambda x, **p: scale * base._grad_fn(x, **p),
            None if base._hess_fn is None else (lambda x, **p: scale * base._hess_fn(x, **p)),
            bounds=base.bounds, params=base_specs, values=base.params,
            critical_fn=base._critical_fn,
            lipschitz_fn=None if base._lipschitz_fn is None
            else (lambda **p: scale * base._lipschitz_fn(**p)),
            smooth=base.smooth,
            formula=r"f(x) = \frac1n \sum_i c_i\, g(x)",
        )
        self.base = base
        self.weights = w

    @property
    def n_samples(self) -> int:
        return self.weights.size

    def with_params(self, **values):
        return FiniteSum(self.base.with_params(**values), self.weights, self.name)

    def sample_grad(self, x, idx) -> np.ndarray:
        """Minibatch gradient: mean over idx[..., j] of c_i grad g(x); x (..., dim), idx (..., b)."""
        x = _as_points(x, self.dim)
        c = self.weights[np.asarray(idx)].mean(axis=-1)
        return c[..., None] * self.base._grad_fn(x, **self.params)

    def sample_hessians(self, x) -> np.ndarray:
        """Per-sample Hessians c_i H_g(x), shape (n, ..., dim, dim)."""
        H = self.base.hess(x)
        return self.weights.reshape((-1,) + (1,) * H.ndim) * H


def interpolating_quadratics(weights: Sequence[float] = (0.5, 1.5)) -> FiniteSum:
    """f(x) = mean_i a_i x^2 / 2: every sample is minimal at 0 (an interpolating minimum).

    With a = (0.5, 1.5) and batch 1: GD is stable iff eta < 2; SGD is mean-square stable iff
    E(1 - eta a_i)^2 <= 1 (eta <= 1.6) and converges almost surely iff E log|1 - eta a_i| < 0.
    """
    base = Landscape("x^2/2", 1, lambda x: 0.5 * x[..., 0] ** 2, lambda x: x,
                     lambda x: np.ones(x.shape[:-1] + (1, 1)), bounds=[(-2.0, 2.0)],
                     critical_fn=lambda: [_cp(0.0, "minimum", "minimum")],
                     lipschitz_fn=lambda: 1.0)
    return FiniteSum(base, weights, "interpolating quadratics mean a_i x^2/2")


def sharp_flat_2d_sum(n_samples: int = 8, spread: float = 0.8, seed: int = 0,
                      sharp: float = 20.0, flat: float = 1.0) -> FiniteSum:
    """Finite sum of scaled copies c_i g of :func:`sharp_flat_2d` (mean c_i = 1).

    The per-sample curvatures at each minimum are c_i times its sharpness, so minibatch noise
    vanishes at both minima (interpolation) but is larger, in absolute terms, at the sharp one.
    ``spread`` in [0, 1) sets c_i uniformly in [1 - spread, 1 + spread] (seeded).
    """
    n_samples = checks.integer("n_samples", n_samples, low=1, high=100_000)
    spread = checks.real("spread", spread, low=0.0, high=1.0, high_open=True)
    c = np.random.default_rng(checks.seed("seed", seed)).uniform(1 - spread, 1 + spread, n_samples)
    c = c / c.mean()
    return FiniteSum(sharp_flat_2d(sharp, flat), c, "sharp and flat basins, finite sum")


BUILTIN = {
    "quadratic": quadratic,
    "sharp_flat_double_well": sharp_flat_double_well,
    "smooth_double_well": smooth_double_well,
    "sharp_flat_2d": sharp_flat_2d,
    "curve_of_minima": curve_of_minima,
    "saddle": saddle,
    "plateau": plateau,
    "cubic": cubic,
    "absolute_value": absolute_value,
    "piecewise_linear": piecewise_linear,
    "himmelblau": himmelblau,
    "interpolating_quadratics": interpolating_quadratics,
    "sharp_flat_2d_sum": sharp_flat_2d_sum,
}


# ----------------------------------------------------------------------------------------------
# A finite sum without interpolation (notebook 04)
# ----------------------------------------------------------------------------------------------
class ShiftedQuadratics(FiniteSum):
    """f(x) = (1/n) sum_i |x - s_i|^2 / 2: every sample has its own minimum s_i.

    f is minimal at the mean shift s_bar, where no sample is minimal: the minibatch gradient
    there, s_bar - mean_{i in B} s_i, is not zero (gradient noise at the minimum, no
    interpolation). Unlike the scaled copies of :class:`FiniteSum`, the samples differ by more
    than a factor, so ``sample_grad`` computes the per-sample gradients (``sgd`` calls it).
    """

    def __init__(self, shifts):
        s = checks.array("shifts", shifts)
        if s.ndim == 1:
            s = s[:, None]
        if s.ndim != 2 or s.shape[0] < 1 or s.shape[1] < 1:
            raise ValueError("shifts must be a non-empty list of finite numbers (n,) or points "
                             f"(n, dim); got {shifts!r}")
        with np.errstate(all="ignore"):
            dim, mean = s.shape[1], s.mean(axis=0)
            spread = float(np.mean(np.sum((s - mean) ** 2, axis=1)))  # mean |s_i - s_bar|^2
        if not (np.all(np.isfinite(mean)) and np.isfinite(spread) and np.abs(s).max() < 1e150):
            raise ValueError(f"shifts must be below 1e150 in size (mean |s_i - s_bar|^2 must be finite "
                             f"in float64); got {shifts!r}")
        span = max(2.0, 2.0 * float(np.abs(s - mean).max()))
        base = Landscape(
            "mean of shifted quadratics", dim,
            lambda x: 0.5 * np.sum((x - mean) ** 2, axis=-1) + 0.5 * spread,
            lambda x: x - mean,
            lambda x: _eye_like(x, dim),
            bounds=[(m - span, m + span) for m in mean],
            critical_fn=lambda: [_cp(mean, "minimum", "minimum (mean of the shifts)")],
            lipschitz_fn=lambda: 1.0,
        )
        super().__init__(base, np.ones(s.shape[0]), "shifted quadratics mean |x - s_i|^2/2")
        self.formula = r"f(x) = \frac1n \sum_i \tfrac12 |x - s_i|^2"
        self.shifts = s

    def with_params(self, **values):
        self._checked_params(values)  # no parameters: only an empty call is allowed
        return self

    def sample_grad(self, x, idx) -> np.ndarray:
        """Minibatch gradient x - mean_{i in idx} s_i; x (..., dim), idx (..., b)."""
        x = _as_points(x, self.dim)
        return x - self.shifts[np.asarray(idx)].mean(axis=-2)

    def sample_hessians(self, x) -> np.ndarray:
        """Per-sample Hessians (all the identity), shape (n, ..., dim, dim)."""
        H = _eye_like(_as_points(x, self.dim), self.dim)
        return np.broadcast_to(H, (self.n_samples,) + H.shape).copy()


def shifted_quadratics(shifts: Sequence[float] = (-1.0, 0.0, 2.0, 3.0)) -> ShiftedQuadratics:
    """f(x) = mean_i (x - s_i)^2 / 2 (a non-interpolating finite sum; minimum at mean(s)).

    Constant-step SGD does not converge here: with batch 1 and step a < 2, x_k - mean(s)
    settles into a stationary spread of variance a Var(s) / (2 - a).
    """
    return ShiftedQuadratics(shifts)


BUILTIN["shifted_quadratics"] = shifted_quadratics


# ----------------------------------------------------------------------------------------------
# Mexican hat (Absil, Mahony & Andrews 2005): C^infinity but not definable; the gradient flow
# spirals toward the circle of minima r = 1 forever, with infinite length.
#   f(r, theta) = exp(-1/(1 - r^2)) [1 - g(r) sin(theta - 1/(1 - r^2))],  g = 4r^4/(4r^4 + (1-r^2)^4)
# for r < 1, and f = 0 for r >= 1. Write u = 1/(1 - r^2) and phi = theta - u.
# ----------------------------------------------------------------------------------------------
_MH_U_MAX = 800.0  # for u > 800, e^{-u} is exactly 0 in float64 (the smallest double is ~e^{-745})


def _mh_parts(z):
    x, y = z[..., 0], z[..., 1]
    r2 = x * x + y * y
    inside = 1.0 - r2 > 1.0 / _MH_U_MAX
    s = np.where(inside, 1.0 - r2, 1.0)  # s = 1 - r^2, a harmless 1 outside (masked by E = 0)
    u = 1.0 / s
    E = np.where(inside, np.exp(-u), 0.0)
    D = 4.0 * r2 * r2 + s**4
    g = 4.0 * r2 * r2 / D
    phi = np.arctan2(y, x) - u
    return x, y, r2, s, u, E, D, g, phi


def _mh_value(z):
    _, _, _, _, _, E, _, g, phi = _mh_parts(z)
    return E * (1.0 - g * np.sin(phi))


def _mh_grad(z):
    """grad f = (f_r / r) (x, y) + (f_theta / r^2) (-y, x), each factor smooth at the centre."""
    x, y, r2, s, u, E, D, g, phi = _mh_parts(z)
    sn, cs = np.sin(phi), np.cos(phi)
    g_r_over_r = 16.0 * r2 * s**3 * (s + 2.0 * r2) / D**2
    fr_over_r = -E * (2.0 * u * u * (1.0 - g * sn - g * cs) + g_r_over_r * sn)
    ft_over_r2 = -E * cs * 4.0 * r2 / D
    return np.stack([fr_over_r * x - ft_over_r2 * y, fr_over_r * y + ft_over_r2 * x], axis=-1)


_MH_GUESSES = [
    ((0.0, 0.0), "maximum", "local maximum (centre)"),
    ((0.2812293, -0.1398130), "saddle", "saddle"),
    ((0.5295179, -0.0886201), "maximum", "local maximum (on the ridge)"),
]


def _mh_critical():
    """The critical points inside the disc (all three: grad f = 0 needs cos(phi) = 0, and on the
    valley sin(phi) = 1 the radial derivative is negative), Newton-refined, and one point of the
    circle of minima r = 1 (every point with r >= 1 is a minimum: f = 0 there, f > 0 inside)."""
    out = []
    for x0, kind, label in _MH_GUESSES:
        x = np.array(x0)
        for _ in range(8):
            x = x - np.linalg.solve(finite_difference_hessian(_mh_grad, x), _mh_grad(x))
        out.append(_cp(x, kind, label))
    out.append(_cp([1.0, 0.0], "minimum", "minimum (a point of the circle r = 1)"))
    return out


def mexican_hat() -> Landscape:
    """The "Mexican hat" of Absil, Mahony & Andrews (2005): smooth (C^infinity) but not definable.

    In polar coordinates, with u = 1/(1 - r^2),
    f = e^{-u} [1 - 4r^4 / (4r^4 + (1 - r^2)^4) sin(theta - u)] for r < 1 and f = 0 for r >= 1.
    Every point with r >= 1 is a global minimum (f > 0 inside the disc). A valley,
    theta - u = pi/2, spirals out toward the unit circle, winding around it infinitely often;
    gradient-flow trajectories that fall into it follow it forever: they accumulate on the whole
    circle, do not converge to a point, and have infinite length. All derivatives vanish on the
    circle (f is flat there); the infinitely many turns are what rule out definability.
    Inside the disc the critical points are the centre (a local maximum), a saddle and a local
    maximum on the ridge. The gradient is Lipschitz (f is smooth and vanishes outside the disc),
    but no constant is declared. Hessian: finite differences of the analytic gradient.
    """
    return Landscape(
        "Mexican hat (Absil, Mahony & Andrews 2005)", 2, _mh_value, _mh_grad, None,
        bounds=[(-1.25, 1.25), (-1.25, 1.25)],
        critical_fn=_mh_critical,
        formula=(r"f = e^{-1/(1-r^2)}\left[1 - \frac{4r^4}{4r^4 + (1-r^2)^4}"
                 r"\sin\!\left(\theta - \frac{1}{1-r^2}\right)\right]\ (r<1),\quad f = 0\ (r \ge 1)"),
    )


@dataclass(frozen=True)
class SpiralFlow:
    """The gradient flow of :func:`mexican_hat` from one start, sampled along its path.

    Arrays of length n (the samples): ``points`` (n, 2); polar ``r`` and unwrapped ``theta``;
    ``gap`` = 1 - r^2 (computed without cancellation, so it stays exact near the circle);
    ``turns`` = (theta - theta_0) / (2 pi); ``length`` of the path from the start;
    ``log10_time`` = log10(1 + t) with t the gradient-flow time; ``log10_value`` = log10 f;
    ``log10_grad`` = log10 |grad f|, from the flow's own speed |dx/dt| (no underflow).
    """

    start: np.ndarray
    points: np.ndarray
    r: np.ndarray
    gap: np.ndarray
    theta: np.ndarray
    turns: np.ndarray
    length: np.ndarray
    log10_time: np.ndarray
    log10_value: np.ndarray
    log10_grad: np.ndarray


def _mh_flow_rhs(Y, m):
    """The flow in the variables (u, psi, Lambda, ell) against a rescaled time sigma.

    u = 1/(1 - r^2), psi = theta - u - pi/2 (0 on the valley), Lambda = log(1 + t), ell = length.
    Polar gradient flow: r' = -f_r, theta' = -f_theta / r^2, with f_r, f_theta = e^{-u} x (...).
    The time change dt = 4 u^4 e^u dsigma removes the factor e^{-u} and makes theta advance at a
    rate of order 1 along the valley. Written without cancellation (1 - g = q/(1+q), sin psi, ...).
    Scalars; ``m`` is the module ``math``, or ``cmath`` for complex points (complex-step Jacobian).
    """
    u, psi, lam, _ = Y
    s = 1.0 / u
    r2 = 1.0 - s
    r = m.sqrt(r2)
    s4 = s**4
    q = s4 / (4.0 * r2 * r2)
    g = 1.0 / (1.0 + q)
    D = 4.0 * r2 * r2 + s4
    sin_psi = m.sin(psi)
    h = q / (1.0 + q) + g * (2.0 * m.sin(psi / 2) ** 2 + sin_psi)  # 1 - g sin phi - g cos phi
    g_r = 16.0 * r2 * r * s**3 * (s + 2.0 * r2) / (D * D)
    u_r = 2.0 * r * u * u
    w = 4.0 * u**4
    dr = w * (u_r * h + g_r * m.cos(psi))  # sin phi = cos psi, cos phi = -sin psi
    dth = -w * g * sin_psi / r2
    du = u_r * dr
    return [du, dth - du, w * m.exp(u - lam), m.sqrt(dr * dr + r2 * dth * dth)]


def _mh_flow_jac(_sigma, Y):
    """Exact Jacobian of :func:`_mh_flow_rhs` by complex steps."""
    import cmath

    y = [float(v) for v in Y]
    J = np.empty((4, 4))
    for j in range(4):
        z = [complex(v) for v in y]
        step = 1e-20 * max(1.0, abs(y[j]))
        z[j] += 1j * step
        J[:, j] = [v.imag / step for v in _mh_flow_rhs(z, cmath)]
    return J


def mexican_hat_flow(start=(0.5, 0.0), turns: float = 10.0, n_points: int = 400, *,
                     rtol: float = 1e-10, atol: float = 1e-12) -> SpiralFlow:
    """Gradient flow x' = -grad f(x) of :func:`mexican_hat` from ``start`` until it has wound
    ``turns`` times around the centre, sampled at ``n_points`` points equally spaced along it.

    Why not :func:`reachkit.gradient_flow`: along the valley |grad f| is about e^{-u} / (4 u^4)
    with u = 1/(1 - r^2), so each turn takes more than e^{2 pi} (~535) times longer than the one
    before, and the valley is so narrow that the flow is extremely stiff. Here the same trajectory
    is computed in the variables u and theta, against a rescaled time (dt = 4 u^4 e^u dsigma:
    this changes the speed, not the path), with scipy's LSODA solver (implicit BDF where the
    problem is stiff; tolerances ``rtol``, ``atol``; exact complex-step Jacobian). The original
    time t is integrated alongside, as log(1 + t). A finite computation: it shows finitely many
    turns, not "forever"; ``tests/test_mexican_hat.py`` checks it against
    :func:`reachkit.gradient_flow` on the first stretch and checks that tighter tolerances do not
    change it.
    """
    import math

    from scipy.integrate import solve_ivp

    z0 = checks.array("start", start).reshape(-1)
    if z0.shape != (2,):
        raise ValueError(f"start must be a point (x, y); got {start!r}")
    r0sq = float(z0[0]) ** 2 + float(z0[1]) ** 2  # Python floats: a tiny start underflows to 0 quietly
    if not 1e-4 <= r0sq <= 1.0 - 1e-3:
        raise ValueError(f"start must lie inside the disc, with 0.01 <= r <= 0.9995; got r = {np.sqrt(r0sq):.6g}")
    turns = checks.real("turns", turns, positive=True, high=100)
    n_points = checks.integer("n_points", n_points, low=2)
    rtol, atol = checks.ode_tolerances(rtol, atol)  # as gradient_flow: LSODA gets plain floats
    u0 = 1.0 / (1.0 - r0sq)
    theta0 = float(np.arctan2(z0[1], z0[0]))
    psi0 = (theta0 - u0 - np.pi / 2 + np.pi) % (2 * np.pi) - np.pi
    k = round((theta0 - u0 - np.pi / 2 - psi0) / (2 * np.pi))  # theta = u + psi + pi/2 + 2 pi k
    target = theta0 + 2 * np.pi * turns

    segments, solver_steps, y, sig = [], [], np.array([u0, psi0, 0.0, 0.0]), 0.0
    sig_max = 200.0 + 20 * np.pi * turns
    while sig < sig_max:
        wrap = lambda s, Y: abs(Y[1]) - 1.5 * np.pi  # noqa: E731  (psi left (-3pi/2, 3pi/2))
        done = lambda s, Y, k=k: Y[0] + Y[1] + np.pi / 2 + 2 * np.pi * k - target  # noqa: E731
        wrap.terminal = done.terminal = True
        wrap.direction = done.direction = 1
        sol = solve_ivp(lambda s, Y: np.array(_mh_flow_rhs(Y.tolist(), math)), (sig, sig_max), y,
                        method="LSODA", rtol=rtol, atol=atol, jac=_mh_flow_jac, events=(wrap, done),
                        dense_output=True)
        if sol.status < 0:
            raise RuntimeError(f"the ODE solver failed: {sol.message}")
        segments.append((sig, sol.t[-1], sol.sol, k))
        solver_steps.append(sol.t)
        sig, y = sol.t[-1], sol.y[:, -1].copy()
        if sol.status == 0 or sol.t_events[1].size:
            break
        shift = np.sign(y[1])  # psi and k trade a full turn: theta is unchanged
        y[1] -= 2 * np.pi * shift
        k += int(shift)

    def evaluate(sigmas):
        Y, ks = np.empty((4, sigmas.size)), np.empty(sigmas.size)
        for a, b, dense, kk in segments:
            m = (sigmas >= a) & (sigmas <= b)
            Y[:, m], ks[m] = dense(sigmas[m]), kk
        return Y, ks

    # samples equally spaced along the path: invert the length ell(sigma) on a fine grid
    fine = np.unique(np.concatenate(solver_steps + [np.linspace(0.0, sig, 4 * n_points)]))
    ell_fine = evaluate(fine)[0][3]
    Y, ks = evaluate(np.interp(np.linspace(0.0, ell_fine[-1], n_points), ell_fine, fine))
    u, psi, lam, ell = Y
    gap = 1.0 / u
    r = np.sqrt(1.0 - gap)
    theta = u + psi + np.pi / 2 + 2 * np.pi * ks
    theta[0] = theta0
    q = gap**4 / (4.0 * (1.0 - gap) ** 2)
    log_f = -u + np.log(q / (1.0 + q) + 2.0 / (1.0 + q) * np.sin(psi / 2) ** 2)
    with np.errstate(divide="ignore"):  # |grad f| = |dx/dt| = (d ell / d sigma) / (dt / d sigma)
        speed = np.log([_mh_flow_rhs(col, math)[3] for col in Y.T])
    log_g = speed - np.log(4.0 * u**4) - u
    return SpiralFlow(start=z0, points=np.stack([r * np.cos(theta), r * np.sin(theta)], axis=-1),
                      r=r, gap=gap, theta=theta, turns=(theta - theta0) / (2 * np.pi), length=ell,
                      log10_time=lam / np.log(10), log10_value=log_f / np.log(10),
                      log10_grad=log_g / np.log(10))


BUILTIN["mexican_hat"] = mexican_hat
