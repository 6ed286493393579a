// reachkit explorer view (anywidget ES module, no build step, no CDN).
// A PNG background from matplotlib; paths, fading trail, iterate and start markers drawn on a <canvas>
// over it. Play / scrubber / step drag over the precomputed fan run here: no kernel message per frame.
// Traits: see CONTRACT.md next to this file.

const fmt = (v) => String(Number(Number(v).toPrecision(12)));   // 0.13 -> "0.13", exact floats stay exact
const el_ = (tag, cls, attrs = {}) => {
  const e = document.createElement(tag);
  if (cls) e.className = cls;
  for (const [k, v] of Object.entries(attrs)) e.setAttribute(k, v);
  return e;
};

// float32 (n, 2) little-endian bytes (DataView / ArrayBuffer) -> Float32Array, cached per buffer.
const decoded = new WeakMap();
function points(buf) {
  if (!buf) return new Float32Array(0);
  if (decoded.has(buf)) return decoded.get(buf);
  const view = buf instanceof DataView ? buf : new DataView(buf.buffer || buf);
  const n = Math.floor(view.byteLength / 4);
  const out = new Float32Array(n);
  for (let i = 0; i < n; i++) out[i] = view.getFloat32(4 * i, true);
  decoded.set(buf, out);
  return out;
}

// -- the view's own still picture (still_bundle, data-rk-still = the still_id trait) ---------------------
// Hidden once the view renders, in any front end (no front-end class names): the still and each wrapper
// around it that holds nothing else (the output it sits in), up to the first one that holds the view too.
const MEDIA = "img, canvas, svg, video, iframe, input, button, select, textarea";
function hideOwnStill(root, id) {
  if (!id || !root.isConnected) return;   // not in the page yet: the next try
  for (const still of document.querySelectorAll(`[data-rk-still="${CSS.escape(id)}"]`)) {
    const words = still.textContent.trim(), media = still.querySelectorAll(MEDIA).length + 1;
    let box = still;
    for (let up = box.parentElement; up && up !== document.body && !up.contains(root); up = up.parentElement) {
      if (up.textContent.trim() !== words || up.querySelectorAll(MEDIA).length !== media - 1) break;
      box = up;
    }
    box.style.display = "none";
  }
}

// -- no kernel: a page with the saved widget state only (an HTML export, the course website) -------------
// The view pings; the kernel's ExplorerView answers (view.py, ExplorerView._on_front_msg). No answer within PING_MS from a
// widget manager that reports no busy kernel -> `verdict(true)`; an answer, even late, -> `verdict(false)`.
// Why a ping: a kernel answering is what the user needs; anywidget's model exposes no comm, and each front
// end's widget manager names its kernel differently (Lab/Voila: manager.kernel; html-manager: none).
const PING_MS = 2500;
const NO_KERNEL = "no kernel: the sliders of this picture replay the saved runs; run the notebook to change the rest";
function watchKernel(model, verdict) {
  let timer = 0, none = false;
  const decide = (v) => { if (v !== none) { none = v; verdict(v); } };
  const answer = (msg) => { if (msg && msg.type === "rk-pong") { clearTimeout(timer); decide(false); } };
  model.on("msg:custom", answer);
  const wait = () => {
    const k = model.widget_manager && model.widget_manager.kernel;
    if (k && /busy|starting|restarting/.test(k.status || "")) timer = setTimeout(wait, PING_MS);   // it will answer
    else decide(true);
  };
  try { model.send({ type: "rk-ping" }); } catch (e) { /* no comm channel */ }
  timer = setTimeout(wait, PING_MS);
  return { none: () => none, dispose: () => { clearTimeout(timer); model.off("msg:custom", answer); } };
}
// With no kernel: the note (once), the figure no longer takes clicks, and the controls of the explorer around
// the view (the Python panel and read-outs: they need the kernel) are marked inactive.
function noKernelUI(root, el, none) {
  let note = root.querySelector(".rk-nokernel");
  if (!note) {
    note = el_("div", "rk-nokernel", { role: "note" });
    note.textContent = NO_KERNEL;
    root.querySelector(".rk-status").before(note);
  }
  note.hidden = !none;
  root.classList.toggle("rk-no-kernel", none);
  for (const c of root.querySelectorAll(".rk-param input")) c.disabled = none;   // live sliders ask the kernel
  const box = el.closest(".rk-explorer");
  if (!box) return;
  box.classList.toggle("rk-no-kernel", none);
  for (const c of box.querySelectorAll("input, select, button, textarea")) {
    if (el.contains(c)) continue;
    if (none) c.setAttribute("aria-disabled", "true"); else c.removeAttribute("aria-disabled");
  }
}

