"""Live requests from the view (issue 17 items 2, 3, 7; issue 16 R10, R17), without a browser.

- the back-pressure of static/view.js (``pacer``), run in Node: at most `depth` requests in flight, the latest
  value wins, a release is never dropped;
- the kernel side: a request from the view (``{"seq", "final", "changes"}``) is checked, applied as
  a drag update (``final=False``: no fan) or a final one, and answered by ``ack``; malformed
  messages and values the front end sends are said in the status line, never raised.
"""

from __future__ import annotations

import json
import shutil
import subprocess
from pathlib import Path

import numpy as np
import pytest

import reachkit as rk
from reachkit import landscapes as L
from reachkit.explorers.view import ExplorerView, read_request

VIEW_JS = Path(rk.__file__).parent / "static" / "view.js"
NODE = shutil.which("node")


def run_js(script: str):
    """Run ``script`` (an async body with ``m`` = view.js's exports) in Node; its returned value."""
    if NODE is None:
        pytest.skip("no node on PATH (apt-get install nodejs)")
    code = (f"import * as m from {json.dumps(VIEW_JS.as_uri())};\n"
            f"const out = await (async () => {{ {script} }})();\nconsole.log(JSON.stringify(out));")
    done = subprocess.run([NODE, "--input-type=module", "-e", code], capture_output=True, text=True, timeout=60)
    assert done.returncode == 0, done.stderr
    return json.loads(done.stdout)


def test_pacer_keeps_one_request_in_flight_and_the_latest_value_wins():
    out = run_js("""
        const sent = [];
        const p = m.pacer((msg) => sent.push(msg), { now: () => 0 });
        for (let v = 1; v <= 50; v++) p.want({ sharp: v });       // 50 pointer moves before any answer
        p.want({ flat: 2 });
        p.acked(sent[0].seq);                                     // the first answer: the newest goes
        for (let v = 51; v <= 60; v++) p.want({ sharp: v });
        p.acked(12345);                                           // an answer to nothing of ours: ignored
        p.acked(sent[1].seq);
        p.acked(sent[2].seq);
        return { sent, idle: p.idle };""")
    sent = out["sent"]
    assert [s["changes"] for s in sent] == [{"sharp": 1}, {"sharp": 50, "flat": 2}, {"sharp": 60}]
    assert [s["final"] for s in sent] == [False] * 3
    assert [s["seq"] for s in sent] == [1, 2, 3] and out["idle"]  # and nothing more waits
    assert run_js("const p = m.pacer(() => {}); return p.idle;") is True


def test_a_pacer_of_depth_two_keeps_the_kernel_fed_and_the_backlog_at_one():
    """depth 2 (the view's): the second value goes while the first is computed; an answer lets exactly
    one newer value go; the answer to a later request answers the earlier ones too (in order)."""
    out = run_js("""
        const sent = [];
        const p = m.pacer((msg) => sent.push(msg), { now: () => 0, depth: 2 });
        for (let v = 1; v <= 30; v++) p.want({ sharp: v });       // 30 moves before any answer
        const before = sent.length;
        p.acked(sent[0].seq);                                     // one answer: the newest value goes
        const afterOne = sent.length;
        for (let v = 31; v <= 40; v++) p.want({ sharp: v });
        p.acked(sent[2].seq);                                     // answers 2 and 3 (in order)
        const afterThird = sent.length;
        p.want({ sharp: 41 }, true);
        p.acked(sent[3].seq);
        return { sent, before, afterOne, afterThird, idle: p.idle };""")
    sent = out["sent"]
    assert out["before"] == 2 and [s["changes"]["sharp"] for s in sent[:2]] == [1, 2]
    assert out["afterOne"] == 3 and sent[2]["changes"] == {"sharp": 30}
    assert out["afterThird"] == 4 and sent[3]["changes"] == {"sharp": 40}
    assert sent[4] == {"seq": 5, "final": True, "changes": {"sharp": 41}} and len(sent) == 5
    assert not out["idle"]  # the release is still in flight


