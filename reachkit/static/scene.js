// reachkit explorer scene (concatenated before view.js into the view's ES module by view.py).
// The landscape drawn in the browser from the kernel's `scene` data: grey bands and contour lines of f
// (marching squares), the graph of f in 1-D, basins as an image, critical points and labels, the
// bifurcation diagram, legends, and a "provisional" look for overlays still being computed.
// Plain function declarations only (no import/export): tests/test_scene_js.py runs them under node.
// Coordinates: everything is drawn in the background's CSS px (the caller sets the transform); data ->
// px through an axes box [left, top, right, bottom] and its limits, as view.js maps the paths.

// little-endian float32 / uint8 buffer (DataView, ArrayBuffer or typed array) -> typed array (copied)
function sceneArray(buf, Type = Float32Array) {
  if (!buf) return new Type(0);
  const bytes = buf instanceof ArrayBuffer ? new Uint8Array(buf) : new Uint8Array(buf.buffer, buf.byteOffset || 0, buf.byteLength);
  if (Type === Uint8Array) return bytes.slice();
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength), n = bytes.byteLength >> 2;
  const out = new Float32Array(n);
  for (let i = 0; i < n; i++) out[i] = view.getFloat32(4 * i, true);
  return out;
}

// Marching squares: the contour of z (row-major, ny rows of nx values, row j at y index j) at `level`, as
// segments [i0, j0, i1, j1, ...] in grid coordinates (linear interpolation along the cell edges; a saddle
// cell is resolved by the mean of its corners). Non-finite corners leave their cells out.
function contourSegments(z, nx, ny, level) {
  const out = [];
  const at = (a, b) => (level - a) / (b - a);
  for (let j = 0; j < ny - 1; j++) {
    for (let i = 0; i < nx - 1; i++) {
      const a = z[j * nx + i], b = z[j * nx + i + 1], c = z[(j + 1) * nx + i + 1], d = z[(j + 1) * nx + i];
      if (!(Number.isFinite(a) && Number.isFinite(b) && Number.isFinite(c) && Number.isFinite(d))) continue;
      const k = (a > level ? 1 : 0) | (b > level ? 2 : 0) | (c > level ? 4 : 0) | (d > level ? 8 : 0);
      if (k === 0 || k === 15) continue;
      // crossing points on the bottom (a-b), right (b-c), top (d-c) and left (a-d) edges
      const B = () => [i + at(a, b), j], R = () => [i + 1, j + at(b, c)];
      const T = () => [i + at(d, c), j + 1], L = () => [i, j + at(a, d)];
      const seg = (p, q) => out.push(p[0], p[1], q[0], q[1]);
      const high = (a + b + c + d) / 4 > level;
      switch (k) {
        case 1: case 14: seg(L(), B()); break;
        case 2: case 13: seg(B(), R()); break;
        case 3: case 12: seg(L(), R()); break;
        case 4: case 11: seg(R(), T()); break;
        case 6: case 9: seg(B(), T()); break;
        case 7: case 8: seg(L(), T()); break;
        case 5: if (high) { seg(L(), T()); seg(B(), R()); } else { seg(L(), B()); seg(R(), T()); } break;
        case 10: if (high) { seg(L(), B()); seg(R(), T()); } else { seg(L(), T()); seg(B(), R()); } break;
      }
    }
  }
  return out;
}

// the band of each value between levels[i] and levels[i + 1] (the top level included), -1 outside/not finite
function bandIndex(levels, v) {
  if (!Number.isFinite(v) || v < levels[0] || v > levels[levels.length - 1]) return -1;
  let lo = 0, hi = levels.length - 1;
  while (hi - lo > 1) { const mid = (lo + hi) >> 1; if (v >= levels[mid]) lo = mid; else hi = mid; }
  return lo;
}

const hexRGB = (h) => [1, 3, 5].map((i) => parseInt(h.slice(i, i + 2), 16));