// -- back-pressure for live requests (a drag of a parameter or of the start) ---------------------------
// At most `depth` requests in flight: `want(changes, final)` keeps only the latest value of each setting
// (latest wins; nothing queues on a slow connection); the next request goes out when the kernel's
// answer to an earlier one has arrived (`acked(seq)`: answers come in order, so it answers every request
// up to seq). With depth 2 the kernel has the next value while its answer to the last one travels: the
// rate is one answer per kernel computation, not per round trip, and the backlog still at most one
// request. A final request (a release, a typed value) is never dropped: merged into what waits, it stays
// final. `patience` ms without an answer and the oldest request counts as lost (a lost message must not
// freeze the drag).
export function pacer(send, { now = () => performance.now(), patience = 5000, first = 0, depth = 1 } = {}) {
  let seq = first, inFlight = [], waiting = null;   // inFlight: [seq, sentAt] oldest first
  const pump = () => {
    while (inFlight.length && now() - inFlight[0][1] >= patience) inFlight.shift();
    if (!waiting || inFlight.length >= depth) return;
    const msg = { seq: ++seq, final: waiting.final, changes: waiting.changes };
    waiting = null;
    inFlight.push([msg.seq, now()]);
    send(msg);
  };
  return {
    want(changes, final = false) {
      waiting = { changes: { ...(waiting ? waiting.changes : {}), ...changes }, final: final || (waiting ? waiting.final : false) };
      pump();
    },
    acked(n) {
      if (!inFlight.some(([s]) => s === n)) return;   // an answer to nothing of ours
      inFlight = inFlight.filter(([s]) => s > n);
      pump();
    },
    get idle() { return inFlight.length === 0 && waiting === null; },
    get inFlight() { return inFlight.length ? inFlight[inFlight.length - 1][0] : null; },
  };
}

// A live slider's positions: 200 steps, log spaced when `log`, each value rounded to 4 significant digits.
const POSITIONS = 200;
export function sliderValue(p, i) {
  const t = i / POSITIONS;
  const v = p.log ? Math.exp(Math.log(p.low) + t * (Math.log(p.high) - Math.log(p.low))) : p.low + t * (p.high - p.low);
  return i <= 0 ? p.low : i >= POSITIONS ? p.high : Number(v.toPrecision(4));
}
export function sliderIndex(p, v) {
  const t = p.log ? (Math.log(v) - Math.log(p.low)) / (Math.log(p.high) - Math.log(p.low)) : (v - p.low) / (p.high - p.low);
  return Math.max(0, Math.min(POSITIONS, Math.round(t * POSITIONS)));
}

