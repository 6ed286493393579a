"""The explorers' browser view: a still background image with the moving paths drawn over it in the browser.

matplotlib draws what is static (contours, basins, bifurcation diagram, axes) into a PNG once; the view
(``static/view.js``, an anywidget ES module, no build step) maps data to pixels through the axes rectangle,

    px = left + (x - xmin) / (xmax - xmin) * (right - left),   py = top + (ymax - y) / (ymax - ymin) * (bottom - top),

and draws the paths, a fading trail and the iterate and start markers on a <canvas> over it. Play, the
scrubber and a step-slider drag over the precomputed ``fan`` run in the browser, with no kernel message per
frame. The synced traits are the contract with the explorer models: ``static/CONTRACT.md``.
"""

from __future__ import annotations

import base64
import html
import io
import pathlib
import reprlib

import anywidget
import numpy as np
import traitlets as T

from .. import checks

__all__ = ["ExplorerView", "encode_run", "pack_points", "background_traits", "fallback_bundle", "still_bundle",
           "display_view", "demo", "read_request", "live_param"]

_STATIC = pathlib.Path(__file__).parent.parent / "static"
MARKERS = ("circle", "square", "diamond", "triangle")


def pack_points(points) -> bytes:
    """(n, 2) drawing coordinates as the little-endian float32 bytes the view reads (x, y per row).
    Values beyond the float32 range (a diverging run) become +-inf, which the view does not draw."""
    arr = np.asarray(points, dtype=float)
    if arr.ndim != 2 or arr.shape[1] != 2:
        raise ValueError(f"points must have shape (n, 2); got shape {arr.shape}")
    with np.errstate(over="ignore"):
        return arr.astype("<f4").tobytes()


def encode_run(step, paths, info=None, status: str = "", alt: str = "", readout: str | None = None) -> dict:
    """One entry of ``runs``/``fan``: the step, one (n_i, 2) path per series, optional (f, |grad f|) per
    iterate, a one-line status, the figure's text alternative and, for a fan entry, the read-outs
    panel at its last iterate (escaped HTML, explorer.readout_html: a page with no kernel shows it as
    the step moves)."""
    entry = {"step": checks.real("step", step, positive=True), "paths": [pack_points(p) for p in paths],
             "status": str(status), "alt": str(alt)}
    if info is not None:
        entry["info"] = [pack_points(i) for i in info]
    if readout is not None:
        entry["readout"] = str(readout)
    return entry


def _check_entry(name: str, entry) -> dict:
    if not isinstance(entry, dict):
        raise TypeError(f"{name} must be a dict (see encode_run); got {type(entry).__name__}")
    if not entry:
        return entry
    missing = {"step", "paths"} - entry.keys()
    if missing:
        raise ValueError(f"{name} lacks {sorted(missing)}; a run has step, paths, info, status, alt")
    checks.real(f"{name}['step']", entry["step"], positive=True)
    arrays = list(entry["paths"]) + list(entry.get("info") or [])
    for a in arrays:
        if not isinstance(a, (bytes, bytearray, memoryview)) or len(a) % 8:
            raise ValueError(f"{name}: every path and info must be float32 bytes of shape (n, 2) "
                             f"(a multiple of 8 bytes); got {type(a).__name__} of length {len(a)}")
    if "info" in entry and [len(b) for b in entry["info"]] != [len(b) for b in entry["paths"]]:
        raise ValueError(f"{name}: info must have one (f, |grad f|) row per iterate of each path")
    return entry


def _brief(value) -> str:
    """A short repr (a refused million-element list is not printed whole)."""
    r = reprlib.Repr()
    r.maxlist = r.maxtuple = r.maxdict = 4
    r.maxstring = r.maxother = 40
    return r.repr(value)


