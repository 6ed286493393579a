"""ipywidgets controls built from :class:`~reachkit.explorers.settings.Setting` declarations.

Every number is entered in a text box that keeps exactly what is typed (0.13 is 0.13); a real
with a range also gets a slider beside it for coarse moves (the box then shows the slider's value
to 12 significant digits). ``Controls.values()`` reads them all; ``Controls.show(values)`` sets
them without reporting the change back; ``on_change(callback)`` calls ``callback(name, value)``
once per user change.
"""

from __future__ import annotations

import ipywidgets as W

_STYLE = {"description_width": "initial"}


def slider_number(v) -> float:
    """A slider value rounded to 12 significant digits: the browser computes it as min + k * step
    (0.125 arrives as 0.12500000000000003); the text box shows the number the student meant."""
    return float(f"{float(v):.12g}")


class Controls:
    """The widgets for ``declarations`` (``widgets[name]`` is the box or row for a setting)."""

    def __init__(self, declarations, values: dict):
        self.declarations = list(declarations)
        self.widgets: dict[str, W.Widget] = {}
        self._read: dict = {}
        self._write: dict = {}
        self._callbacks = []
        self._quiet = 0
        for s in self.declarations:
            self.widgets[s.name] = self._make(s, values[s.name])

    # -- one widget per kind -------------------------------------------------------------------
    def _make(self, s, value) -> W.Widget:
        label = s.label or s.name
        common = dict(description=label, style=_STYLE, tooltip=s.help or label)
        if s.kind == "flag":
            w = W.Checkbox(value=value, indent=False, layout=W.Layout(width="auto"), **common)
            return self._plain(s, w)
        if s.kind == "choice":
            w = W.Dropdown(options=[(lab, v) for v, lab in s.options], value=value, **common)
            return self._plain(s, w)
        if s.kind in ("integer", "seed"):
            hi = s.high if s.high is not None else 2**32 - 1
            w = W.BoundedIntText(value=value, min=s.low or 0, max=hi,
                                 layout=W.Layout(width="11em"), **common)
            return self._plain(s, w)
        if s.kind == "subset":
            boxes = {v: W.Checkbox(value=v in value, description=lab, indent=False,
                                   layout=W.Layout(width="auto"), tooltip=s.help)
                     for v, lab in s.options}
            for b in boxes.values():
                b.observe(lambda _c, s=s: self._changed(s.name), "value")
            self._read[s.name] = lambda: tuple(v for v, b in boxes.items() if b.value)
            self._write[s.name] = lambda val: [setattr(b, "value", v in val) for v, b in boxes.items()]
            return W.HBox([W.Label(f"{label}:"), *boxes.values()],
                          layout=W.Layout(flex_flow="row wrap", align_items="center"))
        if s.kind == "point":
            names = "xy" if s.size == 2 else ["x"] if s.size == 1 else [f"x{j}" for j in range(s.size)]
            boxes = [W.FloatText(value=v, description=f"{label} {n}0", style=_STYLE, tooltip=s.help,
                                 layout=W.Layout(width="13em")) for v, n in zip(value, names, strict=True)]
            for b in boxes:
                b.observe(lambda _c, s=s: self._changed(s.name), "value")
            self._read[s.name] = lambda: tuple(float(b.value) for b in boxes)
            self._write[s.name] = lambda val: [setattr(b, "value", float(v)) for b, v in zip(boxes, val, strict=True)]
            return W.HBox(boxes, layout=W.Layout(flex_flow="row wrap"))
        return self._real(s, value, common)

    def _plain(self, s, w):
        w.observe(lambda _c: self._changed(s.name), "value")
        self._read[s.name] = lambda: w.value
        self._write[s.name] = lambda v: setattr(w, "value", v)
        return w

    def _real(self, s, value, common):
        text = W.FloatText(value=value, layout=W.Layout(width="14em"), **common)
        text.observe(lambda _c: self._changed(s.name), "value")
        self._read[s.name] = lambda: float(text.value)
        if s.low is None or s.high is None:
            self._write[s.name] = lambda v: setattr(text, "value", float(v))
            return text
        if s.log:
            import math
            lo, hi = math.log10(s.low), math.log10(s.high)
            slider = W.FloatLogSlider(value=value, base=10, min=lo, max=hi, step=(hi - lo) / 200,
                                      readout=False, continuous_update=False,
                                      layout=W.Layout(width="10em"), tooltip=s.help)
        else:
            slider = W.FloatSlider(value=value, min=s.low, max=s.high, step=(s.high - s.low) / 200,
                                   readout=False, continuous_update=False,
                                   layout=W.Layout(width="10em"), tooltip=s.help)
        tol = (s.high - s.low) / 400

        def from_slider(change):
            # the browser snaps the slider to its grid: only a real move changes the exact value
            if not self._quiet and abs(change["new"] - text.value) > tol * (change["new"] if s.log else 1):
                text.value = slider_number(change["new"])

        slider.observe(from_slider, "value")

        def from_text(change):
            self._quiet += 1
            try:
                slider.value = min(max(change["new"], s.low), s.high)
            finally:
                self._quiet -= 1

        text.observe(from_text, "value")

        def write(v):
            text.value = float(v)
            slider.value = float(v)

        self._write[s.name] = write
        return W.HBox([text, slider], layout=W.Layout(align_items="center"))

    # -- reading and writing --------------------------------------------------------------------
    def values(self) -> dict:
        return {name: read() for name, read in self._read.items()}

    def show(self, values: dict):
        """Show ``values`` in the controls without reporting them as user changes."""
        self._quiet += 1
        try:
            for name, v in values.items():
                if name in self._write and self._read[name]() != v:
                    self._write[name](v)
        finally:
            self._quiet -= 1

    def on_change(self, callback):
        self._callbacks.append(callback)

    def _changed(self, name):
        if self._quiet:
            return
        value = self._read[name]()
        for cb in self._callbacks:
            cb(name, value)

    def disable(self, names):
        """Disable the controls of ``names`` (settings that do nothing now), enable the others."""
        for name, w in self.widgets.items():
            for part in getattr(w, "children", None) or (w,):
                if hasattr(part, "disabled"):
                    part.disabled = name in names
