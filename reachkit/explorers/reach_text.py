"""The reach explorer's read-outs and status line in words (see :mod:`reachkit.explorers.reach_model`)."""

from __future__ import annotations

import math

import numpy as np

from .. import methods, schedules
from .model import CLOSED
from .runs import point_text, short

_DEMO_OFFSET = 1e-3


def _first_step(schedule) -> float:
    """a for a constant step, a0 for a/(k+1)^p."""
    return float(schedule.a0 if isinstance(schedule, schedules.PowerDecay) else schedule.a)


def dynamics_text(o) -> str:
    if o.method == "flow":
        return "Dynamics: gradient flow x' = -grad f(x) (no step size)."
    s = o.schedule
    if isinstance(s, schedules.PowerDecay):
        kind = "summable: sum a_k < ∞" if s.summable else "nonsummable: sum a_k = ∞"
        return f"Dynamics: GD with a_k = {short(s.a0)}/(k+1)^{short(s.p, 3)} ({kind})."
    return f"Dynamics: GD with constant step a = {short(s.a)}."


def fragility_text(model, o) -> str:
    """Why this target is (or is not) fragile, in words."""
    if o.kind == "saddle":
        return ("Fragile: a saddle is reached only from a set of starts of measure zero (its stable "
                "manifold); a rounding error of 1e-16 in the start can push the path off it.")
    if o.kind == "degenerate":
        return ("Degenerate point (a zero Hessian eigenvalue): convergence to it is typically slow "
                "(sublinear), so the path may still be far from it after many steps.")
    eig = np.linalg.eigvalsh(model.landscape.hess(o.target))
    if np.any(np.abs(eig) <= 1e-8 * max(1.0, float(np.abs(eig).max()))):
        if model.family is not None:
            return ("Fragile: this minimum is not isolated (it lies on a curve of minima). The starts "
                    "that reach this very point form a thin set; a small change of the start moves "
                    "the limit along the curve.")
        return ("This minimum has a zero Hessian eigenvalue (a flat direction): other minima may "
                "lie next to it, and where paths end can depend on the start's digits.")
    return ("Not fragile: an isolated minimum with positive curvature. Once a path is close to it, "
            "small steps keep it converging, so a small error in the start does not matter.")


def step_warnings(model, o) -> list[str]:
    lines, s = [], o.schedule
    if o.method == "flow" or s is None:
        return lines
    lam = float(np.linalg.eigvalsh(model.landscape.hess(o.target))[-1])
    thr = 2.0 / lam if lam > 0 else float("inf")
    if isinstance(s, schedules.PowerDecay) and s.p > 0:
        if s.summable:
            lines.append("WARNING: these steps are summable (p > 1). A path then has finite length "
                         "(at most sup|grad f| × sum a_k), so from a start away from the target it "
                         "generally stops short of it: the result needs sum a_k = ∞.")
        if s.a0 > thr:
            k = math.ceil((s.a0 / thr) ** (1.0 / s.p)) - 1
            lines.append(f"The first steps are above 2/λ = {short(thr)} of the target; from step "
                         f"k = {k} on they are below it.")
        return lines
    a, L = _first_step(s), model.landscape.lipschitz
    if L and a >= 1.0 / L and a <= thr:
        lines.append(f"Note: a = {short(a)} is not below 1/L = {short(1.0 / L)} (L = {short(L)}). "
                     "a < 1/L is a safe choice: the GD map is then one-to-one, which reach relies on "
                     "when it runs GD backwards.")
    return lines


