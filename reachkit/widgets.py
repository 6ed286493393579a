"""Live explorers: ``explore(landscape, ...)`` is GD / SGD / gradient flow / the subgradient method
on a 1-D or 2-D landscape, drawn in the browser at display rate.

    import reachkit as rk
    ex = rk.explore(rk.landscapes.sharp_flat_2d(), step=0.04, start=(-0.7, 1.2))
    ex.set(step=0.13)                  # what typing 0.13 in the step box does
    ex.paths["gd"].describe(0)

The computation is :class:`reachkit.explore_model.DynamicsModel`; the assembly (view, controls,
read-outs) is :class:`reachkit.explorer.Explorer`.
"""

from __future__ import annotations

from . import checks
from .explore_model import DynamicsModel
from .explorer import Explorer

__all__ = ["explore", "Explorer", "DynamicsModel"]


def explore(landscape, *, lecture: bool = False, reduced_motion: bool = False, trail: int = 20,
            speed: int = 20, **options) -> Explorer:
    """A live explorer for a 1-D or 2-D landscape.

    Settings (exact values; see :func:`reachkit.explore_model.declarations`): ``step`` (default:
    0.4 x the smallest 2/sharpness), ``start``, ``methods`` (a tuple of "gd", "sgd", "flow"),
    ``schedule`` ("constant", "power", "armijo"), ``exponent`` p of a/(k+1)^p, ``n_steps``,
    ``batch_size``, ``seed``, the landscape's declared parameters, ``basins`` and (1-D)
    ``bifurcation`` overlays; ``basin_resolution``, ``basin_steps``. Display: ``lecture``
    (projector scale), ``reduced_motion`` (whole path, no animation), ``trail``, ``speed``
    (frames per second of Play).
    """
    display = dict(lecture=checks.flag("lecture", lecture),
                   reduced_motion=checks.flag("reduced_motion", reduced_motion),
                   trail=checks.integer("trail", trail, low=1, high=10_000),
                   speed=checks.integer("speed", speed, low=1, high=60))
    return Explorer(DynamicsModel(landscape, **options), **display)
