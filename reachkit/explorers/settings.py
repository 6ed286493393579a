"""Declared settings of an explorer: what a control edits, checked with :mod:`reachkit.checks`.

An explorer model lists its settings as :class:`Setting` declarations; the controls panel is built
from them (:mod:`reachkit.explorers.controls`) and every value, whether typed, clicked or passed to
``explore(...)``, goes through :meth:`Setting.check`. Values are kept exactly as given: 0.13 stays
0.13, a dyadic start stays dyadic (nothing snaps to a slider grid).

Kinds: ``"real"``, ``"integer"``, ``"seed"``, ``"choice"`` (one of ``options``), ``"flag"``,
``"subset"`` (a tuple of ``options``; a string is not a list) and ``"point"`` (``size`` finite
reals, shown within ``bounds``).
"""

from __future__ import annotations

import functools
import inspect
from dataclasses import dataclass

import numpy as np

from .. import checks

KINDS = ("real", "integer", "seed", "choice", "flag", "subset", "point")


@dataclass(frozen=True)
class Setting:
    """One setting: ``name`` (the keyword), ``kind``, ``default``, ``low``/``high`` (inclusive
    range, None = unbounded), ``options`` ((value, label) pairs for choice and subset), ``label``
    and ``help`` (shown beside the control), ``log`` (a log-scale slider suits it), ``size`` and
    ``bounds`` for a point, ``positive`` for a real that must be > 0."""

    name: str
    kind: str
    default: object
    label: str = ""
    help: str = ""
    low: float | None = None
    high: float | None = None
    options: tuple = ()
    log: bool = False
    positive: bool = False
    size: int = 1
    bounds: tuple = ()

    def __post_init__(self):
        if self.kind not in KINDS:
            raise ValueError(f"kind must be one of {KINDS}; got {self.kind!r}")

    @property
    def allowed(self) -> tuple:
        """The values of ``options`` (for choice and subset)."""
        return tuple(v for v, _ in self.options)

    def check(self, value):
        """``value`` as this setting's type, or a TypeError / ValueError naming the setting."""
        name, kind = self.name, self.kind
        if kind == "real":
            return checks.real(name, value, positive=self.positive, low=self.low, high=self.high)
        if kind == "integer":
            return checks.integer(name, value, low=self.low, high=self.high)
        if kind == "seed":
            return checks.seed(name, value)
        if kind == "flag":
            return checks.flag(name, value)
        if kind == "choice":
            return checks.choice(name, value, self.allowed)
        if kind == "subset":
            if isinstance(value, str) or not isinstance(value, (list, tuple, set, frozenset)):
                raise TypeError(f"{name} must be a list or tuple of {self.allowed} (a string is not "
                                f"a list: write ({value!r},)); got {value!r}")
            for v in value:
                checks.choice(name, v, self.allowed)
            return tuple(v for v in self.allowed if v in value)  # declared order, no repeats
        return self._check_point(value)

    def _check_point(self, value) -> tuple:
        name = self.name
        if isinstance(value, (str, bytes, bool, np.bool_)):
            raise TypeError(f"{name} must be {self.size} real number(s); got {value!r}")
        items = list(np.ravel(np.asarray(value, dtype=object))) if np.ndim(value) else [value]
        if len(items) != self.size:
            raise ValueError(f"{name} must have {self.size} coordinate(s); got {value!r}")
        return tuple(checks.real(f"{name}[{j}]", v) for j, v in enumerate(items))


def resolve(declarations, given: dict) -> dict:
    """The value of every declared setting: the checked one from ``given``, else the default.
    An unknown name is a TypeError listing the known ones."""
    known = {s.name: s for s in declarations}
    unknown = sorted(set(given) - set(known))
    if unknown:
        raise TypeError(f"unknown option(s) {unknown}; the options are {sorted(known)}")
    return {n: s.check(given[n]) if n in given and given[n] is not None else s.default
            for n, s in known.items()}


def with_changes(known: dict, values: dict, changes: dict) -> dict:
    """``values`` with ``changes`` applied, each checked by its declaration in ``known`` (name ->
    Setting); an unknown name is a TypeError listing the known ones. ``values`` is not modified."""
    new = dict(values)
    for k, v in changes.items():
        if k not in known:
            raise TypeError(f"unknown setting {k!r}; the settings are {sorted(known)}")
        new[k] = known[k].check(v)
    return new


@functools.cache
def reserved_names() -> frozenset[str]:
    """Names a landscape parameter may not take. A parameter becomes a setting of ``explore`` and
    ``explore_reach`` beside their own: the settings ``explore`` declares (for a plain 1-D landscape:
    every method's options and the bifurcation flag), every keyword of the two explorers and their
    models (``self`` too: ``with_params(self, **params)``), and ``x`` (``value(x, **params)``)."""
    from ..landscapes import Landscape
    from . import dynamics_model, reach_model

    plain = Landscape("plain", 1, lambda x: 0.5 * x[..., 0] ** 2, lambda x: x, bounds=[(-1.0, 1.0)])
    names = {s.name for s in dynamics_model.declarations(plain)} | {"x"}
    for fn in (dynamics_model.explore, dynamics_model.DynamicsModel.__init__, reach_model.explore_reach,
               reach_model.ReachModel.__init__):
        names |= {p.name for p in inspect.signature(fn).parameters.values() if p.kind != p.VAR_KEYWORD}
    return frozenset(names)
