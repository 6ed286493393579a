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

from .explore_model import DynamicsModel
from .explorer import Explorer, display_options

__all__ = ["explore", "Explorer", "DynamicsModel"]


def explore(landscape, *, lecture=None, reduced_motion=False, trail=20, speed=20, **options) -> Explorer:
    """A live explorer for a 1-D or 2-D landscape.

    Settings (exact values; see :func:`reachkit.explore_model.declarations`): ``step`` (default:
    0.4 x the smallest 2/sharpness), ``start``, ``methods`` (a tuple of "gd", "sgd", "flow"),
    ``schedule`` ("constant", "power", "armijo"), ``exponent`` p of a/(k+1)^p, ``n_steps``,
    ``batch_size``, ``seed``, the landscape's declared parameters, ``basins`` and (1-D)
    ``bifurcation`` overlays; ``basin_resolution``, ``basin_steps``. Display (see
    :func:`reachkit.explorer.display_options`): ``lecture`` (projector scale; default: on while
    ``rk.lecture_style()`` is), ``reduced_motion``, ``trail``, ``speed``.
    """
    display = display_options(lecture, reduced_motion, trail, speed)
    return Explorer(DynamicsModel(landscape, **options), **display)