// matplotlib's marker shapes at size s (its `ms` in px): o ^ s D X *
function scenePath(ctx, shape, x, y, s) {
  const r = s / 2;
  ctx.beginPath();
  if (shape === "^") { ctx.moveTo(x, y - r); ctx.lineTo(x + r, y + r); ctx.lineTo(x - r, y + r); ctx.closePath(); }
  else if (shape === "s") ctx.rect(x - r, y - r, s, s);
  else if (shape === "D") { const d = s / Math.SQRT2; ctx.moveTo(x, y - d); ctx.lineTo(x + d, y); ctx.lineTo(x, y + d); ctx.lineTo(x - d, y); ctx.closePath(); }
  else if (shape === "X") {
    const p = [[0.25, 0], [0.5, 0.25], [0.75, 0], [1, 0.25], [0.75, 0.5], [1, 0.75], [0.75, 1], [0.5, 0.75], [0.25, 1], [0, 0.75], [0.25, 0.5], [0, 0.25]];
    p.forEach(([u, v], i) => (i ? ctx.lineTo : ctx.moveTo).call(ctx, x + (u - 0.5) * s, y + (v - 0.5) * s));
    ctx.closePath();
  } else if (shape === "*") {
    for (let i = 0; i < 10; i++) {
      const rr = i % 2 ? r * 0.381966 : r, t = -Math.PI / 2 + (i * Math.PI) / 5;
      (i ? ctx.lineTo : ctx.moveTo).call(ctx, x + rr * Math.cos(t), y + rr * Math.sin(t));
    }
    ctx.closePath();
  } else ctx.arc(x, y, r, 0, 2 * Math.PI);
}

// data -> CSS px on an axes box with linear (or log x) limits
function sceneMap(box, [x0, x1, y0, y1], logX = false) {
  const [l, t, r, b] = box, f = logX ? Math.log : (v) => v;
  const sx = (r - l) / (f(x1) - f(x0)), sy = (b - t) / (y1 - y0);
  return [(x) => l + (f(x) - f(x0)) * sx, (y) => t + (y1 - y) * sy];
}

// The grey bands as an image at `res` px per CSS px, at most 1/2 (still finer than the 160 x 120 data
// grid; the contour lines drawn over the band edges at full resolution hide the upscaling; full CSS px
// cost 4x, which held a parameter drag to 18 answers/s against 23 here): each pixel takes the band of the
// bilinear interpolation of z at its centre. One canvas and pixel buffer, reused while the size stays.
const bandsBuffer = { canvas: null, img: null };
function bandsImage(s, box, limits, res) {
  res = Math.min(0.5, res);
  const [l, t, r, b] = box, w = Math.max(1, Math.round((r - l) * res)), h = Math.max(1, Math.round((b - t) * res));
  const z = sceneArray(s.z), { nx, ny, levels } = s, rgb = s.bands.map(hexRGB);
  if (!bandsBuffer.canvas || bandsBuffer.canvas.width !== w || bandsBuffer.canvas.height !== h) {
    bandsBuffer.canvas = document.createElement("canvas");
    bandsBuffer.canvas.width = w; bandsBuffer.canvas.height = h;
    bandsBuffer.img = bandsBuffer.canvas.getContext("2d").createImageData(w, h);
  }
  const canvas = bandsBuffer.canvas, c2 = canvas.getContext("2d"), img = bandsBuffer.img, px = img.data;
  px.fill(0);
  const [x0, x1, y0, y1] = limits;
  for (let q = 0; q < h; q++) {
    const y = y1 - ((q + 0.5) / h) * (y1 - y0), gy = ((y - s.y[0]) / (s.y[1] - s.y[0])) * (ny - 1);
    const j = Math.min(ny - 2, Math.max(0, Math.floor(gy))), fy = gy - j;
    for (let p = 0; p < w; p++) {
      const x = x0 + ((p + 0.5) / w) * (x1 - x0), gx = ((x - s.x[0]) / (s.x[1] - s.x[0])) * (nx - 1);
      const i = Math.min(nx - 2, Math.max(0, Math.floor(gx))), fx = gx - i;
      const v = (z[j * nx + i] * (1 - fx) + z[j * nx + i + 1] * fx) * (1 - fy)
              + (z[(j + 1) * nx + i] * (1 - fx) + z[(j + 1) * nx + i + 1] * fx) * fy;
      const k = bandIndex(levels, v), o = 4 * (q * w + p);
      if (k < 0) continue;
      px[o] = rgb[k][0]; px[o + 1] = rgb[k][1]; px[o + 2] = rgb[k][2]; px[o + 3] = 255;
    }
  }
  c2.putImageData(img, 0, 0);
  return canvas;
}

// an index grid (row 0 at the bottom) as an image, one colour per index
function basinsImage(m) {
  const idx = sceneArray(m.index, Uint8Array), rgb = m.colors.map(hexRGB);
  const canvas = document.createElement("canvas");
  canvas.width = m.nx; canvas.height = m.ny;
  const c2 = canvas.getContext("2d"), img = c2.createImageData(m.nx, m.ny);
  for (let j = 0; j < m.ny; j++) {
    for (let i = 0; i < m.nx; i++) {
      const c = rgb[idx[j * m.nx + i]] || [127, 127, 127], o = 4 * ((m.ny - 1 - j) * m.nx + i);
      img.data[o] = c[0]; img.data[o + 1] = c[1]; img.data[o + 2] = c[2]; img.data[o + 3] = 255;
    }
  }
  c2.putImageData(img, 0, 0);
  return canvas;
}

