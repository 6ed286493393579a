"""The explorer-model protocol (reachkit.explorers.model): construction checks, update with
rollback, drag updates (final=False) against final ones, and the model modules' imports. No
widgets here except where the assembled explorer is the point (R2)."""

import subprocess
import sys

import numpy as np
import pytest
from test_widgets import plain_gd  # noqa: E402 (the plain GD loop, written out once)

from reachkit import analysis, landscapes
from reachkit.explorers import dynamics_text
from reachkit.explorers.dynamics_model import DynamicsModel
from reachkit.explorers.model import ExplorerModel
from reachkit.explorers.runs import Run
from reachkit.explorers.settings import Setting


def same_run(got, ref):
    """``got`` (a recorded run, frozen where it stopped) is the plain loop ``ref``, then its end point."""
    np.testing.assert_allclose(got[:len(ref)], ref, rtol=1e-10, atol=1e-13)
    np.testing.assert_allclose(got[len(ref):], np.broadcast_to(ref[-1], got[len(ref):].shape))


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


@pytest.mark.parametrize("module", ["dynamics_model", "reach_model", "adaptive_model", "network_model", "model"])
def test_a_model_module_imports_no_widgets_and_no_matplotlib(module):
    code = (f"import sys, reachkit.explorers.{module}\n"
            "bad = sorted(k for k in sys.modules if k.split('.')[0] in "
            "('matplotlib', 'ipywidgets', 'anywidget', 'traitlets'))\n"
            "assert not bad, bad")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=120)
    assert out.returncode == 0, out.stderr


# ----------------------------------------------------------------------------------------------
# Background work: the kernel's thread only computes what is shown
# ----------------------------------------------------------------------------------------------
def in_a_loop(coroutine_function):
    """Run ``coroutine_function()`` under asyncio in a thread of its own (the main thread may
    already run a loop: Playwright's, in the browser suite); re-raise what it raised."""
    import asyncio
    import threading

    errors = []

    def run():
        try:
            asyncio.run(coroutine_function())
        except BaseException as exc:  # noqa: BLE001 - re-raised below
            errors.append(exc)

    t = threading.Thread(target=run)
    t.start()
    t.join(300)
    assert not t.is_alive(), "the session did not finish"
    if errors:
        raise errors[0]


def gate(monkeypatch, cls, name):
    """Make ``cls.name`` wait for the returned event before it computes (in the worker)."""
    import threading

    go, entered = threading.Event(), []
    real = getattr(cls, name)

    def gated(self, *args, **kwargs):
        entered.append(args)
        assert go.wait(120)
        return real(self, *args, **kwargs)

    monkeypatch.setattr(cls, name, gated)
    return go, entered


def test_an_update_returns_with_the_shown_run_while_the_fan_is_computed_in_the_worker(monkeypatch):
    import asyncio

    ls = landscapes.sharp_flat_2d()
    go, entered = gate(monkeypatch, DynamicsModel, "_fan")
    go.set()  # the first fan (at construction) goes through

    async def session():
        m = DynamicsModel(ls, start=(-0.7, 1.2), step=0.04, n_steps=200, background=True)
        heard = []
        m.listen(heard.append)
        m.wait()
        assert len(m.fan) > 30
        go.clear()
        what = m.update(start=(0.5, 0.8))  # returns while the worker waits at the gate
        assert "runs" in what and m.busy and m.fan == [] and m.fan_steps == []
        np.testing.assert_allclose(m.current.paths["gd"].trajectory(0)[:5],
                                   plain_gd(ls.grad, (0.5, 0.8), 0.04, 4), rtol=1e-12)
        await asyncio.sleep(0.05)
        assert m.busy and m.fan == []  # still held at the gate: the kernel's loop runs meanwhile
        go.set()
        for _ in range(3000):
            if not m.busy:
                break
            await asyncio.sleep(0.01)
        assert not m.busy and heard and "fan" in heard[-1]  # arrived through the listener
        i = 12
        ref = plain_gd(ls.grad, (0.5, 0.8), m.fan_steps[i], 200)
        got = m.fan[i].paths["gd"].trajectory(0)
        np.testing.assert_allclose(got[:len(ref)], ref, rtol=1e-9, atol=1e-12)
        m.close()

    in_a_loop(session)


