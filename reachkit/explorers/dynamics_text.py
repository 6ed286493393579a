"""explore's read-outs in words (see :mod:`reachkit.explorers.dynamics_model`): the iterate shown, the step
against each minimum's 2/sharpness, the basins' shares."""

from __future__ import annotations

import numpy as np

from .. import analysis, methods
from .runs import point_text, short


def method_name(landscape, m: str) -> str:
    """The registry's name ("GD", "SGD", "gradient flow", "momentum"); on a nonsmooth landscape
    "gd" is the subgradient method."""
    return methods.METHODS[m].name_on(landscape)


def step_at(model, m: str, k: int) -> float:
    """The step a_k used to leave iterate k (nan for the flow)."""
    if not methods.METHODS[m].has_step:
        return float("nan")
    if model.values["schedule"] == "armijo":
        used = model.current.paths[m].step_sizes[: k + 1, 0]
        used = used[np.isfinite(used)]
        return float(used[-1]) if used.size else model.step
    return float(np.asarray(model.schedule().sizes(k)))


def readout_lines(model, frame: int | None = None) -> list[str]:
    """The read-outs at iterate ``frame`` (default: the last) of the model's first method."""
    ls, v = model.landscape, model.values
    if not model.methods:
        return ["No method selected: tick GD, SGD or gradient flow."]
    m = model.methods[0]
    p = model.current.paths.get(m)
    if p is None:
        return [model.current.status]  # computing in the background, or could not run
    k = len(p.times) - 1 if frame is None else int(np.clip(frame, 0, len(p.times) - 1))
    x = p.trajectory(0)[k]
    with np.errstate(all="ignore"):
        g = float(np.linalg.norm(ls.grad(x)))
    lam = sharpness_at(ls, x) if ls.smooth else float("nan")
    curvature = ("no sharpness (f is not smooth)" if not ls.smooth else
                 "no sharpness (the iterate is not finite)" if not np.all(np.isfinite(x)) else
                 "no sharpness: the Hessian overflows float64 here" if not np.isfinite(lam) else
                 f"sharpness = {short(lam)}")
    when = f"t = {short(p.times[k], 3)}" if m == "flow" else f"step k = {k}"
    lines = [f"{method_name(ls, m)} at {when}: x = {point_text(x)}, f = {short(p.values[k, 0])}, "
             f"|grad f| = {short(g)}, {curvature}"]
    a = step_at(model, m, k)
    entry = methods.METHODS[m]
    opts = model.method_options(m)
    c = entry.constant(**opts)
    c_name = "2" if c == "2" or not entry.has_step else c.split(" =")[0]  # "2", "2(1 + μ)"
    if not entry.has_step:
        lines.append("Gradient flow has no step size: no 2/λ limit applies to it.")
    else:
        kind = {"constant": "constant step", "power": f"a_k = a/(k+1)^{short(v['exponent'], 3)}",
                "armijo": "adaptive step, Armijo"}[v["schedule"]]
        against = "2/sharpness" if c == "2" else f"{c_name}/sharpness ({c})"
        lines.append(f"Step a_k = {short(a)} ({kind}) against each minimum's {against}:")
    whose = f" (for full-batch {method_name(ls, 'gd')})" if entry.random else ""  # SGD: GD's linear stability
    rows = analysis.minima_thresholds(ls)
    if not ls.smooth:
        lines.append("(f is not smooth: the 2/sharpness rule does not apply at a kink)")
    elif not rows:
        lines.append("(no minimum is listed for this landscape)")
    for label, lam_min, _ in rows:
        thr = entry.threshold(lam_min, **opts) if entry.has_step else 2.0 / lam_min
        line = f"{label}: sharpness λ = {short(lam_min)}, {c_name}/λ = {short(thr)}"
        if entry.has_step:
            line += f" — step {short(a)} is {analysis.VERDICTS[analysis.step_verdict(a, thr)]}" + whose
        lines.append(line)
    shown = model.shown_basins()
    if shown is not None:
        bm, full = shown
        kind = "gradient flow" if m == "flow" else \
            f"{method_name(ls, 'gd' if entry.random else m)}, {model.basin_steps} steps"
        shares = ", ".join(f"{n} {f:.0%}" for n, f in bm.shares(0.005))
        note = f" ({entry.name} is random: GD basins shown)" if entry.random else ""
        grid = " x ".join([str(len(bm.xs))] * ls.dim)
        coarse = "" if full else f" (a coarse {grid} map; the full one is being computed)"
        lines.append(f"Basins ({kind}){note}{coarse}: {shares}")
    return lines


def sharpness_at(landscape, x) -> float:
    """The sharpness at x, or nan where it cannot be computed (x not finite, the Hessian overflows)."""
    if not np.all(np.isfinite(x)):
        return float("nan")
    try:
        with np.errstate(all="ignore"):
            return float(analysis.sharpness(landscape, x))
    except ValueError:  # the Hessian overflows float64 there
        return float("nan")