def test_pacer_never_drops_the_release():
    sent = run_js("""
        const sent = [];
        const p = m.pacer((msg) => sent.push(msg), { now: () => 0 });
        p.want({ start: [0, 0] });
        p.want({ start: [0.5, 0.5] });
        p.want({ start: [0.7, 0.6] }, true);                      // released while a drag is in flight
        p.want({ sharp: 30 });                                    // a drag after the release: stays final
        p.acked(sent[0].seq);
        p.acked(sent[1].seq);
        return sent;""")
    assert sent[0] == {"seq": 1, "final": False, "changes": {"start": [0, 0]}}
    assert sent[1] == {"seq": 2, "final": True, "changes": {"start": [0.7, 0.6], "sharp": 30}}
    assert len(sent) == 2


def test_pacer_sends_again_when_an_answer_is_lost():
    sent = run_js("""
        const sent = []; let t = 0;
        const p = m.pacer((msg) => sent.push(msg), { now: () => t, patience: 1000 });
        p.want({ sharp: 1 }); p.want({ sharp: 2 });
        t = 999; p.want({ sharp: 3 });
        t = 1001; p.want({ sharp: 4 });
        return sent.map((s) => s.changes.sharp);""")
    assert sent == [1, 4]


def test_live_slider_positions_are_on_the_range_and_round_trip():
    out = run_js("""
        const lin = { low: 2, high: 60, log: false }, log = { low: 0.1, high: 4, log: true };
        const pos = (p) => Array.from({ length: 201 }, (_, i) => m.sliderValue(p, i));
        return { lin: pos(lin), log: pos(log), back: pos(log).map((v) => m.sliderIndex(log, v)) };""")
    lin, log = np.array(out["lin"]), np.array(out["log"])
    assert lin[0] == 2 and lin[-1] == 60 and np.allclose(lin, np.linspace(2, 60, 201), rtol=1e-3)
    assert log[0] == 0.1 and log[-1] == 4 and np.allclose(log, np.geomspace(0.1, 4, 201), rtol=1e-3)
    assert out["back"] == list(range(201))


# -- the kernel side ---------------------------------------------------------------------------------

@pytest.fixture
def ex():
    return rk.explore(L.sharp_flat_2d(), n_steps=120)


def request(view, seq, changes, final=False):
    view._on_front_msg(view, {"seq": seq, "final": final, "changes": changes}, [])


def test_every_ranged_real_but_the_step_is_a_live_slider_in_the_view(ex):
    assert [p["name"] for p in ex.view.params] == ["exponent", "mu", "sharp", "flat"]
    assert {p["name"]: p["disabled"] for p in ex.view.params} == {"exponent": True, "mu": True,
                                                                   "sharp": False, "flat": False}
    assert not {"sharp", "flat", "exponent", "mu"} & set(ex.controls.widgets)
    sharp = next(p for p in ex.view.params if p["name"] == "sharp")
    assert (sharp["low"], sharp["high"], sharp["value"]) == (2.0, 60.0, 20.0)


def test_a_parameter_drag_computes_what_is_shown_and_the_release_the_rest(ex):
    v, fan, landscape = ex.view, list(ex.view.fan), ex.view.scene["surface"]["z"]
    request(v, 7, {"sharp": 31.5})
    assert v.ack == 7 and ex.values["sharp"] == 31.5 and ex.model.draft
    assert v.fan == [], "a drag update computed the fan"
    assert v.scene["surface"]["z"] != landscape, "a drag update did not send the landscape for the new value"
    # the path shown is GD on the new landscape: a plain loop written here
    ls, x = L.sharp_flat_2d().with_params(sharp=31.5), np.array(ex.values["start"], float)
    path = [x]
    for _ in range(120):
        x = x - ex.values["step"] * ls.grad(x)
        path.append(x)
    drawn = np.frombuffer(v.shown_run()["paths"][0], "<f4").reshape(-1, 2)
    assert np.allclose(drawn, np.array(path), atol=1e-5)
    request(v, 8, {"sharp": 31.5}, final=True)  # released where the last drag was
    assert v.ack == 8 and not ex.model.draft
    assert len(v.fan) == len(v.fan_steps) > 0 and v.fan != fan