def _point(name: str, value) -> list[float]:
    """[x] or [x, y]: the length is checked before the elements (a huge list is refused at once)."""
    if not isinstance(value, (list, tuple)) or len(value) not in (1, 2):
        size = f"{len(value)} numbers" if isinstance(value, (list, tuple)) else type(value).__name__
        raise ValueError(f"{name} must be [x] (1-D) or [x, y] (2-D); got {size}: {_brief(value)}")
    return [checks.real(name, v) for v in value]


def live_param(setting, value, disabled: bool = False) -> dict:
    """A setting shown as a live slider in the view (``params`` trait): name, label, help, range, log,
    value (exact) and whether it does nothing now (``disabled``)."""
    return {"name": setting.name, "label": setting.label or setting.name, "help": setting.help or "",
            "low": float(setting.low), "high": float(setting.high), "log": bool(setting.log),
            "value": float(value), "disabled": bool(disabled)}


def read_request(content, live, limits, dim: int) -> tuple[int, dict, bool]:
    """(seq, changes, final) of a request from the view, ``{"seq": int >= 0, "final": bool, "changes":
    {name: value}}`` with names among ``live`` (numbers) and "start" ([x] or [x, y] within ``limits``,
    x only in 1-D). A malformed request is a TypeError / ValueError naming the field."""
    if not isinstance(content, dict):
        raise TypeError(f"a request must be a dict with seq, final and changes; got {_brief(content)}")
    seq = checks.integer("seq", content.get("seq"), low=0)
    final = checks.flag("final", content.get("final"))
    changes = content.get("changes")
    if not isinstance(changes, dict) or not changes:
        raise TypeError(f"changes must be a non-empty dict of settings; got {_brief(changes)}")
    out = {}
    for name, value in changes.items():
        if name == "start":
            point = _point("start", value)
            if len(point) != dim:
                raise ValueError(f"start must have {dim} coordinate(s) here; got {_brief(value)}")
            box = list(zip(limits[::2], limits[1::2], strict=True))[:dim]
            if any(not lo <= c <= hi for c, (lo, hi) in zip(point, box, strict=False)):
                raise ValueError(f"start {_brief(value)} is outside the plot " +
                                 " x ".join(f"[{lo:.4g}, {hi:.4g}]" for lo, hi in box))
            out["start"] = tuple(point)
        elif name in live:
            out[name] = checks.real(name, value)
        else:
            raise ValueError(f"{_brief(name)} is not a setting the view changes; those are {['start', *live]}")
    return seq, out, final


class _Real(T.Float):
    """A float trait under reachkit's rule (checks.real): bools and strings refused, the value checked."""

    def __init__(self, default, **rule):
        super().__init__(default)
        self.rule = rule

    def validate(self, obj, value):
        return checks.real(self.name, value, **self.rule)


class _Integer(T.Int):
    """An int trait under checks.integer: bools and floats refused, the range checked."""

    def __init__(self, default, **rule):
        super().__init__(default)
        self.rule = rule

    def validate(self, obj, value):
        return checks.integer(self.name, value, **self.rule)