// matplotlib's legend layout (in units of its font size): border pad 0.4, label spacing 0.5, handle
// 2.0 x 0.7, handle-text pad 0.8, 0.5 from the axes; white frame (alpha), #cccccc edge, rounded.
function sceneLegend(ctx, box, leg, font) {
  if (!leg || !leg.entries.length) return;
  const fs = leg.font, [l, t, r] = box;
  ctx.font = `${fs}px ${font}`;
  const textW = Math.max(...leg.entries.map((e) => ctx.measureText(e.label).width));
  const row = fs, w = (0.4 * 2 + 2.0 + 0.8) * fs + textW;
  const h = 0.8 * fs + leg.entries.length * row + (leg.entries.length - 1) * 0.5 * fs;
  const x = leg.loc === "upper left" ? l + 0.5 * fs : r - 0.5 * fs - w, y = t + 0.5 * fs;
  ctx.save();
  ctx.globalAlpha = leg.alpha;
  ctx.beginPath();
  if (ctx.roundRect) ctx.roundRect(x, y, w, h, 0.2 * fs); else ctx.rect(x, y, w, h);
  ctx.fillStyle = "#ffffff"; ctx.fill();
  ctx.strokeStyle = "#cccccc"; ctx.lineWidth = 100 / 72; ctx.stroke();
  ctx.globalAlpha = 1;
  ctx.textAlign = "left"; ctx.textBaseline = "middle"; ctx.fillStyle = "#000000";
  leg.entries.forEach((e, i) => {
    const cy = y + 0.4 * fs + i * (row + 0.5 * fs) + row / 2, hx = x + 0.4 * fs;
    ctx.strokeStyle = ctx.fillStyle = e.color;
    if (e.kind === "patch") { ctx.globalAlpha = 0.6; ctx.fillRect(hx, cy - 0.35 * fs, 2 * fs, 0.7 * fs); ctx.globalAlpha = 1; }
    else if (e.kind === "marker") {
      ctx.strokeStyle = "#000000"; ctx.lineWidth = 1.2 * 100 / 72;
      scenePath(ctx, e.marker, hx + fs, cy, leg.marker_size); ctx.fill(); ctx.stroke();
    } else {
      ctx.lineWidth = leg.line; ctx.lineCap = "butt";
      ctx.setLineDash(e.kind === "dashed" ? [3.7 * leg.line, 1.6 * leg.line] : []);
      ctx.beginPath(); ctx.moveTo(hx, cy); ctx.lineTo(hx + 2 * fs, cy); ctx.stroke(); ctx.setLineDash([]);
    }
    ctx.fillStyle = "#000000";
    ctx.fillText(e.label, hx + 2.8 * fs, cy);
  });
  ctx.restore();
}

// a small note in the corner of an axes for an overlay drawn provisionally
function sceneNote(ctx, box, text, font, fs) {
  const [l, , , b] = box;
  ctx.save();
  ctx.font = `italic ${fs}px ${font}`;
  const w = ctx.measureText(text).width;
  ctx.globalAlpha = 0.85; ctx.fillStyle = "#ffffff";
  ctx.fillRect(l + 4, b - fs * 1.5 - 4, w + fs * 0.8, fs * 1.5);
  ctx.globalAlpha = 1; ctx.fillStyle = "#333333"; ctx.textBaseline = "middle"; ctx.textAlign = "left";
  ctx.fillText(text, l + 4 + fs * 0.4, b - fs * 0.75 - 4);
  ctx.restore();
}

