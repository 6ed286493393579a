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
        grad_norm=None if path.grad_norm is None else path.grad_norm[one])


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
