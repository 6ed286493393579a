"""An explorer's view in a plain page, without JupyterLab: the widget state as the widget manager would
deliver it (binary buffers as DataViews at their paths), a minimal model (get / on / set / save_changes)
and the view's ES module (scene.js + view.js) with its CSS. Used for the screen-versus-export pictures
(test_screen_vs_export.py): the same drawing code as in Lab, with no kernel, so a picture costs well under a second.
"""

from __future__ import annotations

import base64
import json

from ipywidgets.widgets.widget import _remove_buffers

_PAGE = """<!doctype html><html><head><meta charset="utf-8"><style>{css}
body {{ margin: 8px; font-family: sans-serif; }} #host {{ width: {width}px; }}</style></head>
<body><div id="host"></div><script type="module">
const data = {data};
const state = data.state;
data.paths.forEach((path, k) => {{
  const bytes = Uint8Array.from(atob(data.buffers[k]), (c) => c.charCodeAt(0));
  let o = state; for (const p of path.slice(0, -1)) o = o[p];
  o[path[path.length - 1]] = new DataView(bytes.buffer);
}});
const handlers = {{}};
const model = {{
  get: (k) => state[k],
  set: (k, v) => {{ state[k] = v; }},
  save_changes: () => {{}},
  on: (ev, fn) => {{ (handlers[ev] = handlers[ev] || []).push(fn); }},
}};
window.rkUpdate = (changes) => {{
  Object.assign(state, changes);
  for (const k of Object.keys(changes)) (handlers[`change:${{k}}`] || []).forEach((fn) => fn());
}};
const url = URL.createObjectURL(new Blob([data.esm], {{ type: "text/javascript" }}));
const mod = await import(url);
mod.default.render({{ model, el: document.getElementById("host") }});
window.rkGet = (k) => state[k];
window.rkReady = true;
</script></body></html>"""


def view_state(view) -> dict:
    """The view's synced state, buffers base64-encoded with their paths."""
    state, paths, buffers = _remove_buffers(view.get_state())
    return {"state": state, "paths": paths, "buffers": [base64.b64encode(bytes(b)).decode() for b in buffers]}


def page_html(view, width: int = 640) -> str:
    """A page that shows ``view`` (its current state) at ``width`` CSS px."""
    data = {**view_state(view), "esm": view._esm}
    return _PAGE.format(css=view._css, width=width, data=json.dumps(data))
