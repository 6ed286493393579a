"""The live explorers: a plain-Python model per explorer (settings in; runs, read-outs and status out),
the browser view and the assembly.

- ``dynamics_model``: :func:`explore` (GD, SGD, gradient flow, the subgradient method) and its model
- ``reach_model``: :func:`explore_reach` and its model; ``adaptive_model``: the adaptive-steps model
- ``settings`` (declarations) -> ``controls`` (ipywidgets, generated); ``runs`` (what a model hands over)
- ``view`` (anywidget: ``static/view.js``, contract in ``static/CONTRACT.md``), ``background`` (matplotlib)
- ``explorer``: the assembly of model, view and controls

Importing this package loads nothing; a model module loads no widgets.
"""