def readout_lines(model, frame=None) -> list[str]:
    o = model.outcome
    lam = float(np.linalg.eigvalsh(model.landscape.hess(o.target))[-1])
    thr = f", 2/λ = {short(2.0 / lam)}" if lam > 0 else ""
    lines = [f"Target: the {o.label}: x* = {point_text(o.target)} ({o.kind}); sharpness λ = {short(lam)}{thr}.",
             dynamics_text(o)]
    if o.error:
        return lines + [f"reach could not run: {o.error}"]
    if model.computing and model.closed:
        return lines + [CLOSED]
    if model.computing:
        return lines + ["Computing a start with reach() … (the figure updates when it is done)"]
    if o.unstable:
        a = _first_step(o.schedule)
        return lines + [
            f"WARNING: the step a = {short(a)} is ABOVE 2/λ = {short(2.0 / lam)} at the target. There GD is "
            f"linearly unstable: near the target, errors along its sharpest direction are "
            f"multiplied by |1 − aλ| = {short(abs(1 - a * lam), 3)} > 1 at every step, so iterates near it "
            "are pushed away. reach is not run: the reachability result needs small steps.",
            f"Shown instead: GD started {short(_DEMO_OFFSET * (1 + np.linalg.norm(o.target)), 2)} from "
            f"the target along its sharpest direction: {o.path.describe(0)}.",
            f"Lower the step below {short(2.0 / lam)} to reach the {o.label}."]
    r = o.result
    if r.path is None:
        return lines + [f"No start found. {r.note}"]
    if r.refused:
        return lines + [f"reach is not run. {r.note}",
                        f"Shown instead: GD from x0 = {point_text(r.start)}: {o.path.describe(0)}."]
    dist = np.linalg.norm(o.path.iterates[:, 0, :] - o.target, axis=1)
    k_best = int(np.argmin(dist))
    when = "t = " + short(o.path.times[k_best], 3) if o.method == "flow" else f"step {k_best}"
    lines += [
        f"Start found by reach: x0 = {point_text(r.start)} (distance "
        f"{short(np.linalg.norm(r.start - o.target), 3)} from the target).",
        f"Final distance to the target: {short(r.final_distance, 3)}; closest distance: "
        f"{short(r.closest_distance, 3)} (at {when}).",
    ]
    if r.success:
        lines.append("Reached: the final distance is at most 1e-6.")
    elif r.closest_distance < 1e-6:
        lines.append("Not reached: the path comes very close to the target and then leaves it. The "
                     "good starts form a set of measure zero, and the start is known to about 16 "
                     "digits only: the unstable direction amplifies the remaining error.")
    else:
        lines.append(f"Not reached: the final distance is above 1e-6 ({o.path.describe(0)}).")
    lines.append(fragility_text(model, o))
    lines += step_warnings(model, o)
    k = len(o.path.times) - 1 if frame is None else int(np.clip(frame, 0, len(o.path.times) - 1))
    x = o.path.trajectory(0)[k]
    now = f"t = {short(o.path.times[k], 3)}" if o.method == "flow" else f"step k = {k}"
    lines.append(f"Showing {now}: x = {point_text(x)}, distance to the target "
                 f"{short(np.linalg.norm(x - o.target), 3)}.")
    return lines


def status_line(model) -> str:
    o = model.outcome
    if o.error:
        return f"reach failed: {o.error}"
    if model.computing:
        return CLOSED if model.closed else "Computing a start with reach() …"
    name = methods.METHODS["flow" if o.method == "flow" else "gd"].name
    if o.unstable:
        return (f"Step above 2/sharpness of the {o.label}: reach is not run (see the warning). "
                f"{name} from next to the target: {o.path.describe(0)}")
    if o.result.path is None:
        return f"reach found no start ({o.seconds:.2f} s): {o.result.note}"
    if o.result.refused:
        return f"reach is not run: {o.result.note} {name} from x0 = {point_text(o.result.start)}: {o.path.describe(0)}"
    verdict = "reached" if o.result.success else "NOT reached"
    return (f"reach ({o.seconds:.2f} s): the {o.label} is {verdict}; {name} from the start found: "
            f"{o.path.describe(0)}")


def trial_status(model) -> str:
    """The status line for the dynamics from your start (or a drag's preview from the last one)."""
    p, o = model.trial, model.outcome
    name = methods.METHODS["flow" if o.method == "flow" else "gd"].name
    d = float(np.linalg.norm(p.final[0] - o.target))
    where = "from the last start (reach runs when you release)" if model.preview else \
        f"from your start {point_text(model.values['start'])}"
    return f"{name} {where}: {p.describe(0)}; distance to the {o.label} {short(d, 3)}"


def trial_lines(model, frame=None) -> list[str]:
    """The read-outs for the dynamics from your start."""
    p, o = model.trial, model.outcome
    lam = float(np.linalg.eigvalsh(model.landscape.hess(o.target))[-1])
    lines = [f"Target: the {o.label}: x* = {point_text(o.target)} ({o.kind}); sharpness λ = {short(lam)}.",
             trial_status(model) + "."]
    if model.own:
        lines.append("Your start, not reach's: change any other setting and reach finds its start again.")
    k = len(p.times) - 1 if frame is None else int(np.clip(frame, 0, len(p.times) - 1))
    x = p.trajectory(0)[k]
    now = f"t = {short(p.times[k], 3)}" if o.method == "flow" else f"step k = {k}"
    d = short(np.linalg.norm(x - o.target), 3)
    lines.append(f"Showing {now}: x = {point_text(x)}, distance to the target {d}.")
    return lines
