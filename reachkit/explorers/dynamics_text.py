"""explore's read-outs in words (see :mod:`reachkit.explorers.dynamics_model`): the iterate shown, the step
against each minimum's 2/sharpness, the basins' shares."""

from __future__ import annotations

import numpy as np

from .. import analysis, plotting
from .runs import point_text, short


def method_name(landscape, m: str) -> str:
    """"GD", "SGD", "gradient flow"; on a nonsmooth landscape "gd" is the subgradient method."""
    return "subgradient method" if m == "gd" and not landscape.smooth else plotting.METHODS[m][0]


def step_at(model, m: str, k: int) -> float:
    """The step a_k used to leave iterate k (nan for the flow)."""
    if m == "flow":
        return float("nan")
    if model.values["schedule"] == "armijo":
        used = model.paths[m].step_sizes[: k + 1, 0]
        used = used[np.isfinite(used)]
        return float(used[-1]) if used.size else model.step
    return float(np.asarray(model.schedule().sizes(k)))


def readout_lines(model, frame: int | None = None) -> list[str]:
    """The read-outs at iterate ``frame`` (default: the last) of the model's first method."""
    ls, v = model.landscape, model.values
    if not model.methods:
        return ["No method selected: tick GD, SGD or gradient flow."]
    m = model.methods[0]
    p = model.paths[m]
    k = len(p.times) - 1 if frame is None else int(np.clip(frame, 0, len(p.times) - 1))
    x = p.trajectory(0)[k]
    with np.errstate(all="ignore"):
        g = float(np.linalg.norm(ls.grad(x)))
        lam = float(analysis.sharpness(ls, x)) if np.all(np.isfinite(x)) else float("nan")
    when = f"t = {short(p.times[k], 3)}" if m == "flow" else f"step k = {k}"
    curvature = f"sharpness = {short(lam)}" if ls.smooth else "no sharpness (f is not smooth)"
    lines = [f"{method_name(ls, m)} at {when}: x = {point_text(x)}, f = {short(p.values[k, 0])}, "
             f"|grad f| = {short(g)}, {curvature}"]
    a = step_at(model, m, k)
    if m == "flow":
        lines.append("Gradient flow has no step size: no 2/λ limit applies to it.")
    else:
        kind = {"constant": "constant step", "power": f"a_k = a/(k+1)^{short(v['exponent'], 3)}",
                "armijo": "adaptive step, Armijo"}[v["schedule"]]
        lines.append(f"Step a_k = {short(a)} ({kind}) against each minimum's 2/sharpness:")
    rows = analysis.minima_thresholds(ls)
    if not ls.smooth:
        lines.append("(f is not smooth: the 2/sharpness rule does not apply at a kink)")
    elif not rows:
        lines.append("(no minimum is listed for this landscape)")
    for label, lam_min, thr in rows:
        line = f"{label}: sharpness λ = {short(lam_min)}, 2/λ = {short(thr)}"
        if m != "flow":
            line += (f" — step {short(a)} is ABOVE: linearly unstable" if a > thr else
                     f" — step {short(a)} is below: linearly stable")
        lines.append(line)
    if v["basins"]:
        kind = "gradient flow" if m == "flow" else f"GD, {model.basin_steps} steps"
        shares = ", ".join(f"{n} {f:.0%}" for n, _, f in plotting.basin_legend(ls, model.basin_map, 0.005))
        note = " (SGD is random: GD basins shown)" if m == "sgd" else ""
        lines.append(f"Basins ({kind}){note}: {shares}")
    return lines
