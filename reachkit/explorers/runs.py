"""What an explorer model hands to the view: one :class:`Run` per step (the exact run, or one
entry of the step slider's fan), and the static layer the background picture is drawn from.
No widgets and no matplotlib here: plain records (the assembly encodes them for the view).
"""

from __future__ import annotations

import dataclasses

import numpy as np

from ..dynamics import Path


@dataclasses.dataclass
class Run:
    """The runs for one step: ``paths`` {series key: Path} where an exact Path is known,
    ``xy`` {key: (n, 2) drawing coordinates} and ``info`` {key: (n, 2) with (f, |grad f|)} for
    every series drawn (empty where it could not run: ``failed`` says why), ``status`` (one line
    in words) and ``alt`` (text alternative)."""

    step: float
    xy: dict
    info: dict
    status: str
    alt: str = ""
    paths: dict = dataclasses.field(default_factory=dict)
    failed: str = ""  # why a series could not run at this step ("" when every one ran)

    @property
    def n_frames(self) -> int:
        return max((len(v) for v in self.xy.values()), default=1)


@dataclasses.dataclass
class StaticLayer:
    """What the background picture shows: the landscape, optional basin map and bifurcation
    diagram, the series in the legend ((key, name, colour)), extra labelled markers
    ((x, y, marker, label)), a title and the parts still being computed (``pending``)."""

    landscape: object
    series: list
    title: str = ""
    basins: object = None
    bifurcation: object = None
    markers: list = dataclasses.field(default_factory=list)
    pending: tuple = ()  # parts shown provisionally while the full ones are computed ("basins": coarse,
    # "bifurcation": the last parameters' diagram)


def path_row(path: Path, i: int) -> Path:
    """Start i of a batched Path as a Path of its own (batch 1)."""
    one = slice(i, i + 1)
    return dataclasses.replace(
        path, iterates=path.iterates[:, one], values=path.values[:, one],
        step_sizes=path.step_sizes[:, one], final=path.final[one], status=path.status[one],
        limit_label=path.limit_label[one], limit_index=path.limit_index[one],
        stopped_at=path.stopped_at[one], period=path.period[one],
        grad_norm=None if path.grad_norm is None else path.grad_norm[one],
        reason=None if path.reason is None else path.reason[one])


def drawing_xy(landscape, path: Path) -> np.ndarray:
    """Drawing coordinates of start 0: (x_k, y_k) in 2-D, (x_k, f(x_k)) in 1-D."""
    traj = path.trajectory(0)
    return np.column_stack([traj[:, 0], path.values[:, 0]]) if traj.shape[1] == 1 else traj.copy()


def value_and_slope(landscape, points: np.ndarray) -> np.ndarray:
    """(f, |grad f|) at each point (rows of ``points``), shape (n, 2)."""
    with np.errstate(all="ignore"):
        return np.column_stack([landscape.value(points), np.linalg.norm(landscape.grad(points), axis=-1)])


def short(v, digits: int = 4) -> str:
    """A number in short form (nan, inf and huge values are written as such)."""
    v = float(v)
    return f"{v:.{digits}g}" if np.isfinite(v) else str(v)


def point_text(x) -> str:
    x = np.atleast_1d(x)
    return short(x[0]) if x.size == 1 else "(" + ", ".join(short(v, 3) for v in x) + ")"


@dataclasses.dataclass
class CurvesLayer:
    """A static picture of stacked panels of curves against the iteration, for a model whose runs
    are not paths in the plane (the network explorer). ``panels``: (title, low, high, log) per
    panel, top to bottom, drawn in the band ``boxes[i]`` = (bottom, top) of the figure (fractions);
    the x axis is k + 1 on a log scale, from 1 to ``n_steps + 1``; ``lines``: (panel, value,
    label) reference lines; ``title``.

    The view draws in one axes with linear limits, so :meth:`xy` maps (k, value in panel i) to
    that master axes: x = log10(k + 1), y in [0, 1] over all the bands (values outside a panel's
    range are pinned to its edge). ``series`` (key, name, colour) colours every series of a still
    picture; ``legend`` ((name, colour) pairs) is the figure's legend."""

    panels: list
    boxes: list
    n_steps: int
    series: list
    legend: list = dataclasses.field(default_factory=list)
    lines: list = dataclasses.field(default_factory=list)
    title: str = ""
    left: float = 0.13
    right: float = 0.97
    figsize: tuple = (6.0, 5.6)
    pending: tuple = ()

    @property
    def landscape(self):
        return None

    @property
    def extent(self) -> tuple:
        """(bottom, top) of the master axes in figure fractions."""
        return min(b for b, _ in self.boxes), max(t for _, t in self.boxes)

    def xy(self, panel: int, k, values) -> np.ndarray:
        """(n, 2) master coordinates of the values of panel ``panel`` at iterations ``k``."""
        _, lo, hi, log = self.panels[panel]
        v = np.asarray(values, dtype=float)
        with np.errstate(divide="ignore", invalid="ignore"):
            t = (np.log10(v) - np.log10(lo)) / (np.log10(hi) - np.log10(lo)) if log else (v - lo) / (hi - lo)
        t = np.clip(np.nan_to_num(t, nan=0.0, posinf=1.0, neginf=0.0), 0.0, 1.0)
        (b, top), (low, high) = self.boxes[panel], self.extent
        y = (b - low + t * (top - b)) / (high - low)
        return np.column_stack([np.log10(np.asarray(k, dtype=float) + 1.0), y])
