"""rk.predict: the answer rules (multiple choice, numeric tolerance), bad definitions refused with a
clear error, the browser's rule (static/predict.js, run under node) agreeing with Python's, and text
kept as written (no HTML or LaTeX interpretation anywhere on the way to the page)."""

from __future__ import annotations

import json
import shutil
import subprocess

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import reachkit as rk
from reachkit.questions import _STATIC, Prediction


def test_multiple_choice_accepts_exactly_the_answer():
    q = rk.predict("Which minimum does GD reach at a = 0.05?", ["the sharp one", "the flat one"], "the flat one",
                   "0.05 > 2/40, so the sharp minimum is unstable.")
    assert isinstance(q, Prediction) and q.answer == 1 and not q.numeric
    assert q.accepts("the flat one") and not q.accepts("the sharp one") and not q.accepts("the flat one ")
    assert q.options == ["the sharp one", "the flat one"] and not q.answered


def test_numeric_accepts_within_the_tolerance_and_no_further():
    q = rk.predict("Largest stable step for lambda = 40?", answer=0.05, tolerance=0.005, unit="",
                   hint="2 / lambda")
    assert q.numeric and q.accepts(0.05) and q.accepts(0.0549) and q.accepts(0.0451)
    assert not q.accepts(0.0551) and not q.accepts(0.0449) and not q.accepts(-0.05)
    exact = rk.predict("How many?", answer=3, tolerance=0)
    assert exact.accepts(3) and not exact.accepts(3.000001)
    with pytest.raises(TypeError, match="value must be a real number"):
        q.accepts("0.05")


@pytest.mark.parametrize("kwargs, error, words", [
    (dict(options=[], answer="a"), ValueError, "at least 2 options"),
    (dict(options=["a"], answer="a"), ValueError, "at least 2 options"),
    (dict(options=["a", "b"], answer="c"), ValueError, "answer must be one of the options"),
    (dict(options=["a", "a"], answer="a"), ValueError, "distinct"),
    (dict(options=["a", ""], answer="a"), ValueError, r"options\[1\] must not be empty"),
    (dict(options=["a", 2], answer="a"), TypeError, r"options\[1\] must be a string"),
    (dict(options="ab", answer="a"), TypeError, "options must be a list of strings"),
    (dict(options=["a", "b"], answer="a", tolerance=0.1), TypeError, "numeric questions"),
    (dict(answer=0.05, tolerance=-0.01), ValueError, "tolerance must be >= 0"),
    (dict(answer=0.05), TypeError, "needs tolerance="),
    (dict(answer=float("nan"), tolerance=0.1), ValueError, "answer must be a finite number"),
    (dict(answer=True, tolerance=0.1), TypeError, "answer must be a real number"),
    (dict(answer="0.05", tolerance=0.1), TypeError, "must be a number"),
    (dict(), TypeError, "needs an answer"),
])
def test_bad_definitions_are_refused_saying_what_is_allowed(kwargs, error, words):
    with pytest.raises(error, match=words):
        rk.predict("Q?", **kwargs)


def test_an_empty_question_is_refused():
    with pytest.raises(ValueError, match="question must not be empty"):
        rk.predict("  ", ["a", "b"], "a")


def test_plain_text_shows_the_question_without_the_answer():
    q = rk.predict("Which?", ["sharp <b>", "flat & wide"], "flat & wide", "because")
    data, _ = q._repr_mimebundle_()
    assert data["text/plain"] == "Which?\n  ( ) sharp <b>\n  ( ) flat & wide"
    assert "application/vnd.jupyter.widget-view+json" in data
    q.answered, q.attempts = True, 2
    q.reset()
    assert (q.answered, q.attempts, q.correct) == (False, 0, False)


texts = st.text(st.characters(codec="utf-8", exclude_categories=("Cs",)), min_size=1, max_size=40).filter(str.strip)