def test_a_start_drag_follows_and_the_release_sets_exactly_the_point(ex):
    v = ex.view
    request(v, 1, {"start": [-0.5, 0.25]})
    assert ex.values["start"] == (-0.5, 0.25) and v.start == [-0.5, 0.25] and v.fan == []
    request(v, 2, {"start": [-0.51234567891, 0.3]}, final=True)
    assert ex.values["start"] == (-0.51234567891, 0.3) and len(v.fan) > 0 and v.ack == 2
    drawn = np.frombuffer(v.shown_run()["paths"][0], "<f4").reshape(-1, 2)
    assert np.allclose(drawn[0], [-0.51234567891, 0.3], atol=1e-6)


@pytest.mark.parametrize("make", [rk.explore_reach, rk.eos_explorer.explore_adaptive])
def test_the_other_explorers_take_live_starts_and_parameters(make):
    ex = make(L.sharp_flat_2d())
    v, names = ex.view, [p["name"] for p in ex.view.params]
    assert names, "no live slider"
    request(v, 1, {"start": [0.5, 0.5]})
    assert ex.values["start"] == (0.5, 0.5) and v.ack == 1 and not v.status.startswith("Could not")
    p = next(p for p in v.params if not p["disabled"])
    value = float(f"{(p['low'] + p['high']) / 2:.3g}")
    request(v, 2, {p["name"]: value}, final=True)
    assert ex.values[p["name"]] == value and v.ack == 2 and not v.status.startswith("Could not"), v.status


@pytest.mark.parametrize("content, words", [
    ({"seq": 1, "final": False, "changes": {"step": "0.1"}}, "step must be a real number"),
    ({"seq": 1, "final": False, "changes": {"speed": 5}}, "'speed' is not a setting the view changes"),
    ({"seq": 1, "final": False, "changes": {"sharp": "30"}}, "sharp must be a real number"),
    ({"seq": 1, "final": False, "changes": {"sharp": None}}, "sharp must be a real number"),  # JSON's NaN
    ({"seq": 1, "final": False, "changes": {"sharp": 1e9}}, "sharp must be >= 2 and <= 60"),
    ({"seq": 1, "final": False, "changes": {"start": [0.0] * 10**6}}, "got 1000000 numbers"),
    ({"seq": 1, "final": False, "changes": {"start": [1.0]}}, "start must have 2 coordinate(s)"),
    ({"seq": 1, "final": False, "changes": {"start": [9.0, 0.0]}}, "outside the plot"),
    ({"seq": 1, "final": "yes", "changes": {"sharp": 30}}, "final must be True or False"),
    ({"seq": 1, "final": False, "changes": {}}, "changes must be a non-empty dict"),
    ({"seq": -5, "final": False, "changes": {"sharp": 30}}, "seq must be an integer >= 0"),
    ("junk", "a request must be a dict"),
])
def test_a_malformed_request_is_said_and_the_last_picture_stays(ex, content, words):
    v = ex.view
    shown, values = v.shown_run(), ex.values
    v._on_front_msg(v, content, [])
    assert v.status.startswith("Could not update:") and words in v.status, v.status
    assert v.shown_run() == shown and ex.values == values
    if isinstance(content, dict) and content["seq"] == 1:
        assert v.ack == 1, "a refused request is answered too: the drag goes on"
    request(v, 2, {"sharp": 25.0})  # the drag goes on
    assert ex.values["sharp"] == 25.0 and not v.status.startswith("Could not")


def test_a_bad_update_message_from_the_front_end_does_not_raise(ex):
    """The whole path of a front-end update, as ipywidgets receives it from the comm."""
    v = ex.view
    for state in ({"step": "0.1"}, {"frame": -5}, {"start": [1.0, 2.0, 3.0]}):
        v._handle_msg({"content": {"data": {"method": "update", "state": state, "buffer_paths": []}},
                       "buffers": []})
        assert v.status.startswith("Could not update:"), v.status
    v._handle_msg({"content": {"data": {"method": "custom", "content": {"seq": 9, "final": True,
                                                                        "changes": {"sharp": 30.0}}}}, "buffers": []})
    assert v.ack == 9 and ex.values["sharp"] == 30.0 and not v.status.startswith("Could not")