class ExplorerView(anywidget.AnyWidget):
    """The canvas, Play/Pause/Rewind, speed, scrubber, step slider with an exact number box, status line."""

    _esm = (_STATIC / "scene.js").read_text() + (_STATIC / "view.js").read_text()  # one ES module
    _css = _STATIC / "view.css"

    background = T.Bytes(b"").tag(sync=True)
    background_size = T.List(T.Float(), [640.0, 480.0]).tag(sync=True)
    axes_box = T.List(T.Float(), [80.0, 40.0, 600.0, 430.0]).tag(sync=True)
    limits = T.List(T.Float(), [0.0, 1.0, 0.0, 1.0]).tag(sync=True)
    series = T.List(T.Dict()).tag(sync=True)
    runs = T.Dict().tag(sync=True)
    fan = T.List(T.Dict()).tag(sync=True)
    fan_steps = T.List(T.Float()).tag(sync=True)
    step = _Real(0.1, positive=True).tag(sync=True)
    step_min = _Real(1e-3, positive=True).tag(sync=True)
    step_max = _Real(1.0, positive=True).tag(sync=True)
    step_marks = T.List(T.Dict()).tag(sync=True)
    step_label = T.Unicode("step a").tag(sync=True)
    start = T.List(default_value=[0.0, 0.0]).tag(sync=True)  # checked by _valid_start, length first
    clickable = T.Bool(True).tag(sync=True)
    frame = _Integer(0, low=0).tag(sync=True)
    playing = T.Bool(False).tag(sync=True)
    speed = _Integer(30, low=1, high=60).tag(sync=True)
    reduced_motion = T.Bool(False).tag(sync=True)
    trail = _Integer(12, low=1).tag(sync=True)
    status = T.Unicode("").tag(sync=True)
    busy = T.Bool(False).tag(sync=True)
    lecture = T.Bool(False).tag(sync=True)
    revealed = T.Bool(True).tag(sync=True)  # False: the start and controls only, until a question is answered
    step_line = T.Dict().tag(sync=True)  # {} or {"box", "limits", "log"}: a second axes with the step on x
    still_id = T.Unicode("").tag(sync=True)  # the data-rk-still of this view's still picture (still_bundle)
    params = T.List(T.Dict()).tag(sync=True)  # live sliders (live_param): a drag sends requests
    ack = T.Int(-1).tag(sync=True)  # seq of the last request answered (sent with what it changed)
    scene = T.Dict().tag(sync=True)  # {} or what the landscape picture is made of (explorers/scene.py)

    def __init__(self, **traits):
        super().__init__(**traits)
        self.add_class("rk-view-widget")
        self.still_id = self.still_id or self.model_id
        self.on_request = None  # callback(changes, final) for a checked request from the view
        self.on_refused = None  # callback(message) for a value or request the kernel refused
        self.on_msg(self._on_front_msg)

    def set_state(self, sync_data):
        """State from the front end, one trait at a time: a value its validator refuses is not taken,
        the front end gets the kernel's value back and the refusal goes to ``on_refused`` (the status
        line); nothing raises into the kernel's output."""
        for name, value in sync_data.items():
            try:
                if name == "start":  # before ipywidgets scans the value for buffers (slow on a huge list)
                    value = _point("start", value)
                super().set_state({name: value})
            except Exception as exc:  # noqa: BLE001 (a front-end value: report, never raise)
                if name in self.keys:
                    self.send_state(name)
                self._refuse(f"{name} from the view: {exc}")

    def _refuse(self, message: str):
        if self.on_refused is not None:
            self.on_refused(message)
        else:
            self.status = f"Could not update: {message}"

    def _on_front_msg(self, _widget, content, _buffers):
        """A request from the view (a drag of a live slider or of the start, or its release): checked,
        handed to ``on_request``, then answered by ``ack`` in the same sync message as its result."""
        if isinstance(content, dict) and content.get("type") == "rk-ping":
            self.send({"type": "rk-pong"})  # a kernel is here (a page with saved state only never answers)
            return
        seq = content.get("seq") if isinstance(content, dict) else None
        with self.hold_sync():
            try:
                live = ["step", *(p["name"] for p in self.params)]
                seq, changes, final = read_request(content, live, self.limits, len(self.start))
                if self.on_request is not None:
                    self.on_request(changes, final)
            except Exception as exc:  # noqa: BLE001 (a front-end message: report, never raise)
                self._refuse(f"a request from the view: {exc}")
            if isinstance(seq, int) and not isinstance(seq, bool) and seq >= 0:
                self.ack = seq  # the view sends its next value once this arrives

    @T.validate("background_size")
    def _valid_size(self, proposal):
        w, h = _numbers("background_size", proposal.value, 2)
        if not (w > 0 and h > 0):
            raise ValueError(f"background_size must be [width, height] > 0 in CSS px; got {proposal.value!r}")
        return [w, h]

    @T.validate("axes_box")
    def _valid_box(self, proposal):
        left, top, right, bottom = _numbers("axes_box", proposal.value, 4)
        if not (left < right and top < bottom):
            raise ValueError(f"axes_box must be [left, top, right, bottom] with left < right and top < bottom; "
                             f"got {proposal.value!r}")
        return [left, top, right, bottom]

    @T.validate("limits")
    def _valid_limits(self, proposal):
        xmin, xmax, ymin, ymax = _numbers("limits", proposal.value, 4)
        if not (xmin < xmax and ymin < ymax):
            raise ValueError(f"limits must be [xmin, xmax, ymin, ymax] with xmin < xmax and ymin < ymax; "
                             f"got {proposal.value!r}")
        return [xmin, xmax, ymin, ymax]

    @T.validate("series")
    def _valid_series(self, proposal):
        for s in proposal.value:
            if not {"key", "name", "color"} <= s.keys():
                raise ValueError(f"each series needs key, name and color; got {s!r}")
            checks.choice("series marker", s.get("marker", "circle"), MARKERS)
            checks.real("series width", s.get("width", 2.0), positive=True)
        return proposal.value

    @T.validate("runs")
    def _valid_runs(self, proposal):
        return _check_entry("runs", proposal.value)

    @T.validate("fan")
    def _valid_fan(self, proposal):
        return [_check_entry(f"fan[{i}]", e) for i, e in enumerate(proposal.value)]

    @T.validate("step_line")
    def _valid_step_line(self, proposal):
        line = proposal.value
        if not line:
            return {}
        left, top, right, bottom = _numbers("step_line['box']", line.get("box", []), 4)
        lo, hi = _numbers("step_line['limits']", line.get("limits", []), 2)
        log = checks.flag("step_line['log']", line.get("log", False))
        if not (left < right and top < bottom and lo < hi and (lo > 0 or not log)):
            raise ValueError(f"step_line needs box [left, top, right, bottom] with left < right, top < bottom and "
                             f"limits [low, high] with low < high (low > 0 on a log axis); got {line!r}")
        return {"box": [left, top, right, bottom], "limits": [lo, hi], "log": log}

    @T.validate("fan_steps")
    def _valid_fan_steps(self, proposal):
        steps = [checks.real("fan_steps", a, positive=True) for a in proposal.value]
        if any(b <= a for a, b in zip(steps, steps[1:], strict=False)):
            raise ValueError(f"fan_steps must increase strictly; got {proposal.value!r}")
        return steps

    @T.validate("start")
    def _valid_start(self, proposal):
        return _point("start", proposal.value)

    def shown_run(self) -> dict:
        """The entry the view draws for the current step: fan[i] if step == fan_steps[i], else runs if
        runs['step'] == step, else {} (the view shows "computing…")."""
        if self.step in self.fan_steps and len(self.fan) == len(self.fan_steps):
            return self.fan[self.fan_steps.index(self.step)]
        return self.runs if self.runs.get("step") == self.step else {}



