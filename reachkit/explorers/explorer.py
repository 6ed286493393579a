"""The explorer assembly: a model (settings in, runs out), the browser view
(:class:`reachkit.explorers.view.ExplorerView`: canvas, Play, step slider, status line) and a controls panel
built from the model's setting declarations, in one responsive container.

    ex = Explorer(DynamicsModel(landscape, step=0.13))
    ex.set(step=0.13, start=(0.5, 1.0))   # as a user would; exactly these numbers
    ex.values["step"], ex.paths["gd"]     # what is shown

A model provides: ``declarations``, ``values``, ``update(**changes) -> set``, ``current`` and
``fan`` (:class:`~reachkit.explorers.runs.Run`), ``fan_steps``, ``step``, ``step_range``, ``step_marks()``,
``series()``, ``static_layer()``, ``static_key()``, ``readout_lines(frame)``, ``describe(frame)``,
``start``, ``clickable`` and optionally ``click(point) -> changes`` and ``inactive()`` (the
settings that do nothing now; their controls are disabled). Its other attributes
(``paths``, ``basin_map``, ``outcome``...) are readable on the explorer. A change a model refuses
or a failure in the dynamics shows in the status line; the last valid run stays on screen.
"""

from __future__ import annotations

import asyncio
import html

import ipywidgets as W

from .. import checks, plotting
from . import background, scene
from .controls import Controls
from .model import CLOSED
from .view import ExplorerView, display_view, encode_run, fallback_bundle, live_param

PANEL_DELAY = 0.15  # s: while dragging, the controls and read-outs follow the view this much later
VIEW_OWNED = ("step",)  # settings edited on the view itself (its step slider and number box)


def live_settings(declarations) -> list:
    """The settings the view shows as live sliders (a drag updates the picture while it moves):
    every real with a finite range but the step, which has its own slider."""
    return [s for s in declarations if s.kind == "real" and s.name not in VIEW_OWNED
            and s.low is not None and s.high is not None]


def display_options(lecture=None, reduced_motion=False, trail=20, speed=20, predict=None) -> dict:
    """The explorer's display options, checked: ``lecture`` (projector scale; default: on while
    ``rk.lecture_style()`` is), ``reduced_motion`` (whole path, no animation), ``trail`` (length
    of the fading trail), ``speed`` (Play's frames per second) and ``predict`` (an ``rk.predict``
    question shown above the figure: the path and the status wait until it is answered)."""
    from ..questions import Prediction

    lecture = plotting.is_lecture_style() if lecture is None else checks.flag("lecture", lecture)
    if predict is not None and not isinstance(predict, Prediction):
        raise TypeError(f"predict must be a question made by rk.predict(...); got {type(predict).__name__}")
    return dict(lecture=lecture, reduced_motion=checks.flag("reduced_motion", reduced_motion),
                trail=checks.integer("trail", trail, low=1, high=10_000),
                speed=checks.integer("speed", speed, low=1, high=60), predict=predict)