def test_a_huge_start_is_refused_by_its_length_before_its_elements(ex):
    """Elements that would each be refused ("must be a real number") are never looked at."""
    v = ex.view
    start = ex.values["start"]
    v.set_state({"start": ["x"] * 10**6})
    assert "start must be [x] (1-D) or [x, y] (2-D); got 1000000 numbers" in v.status
    assert len(v.status) < 300 and ex.values["start"] == start


@pytest.mark.parametrize("state, words", [
    ({"step": "0.1"}, "step from the view: step must be a real number"),
    ({"step": float("nan")}, "step must be a finite number"),
    ({"start": [float("nan"), 0.0]}, "start must be a finite number"),
    ({"start": [1.0, 2.0, 3.0]}, "got 3 numbers"),
    ({"frame": -5}, "frame from the view: frame must be an integer >= 0"),
])
def test_a_bad_value_from_the_front_end_is_said_not_raised(ex, state, words):
    v = ex.view
    sent = []
    v.send_state = lambda key=None: sent.append(key)
    before = (v.step, v.start, v.frame, v.shown_run())
    v.set_state(state)  # ipywidgets' handler of the front end's update message
    assert v.status.startswith("Could not update:") and words in v.status, v.status
    assert (v.step, v.start, v.frame, v.shown_run()) == before
    assert list(state)[0] in sent, "the front end was not sent the kernel's value back"


def test_a_nan_gradient_or_a_diverging_run_is_said_and_the_drag_goes_on(ex):
    v, ls = ex.view, ex.model.landscape
    grad = ls._grad_fn
    ls._grad_fn = lambda x, **p: np.where(np.asarray(x)[..., :1] > 1.0, np.nan, grad(x, **p))  # NaN for x > 1
    request(v, 1, {"start": [1.5, 0.0]})
    assert v.ack == 1 and "the gradient function returned nan at x = (1.5, 0)" in v.status, v.status
    request(v, 2, {"start": [0.5, 0.0]})
    assert v.ack == 2 and ex.values["start"] == (0.5, 0.0)
    ls._grad_fn = grad
    assert ex.set(step=5.0) and "diverge" in v.status, v.status  # 5 > 2/sharpness: it diverges at once
    request(v, 3, {"start": [0.6, 0.0]})
    assert v.ack == 3 and ex.values["start"] == (0.6, 0.0)


def test_an_accepted_change_after_a_refusal_restores_the_status(ex):
    """R10: reset() or any accepted change (even one that changes nothing) ends "Could not update"."""
    v = ex.view
    status = v.status
    assert not ex.set(step=-1.0) and v.status.startswith("Could not update")
    assert ex.set(step=ex.values["step"]) and v.status == status
    v.set_state({"frame": -5})
    assert v.status.startswith("Could not update")
    ex.reset()
    assert v.status == status and ex.error is None


def test_the_view_without_an_explorer_says_a_refusal_itself():
    v = ExplorerView()
    v.set_state({"speed": 99})
    assert v.status.startswith("Could not update: speed from the view") and v.speed == 30
    assert read_request({"seq": 0, "final": True, "changes": {"start": [0.5]}}, [], [0, 1, 0, 1], 1) == \
        (0, {"start": (0.5,)}, True)


def test_a_step_drag_without_a_fan_is_a_drag_update():
    """The adaptive explorer has no fan: a drag of its learning rate computes a coarse basin map, the
    release the full one (against the same map computed here at full resolution)."""
    from reachkit import optimizers

    ex = rk.eos_explorer.explore_adaptive(L.sharp_flat_2d(), resolution=16, basin_steps=300, n_steps=300)
    v = ex.view
    request(v, 1, {"step": 0.5})
    assert ex.values["step"] == 0.5 and v.step == 0.5 and ex.model.draft and v.ack == 1
    assert ex.model.static_layer().pending == ("basins",), "a drag update computed the full basin map"
    request(v, 2, {"step": 0.5}, final=True)
    full = optimizers.basin_map(ex.landscape, "adam", 0.5, n=16, n_steps=300)
    np.testing.assert_array_equal(ex.basin_map.labels, full.labels)
    assert not ex.model.draft and v.ack == 2 and ex.model.static_layer().pending == ()