@settings(max_examples=60, suppress_health_check=[HealthCheck.too_slow])
@given(st.lists(texts, min_size=2, max_size=5, unique=True), st.data())
def test_option_text_reaches_the_front_end_as_written(options, data):
    answer = data.draw(st.sampled_from(options))
    q = rk.predict(data.draw(texts), options, answer, data.draw(texts))
    state = q.get_state()
    assert state["options"] == options and state["options"][state["answer"]] == answer
    assert q.accepts(answer) and all(not q.accepts(o) for o in options if o != answer)


NODE = shutil.which("node")


# predict.js's accepts/parseNumber evaluated in node for each case (they need no DOM)
JS_RULE = ("import { accepts, parseNumber } from './predict.mjs';\n"
              "const cases = JSON.parse(process.argv[2]);\n"
              "console.log(JSON.stringify(cases.map(([q, typed]) => {\n"
              "  const v = q.options.length ? typed : parseNumber(typed);\n"
              "  return [v, v === null ? null : accepts(q, v)]; })));\n")


@pytest.mark.skipif(NODE is None, reason="node is not installed")
def test_the_browser_rule_agrees_with_accepts(tmp_path):
    shutil.copy(_STATIC / "predict.js", tmp_path / "predict.mjs")
    (tmp_path / "check.mjs").write_text(JS_RULE)
    q = rk.predict("lambda = 40: largest stable step?", answer=0.05, tolerance=0.005)
    state = {"options": [], "answer": q.answer, "tolerance": q.tolerance}
    typed = ["0.05", "0.055", "0.0550001", "0.045", "0.0449", "5e-2", " 0.052 ", "0,05", "-0.05", "1/20",
             "", "abc", "0.05.1", "1e400", "NaN", "Infinity", ".05", "+0.05"]
    choice = rk.predict("Which?", ["a <i>", "$x^2$", "\"b\""], "$x^2$")
    cstate = {"options": choice.options, "answer": choice.answer, "tolerance": 0}
    cases = [[state, t] for t in typed] + [[cstate, o] for o in choice.options]
    out = subprocess.run([NODE, "check.mjs", json.dumps(cases)], cwd=tmp_path, capture_output=True, text=True,
                         timeout=60)
    assert out.returncode == 0, out.stderr
    got = json.loads(out.stdout)
    for (_, t), (value, verdict) in zip(cases[:len(typed)], got[:len(typed)], strict=True):
        try:  # the reference: Python's float() on the same text, with the decimal comma allowed
            ref = float(t.strip().replace(",", "."))
            ref = ref if ref == ref and abs(ref) != float("inf") and "/" not in t else None
        except ValueError:
            ref = None
        if t.strip().lower() in {"nan", "infinity"}:
            ref = None
        assert value == ref, (t, value, ref)
        assert verdict == (None if ref is None else q.accepts(ref)), (t, verdict)
    assert [v for v, _ in got[len(typed):]] == choice.options
    assert [ok for _, ok in got[len(typed):]] == [choice.accepts(o) for o in choice.options] == [False, True, False]


def test_an_explorer_that_waits_shows_the_question_first_and_starts_hidden():
    from reachkit import landscapes

    q = rk.predict("Which minimum?", ["sharp", "flat"], "flat")
    ex = rk.explore(landscapes.sharp_flat_2d(), n_steps=50, predict=q)
    assert ex.widget.children[0] is q and ex.view.revealed is False
    assert ex.view in ex.widget.children[1].children
    plain = rk.explore(landscapes.sharp_flat_2d(), n_steps=50)
    assert plain.view.revealed is True and plain.widget.children[0] is plain.view
    answered = rk.predict("Which minimum?", ["sharp", "flat"], "flat")
    answered.answered = True
    assert rk.explore(landscapes.quadratic(), n_steps=20, predict=answered).view.revealed is True
    with pytest.raises(TypeError, match=r"predict must be a question made by rk.predict"):
        rk.explore(landscapes.quadratic(), predict="Which?")
