"""The explorer-model protocol (reachkit.explorers.model): construction checks, update with
rollback, drag updates (final=False) against final ones, and the model modules' imports. No
widgets here except where the assembled explorer is the point (R2)."""

import subprocess
import sys

import numpy as np
import pytest

from reachkit import analysis, landscapes
from reachkit.explorers import dynamics_text
from reachkit.explorers.dynamics_model import DynamicsModel
from reachkit.explorers.model import ExplorerModel
from reachkit.explorers.runs import Run
from reachkit.explorers.settings import Setting


def plain_gd(grad, x0, a, n, gtol=1e-10):
    """x_{k+1} = x_k - a grad f(x_k), written out; stops where |grad f| <= gtol."""
    x = np.atleast_1d(np.array(x0, dtype=float))
    out = [x.copy()]
    for _ in range(n):
        g = grad(x)
        if np.linalg.norm(g) <= gtol:
            break
        x = x - a * g
        out.append(x.copy())
    return np.array(out)


class Tiny(ExplorerModel):
    """The smallest model: one setting, a Run that records it."""

    def __init__(self, skip=()):
        self.landscape = landscapes.quadratic()
        if "declarations" not in skip:
            self.declarations = [Setting("step", "real", 0.1, positive=True)]
        if "values" not in skip:
            self.values = {"step": 0.1}
        self.step_range = (0.01, 1.0)
        if not skip:
            self.refresh()

    def series(self):
        return []

    def static_layer(self):
        return None

    def static_key(self):
        return ()

    def readout_lines(self, frame=None):
        if self.values["step"] == 0.5:
            raise ValueError("the read-out cannot be made at 0.5")
        return [f"step {self.values['step']}"]

    def describe(self, frame=None):
        return "\n".join(self.readout_lines(frame))

    def _show(self, changed, final):
        self.current = Run(self.values["step"], {}, {}, f"step {self.values['step']}")
        return {"runs"}


def test_a_missing_member_fails_at_construction():
    with pytest.raises(TypeError, match="describe"):
        type("Broken", (ExplorerModel,), {k: v for k, v in vars(Tiny).items() if k != "describe"})()
    for member in ("values", "current", "declarations"):
        with pytest.raises(TypeError, match=member):
            Tiny(skip=(member,))
    m = Tiny()  # the defaults
    assert m.fan == () and m.fan_steps == () and m.clickable and m.step_label == "step a"
    assert m.inactive() == set() and m.step_marks() == [] and m.click((1.0, 2.0)) == {"start": (1.0, 2.0)}
    assert m.fan_index(0.1) is None and not m.busy and m.wait() is m
    m.listen(lambda what: None)
    m.close()
    assert m.closed


def test_a_failure_after_the_runs_leaves_the_model_as_it_was():
    m = Tiny()
    before = (dict(m.values), m.current)
    with pytest.raises(ValueError, match="0.5"):
        m.update(step=0.5)  # the runs are made, then the read-out fails: nothing is kept
    assert (m.values, m.current) == before and m.describe() == "step 0.1"
    assert m.update(step=0.2) == {"runs"} and m.current.status == "step 0.2"
    assert m.update(step=0.2) == set()  # no change


def test_r2_a_start_where_the_sharpness_overflows_is_said_so_and_nothing_breaks():
    """R2: today the read-out's sharpness raised after the new run was committed; describe() and
    every later change then failed."""
    pytest.importorskip("ipywidgets")
    import reachkit as rk

    ex = rk.explore(landscapes.smooth_double_well())
    try:
        accepted = ex.set(start=1e80)
        text = ex.describe()  # raised ValueError before the fix
        if accepted:
            assert ex.values["start"] == (1e80,)
            assert "no sharpness: the Hessian overflows float64 here" in text
            assert "diverged" in ex.status
        else:
            assert ex.values["start"] != (1e80,)
        assert ex.set(start=-0.5) and ex.set(step=0.05) and ex.error is None
        assert ex.model.paths["gd"].limit_label[0] in ("sharp minimum", "flat minimum")
    finally:
        ex.close()