def _numbers(name: str, value, n: int) -> list[float]:
    if len(value) != n:
        raise ValueError(f"{name} must hold {n} numbers; got {value!r}")
    return [checks.real(name, v) for v in value]


def _box(ax, height: float) -> list[float]:
    x0, y0, x1, y1 = ax.bbox.extents  # display px, origin at the bottom left
    return [x0, height - y1, x1, height - y0]


def background_traits(fig, ax, scale: float = 2.0, step_ax=None, transparent: bool = False) -> dict:
    """background, background_size, axes_box and limits of a matplotlib figure: the PNG rendered at
    ``scale`` x (HiDPI), its CSS size (figure inches x dpi) and the axes' data rectangle in CSS px;
    with ``step_ax`` (axes whose x is the step, e.g. a bifurcation diagram) also ``step_line``, where
    the view draws a vertical line at the step in use. ``transparent``: figure and axes backgrounds left
    out (the view draws the ``scene`` under the PNG on white)."""
    from matplotlib.backends.backend_agg import FigureCanvasAgg

    canvas = FigureCanvasAgg(fig) if not isinstance(fig.canvas, FigureCanvasAgg) else fig.canvas
    canvas.draw()
    width, height = fig.bbox.width, fig.bbox.height
    buf = io.BytesIO()
    fig.savefig(buf, format="png", dpi=fig.dpi * scale, transparent=transparent)
    xmin, xmax = ax.get_xlim()
    ymin, ymax = ax.get_ylim()
    step_line = {} if step_ax is None else {"box": _box(step_ax, height), "limits": list(step_ax.get_xlim()),
                                            "log": step_ax.get_xscale() == "log"}
    return {"background": buf.getvalue(), "background_size": [width, height], "axes_box": _box(ax, height),
            "limits": [xmin, xmax, ymin, ymax], "step_line": step_line}


