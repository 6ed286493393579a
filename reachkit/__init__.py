"""reachkit: where gradient dynamics can go.

Landscapes (``reachkit.landscapes``), step rules (``schedules``), batched dynamics returning a
``Path`` (``dynamics``), analysis including ``reach`` (``analysis``), and, imported on first use,
live explorers (the ``explorers`` package; ``eos_explorer`` for notebook 06), drawing (``plotting``),
exports (``animation``), momentum/RMSProp/Adam (``optimizers``) and a small numpy network
(``network``). ``import reachkit`` loads numpy only; matplotlib, ipywidgets and scipy
come when a function needs them.
"""

import importlib

from . import analysis, dynamics, landscapes, schedules
from .analysis import (
    basin_map,
    bifurcation,
    classify,
    find_critical_points,
    minima_thresholds,
    reach,
    sharpness,
    stability_threshold,
    summarize_limits,
)
from .dynamics import Path, gradient_descent, gradient_flow, sgd, subgradient_method
from .landscapes import Param, from_functions
from .schedules import armijo, constant, polyak, power

__version__ = "0.1.0"

_LAZY_MODULES = ("explorers", "questions", "plotting", "animation", "network", "optimizers", "eos_explorer", "notebook")
_LAZY_NAMES = {"explore": "explorers.dynamics_model", "save_animation": "animation", "lecture_style": "plotting",
               "explore_reach": "explorers.reach_model", "folded_output": "notebook",
               "explore_network": "explorers.network_model", "predict": "questions", "check": "selfcheck"}


def __getattr__(name):
    if name in _LAZY_MODULES:
        return importlib.import_module(f".{name}", __name__)
    if name in _LAZY_NAMES:
        return getattr(importlib.import_module(f".{_LAZY_NAMES[name]}", __name__), name)
    raise AttributeError(f"module 'reachkit' has no attribute {name!r}")


__all__ = [
    "analysis", "dynamics", "landscapes", "schedules", "Path", "Param", "from_functions",
    "gradient_descent", "gradient_flow", "sgd", "subgradient_method", "constant", "power",
    "armijo", "polyak", "basin_map", "bifurcation", "classify", "find_critical_points",
    "minima_thresholds", "reach", "sharpness", "stability_threshold", "summarize_limits",
    "explore", "save_animation", "lecture_style", "folded_output", "explore_network", "predict", "check",
]