function render({ model, el }) {
  const root = el_("div", "rk-view", { tabindex: "0" });
  const figure = el_("div", "rk-figure", { role: "img", "aria-label": "" });
  let img = el_("img", "rk-background", { alt: "", draggable: "false" });
  const sceneCanvas = el_("canvas", "rk-layer rk-scene");   // the landscape, drawn from `scene` (scene.js)
  const canvas = el_("canvas", "rk-layer rk-paths");
  const badge = el_("div", "rk-busy", { "aria-hidden": "true" });
  badge.textContent = "computing…";
  figure.append(sceneCanvas, img, canvas, badge);

  // icons as inline SVG (no font or CDN needed); the accessible name is the button's aria-label
  const ICONS = {
    Rewind: "M4 4h3v16H4zM20 4v16L8 12z",
    Play: "M6 4l14 8-14 8z",
    Pause: "M6 4h4v16H6zM14 4h4v16h-4z",
  };
  const setIcon = (b, name) => {
    b.setAttribute("aria-label", name); b.title = name;
    b.innerHTML = `<svg viewBox="0 0 24 24" aria-hidden="true" focusable="false"><path d="${ICONS[name]}"/></svg>`;
  };
  const btn = (name) => { const b = el_("button", "rk-button", { type: "button" }); setIcon(b, name); return b; };
  const rewind = btn("Rewind");
  const play = btn("Play");
  const scrub = el_("input", "rk-scrubber", { type: "range", min: "0", max: "0", step: "1", "aria-label": "iterate" });
  const speedLabel = el_("label", "rk-speed");
  const speed = el_("input", "", { type: "range", min: "1", max: "60", step: "1", "aria-label": "speed" });
  speedLabel.append("speed ", speed);
  const transport = el_("div", "rk-row rk-transport");
  transport.append(rewind, play, scrub, speedLabel);

  const stepRow = el_("div", "rk-row rk-steprow");
  const stepName = el_("span", "rk-steplabel");
  const stepWrap = el_("div", "rk-stepwrap");
  const stepSlider = el_("input", "rk-step", { type: "range", min: "0", step: "1" });
  const marks = el_("div", "rk-marks", { "aria-hidden": "true" });
  stepWrap.append(stepSlider, marks);
  const stepBox = el_("input", "rk-stepbox", { type: "text", inputmode: "decimal", spellcheck: "false", size: "9" });
  stepRow.append(stepName, stepWrap, stepBox);

  const readout = el_("div", "rk-frame-readout");
  const status = el_("div", "rk-status", { role: "status", "aria-live": "polite" });
  const paramsBox = el_("div", "rk-params");
  const announce = el_("div", "rk-announce", { role: "status", "aria-live": "polite" });   // the start, once settled
  root.append(figure, transport, stepRow, paramsBox, status, readout, announce);
  el.append(root);
  // waiting for a guess (revealed false: rk.explore(..., predict=...)): the start and the controls show,
  // the path, the status, the read-outs and Play wait until the question is answered or "show anyway"
  const WAIT = "The run is hidden until you answer the question above.";
  const veil = el_("div", "rk-veil");
  const anyway = el_("button", "rk-link", { type: "button" });
  anyway.textContent = "show anyway";
  veil.append(`${WAIT} `, anyway);
  status.after(veil);
  const hiding = () => !model.get("revealed");
  const kernel = watchKernel(model, (none) => {   // no kernel: see noKernelUI
    noKernelUI(root, el, none);
    figure.classList.toggle("rk-clickable", model.get("clickable") && !none);
    refreshEntry();
  });

  // -- state kept in the browser --------------------------------------------------------------------
  let frame = model.get("frame");
  let playing = false, raf = 0, t0 = 0, f0 = 0;
  let lastEntry = null;          // the entry drawn last (kept, dimmed, while the kernel computes)
  let scale = 1;                 // displayed width / background_size[0]
  let pendingStart = null;       // start clicked, not yet acknowledged by a run

  const reducedMotion = () => model.get("reduced_motion") ||
    (window.matchMedia && window.matchMedia("(prefers-reduced-motion: reduce)").matches);
  const grid = () => {
    const fs = model.get("fan_steps");
    if (fs.length) return fs;
    const lo = Math.log(model.get("step_min")), hi = Math.log(model.get("step_max")), n = 240;
    return Array.from({ length: n + 1 }, (_, i) => Number(Math.exp(lo + (hi - lo) * i / n).toPrecision(4)));
  };
  const gridIndex = (a) => {   // nearest grid position (log distance)
    const g = grid();
    let best = 0;
    for (let i = 1; i < g.length; i++) if (Math.abs(Math.log(g[i] / a)) < Math.abs(Math.log(g[best] / a))) best = i;
    return best;
  };
  function entry() {
    const a = model.get("step"), fs = model.get("fan_steps"), fan = model.get("fan");
    const i = fs.indexOf(a);
    if (i >= 0 && fan.length === fs.length && fan[i] && fan[i].paths) return fan[i];
    const runs = model.get("runs");
    return runs && runs.step === a && runs.paths ? runs : null;
  }
  const nFrames = (e) => e ? Math.max(1, ...e.paths.map((p) => points(p).length / 2)) : 1;

  // -- layout: fit the container width, never cut off, keep the aspect ratio --------------------------
  function layout() {
    const [w, h] = model.get("background_size");
    // Leave the window's height minus the notebook's chrome and the view's own controls for the plot,
    // so that plot, Play, step slider and status line fit on one screen (1280x720 in lecture mode).
    // ... and the live sliders' rows (two to a row; estimated until they are laid out)
    const shown = model.get("params").filter((p) => !p.disabled).length;
    const rows = Math.max(paramsBox.offsetHeight, Math.ceil(shown / 2) * (model.get("lecture") ? 48 : 32));
    const reserve = (model.get("lecture") ? 310 : 250) + rows;
    figure.style.width = `min(100%, ${w}px, max(240px, (100vh - ${reserve}px) * ${w / h}))`;
    figure.style.aspectRatio = `${w} / ${h}`;
    root.classList.toggle("rk-lecture", model.get("lecture"));
    root.style.maxWidth = `max(${w}px, 30em)`;
    resize();
  }
  function resize() {
    const rect = figure.getBoundingClientRect();
    if (!rect.width) return false;
    const dpr = window.devicePixelRatio || 1;
    scale = rect.width / model.get("background_size")[0];
    const cw = Math.round(rect.width * dpr), ch = Math.round(rect.height * dpr);
    if (canvas.width !== cw || canvas.height !== ch) { canvas.width = cw; canvas.height = ch; paintScene(); }
    draw();
    return true;
  }
  // The ResizeObserver misses a view that is rendered before it is attached and then sits in a part of
  // the notebook the browser skips (JupyterLab's off-screen cells): poll once per frame until it has a size.
  const observer = new ResizeObserver(resize);
  observer.observe(figure);
  // the live sliders' rows take height from the plot (layout's reserve): refit when their height changes
  let paramsHeight = 0;
  const paramsObserver = new ResizeObserver(() => {
    if (paramsBox.offsetHeight !== paramsHeight) { paramsHeight = paramsBox.offsetHeight; layout(); }
  });
  paramsObserver.observe(paramsBox);
  let sizing = 0;
  const untilSized = () => { sizing = resize() ? 0 : requestAnimationFrame(untilSized); };

  // A new background (axes, ticks, labels, title) arrives with the scene and runs drawn on it: it is
  // decoded first, then the decoded image replaces the old one and scene and paths are drawn in the
  // same task, so no frame shows the old axes under the new picture (`decoding` holds the drawing).
  let url = null, decoding = 0;
  function background() {
    const bg = model.get("background");
    const next = bg && bg.byteLength ? URL.createObjectURL(new Blob([bg], { type: "image/png" })) : null;
    const fresh = el_("img", "rk-background", { alt: "", draggable: "false" });
    const token = ++decoding;
    const swap = () => {
      if (token !== decoding) { if (next) URL.revokeObjectURL(next); return; }
      img.replaceWith(fresh); img = fresh;
      if (url) URL.revokeObjectURL(url);
      url = next; decoding = 0;
      paintScene(); draw();
    };
    if (!next) { swap(); return; }
    fresh.src = next;
    fresh.decode().then(swap, swap);
  }

  // -- the landscape from the kernel's data (scene.js), on its own canvas under the background ----------
  function paintScene() {
    if (decoding) return;
    const dpr = window.devicePixelRatio || 1;
    if (sceneCanvas.width !== canvas.width || sceneCanvas.height !== canvas.height) {
      sceneCanvas.width = canvas.width; sceneCanvas.height = canvas.height;
    }
    const ctx = sceneCanvas.getContext("2d");
    ctx.setTransform(1, 0, 0, 1, 0, 0);
    ctx.clearRect(0, 0, sceneCanvas.width, sceneCanvas.height);
    ctx.setTransform(dpr * scale, 0, 0, dpr * scale, 0, 0);
    drawScene(ctx, model.get("scene"), model.get("axes_box"), model.get("limits"), model.get("step_line"), dpr * scale);
    sceneCanvas.dataset.scene = model.get("scene").dim ? "drawn" : "";
  }

  // -- drawing ----------------------------------------------------------------------------------------
  function toPx() {
    const [left, top, right, bottom] = model.get("axes_box");
    const [xmin, xmax, ymin, ymax] = model.get("limits");
    const sx = (right - left) / (xmax - xmin), sy = (bottom - top) / (ymax - ymin);
    return [(x) => left + (x - xmin) * sx, (y) => top + (ymax - y) * sy];
  }
  function marker(ctx, shape, x, y, r) {
    ctx.beginPath();
    if (shape === "square") ctx.rect(x - r, y - r, 2 * r, 2 * r);
    else if (shape === "triangle") { ctx.moveTo(x, y - r * 1.3); ctx.lineTo(x + r * 1.15, y + r * 0.8); ctx.lineTo(x - r * 1.15, y + r * 0.8); ctx.closePath(); }
    else if (shape === "diamond") { ctx.moveTo(x, y - r * 1.3); ctx.lineTo(x + r * 1.3, y); ctx.lineTo(x, y + r * 1.3); ctx.lineTo(x - r * 1.3, y); ctx.closePath(); }
    else ctx.arc(x, y, r, 0, 2 * Math.PI);
    ctx.fill(); ctx.stroke();
  }
  function draw() {
    if (decoding) return;   // a new background is decoding: its scene and paths are drawn with it
    const ctx = canvas.getContext("2d");
    const dpr = window.devicePixelRatio || 1;
    ctx.setTransform(1, 0, 0, 1, 0, 0);
    ctx.clearRect(0, 0, canvas.width, canvas.height);
    ctx.setTransform(dpr * scale, 0, 0, dpr * scale, 0, 0);   // draw in background CSS px
    const [left, top, right, bottom] = model.get("axes_box");
    ctx.save();
    ctx.beginPath(); ctx.rect(left, top, right - left, bottom - top); ctx.clip();
    const [px, py] = toPx();
    const big = model.get("lecture") ? 1.6 : 1;
    const e = entry();
    const shown = hiding() ? null : e || lastEntry;
    const waiting = !e;
    badge.hidden = !(waiting || model.get("busy"));
    if (shown) {
      const all = reducedMotion();
      const trail = Math.max(1, model.get("trail"));
      ctx.globalAlpha = waiting ? 0.35 : 1;
      model.get("series").forEach((s, j) => {
        const p = points(shown.paths[j]);
        const n = p.length / 2;
        if (!n) return;
        const k = all ? n - 1 : Math.min(frame, n - 1);
        const w = (s.width || 2) * big;
        ctx.lineJoin = ctx.lineCap = "round";
        ctx.strokeStyle = s.color;
        const base = ctx.globalAlpha;
        // the path so far, faint (less so on a projector), then the last `trail` segments fading in
        const lecture = model.get("lecture");
        ctx.lineWidth = w * (lecture ? 1 : 0.75); ctx.globalAlpha = base * (lecture ? 0.85 : 0.6);
        ctx.beginPath();
        let pen = false;
        for (let i = 0; i <= k; i++) {
          const x = p[2 * i], y = p[2 * i + 1];
          if (!Number.isFinite(x) || !Number.isFinite(y)) { pen = false; continue; }
          if (pen) ctx.lineTo(px(x), py(y)); else ctx.moveTo(px(x), py(y));
          pen = true;
        }
        ctx.stroke();
        ctx.lineWidth = w;
        for (let i = Math.max(1, k - trail + 1); i <= k; i++) {
          const xa = p[2 * i - 2], ya = p[2 * i - 1], xb = p[2 * i], yb = p[2 * i + 1];
          if (![xa, ya, xb, yb].every(Number.isFinite)) continue;
          ctx.globalAlpha = base * (0.25 + 0.75 * (i - (k - trail)) / trail);
          ctx.beginPath(); ctx.moveTo(px(xa), py(ya)); ctx.lineTo(px(xb), py(yb)); ctx.stroke();
        }
        ctx.globalAlpha = base;
        const xk = p[2 * k], yk = p[2 * k + 1];
        if (Number.isFinite(xk) && Number.isFinite(yk)) {
          ctx.fillStyle = s.color; ctx.strokeStyle = "#000000"; ctx.lineWidth = 1.2 * big;   // as the exports: black edge
          marker(ctx, s.marker || "circle", px(xk), py(yk), 5 * big);
        }
      });
      ctx.globalAlpha = 1;
    }
    // start marker: a hollow black ring at [x, y]; in 1-D a triangle on the bottom edge at x
    const st = pendingStart || model.get("start");
    ctx.strokeStyle = "#000000"; ctx.fillStyle = "#ffffff"; ctx.lineWidth = 2 * big;
    if (st.length === 2) marker(ctx, "circle", px(st[0]), py(st[1]), 6 * big);
    else if (st.length === 1) {
      const x = px(st[0]), r = 7 * big;
      ctx.beginPath(); ctx.moveTo(x, bottom - r * 1.6); ctx.lineTo(x + r, bottom); ctx.lineTo(x - r, bottom); ctx.closePath();
      ctx.fill(); ctx.stroke();
    }
    ctx.restore();
    // the step in use on a second axes whose x is the step (e.g. the bifurcation diagram)
    const line = model.get("step_line");
    if (line && line.box) {
      const [l, t, r, b] = line.box, [lo, hi] = line.limits, a = model.get("step");
      const f = line.log ? (Math.log(a) - Math.log(lo)) / (Math.log(hi) - Math.log(lo)) : (a - lo) / (hi - lo);
      if (f >= 0 && f <= 1) {
        ctx.strokeStyle = "#000000"; ctx.lineWidth = 1.5 * big; ctx.setLineDash([6 * big, 4 * big]);
        ctx.beginPath(); ctx.moveTo(l + f * (r - l), t); ctx.lineTo(l + f * (r - l), b); ctx.stroke();
        ctx.setLineDash([]);
      }
    }
    readFrame(shown, waiting);
  }
  function readFrame(e, waiting) {
    if (!e) { readout.textContent = ""; return; }
    const n = nFrames(e), k = reducedMotion() ? n - 1 : Math.min(frame, n - 1);
    const parts = [`iterate ${k} of ${n - 1}`];
    model.get("series").forEach((s, j) => {
      const info = e.info && e.info[j] ? points(e.info[j]) : null;
      const m = info ? info.length / 2 : 0;
      if (m) { const i = Math.min(k, m - 1); parts.push(`${s.name}: f = ${info[2 * i].toPrecision(4)}, |∇f| = ${info[2 * i + 1].toPrecision(3)}`); }
    });
    readout.textContent = parts.join(" · ") + (waiting ? " (previous step)" : "");
    scrub.max = String(n - 1);
    scrub.value = String(k);
    scrub.setAttribute("aria-valuetext", `iterate ${k} of ${n - 1}`);
  }

  // -- Play / Pause / Rewind / scrubber (browser only; the kernel hears when playback stops) ------------
  function tick(t) {
    const n = nFrames(entry() || lastEntry);
    if (!t0) { t0 = t; f0 = frame >= n - 1 ? 0 : frame; }
    const next = Math.min(n - 1, f0 + Math.floor((t - t0) * model.get("speed") / 1000));
    if (next !== frame) { frame = next; draw(); }
    if (frame >= n - 1) { stop(); return; }
    raf = requestAnimationFrame(tick);
  }
  function start() {
    if (playing || hiding()) return;
    const n = nFrames(entry() || lastEntry);
    if (reducedMotion()) { frame = n - 1; draw(); sendFrame(false); return; }
    playing = true; t0 = 0;
    setIcon(play, "Pause");
    raf = requestAnimationFrame(tick);   // the kernel hears nothing until playback stops
  }
  function stop(send = true) {
    if (raf) cancelAnimationFrame(raf);
    raf = 0;
    const was = playing;
    playing = false;
    setIcon(play, "Play");
    if (send && (was || model.get("playing"))) sendFrame(false);
  }
  function sendFrame(isPlaying) {
    model.set("frame", frame);
    model.set("playing", isPlaying);
    model.save_changes();
  }
  play.addEventListener("click", () => (playing ? stop() : start()));
  rewind.addEventListener("click", () => { const was = playing; stop(false); frame = 0; draw(); sendFrame(false); if (was) start(); });
  scrub.addEventListener("input", () => { if (playing) stop(false); frame = Number(scrub.value); draw(); });
  scrub.addEventListener("change", () => sendFrame(false));
  speed.addEventListener("input", () => { model.set("speed", Number(speed.value)); if (playing) { f0 = frame; t0 = 0; } });
  speed.addEventListener("change", () => model.save_changes());
  // Keys the view uses stay in the view: JupyterLab's notebook would otherwise take them (it prevents
  // the default of arrow keys, so a range input would not move, and Enter would enter edit mode).
  const OWN_KEYS = new Set([" ", "Enter", "ArrowLeft", "ArrowRight", "ArrowUp", "ArrowDown", "Home", "End",
                            "PageUp", "PageDown", "Backspace", "Delete"]);
  root.addEventListener("keydown", (ev) => {
    if (OWN_KEYS.has(ev.key) || (ev.target === stepBox && !ev.ctrlKey && !ev.metaKey && !ev.altKey)) ev.stopPropagation();
    if (ev.target !== root && ev.target !== figure) return;   // sliders and the box keep their own keys
    if (ev.key === " ") { ev.preventDefault(); playing ? stop() : start(); }
    else if (ev.shiftKey && ev.key.startsWith("Arrow") && model.get("clickable")) {
      ev.preventDefault(); nudgeStart(ev.key);
    }
    else if (ev.key === "ArrowRight" || ev.key === "ArrowLeft") {
      ev.preventDefault(); stop(false);
      const n = nFrames(entry() || lastEntry);
      frame = Math.max(0, Math.min(n - 1, Math.min(frame, n - 1) + (ev.key === "ArrowRight" ? 1 : -1)));
      draw(); sendFrame(false);
    }
  });

  // -- step: slider over the grid (log spaced), exact number box -----------------------------------------
  function setStep(a) {
    model.set("step", a);
    model.save_changes();
    stepUI(); refreshEntry(); draw();
  }
  function stepUI() {
    const a = model.get("step"), g = grid();
    stepSlider.max = String(g.length - 1);
    if (!stepDragging && requests.idle) stepSlider.value = String(gridIndex(a));   // else the pointer owns it
    stepSlider.setAttribute("aria-valuetext", `${model.get("step_label").replace(/ a$/, "")} ${fmt(a)}`);
    if (document.activeElement !== stepBox) stepBox.value = String(a);   // the number used, exactly
  }
  function marksUI() {
    marks.replaceChildren();
    const g = grid(), lo = Math.log(g[0]), hi = Math.log(g[g.length - 1]);
    for (const m of model.get("step_marks")) {
      if (!(m.value >= g[0] && m.value <= g[g.length - 1])) continue;
      const tick = el_("span", "rk-mark");
      tick.style.left = `${(100 * (Math.log(m.value) - lo)) / (hi - lo)}%`;
      tick.textContent = m.label;
      marks.append(tick);
    }
  }
  // With a fan every position is drawn here at once. Without one (a fan not computed yet, the reach and
  // adaptive explorers) each position is a computation: a drag sends live requests (at most two in flight, the
  // latest wins; the step shown stays the kernel's until its answer), the release a final one.
  let stepDragging = false;
  const liveStep = () => !(model.get("fan").length && model.get("fan").length === model.get("fan_steps").length);
  stepSlider.addEventListener("pointerdown", () => { stepDragging = liveStep(); });
  stepSlider.addEventListener("input", () => {
    if (playing) { f0 = frame; t0 = 0; }
    const a = grid()[Number(stepSlider.value)];
    if (!liveStep()) { setStep(a); return; }
    stepBox.value = String(a);
    stepSlider.setAttribute("aria-valuetext", `${model.get("step_label").replace(/ a$/, "")} ${fmt(a)}`);
    requests.want({ step: a });
  });
  stepSlider.addEventListener("change", () => {
    const live = stepDragging || liveStep();
    stepDragging = false;
    if (live) requests.want({ step: grid()[Number(stepSlider.value)] }, true);
  });
  const typed = () => {
    const v = Number(stepBox.value.trim());
    if (Number.isFinite(v) && v > 0) {
      stepBox.classList.remove("rk-invalid");
      const a = kernel.none() ? grid()[gridIndex(v)] : v;   // no kernel: the nearest saved step, shown as used
      if (a !== model.get("step")) setStep(a);
      if (kernel.none()) stepBox.value = String(a);
    }
    else stepBox.classList.add("rk-invalid");
  };
  stepBox.addEventListener("change", typed);
  stepBox.addEventListener("keydown", (ev) => { if (ev.key === "Enter") { typed(); } });

  // -- live requests: parameter sliders and the start, with back-pressure (see pacer) ---------------------
  let dragging = null;            // {id, x, y, moved} while the pointer is down on the plot
  let finalStart = false;         // a released or keyed start waits to be announced
  const requests = pacer((msg) => { model.send(msg); root.dataset.pending = "1"; },
                         { first: Math.floor(Math.random() * 1e9), depth: 2 });
  const settled = () => !dragging && requests.idle;

  // the data point under a pointer event, clamped to the axes; null outside them (or not clickable)
  function dataPoint(ev, clamp) {
    const r = canvas.getBoundingClientRect();
    let cx = (ev.clientX - r.left) / scale, cy = (ev.clientY - r.top) / scale;
    const [left, top, right, bottom] = model.get("axes_box");
    if (!clamp && (cx < left || cx > right || cy < top || cy > bottom)) return null;
    cx = Math.min(right, Math.max(left, cx)); cy = Math.min(bottom, Math.max(top, cy));
    const [xmin, xmax, ymin, ymax] = model.get("limits");
    const x = xmin + (cx - left) / (right - left) * (xmax - xmin);
    const y = ymax - (cy - top) / (bottom - top) * (ymax - ymin);
    return model.get("start").length === 1 ? [x] : [x, y];
  }
  // Press on the plot and drag: the marker follows the pointer at once, the path follows from the kernel
  // (drag requests); the release sends exactly the point under the pointer (final). A press released
  // without moving is a click: the start trait, as before (the model may read it as a target).
  figure.addEventListener("pointerdown", (ev) => {
    if (!model.get("clickable") || kernel.none() || ev.button !== 0) return;
    const st = dataPoint(ev, false);
    if (!st) return;
    ev.preventDefault();
    figure.setPointerCapture(ev.pointerId);
    dragging = { id: ev.pointerId, x: ev.clientX, y: ev.clientY, moved: false };
    stop(false);
    pendingStart = st; draw();
  });
  figure.addEventListener("pointermove", (ev) => {
    if (!dragging || ev.pointerId !== dragging.id) return;
    if (!dragging.moved && Math.hypot(ev.clientX - dragging.x, ev.clientY - dragging.y) < 3) return;
    dragging.moved = true;
    pendingStart = dataPoint(ev, true); draw();
    requests.want({ start: pendingStart });
  });
  const release = (ev) => {
    if (!dragging || ev.pointerId !== dragging.id) return;
    const moved = dragging.moved;
    dragging = null;
    const st = moved ? dataPoint(ev, true) : pendingStart;
    pendingStart = st; draw();
    finalStart = true;
    if (moved) requests.want({ start: st }, true);
    else { model.set("start", st); model.save_changes(); }
  };
  figure.addEventListener("pointerup", release);
  figure.addEventListener("pointercancel", release);

  // Shift+arrow keys (figure focused): the start moves by 1/100 of the axes (x: left/right, y: up/down);
  // a held key is a drag, its release final.
  function nudgeStart(key) {
    const [xmin, xmax, ymin, ymax] = model.get("limits");
    const st = [...(pendingStart || model.get("start"))];
    const dx = key === "ArrowRight" ? 1 : key === "ArrowLeft" ? -1 : 0;
    const dy = st.length === 2 ? (key === "ArrowUp" ? 1 : key === "ArrowDown" ? -1 : 0) : 0;
    if (!dx && !dy) return;
    st[0] = Math.min(xmax, Math.max(xmin, st[0] + dx * (xmax - xmin) / 100));
    if (dy) st[1] = Math.min(ymax, Math.max(ymin, st[1] + dy * (ymax - ymin) / 100));
    stop(false);
    pendingStart = st.map((v) => Number(v.toPrecision(6))); draw();
    requests.want({ start: pendingStart });
  }
  root.addEventListener("keyup", (ev) => {
    if ((ev.target === root || ev.target === figure) && ev.key.startsWith("Arrow") && ev.shiftKey && pendingStart) {
      finalStart = true;
      requests.want({ start: pendingStart }, true);
    }
  });

  // live parameter sliders: a drag sends drag requests, the release a final one; the box takes exact values
  let paramRows = new Map();     // name -> {row, slider, box, p}
  let activeParam = null;        // the slider being dragged (the kernel's echo does not move it)
  function paramsUI() {
    const ps = model.get("params");
    const names = ps.map((p) => p.name).join("\n");
    const shape = names + ps.map((p) => (p.disabled ? "-" : "+")).join("");
    if (names !== [...paramRows.keys()].join("\n")) {
      paramsBox.replaceChildren();
      paramRows = new Map();
      for (const p of ps) {
        const row = el_("div", "rk-row rk-param", { "data-name": p.name, title: p.help });
        const label = el_("span", "rk-paramlabel");
        label.textContent = p.label;
        const slider = el_("input", "rk-paramslider", { type: "range", min: "0", max: String(POSITIONS), step: "1", "aria-label": p.label });
        const box = el_("input", "rk-parambox", { type: "text", inputmode: "decimal", spellcheck: "false", size: "9", "aria-label": `${p.label}, exact value` });
        row.append(label, slider, box);
        paramsBox.append(row);
        const it = { row, slider, box, p };
        paramRows.set(p.name, it);
        slider.addEventListener("pointerdown", () => { activeParam = p.name; });
        slider.addEventListener("input", () => {
          const v = sliderValue(it.p, Number(slider.value));
          box.value = String(v); slider.setAttribute("aria-valuetext", `${it.p.label} ${fmt(v)}`);
          requests.want({ [p.name]: v });
        });
        slider.addEventListener("change", () => {
          activeParam = null;
          requests.want({ [p.name]: sliderValue(it.p, Number(slider.value)) }, true);
        });
        const typedParam = () => {
          const v = Number(box.value.trim());
          const ok = box.value.trim() !== "" && Number.isFinite(v) && v >= it.p.low && v <= it.p.high;
          box.classList.toggle("rk-invalid", !ok);
          if (ok && v !== it.p.value) { slider.value = String(sliderIndex(it.p, v)); requests.want({ [p.name]: v }, true); }
        };
        box.addEventListener("change", typedParam);
        box.addEventListener("keydown", (ev) => { if (ev.key === "Enter") typedParam(); });
      }
    }
    for (const p of ps) {
      const it = paramRows.get(p.name);
      it.p = p;
      it.row.hidden = !!p.disabled;
      if (activeParam === p.name || !settled()) continue;   // the pointer (or a newer request) owns it
      it.slider.value = String(sliderIndex(p, p.value));
      it.slider.setAttribute("aria-valuetext", `${p.label} ${fmt(p.value)}`);
      if (document.activeElement !== it.box) { it.box.value = String(p.value); it.box.classList.remove("rk-invalid"); }
    }
    if (shape !== paramsShape) { paramsShape = shape; layout(); }   // the rows shown changed: refit the plot
  }
  let paramsShape = "";

  // once nothing is dragged, in flight or waiting, the marker is the kernel's start, announced once
  function whenSettled() {
    if (!settled()) return;
    pendingStart = null;
    if (finalStart) {
      finalStart = false;
      const st = model.get("start");
      announce.textContent = `start ${st.length === 2 ? `x = ${fmt(st[0])}, y = ${fmt(st[1])}` : `x = ${fmt(st[0])}`}`;
    }
  }

  // -- kernel -> view ---------------------------------------------------------------------------------
  let panelFrom;                 // the fan entry's read-outs last put in the panel (no kernel)
  function refreshEntry() {
    const e = entry();
    if (e) lastEntry = e;
    const alt = hiding() ? WAIT : (e || lastEntry || {}).alt || "";
    if (figure.getAttribute("aria-label") !== alt) figure.setAttribute("aria-label", alt);
    if (kernel.none()) {   // the shown run's own words: its status line and the read-outs panel beside the view
      const shown = e || lastEntry || {};
      status.textContent = shown.status || model.get("status");
      const panel = shown.readout !== panelFrom && el.closest(".rk-explorer")?.querySelector(".rk-readouts .rk-readout");
      if (panel) { panel.outerHTML = shown.readout; panelFrom = shown.readout; }   // escaped by the kernel (readout_html)
    }
  }
  const on = (names, fn) => names.split(" ").forEach((n) => model.on(`change:${n}`, fn));
  on("background", background);
  on("background_size lecture", layout);
  on("axes_box limits series trail busy reduced_motion step_line", draw);
  on("scene axes_box limits step_line", paintScene);
  on("runs fan", () => { whenSettled(); refreshEntry(); draw(); });
  on("fan_steps step step_min step_max step_label", () => { stepUI(); marksUI(); refreshEntry(); draw(); });
  on("step_marks", marksUI);
  function reveal() {
    const hide = hiding();
    veil.hidden = !hide; status.hidden = hide;
    for (const b of [play, rewind, scrub]) b.disabled = hide;
    root.classList.toggle("rk-hiding", hide);
    if (hide) stop(false);
    refreshEntry(); draw();
  }
  anyway.addEventListener("click", () => {
    model.set("revealed", true);
    try { model.save_changes(); } catch (e) { /* a page with no kernel */ }
  });
  on("revealed", reveal);
  on("start", () => { whenSettled(); draw(); });
  let answers = 0;               // kernel answers drawn (data-answers: the browser tests count them)
  on("ack", () => {
    requests.acked(model.get("ack")); whenSettled(); draw(); paramsUI(); stepUI();
    root.dataset.answers = String(++answers);
    root.dataset.pending = requests.idle ? "0" : "1";
  });
  on("params", paramsUI);
  on("frame", () => { if (!playing) { frame = model.get("frame"); draw(); } });
  on("playing", () => { model.get("playing") ? start() : stop(false); });
  on("speed", () => { speed.value = String(model.get("speed")); speed.setAttribute("aria-valuetext", `${model.get("speed")} frames per second`); });
  on("status", () => { status.textContent = model.get("status"); });
  on("clickable", () => figure.classList.toggle("rk-clickable", model.get("clickable")));
  on("step_label", () => { stepName.textContent = model.get("step_label"); stepSlider.setAttribute("aria-label", model.get("step_label")); stepBox.setAttribute("aria-label", `${model.get("step_label")}, exact value`); });

  // first paint
  stepName.textContent = model.get("step_label");
  stepSlider.setAttribute("aria-label", model.get("step_label"));
  stepBox.setAttribute("aria-label", `${model.get("step_label")}, exact value`);
  speed.value = String(model.get("speed"));
  speed.setAttribute("aria-valuetext", `${model.get("speed")} frames per second`);
  status.textContent = model.get("status");
  figure.classList.toggle("rk-clickable", model.get("clickable"));
  background(); paramsUI(); layout(); stepUI(); marksUI(); reveal(); untilSized();
  const stillHidden = [0, 500, 2000].map((ms) => setTimeout(() => hideOwnStill(root, model.get("still_id")), ms));
  if (model.get("playing")) start();

  return () => {
    stop(false); cancelAnimationFrame(sizing); observer.disconnect(); paramsObserver.disconnect();
    if (url) URL.revokeObjectURL(url); kernel.dispose(); stillHidden.forEach(clearTimeout);
  };
}

export default { render };