def _widget_bundle(widget) -> dict:
    shown = widget._repr_mimebundle_() or {}
    return dict(shown[0] if isinstance(shown, tuple) else shown)  # anywidget returns (data, metadata)


def _first(widget, kind):
    """The first widget of class ``kind`` in ``widget`` or its children (breadth first), else None."""
    queue = [widget]
    while queue:
        w = queue.pop(0)
        if isinstance(w, kind):
            return w
        queue.extend(getattr(w, "children", ()))
    return None


def widget_metadata(widget) -> dict:
    """The display metadata for an output showing ``widget``: what anywidget puts on its own bundle,
    taken from the first anywidget inside ``widget``. In Colab that names the custom widget manager
    to load; an outer ipywidgets Box carries none of its own, so without this Colab may not draw it."""
    inner = _first(widget, anywidget.AnyWidget)
    shown = inner._repr_mimebundle_() if inner is not None else {}
    return dict(shown[1]) if isinstance(shown, tuple) else {}


def _still_id(widget) -> str:
    view = _first(widget, ExplorerView)
    return view.still_id if view is not None else ""


def fallback_bundle(widget, png: bytes, text: str) -> dict:
    """One output: the widget's view plus the still picture and status text (:func:`still_bundle`) for
    renderers without a widget manager. Enough while no widget state is saved; when it is (``nbconvert
    --execute`` saves it), an HTML export shows the widget view, which needs a CDN: use :func:`display_view`."""
    return {**_widget_bundle(widget), **still_bundle(png, text, owner=_still_id(widget))}


def still_bundle(png: bytes, text: str, scale: float = 2.0, owner: str = "") -> dict:
    """The still picture and the status text, inline (no script, no CDN), as an output of its own;
    the PNG is shown at 1/``scale`` of its pixel width (HiDPI renders are made at 2x).

    A notebook exported to HTML keeps it whether or not the widget state was saved (a saved state
    needs the widget manager from a CDN, so offline the widget's own output stays empty); the view
    whose ``still_id`` is ``owner`` hides it when it renders (``data-rk-still``; view.js, hideOwnStill),
    in any front end, so it never shows twice."""
    b64 = base64.b64encode(png).decode("ascii")
    width = int.from_bytes(png[16:20], "big") / scale if png[:8] == b"\x89PNG\r\n\x1a\n" else None
    size = f"width:{width:.0f}px;" if width else ""
    alt = html.escape(text, quote=True)
    mark = f" data-rk-still='{html.escape(owner, quote=True)}'" if owner else ""
    return {"text/html": (f"<figure class='rk-still'{mark} style='margin:0'><img src='data:image/png;base64,{b64}' "
                          f"alt='{alt}' style='{size}max-width:100%;height:auto'/><figcaption><pre>"
                          f"{html.escape(text)}</pre></figcaption></figure>"),
            "image/png": b64, "text/plain": text}