// The whole scene, in matplotlib's order: bands, basins, contour lines, graph, critical points and
// labels, extra markers, legend; then the bifurcation diagram on its axes (stepLine: box, limits, log).
// `res`: device px per CSS px (for the band image). Provisional overlays are drawn faded, with a note.
function drawScene(ctx, scene, box, limits, stepLine, res) {
  if (!scene || !scene.dim) return;
  ctx.fillStyle = "#ffffff"; ctx.fillRect(0, 0, ctx.canvas.width, ctx.canvas.height);   // under a transparent PNG
  const [l, t, r, b] = box, [px, py] = sceneMap(box, limits), font = scene.font;
  const noteFont = scene.point.font;
  ctx.save();
  ctx.beginPath(); ctx.rect(l, t, r - l, b - t); ctx.clip();
  ctx.fillStyle = "#ffffff"; ctx.fillRect(l, t, r - l, b - t);
  const s = scene.surface;
  if (s) ctx.drawImage(bandsImage(s, box, limits, res), l, t, r - l, b - t);
  const m = scene.basins;
  if (m) {
    ctx.globalAlpha = m.alpha * (m.pending ? 0.6 : 1);
    ctx.imageSmoothingEnabled = false;
    ctx.drawImage(basinsImage(m), px(m.x[0]), py(m.y[1]), px(m.x[1]) - px(m.x[0]), py(m.y[0]) - py(m.y[1]));
    ctx.globalAlpha = 1;
  }
  if (s) {
    const z = sceneArray(s.z), gx = (i) => px(s.x[0] + (i / (s.nx - 1)) * (s.x[1] - s.x[0]));
    const gy = (j) => py(s.y[0] + (j / (s.ny - 1)) * (s.y[1] - s.y[0]));
    ctx.strokeStyle = s.line; ctx.lineWidth = s.line_width;
    ctx.beginPath();
    for (const level of s.levels) {
      const seg = contourSegments(z, s.nx, s.ny, level);
      for (let k = 0; k < seg.length; k += 4) { ctx.moveTo(gx(seg[k]), gy(seg[k + 1])); ctx.lineTo(gx(seg[k + 2]), gy(seg[k + 3])); }
    }
    ctx.stroke();
  }
  const g = scene.graph;
  if (g) {
    const xy = sceneArray(g.xy);
    ctx.strokeStyle = g.color; ctx.lineWidth = g.width; ctx.lineJoin = ctx.lineCap = "round";
    ctx.beginPath();
    let pen = false;
    for (let i = 0; i < xy.length; i += 2) {
      if (!Number.isFinite(xy[i + 1])) { pen = false; continue; }
      const X = px(xy[i]), Y = py(Math.max(-1e6, Math.min(1e6, xy[i + 1])));
      if (pen) ctx.lineTo(X, Y); else ctx.moveTo(X, Y);
      pen = true;
    }
    ctx.stroke();
  }
  const pt = scene.point;
  ctx.lineWidth = pt.edge; ctx.strokeStyle = "#000000"; ctx.lineJoin = "miter";
  for (const c of scene.points) {
    ctx.fillStyle = "#ffffff";
    scenePath(ctx, c.marker, px(c.x), py(c.y), pt.size); ctx.fill(); ctx.stroke();
  }
  ctx.font = `${pt.font}px ${font}`; ctx.textAlign = "center"; ctx.fillStyle = "#1a1a1a";
  for (const c of scene.points) {
    if (!c.written) continue;
    ctx.textBaseline = c.below ? "top" : "bottom";
    ctx.fillText(c.label, px(c.x), py(c.y) + (c.below ? pt.offset : -pt.offset));
  }
  for (const k of scene.markers) {
    ctx.fillStyle = k.color;
    scenePath(ctx, k.marker, px(k.x), py(k.y), scene.marker_size); ctx.fill(); ctx.stroke();
  }
  sceneLegend(ctx, box, scene.legend, font);
  if (m && m.pending) sceneNote(ctx, box, "coarse basin map: the full one is being computed", font, noteFont);
  ctx.restore();
  const bif = scene.bifurcation;
  if (bif && stepLine && stepLine.box) {
    const bb = stepLine.box, lim = [stepLine.limits[0], stepLine.limits[1], bif.ylim[0], bif.ylim[1]];
    const [qx, qy] = sceneMap(bb, lim, stepLine.log);
    ctx.save();
    ctx.beginPath(); ctx.rect(bb[0], bb[1], bb[2] - bb[0], bb[3] - bb[1]); ctx.clip();
    ctx.fillStyle = "#ffffff"; ctx.fillRect(bb[0], bb[1], bb[2] - bb[0], bb[3] - bb[1]);
    ctx.lineWidth = bif.threshold_width; ctx.setLineDash([3.7 * bif.threshold_width, 1.6 * bif.threshold_width]);
    for (const th of bif.thresholds) {
      ctx.strokeStyle = th.color;
      ctx.beginPath(); ctx.moveTo(qx(th.value), bb[1]); ctx.lineTo(qx(th.value), bb[3]); ctx.stroke();
    }
    ctx.setLineDash([]);
    const steps = sceneArray(bif.steps), pts = sceneArray(bif.points), d = bif.size / 2;
    ctx.fillStyle = bif.color; ctx.globalAlpha = bif.alpha * (bif.pending ? 0.4 : 1);
    for (let i = 0; i < steps.length; i++) {
      const X = qx(steps[i]);
      for (let k = 0; k < bif.m; k++) {
        const v = pts[i * bif.m + k];
        if (Number.isFinite(v)) ctx.fillRect(X - d / 2, qy(v) - d / 2, d, d);
      }
    }
    ctx.globalAlpha = 1;
    sceneLegend(ctx, bb, bif.legend, font);
    if (bif.pending) sceneNote(ctx, bb, "diagram of the previous parameters: updating", font, noteFont);
    ctx.restore();
  }
}
