"""What the explorer's landscape picture is made of, as data the browser draws (``static/scene.js``).

A parameter change sends this ``scene`` (a few tens of KB of float32/uint8 buffers, a few ms to
compute) instead of a matplotlib raster: the values of the landscape picture on a grid (2-D:
Z = log(1 + f - min f), with the contour levels and the grey of each band) or the graph of f
(1-D), the critical points with their markers and labels, extra markers (the reach target), the
basin map as an index grid with one colour per outcome, the bifurcation diagram's dots and the
2/sharpness lines, the legends, and which overlays are provisional (``pending``). The sizes are in
CSS px (1 pt = 100/72 px at the explorers' 100 px per inch), taken from the matplotlib style in use,
so the screen matches the exports (:mod:`reachkit.explorers.background` draws those from the same
functions of :mod:`reachkit.plotting`).
"""

from __future__ import annotations

import contextlib

import matplotlib as mpl
import numpy as np
from matplotlib.colors import to_hex

from .. import plotting
from .runs import CurvesLayer

PX = 100 / 72  # CSS px per point
FONT = '"DejaVu Sans", "Bitstream Vera Sans", Verdana, sans-serif'  # matplotlib's default family
SERIES_WIDTH = 2.5  # pt, a series' line in the legend
MARKER_SIZE = 1.8  # an extra marker (the reach target), in units of lines.markersize
LEGEND_ALPHA = {"main": 0.85, "bifurcation": 0.8}
LEGEND_FONT = {"main": "small", "bifurcation": "x-small"}


def legend_entries(layer) -> list[dict]:
    """The main legend: one line per series, the extra markers, the basins' colours with each
    outcome's share (kind "line", "marker" or "patch"; colour; label)."""
    out = [{"kind": "line", "color": to_hex(c), "label": name} for _, name, c in layer.series]
    out += [{"kind": "marker", "marker": m, "color": to_hex(plotting.OKABE_ITO["yellow"]), "label": label}
            for _x, _y, m, label in layer.markers]
    if layer.basins is not None:
        out += [{"kind": "patch", "color": to_hex(c), "label": f"{name} {f:.0%}"}
                for name, c, f in plotting.basin_legend(layer.landscape, layer.basins, 0.005)]
    return out


def _f32(a) -> bytes:
    with np.errstate(over="ignore", invalid="ignore"):
        return np.ascontiguousarray(a, dtype="<f4").tobytes()


def _font(size) -> float:
    return float(mpl.font_manager.FontProperties(size=size).get_size_in_points()) * PX


def build(layer, lecture: bool = False) -> dict:
    """The scene of a :class:`~reachkit.explorers.runs.StaticLayer` ({} for a CurvesLayer, whose
    picture does not move with a parameter and stays a PNG). Computes nothing expensive: f on the
    grid, the critical points, the encoding of maps already computed."""
    if isinstance(layer, CurvesLayer):
        return {}
    ls = layer.landscape
    with plotting.lecture_style() if lecture else contextlib.nullcontext():
        rc = mpl.rcParams
        ms, lw = rc["lines.markersize"] * PX, rc["lines.linewidth"] * PX
        out = {"dim": ls.dim, "font": FONT, "pending": list(layer.pending),
               "points": [vars(c) for c in plotting.critical_marks(ls)],
               "point": {"size": ms * plotting.CRITICAL_SIZE, "edge": 1.2 * PX,
                         "font": rc["font.size"] * plotting.LABEL_SIZE * PX, "offset": plotting.LABEL_OFFSET * PX},
               "markers": [{"x": float(x), "y": float(y), "marker": m, "label": label,
                            "color": to_hex(plotting.OKABE_ITO["yellow"])} for x, y, m, label in layer.markers],
               "marker_size": ms * MARKER_SIZE,
               "legend": {"entries": legend_entries(layer), "font": _font(LEGEND_FONT["main"]),
                          "alpha": LEGEND_ALPHA["main"], "loc": "upper right", "line": SERIES_WIDTH * PX,
                          "marker_size": ms * MARKER_SIZE}}
        x0, x1, y0, y1 = build_limits(ls)
        if ls.dim == 1:
            xs, f, _ = plotting.graph(ls)
            out["graph"] = {"xy": _f32(np.column_stack([xs, f])), "color": to_hex(plotting.GRAPH_GREY),
                            "width": 0.9 * lw}
        else:
            xs, ys, Z = plotting.surface(ls)
            levels, bands = plotting.contour_levels(Z)
            out["surface"] = {"nx": len(xs), "ny": len(ys), "x": [float(xs[0]), float(xs[-1])],
                              "y": [float(ys[0]), float(ys[-1])], "z": _f32(Z), "levels": [float(v) for v in levels],
                              "bands": bands, "line": to_hex(plotting.CONTOUR_GREY), "line_width": 0.5 * PX}
        if layer.basins is not None:
            out["basins"] = _basins(ls, layer.basins, (y0, y1), "basins" in layer.pending)
        if layer.bifurcation is not None:
            out["bifurcation"] = _bifurcation(ls, layer.bifurcation, "bifurcation" in layer.pending)
    return out


def build_limits(ls) -> tuple:
    """[xmin, xmax, ymin, ymax] of the main axes: the bounds (1-D: y from the graph of f)."""
    ylim = plotting.graph(ls)[2] if ls.dim == 1 else ls.bounds[1]
    return tuple(float(v) for v in (*ls.bounds[0], *ylim))


def _basins(ls, basins, ylim, pending: bool) -> dict:
    """The map as an index grid (uint8, row 0 at the bottom) and a colour per index; in 1-D one row
    over the whole height of the axes."""
    labels = np.atleast_2d(basins.labels)
    ys = (ylim[0], ylim[1]) if basins.ys is None else (float(basins.ys[0]), float(basins.ys[-1]))
    return {"nx": labels.shape[1], "ny": labels.shape[0], "x": [float(basins.xs[0]), float(basins.xs[-1])],
            "y": [float(ys[0]), float(ys[1])], "index": labels.astype(np.uint8).tobytes(),
            "colors": [to_hex(c) for c in plotting.basin_colors(ls, basins.names)],
            "alpha": plotting.BASIN_ALPHA, "pending": pending}


def _bifurcation(ls, bif, pending: bool) -> dict:
    """The orbit diagram's dots: ``steps`` (n) and ``points`` (n x m, row i at steps[i]), y over the
    bounds, and the 2/sharpness lines with their legend."""
    style = plotting.ORBIT_STYLE
    lines = [{"value": float(v), "color": to_hex(c), "label": label} for v, c, label in plotting.thresholds(ls)]
    return {"steps": _f32(bif.steps), "points": _f32(bif.points), "m": int(bif.points.shape[1]),
            "ylim": [float(v) for v in ls.bounds[0]], "color": to_hex(style["color"]), "alpha": style["alpha"],
            "size": style["ms"] * PX, "pending": pending, "thresholds": lines, "threshold_width": 1.2 * PX,
            "legend": {"entries": [{"kind": "dashed", "color": t["color"], "label": t["label"]} for t in lines],
                       "font": _font(LEGEND_FONT["bifurcation"]), "alpha": LEGEND_ALPHA["bifurcation"],
                       "loc": "upper left", "line": 1.2 * PX}}