def test_the_latest_change_wins(monkeypatch):
    import asyncio

    ls = landscapes.sharp_flat_2d()
    go, entered = gate(monkeypatch, DynamicsModel, "_fan")
    go.set()

    async def session():
        m = DynamicsModel(ls, start=(-0.7, 1.2), step=0.04, n_steps=100, background=True)
        heard = []
        m.listen(heard.append)
        m.wait()
        go.clear()
        entered.clear()
        m.update(start=(0.5, 0.8))
        for _ in range(1000):  # the worker is at the gate with the first request
            if entered:
                break
            await asyncio.sleep(0.01)
        m.update(start=(1.5, -0.5))  # supersedes it
        m.update(start=(2.0, 0.3))  # ... and this one that
        go.set()
        m.wait(timeout=120)
        assert not m.busy and m.start == (2.0, 0.3)
        i = 20
        ref = plain_gd(ls.grad, (2.0, 0.3), m.fan_steps[i], 100)
        np.testing.assert_allclose(m.fan[i].paths["gd"].trajectory(0)[:len(ref)], ref, rtol=1e-9, atol=1e-12)
        assert m.made(m._fan_key(dict(m.values, start=(1.5, -0.5)))) is None  # never computed
        m.close()

    in_a_loop(session)


def test_a_superseded_run_stops_within_a_step():
    from reachkit import methods, schedules
    from reachkit.explorers.model import Cancelled, cancellable

    ls = landscapes.sharp_flat_2d()
    calls = []
    stop = lambda: len(calls) > 50  # noqa: E731

    counted = cancellable(ls, lambda: calls.append(1) is None and stop())
    with pytest.raises(Cancelled):
        methods.METHODS["gd"].run(counted, (-0.7, 1.2), schedules.constant(1e-4), 100_000, gtol=0.0)
    assert len(calls) <= 52  # not 100 000 gradient evaluations


def test_the_220_s_case_is_refused_by_the_budget_and_computed_in_the_background():
    """R18 / issue 17: n_steps=100 000 with GD, SGD and the flow on decaying steps: the fan would
    take minutes and GBs: it is refused with the estimate; the shown runs go to the worker."""

    async def session():
        m = DynamicsModel(landscapes.sharp_flat_2d_sum(), n_steps=100_000, methods=("gd", "sgd", "flow"),
                          schedule="power", exponent=2.0, background=True)
        assert m.fan == [] and m.fan_note.startswith("No step fan: 41 step positions x 3 method(s)")
        assert "lower n_steps to about" in m.fan_note and m.fan_note in "\n".join(m.readout_lines())
        m.wait(timeout=600)
        m.update(exponent=1.5)
        assert m.waiting and m.busy and m.current.status.startswith("Computing all 100000 steps")
        assert len(m.current.paths["gd"].times) - 1 < 100_000  # meanwhile the first steps are shown
        m.wait(timeout=600)
        assert not m.waiting and m.current.paths["gd"].times.size == 100_001
        p = m.current.paths["gd"]
        k = np.arange(100_000)
        assert np.all(np.isfinite(p.step_sizes[:50, 0]))
        np.testing.assert_allclose(p.step_sizes[:50, 0], m.step / (k[:50] + 1.0) ** 1.5)
        m.close()

    in_a_loop(session)


def test_r19_closing_while_reach_computes_says_closed_and_refuses_later_changes():
    """R19: closing explore_reach(himmelblau, background=True) mid-computation left "Computing a
    start ..." on screen, and a later set raised "cannot schedule new futures after shutdown"."""
    pytest.importorskip("ipywidgets")
    from reachkit.explorers.model import CLOSED
    from reachkit.explorers.reach_model import explore_reach

    async def session():
        ex = explore_reach(landscapes.himmelblau(), background=True)
        target = next(s for s in ex.model.declarations if s.name == "target")
        saddle = next(v for v, lab in target.options if "saddle" in lab)
        assert ex.set(target=saddle) and ex.computing
        ex.close()
        assert ex.status == CLOSED and CLOSED in ex.describe() and not ex.view.busy
        assert not ex.set(step=0.01) and "closed" in ex.error and ex.status == CLOSED
        with pytest.raises(RuntimeError, match="closed"):
            ex.model.update(step=0.01)
        import asyncio
        await asyncio.sleep(0.5)
        assert ex.status == CLOSED and ex.model.worker.job is None

    in_a_loop(session)


# ----------------------------------------------------------------------------------------------
# The reach and adaptive-steps explorers: the same live parameters and start
# ----------------------------------------------------------------------------------------------
def test_reach_drag_previews_from_the_last_start_and_runs_reach_on_release(monkeypatch):
    from reachkit.explorers.reach_model import ReachModel

    ls = landscapes.sharp_flat_double_well()
    m = ReachModel(ls, step=0.04)
    found = m.values["start"]
    assert np.allclose(found, m.outcome.result.start)
    calls = []
    real = analysis.reach
    monkeypatch.setattr(analysis, "reach", lambda *a, **k: calls.append(a) or real(*a, **k))
    m.update(final=False, sharp=30.0)  # a drag: no reach
    assert calls == [] and m.preview and "reach runs when you release" in m.current.status
    moved = ls.with_params(sharp=30.0)
    same_run(m.trial.trajectory(0), plain_gd(moved.grad, found, 0.04, len(m.trial.times) - 1))
    m.update(final=True)  # the release: reach at sharp = 30
    assert len(calls) == 1 and not m.preview and m.outcome.result.success
    np.testing.assert_array_equal(m.outcome.result.start, real(moved, "sharp minimum", 0.04).start)
    assert m.values["start"] == tuple(m.outcome.result.start)