class Explorer:
    """One explorer on screen: ``model``, ``view``, ``controls``, ``readout`` and ``widget``."""

    def __init__(self, model, *, lecture: bool = False, reduced_motion: bool = False, trail: int = 20,
                 speed: int = 20, predict=None):
        self.model = model
        self.question = predict
        self.lecture = lecture
        self.error: str | None = None
        self._initial = dict(model.values)
        self._static_key = None
        self._frame_key = None
        self._last_frame = 0
        self._deferred = False  # a step from the view waits to be coalesced with the next ones
        self._panels_due = None  # the controls' and read-outs' update after drag answers
        self.live = live_settings(model.declarations)
        self.view = ExplorerView(lecture=lecture, reduced_motion=reduced_motion, trail=trail,
                                 speed=speed, clickable=bool(model.clickable),
                                 step_label=model.step_label, params=self._params())
        self.view.on_request, self.view.on_refused = self._on_request, self._refused
        owned = {*VIEW_OWNED, *(s.name for s in self.live)}
        panel = [s for s in model.declarations if s.name not in owned]
        self.controls = Controls(panel, model.values)
        self.readout = W.HTML()
        self.reset_button = W.Button(description="reset", icon="undo", tooltip="back to the initial settings")
        self.motion = W.Checkbox(value=reduced_motion, description="reduced motion", indent=False,
                                 tooltip="show the whole path at once, no animation")
        self._motion_link = W.link((self.motion, "value"), (self.view, "reduced_motion"))
        if predict is not None:  # answered in the page (no kernel needed) -> the view reveals the run
            self.view.revealed = predict.answered
            self._reveal_link = W.jsdlink((predict, "answered"), (self.view, "revealed"))
        self._push({"runs", "fan", "background"})
        self.view.observe(self._on_view_step, "step")
        self.view.observe(self._on_view_start, "start")
        self.view.observe(lambda _c: self._show_readout(), "frame")
        self.controls.on_change(lambda name, value: self.set(**{name: value}))
        self.reset_button.on_click(lambda _b: self.reset())
        self._widget = None
        model.listen(self._arrived)  # results computed in the model's worker thread arrive later

    # -- what a user does ----------------------------------------------------------------------
    def set(self, **changes) -> bool:
        """Apply setting changes as one update; True if they were accepted. Never raises: a
        refused value or a failure shows in the status line and the controls go back."""
        return self._update(changes, final=True)

    def _update(self, changes: dict, final: bool) -> bool:
        """``set``; with ``final=False`` a drag update (the model computes only what is shown)."""
        if self.model.closed:
            self.error = "this explorer is closed: make a new one to go on"
            self.view.status = CLOSED
            return False
        try:
            self.view.busy = True
            what = self.model.update(final=final, **changes)
            self.error = None
            if what:
                self._push(what, final)
            else:
                self._sync_inputs()
                self.view.status = self.model.current.status  # an accepted change clears a refusal
            return True
        except Exception as exc:  # a callback must never raise: report and keep the last run
            self._refused(f"{type(exc).__name__}: {exc}")
            self._sync_inputs()
            return False
        finally:
            self.view.busy = self.model.busy  # on while the model's background work runs

    def _refused(self, message: str):
        """A refused value or failed update: said in the status line; the last valid run stays."""
        self.error = message
        self.view.status = f"Could not update: {message}. The figure still shows the last valid run."

    def _on_request(self, changes: dict, final: bool):
        """A drag (``final=False``) or release of a live slider or of the start, from the view."""
        self._update(changes, final)

    def _params(self) -> list[dict]:
        off = self.model.inactive()
        return [live_param(s, self.model.values[s.name], s.name in off) for s in self.live]

    def _arrived(self, what: set):
        """Background work of the model changed ``what``: show it."""
        if self.view.comm is None:
            return  # closed
        self._push(what)
        self.view.busy = self.model.busy

    def reset(self):
        """Every setting back to its initial value (one update)."""
        self.set(**self._initial)

    @property
    def values(self) -> dict:
        """The settings in use, exactly."""
        return dict(self.model.values)

    def _on_view_step(self, change):
        """A step from the view. Without a fan every slider position is a computation: inside a
        running kernel the steps of one drag are coalesced (the last one within 60 ms is run)."""
        if change["new"] == self.model.step or self._deferred:
            return
        try:
            loop = asyncio.get_running_loop() if not self.model.fan_steps else None
        except RuntimeError:
            loop = None
        if loop is None:
            self.set(step=change["new"])
            return
        self._deferred = True
        self.view.busy = True

        def run_latest():
            self._deferred = False
            if self.view.step != self.model.step:
                self.set(step=self.view.step)
            self.view.busy = self.model.busy

        loop.call_later(0.06, run_latest)

    def _on_view_start(self, change):
        point = tuple(change["new"])
        if point == tuple(self.model.start):
            return
        self.set(**self.model.click(point))

    # -- pushing state to the view -------------------------------------------------------------
    def _push(self, what: set, final: bool = True):
        """Send what changed to the view, then the controls and the read-outs panel (while a drag runs,
        those follow within PANEL_DELAY: the view's answer goes alone, so the next drag request leaves
        as soon as it arrives)."""
        m, v = self.model, self.view
        keys = [s["key"] for s in m.series()]
        at_end = v.frame >= self._last_frame or v.reduced_motion
        with v.hold_sync():
            if "fan" in what:
                lo, hi = m.step_range
                v.series = m.series()
                v.step_min, v.step_max = float(lo), float(hi)
                v.step_marks = m.step_marks()
                v.fan_steps = [float(a) for a in m.fan_steps]
                v.fan = [_encode(r, keys, lines) for r, lines in zip(m.fan, fan_readouts(m), strict=True)]
            if "background" in what and m.static_key() != self._static_key:
                # the scene (data, a few ms) in the same message as the runs below, so no frame shows a
                # path and a landscape of different values; the frame PNG only when its axes change
                layer = m.static_layer()
                frame = background.frame_key(layer, self.lecture)
                if frame != self._frame_key:
                    for name, value in background.render(layer, self.lecture).items():
                        setattr(v, name, value)
                    self._frame_key = frame
                v.scene = scene.build(layer, self.lecture)
                self._static_key = m.static_key()
            if m.fan_index(m.step) is None or "fan" in what or not v.runs:
                v.runs = _encode(m.current, keys)
            if not self._deferred:  # else the user's newer step is waiting: keep it on screen
                v.step = float(m.step)
            v.start = [float(c) for c in m.start]
            self._last_frame = last = max(m.current.n_frames - 1, 0)
            v.frame = last if at_end else min(v.frame, last)
            v.status = m.current.status
        if final or not self._panels_later():
            self._sync_panels()

    def _sync_panels(self):
        self._panels_due = None
        if not self.model.closed:
            self._sync_controls()
            self._show_readout()

    def _panels_later(self) -> bool:
        """Update the controls and the read-outs PANEL_DELAY from now (once however many drag answers
        come meanwhile); False outside a running event loop."""
        try:
            loop = asyncio.get_running_loop()
        except RuntimeError:
            return False
        if self._panels_due is None:
            self._panels_due = loop.call_later(PANEL_DELAY, self._sync_panels)
        return True

    def _sync_inputs(self):
        """The view's step and start and the controls show the model's values (after a refusal, or
        a click that changed nothing)."""
        self.view.step, self.view.start = float(self.model.step), [float(c) for c in self.model.start]
        self._sync_controls()

    def _sync_controls(self):
        params = self._params()
        if params != self.view.params:
            self.view.params = params
        self.controls.show({k: val for k, val in self.model.values.items() if k in self.controls.widgets})
        self.controls.disable(self.model.inactive())

    def _show_readout(self):
        self.readout.value = readout_html(self.readout_lines())

    # -- reading the state -----------------------------------------------------------------------
    def readout_lines(self) -> list[str]:
        """The read-outs in words at the iterate the view shows."""
        return self.model.readout_lines(self.view.frame)

    def describe(self) -> str:
        """Text description of the figure and its state (also the fallback's caption)."""
        text = self.model.describe(self.view.frame)
        return text if self.error is None else f"{text}\nCould not update: {self.error}"

    @property
    def status(self) -> str:
        """The status line as shown."""
        return self.view.status

    def __getattr__(self, name):
        if name.startswith("_") or name in ("model", "view"):
            raise AttributeError(name)
        return getattr(self.model, name)

    # -- display ---------------------------------------------------------------------------------
    @property
    def widget(self) -> W.Box:
        """The view, then the controls panel with reset and the collapsible read-outs; view.css
        lays the classes out side by side when wide and stacked below about 900 px."""
        if self._widget is None:
            panel = W.VBox([*self.controls.widgets.values(), W.HBox([self.motion, self.reset_button])])
            panel.add_class("rk-controls")
            # a toggle, not an Accordion: Colab's widget manager does not draw Accordion
            # (googlecolab/colabtools#3571)
            fold = W.ToggleButton(value=True, description="read-outs", icon="chevron-down",
                                  tooltip="show or hide the read-outs")

            def folded(change):
                self.readout.layout.display = None if change["new"] else "none"
                fold.icon = "chevron-down" if change["new"] else "chevron-right"

            fold.observe(folded, "value")
            readouts = W.VBox([fold, self.readout])
            readouts.add_class("rk-readouts")
            box = W.Box([self.view, W.VBox([panel, readouts])])
            box.add_class("rk-explorer")
            if self.lecture:
                box.add_class("rk-lecture")
            self._widget = box if self.question is None else W.VBox([self.question, box])
        return self._widget

    def png(self, frame: int | None = None, dpi: int = 100) -> bytes:
        """A still picture of the current run (whole paths; up to ``frame`` if given)."""
        m = self.model
        return background.still(m.static_layer(), m.current, [s["key"] for s in m.series()],
                                self.lecture, frame, self.view.trail, dpi=dpi, start=m.start, step=m.step)

    def _repr_mimebundle_(self, include=None, exclude=None, **kwargs):
        """The live widget, plus the still picture (2x) and the status text for renderers without one;
        a closed explorer shows that it is closed."""
        if self.view.comm is None:
            return {"text/plain": CLOSED}
        return fallback_bundle(self.widget, self.png(dpi=200), self.describe())

    def _ipython_display_(self):
        """In IPython: the widget, then the still picture as an output of its own (an HTML export
        shows it whether or not the widget state was saved; where the view renders it is hidden)."""
        if self.view.comm is None:
            from IPython.display import display

            display({"text/plain": CLOSED}, raw=True)
            return
        display_view(self.widget, self.png(dpi=200), self.describe())

    def save(self, filename, **options):
        """``.png``: the still picture; ``.gif`` / ``.mp4`` / ``.html``: the current run animated
        (see :func:`reachkit.animation.save_animation`). Returns the path written."""
        from ..animation import FORMATS, save_animation

        out = checks.output_file("filename", filename, (".png", *FORMATS))
        if out.suffix.lower() == ".png":
            out.write_bytes(self.png())
            return out
        options.setdefault("lecture", self.lecture)
        return save_animation(self.model.landscape, filename, paths=self.model.paths, **options)

    def close(self):
        """Close every widget of the explorer and stop the model's background work; afterwards
        ``set`` refuses with a message (closed means closed)."""
        busy = self.model.busy
        self.model.close()
        if busy:  # the last word the front end gets: the computation was stopped
            self.view.busy, self.view.status = False, CLOSED
        seen = set()

        def close(w):  # a widget, its children, layout and style
            if isinstance(w, W.Widget) and id(w) not in seen:
                seen.add(id(w))
                for part in (*getattr(w, "children", ()), getattr(w, "layout", None), getattr(w, "style", None)):
                    close(part)
                w.close()

        if self.view.comm is None:
            return  # closed already
        self._motion_link.unlink()
        for w in [self._widget, self.view, self.readout, self.reset_button, self.motion,
                  *self.controls.widgets.values()]:
            close(w)


