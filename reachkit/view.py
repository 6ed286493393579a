"""PLACEHOLDER until branch `view` lands: the synced traits of the explorer-contract, no front-end.
Replaced wholesale by the view helper's reachkit/view.py at merge."""

import anywidget
import traitlets as T


class ExplorerView(anywidget.AnyWidget):
    _esm = "export default { render() {} };"
    background = T.Bytes(b"").tag(sync=True)
    background_size = T.List(T.Float(), [600.0, 440.0]).tag(sync=True)
    axes_box = T.List(T.Float(), [0.0, 0.0, 1.0, 1.0]).tag(sync=True)
    limits = T.List(T.Float(), [0.0, 1.0, 0.0, 1.0]).tag(sync=True)
    series = T.List(T.Dict()).tag(sync=True)
    runs = T.Dict().tag(sync=True)
    fan = T.List(T.Dict()).tag(sync=True)
    fan_steps = T.List(T.Float()).tag(sync=True)
    step = T.Float(0.1).tag(sync=True)
    step_min = T.Float(0.001).tag(sync=True)
    step_max = T.Float(1.0).tag(sync=True)
    step_marks = T.List(T.Dict()).tag(sync=True)
    step_label = T.Unicode("step a").tag(sync=True)
    start = T.List(T.Float()).tag(sync=True)
    clickable = T.Bool(True).tag(sync=True)
    frame = T.Int(0).tag(sync=True)
    playing = T.Bool(False).tag(sync=True)
    speed = T.Int(20).tag(sync=True)
    reduced_motion = T.Bool(False).tag(sync=True)
    trail = T.Int(20).tag(sync=True)
    status = T.Unicode("").tag(sync=True)
    busy = T.Bool(False).tag(sync=True)
    lecture = T.Bool(False).tag(sync=True)


def fallback_bundle(widget, png: bytes, text: str) -> dict:
    import base64
    import html
    b64 = base64.b64encode(png).decode("ascii")
    return {"text/plain": text, "image/png": b64,
            "text/html": f"<figure><img src='data:image/png;base64,{b64}' alt='{html.escape(text, quote=True)}'/>"
                         f"<figcaption><pre>{html.escape(text)}</pre></figcaption></figure>"}
