"""Predict, then see: a question the student commits an answer to before the figure shows the outcome.

``predict(question, options, answer, explanation)`` asks a multiple-choice question (``answer`` is one
of ``options``); ``predict(question, answer=0.05, tolerance=0.005, unit=..., hint=...)`` a numeric one:
a number ``x`` is right when ``|x - answer| <= tolerance``.

The check runs in the browser (``static/predict.js``), so a page with no kernel (an exported notebook,
the course site, Voila) checks answers too; :meth:`Prediction.accepts` is the same rule in Python, for
the notebooks' check cells. The answer is therefore in the page: these are formative questions, not an
exam. Every text is shown as written (``textContent``, never parsed as HTML or LaTeX).
"""

from __future__ import annotations

import pathlib

import anywidget
import traitlets as T

from . import checks

__all__ = ["Prediction", "predict"]

_STATIC = pathlib.Path(__file__).parent / "static"


def _text(name: str, value, *, empty: bool = False) -> str:
    if not isinstance(value, str):
        raise TypeError(f"{name} must be a string; got {type(value).__name__}")
    if not empty and not value.strip():
        raise ValueError(f"{name} must not be empty")
    return value


class Prediction(anywidget.AnyWidget):
    """A question with radio buttons (``options``) or a number box, a Check button, and feedback that
    says right or wrong in words, shows the explanation, and lets the student try again.

    The front end sets ``answered`` (True after the first check, right or wrong: the student committed
    a guess), ``attempts`` and ``correct`` (the last check's verdict)."""

    _esm = _STATIC / "predict.js"
    _css = _STATIC / "predict.css"

    question = T.Unicode().tag(sync=True)
    options = T.List(T.Unicode()).tag(sync=True)  # empty: a numeric question
    answer = T.Union([T.Int(), T.Float()]).tag(sync=True)  # the right option's index, or the number
    tolerance = T.Float(0.0).tag(sync=True)
    unit = T.Unicode("").tag(sync=True)
    hint = T.Unicode("").tag(sync=True)
    explanation = T.Unicode("").tag(sync=True)
    lecture = T.Bool(False).tag(sync=True)
    answered = T.Bool(False).tag(sync=True)
    attempts = T.Int(0).tag(sync=True)
    correct = T.Bool(False).tag(sync=True)

    @property
    def numeric(self) -> bool:
        return not self.options

    def accepts(self, value) -> bool:
        """The browser's rule: an option's text equal to the answer's, or ``|value - answer| <= tolerance``."""
        if not self.numeric:
            return _text("value", value, empty=True) == self.options[self.answer]
        x = checks.real("value", value)
        return abs(x - self.answer) <= self.tolerance

    def reset(self) -> None:
        """Forget the student's answer (to ask the class again)."""
        self.answered, self.attempts, self.correct = False, 0, False

    def _repr_mimebundle_(self, **kwargs):
        shown = super()._repr_mimebundle_(**kwargs)
        data, metadata = shown if isinstance(shown, tuple) else (shown, {})
        return {**data, "text/plain": self.as_text()}, metadata

    def as_text(self) -> str:
        """The question as plain text (what a front end without widgets shows): no answer in it."""
        lines = [self.question]
        if self.numeric:
            lines.append(f"Your answer: a number{' in ' + self.unit if self.unit else ''}"
                         f"{' (' + self.hint + ')' if self.hint else ''}.")
        else:
            lines += [f"  ( ) {o}" for o in self.options]
        return "\n".join(lines)


def predict(question: str, options=None, answer=None, explanation: str = "", *, tolerance=None,
            unit: str = "", hint: str = "", lecture=None) -> Prediction:
    """A question to answer before looking: multiple choice (``options``, ``answer`` one of them) or
    numeric (no options, ``answer`` a number, ``tolerance`` >= 0 the accepted distance, ``unit`` and
    ``hint`` shown by the box). ``lecture`` (projector scale) defaults to ``rk.lecture_style()``'s state.
    Pass the result to ``rk.explore(..., predict=...)`` to hide the path until the student answers."""
    from . import plotting

    question = _text("question", question)
    explanation = _text("explanation", explanation, empty=True)
    unit, hint = _text("unit", unit, empty=True), _text("hint", hint, empty=True)
    lecture = plotting.is_lecture_style() if lecture is None else checks.flag("lecture", lecture)
    if options is None:
        if answer is None:
            raise TypeError("predict needs an answer: one of the options, or a number for a numeric question")
        if isinstance(answer, str):
            raise TypeError(f"a numeric question's answer must be a number; got the string {answer!r} "
                            "(for multiple choice pass options=[...])")
        value = checks.real("answer", answer)
        if tolerance is None:
            raise TypeError("a numeric question needs tolerance= (the accepted distance from the answer, >= 0)")
        tol = checks.real("tolerance", tolerance)
        if tol < 0:
            raise ValueError(f"tolerance must be >= 0; got {tol}")
        return Prediction(question=question, options=[], answer=value, tolerance=tol, unit=unit, hint=hint,
                          explanation=explanation, lecture=lecture)
    if tolerance is not None or unit or hint:
        raise TypeError("tolerance, unit and hint belong to numeric questions (options=None)")
    if isinstance(options, str) or not hasattr(options, "__iter__"):
        raise TypeError(f"options must be a list of strings; got {type(options).__name__}")
    options = [_text(f"options[{i}]", o) for i, o in enumerate(options)]
    if len(options) < 2:
        raise ValueError(f"a multiple-choice question needs at least 2 options; got {len(options)}")
    if len(set(options)) != len(options):
        raise ValueError(f"options must be distinct; got {options}")
    if answer not in options:
        raise ValueError(f"answer must be one of the options {options}; got {answer!r}")
    return Prediction(question=question, options=options, answer=options.index(answer), tolerance=0.0,
                      explanation=explanation, lecture=lecture)