def _encode(run, keys, readout=None) -> dict:
    """A Run as the view's ``runs`` / ``fan`` entry for the series ``keys`` (in that order); a Run
    with no ``info`` (curves rather than paths on f) sends none."""
    info = [run.info[k] for k in keys] if run.info else None
    return encode_run(run.step, [run.xy[k] for k in keys], info, run.status, run.alt, readout)


def readout_html(lines: list[str]) -> str:
    """The read-outs panel: one escaped line per row, the warning words in bold."""
    rows = []
    for line in lines:
        t = html.escape(line)
        for word in ("WARNING", "ABOVE", "Not reached", "Fragile"):
            t = t.replace(word, f"<b class='rk-warn'>{word}</b>")
        rows.append(f"<div>{t}</div>")
    return "<div class='rk-readout'>" + "".join(rows) + "</div>"


def fan_readouts(model) -> list[str]:
    """The read-outs panel for each fan entry at its last iterate (what a page with no kernel shows as
    the step moves): the model's own ``readout_lines`` with that entry shown and its step in use."""
    current, values = model.current, model.values
    out = []
    try:
        for run in model.fan:
            model.current, model.values = run, {**values, "step": run.step}
            out.append(readout_html(model.readout_lines(None)))
    finally:
        model.current, model.values = current, values
    return out