def test_the_read_outs_say_where_no_sharpness_can_be_computed():
    ls = landscapes.smooth_double_well()
    assert np.isnan(dynamics_text.sharpness_at(ls, [1e80])) and np.isnan(dynamics_text.sharpness_at(ls, [np.inf]))
    assert dynamics_text.sharpness_at(ls, [-1.0]) == pytest.approx(float(analysis.sharpness(ls, [-1.0])))


def test_a_drag_update_computes_only_what_is_shown_then_the_release_the_rest():
    ls = landscapes.sharp_flat_2d()
    m = DynamicsModel(ls, start=(-0.7, 1.2), step=0.04, n_steps=200, basins=True, basin_resolution=32)
    assert len(m.fan) == len(m.fan_steps) > 30 and m.shown_basins()[1]
    what = m.update(final=False, sharp=30.0)
    assert m.draft and "fan" in what and m.fan == [] and m.fan_steps == []  # no fan while dragging
    bm, full = m.shown_basins()
    assert not full and bm.labels.shape == (8, 8) and m.static_layer().pending == ("basins",)
    moved = ls.with_params(sharp=30.0)
    ref = plain_gd(moved.grad, (-0.7, 1.2), 0.04, 200)
    got = m.current.paths["gd"].trajectory(0)
    np.testing.assert_allclose(got[:len(ref)], ref, rtol=1e-9, atol=1e-12)
    np.testing.assert_allclose(got[len(ref):], np.broadcast_to(ref[-1], got[len(ref):].shape))
    assert m.landscape.params["sharp"] == 30.0
    # the release at the same value: no setting changes, the rest is computed now (no event loop)
    what = m.update(final=True)
    assert not m.draft and {"fan", "background"} <= what and len(m.fan) == len(m.fan_steps) > 30
    bm, full = m.shown_basins()
    assert full and m.static_layer().pending == ()
    ref = analysis.basin_map(moved, 0.04, n=32, n_steps=1000)
    np.testing.assert_array_equal(bm.labels, ref.labels)
    i = 7
    ref = plain_gd(moved.grad, (-0.7, 1.2), m.fan_steps[i], 200)
    got = m.fan[i].paths["gd"].trajectory(0)
    if m.fan[i].paths["gd"].status[0] != "diverged":
        np.testing.assert_allclose(got[:len(ref)], ref, rtol=1e-9, atol=1e-12)
    assert m.update(final=True) == set()  # nothing left to do


def test_a_drag_keeps_the_last_bifurcation_diagram_marked_as_pending():
    ls = landscapes.sharp_flat_double_well()
    m = DynamicsModel(ls, start=-0.5, n_steps=80, bifurcation=True)
    first = m.static_layer().bifurcation
    assert first is not None and m.static_layer().pending == ()
    m.update(final=False, **{ls.param_specs[0].name: ls.param_specs[0].high})
    layer = m.static_layer()
    assert layer.bifurcation is first and layer.pending == ("bifurcation",)
    m.update(final=True)
    assert m.static_layer().bifurcation is not first and m.static_layer().pending == ()


def test_a_long_run_is_cut_while_dragging_and_whole_on_release():
    ls = landscapes.sharp_flat_2d()
    m = DynamicsModel(ls, start=(-0.7, 1.2), step=0.01, n_steps=100_000)
    m.update(final=False, start=(-0.6, 1.1))
    n = len(m.current.paths["gd"].times) - 1
    assert n < 100_000 and m.current.status.startswith(f"While dragging, the first {n} of 100000 steps")
    m.update(final=True)
    assert m.current.paths["gd"].times.size == 100_001 and not m.current.status.startswith("While")


@pytest.mark.parametrize("module", ["dynamics_model", "reach_model", "adaptive_model", "model"])
def test_a_model_module_imports_no_widgets_and_no_matplotlib(module):
    code = (f"import sys, reachkit.explorers.{module}\n"
            "bad = sorted(k for k in sys.modules if k.split('.')[0] in "
            "('matplotlib', 'ipywidgets', 'anywidget', 'traitlets'))\n"
            "assert not bad, bad")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=120)
    assert out.returncode == 0, out.stderr