def display_view(widget, png: bytes, text: str):
    """Display the live widget, then its still picture as an output of its own (an explorer's
    ``_ipython_display_``): the HTML export shows the still whether or not the widget state is saved."""
    from IPython.display import display

    display({**_widget_bundle(widget), "text/plain": ""}, metadata=widget_metadata(widget), raw=True)
    display(still_bundle(png, text, owner=_still_id(widget)), raw=True)


def demo(n_steps: int = 60, dim: int = 2, lecture: bool = False) -> ExplorerView:
    """A view with synthetic runs of GD on a quadratic, in closed form: f(x, y) = (x^2 + 8 y^2) / 2 gives
    x_k = (1 - a)^k x_0, y_k = (1 - 8a)^k y_0 (dim=2); f(x) = 4 x^2 gives x_k = (1 - 8a)^k x_0 (dim=1,
    drawn as (x, f(x))). The fan covers 40 log-spaced steps (3 significant digits) up to 1.2 x 2/8."""
    from matplotlib.figure import Figure

    lam = np.array([1.0, 8.0][2 - dim:])
    sharp = 2 / lam.max()

    def value(x):
        return (lam * x**2).sum(axis=-1) / 2

    def run(a, x0):
        x = np.asarray(x0) * (1 - a * lam) ** np.arange(n_steps + 1)[:, None]
        with np.errstate(over="ignore", invalid="ignore"):
            f, g = value(x), np.linalg.norm(lam * x, axis=-1)
        fate = "converges to the minimum" if a < sharp else "diverges (a > 2/λ)"
        return encode_run(a, [x if dim == 2 else np.column_stack([x[:, 0], f])], [np.column_stack([f, g])],
                          status=f"GD with step {a:.4g}: {fate}",
                          alt=f"GD path from ({', '.join(f'{v:.3g}' for v in x0)}) with step {a:.4g}; it {fate}")

    fig = Figure(figsize=(6.4, 4.8), dpi=100)
    ax = fig.add_subplot()
    if dim == 2:
        xs, ys = np.meshgrid(np.linspace(-2, 2, 161), np.linspace(-1.5, 1.5, 121))
        ax.contourf(xs, ys, value(np.stack([xs, ys], axis=-1)), levels=20, cmap="Greys")
        ax.set(xlim=(-2, 2), ylim=(-1.5, 1.5), xlabel="x", ylabel="y", title="f(x, y) = (x² + 8 y²) / 2")
    else:
        xs = np.linspace(-1, 1, 201)
        ax.plot(xs, value(xs[:, None]), color="0.3")
        ax.set(xlim=(-1, 1), ylim=(-0.2, 4.2), xlabel="x", ylabel="f(x)", title="f(x) = 4 x²")
    start = [1.6, 0.9][:dim] if dim == 2 else [0.7]
    steps = [float(f"{a:.3g}") for a in np.geomspace(0.02, 1.2 * sharp, 40)]
    view = ExplorerView(**background_traits(fig, ax), series=[{"key": "gd", "name": "GD", "color": "#0072B2",
                        "width": 2.0, "marker": "circle"}], fan_steps=steps, fan=[run(a, start) for a in steps],
                        step=steps[20], step_min=steps[0], step_max=steps[-1], lecture=lecture, start=start,
                        step_marks=[{"value": sharp, "label": "2/λ"}], frame=n_steps)
    view.runs = view.fan[20]
    view.status = view.runs["status"]

    def on_step(change):  # a typed step between grid positions: computed exactly here
        if change["new"] not in view.fan_steps:
            view.runs = run(change["new"], view.start)
        view.status = view.shown_run()["status"]

    def on_start(change):  # a click on the plot: new paths for every step of the fan
        with view.hold_sync():
            view.fan = [run(a, view.start) for a in view.fan_steps]
            view.runs = run(view.step, view.start)
            view.status = view.shown_run()["status"]

    view.observe(on_step, "step")
    view.observe(on_start, "start")
    return view