def test_reach_drag_of_the_start_runs_the_dynamics_from_it_without_reach(monkeypatch):
    from reachkit.explorers.reach_model import ReachModel

    ls = landscapes.himmelblau()
    m = ReachModel(ls, step=0.01, target="saddle (3.39, 0.07)")
    calls = []
    monkeypatch.setattr(analysis, "reach", lambda *a, **k: calls.append(a))
    start = tuple(m.values["start"])
    nudged = (start[0] + 1e-3, start[1])
    for final, x in ((False, nudged), (True, nudged)):
        m.update(final=final, start=x)
        assert m.own and calls == []
    same_run(m.trial.trajectory(0), plain_gd(ls.grad, nudged, 0.01, len(m.trial.times) - 1))
    # the saddle is reached only from its stable manifold: a nudge of 1e-3 misses it
    assert np.linalg.norm(m.trial.final[0] - m.outcome.target) > 1e-2
    assert "Your start, not reach's" in "\n".join(m.readout_lines())


def test_adaptive_drags_the_start_without_basins_and_the_learning_rate_with_a_provisional_map(monkeypatch):
    from reachkit import optimizers as ro
    from reachkit.explorers.adaptive_model import AdaptiveModel

    ls = landscapes.sharp_flat_2d()
    m = AdaptiveModel(ls, start=(-1.2, 0.2), resolution=16, basin_steps=300, n_steps=300)
    calls = []
    real = ro.basin_map
    monkeypatch.setattr(ro, "basin_map", lambda *a, **k: calls.append(k.get("n")) or real(*a, **k))
    assert m.update(final=False, start=(2.5, -0.5)) == {"runs"} and calls == []
    m.update(final=False, step=0.5)
    assert calls in ([], [4]) and m.static_layer().pending == ("basins",)  # coarse if quick, else the last
    m.update(final=True)
    assert calls[-1] == 16 and m.static_layer().pending == ()
    np.testing.assert_array_equal(m.basin_map.labels, real(ls, "adam", 0.5, n=16, n_steps=300).labels)
    path = ro.run(ls, [2.5, -0.5], "adam", 0.5, 300, gtol=1e-8)
    np.testing.assert_array_equal(m.current.xy["path"], path.iterates[:, 0])


def test_the_step_exactly_at_2_over_lambda_is_not_called_stable():
    m = DynamicsModel(landscapes.smooth_double_well(), start=0.2, step=0.1, n_steps=50)  # 2/20 = 0.1 exactly
    text = "\n".join(m.readout_lines())
    assert ("sharp minimum: sharpness λ = 20, 2/λ = 0.1 — step 0.1 is at the threshold: marginal, the next "
            "terms decide") in text
    # (the linearisation multiplies the error by 1 - 0.1 * 20 = -1: the higher-order terms decide)


def test_basins_beyond_the_budget_are_refused_with_the_estimate():
    with pytest.raises(ValueError, match=r"basins: 1,048,576 starts x 100000 steps of GD would take about .* "
                                         r"above the budget .* smaller basin_resolution or basin_steps"):
        DynamicsModel(landscapes.sharp_flat_2d(), basins=True, basin_resolution=1024, basin_steps=100_000)
    m = DynamicsModel(landscapes.sharp_flat_2d(), basin_resolution=1024, basin_steps=100_000)  # basins off: fine
    with pytest.raises(ValueError, match="budget"):
        m.update(basins=True)
    assert not m.values["basins"]


def test_a_full_basin_map_arriving_from_the_worker_replaces_the_coarse_one():
    """The CI failure of notebook 06: the full map arrived in the worker's callback and the model
    compared the shown maps (arrays) with ==, raising in the kernel's loop."""
    import asyncio

    ls = landscapes.sharp_flat_2d()

    async def session():
        loop = asyncio.get_running_loop()
        raised = []
        loop.set_exception_handler(lambda _loop, context: raised.append(context))
        m = DynamicsModel(ls, start=(-0.7, 1.2), step=0.04, n_steps=100, basins=True,
                          basin_resolution=32, background=True)
        heard = []
        m.listen(heard.append)
        m.wait()
        m.update(final=False, sharp=30.0)
        assert not m.shown_basins()[1]  # the coarse map while dragging
        m.update(final=True)
        for _ in range(3000):
            if not m.busy:
                break
            await asyncio.sleep(0.01)
        assert not raised, raised
        bm, full = m.shown_basins()
        assert full and bm.labels.shape == (32, 32) and any("background" in w for w in heard)
        ref = analysis.basin_map(ls.with_params(sharp=30.0), 0.04, n=32, n_steps=m.basin_steps)
        np.testing.assert_array_equal(bm.labels, ref.labels)
        m.close()

    in_a_loop(session)
