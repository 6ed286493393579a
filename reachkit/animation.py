"""Save a run as an animation for slides: GIF (Pillow), MP4 (ffmpeg) or a self-contained HTML player.

    from reachkit.animation import save_animation
    save_animation(landscapes.sharp_flat_2d(), "gd.gif", step=0.12, start=(0.2, 0.9))
    explorer.save("run.mp4")                       # the run an explorer shows

The format comes from the file extension. Frames are drawn with :mod:`reachkit.plotting` (the
same artists as the live explorers). The static landscape is rendered once; each frame only
redraws the moving path artists on a copy of it (blitting), so a 60-frame GIF takes a second or
two rather than a full figure draw per frame.
"""

from __future__ import annotations

import contextlib
import html
import importlib.util
import os
import pathlib

import numpy as np

from . import checks, dynamics, plotting, schedules
from . import methods as _methods
from .landscapes import Landscape

__all__ = ["save_animation", "run_paths", "ffmpeg_available", "FORMATS"]

FORMATS = (".gif", ".mp4", ".html", ".htm")


def ffmpeg_available() -> str | None:
    """Path of an ffmpeg executable (imageio-ffmpeg's bundled one first), or None."""
    try:
        import imageio_ffmpeg
        return imageio_ffmpeg.get_ffmpeg_exe()
    except Exception:  # not installed, or no binary for this platform
        import shutil
        return shutil.which("ffmpeg")


def run_paths(landscape: Landscape, *, start=None, step=0.05, methods=("gd",), n_steps: int = 60,
              batch_size: int = 1, seed: int = 0, **options) -> dict:
    """Compute the runs to animate: {method: Path} for the registry's methods (:mod:`reachkit.methods`:
    "gd", "sgd", "flow", "momentum", ...) from one start.

    ``step`` is a number or a schedule; the flow runs for the total time of the steps. ``batch_size``
    and ``seed`` are SGD's; ``options`` the other methods' (``mu`` for momentum).
    """
    if start is None:
        b = landscape.bounds
        start = b[:, 0] + np.array([0.4, 0.8])[:landscape.dim] * (b[:, 1] - b[:, 0])
    sched = schedules.as_schedule(step)
    n_steps = checks.integer("n_steps", n_steps, low=1)
    try:
        methods = (methods,) if isinstance(methods, str) else tuple(methods)  # "gd" is one method
    except TypeError:
        raise TypeError(f"methods must be a list of {tuple(_methods.METHODS)}; got {methods!r}") from None
    given = dict(options, batch_size=batch_size, seed=seed)
    known = {o.name: o for m in _methods.METHODS.values() for o in m.options}
    if set(options) - set(known):
        raise TypeError(f"unknown option(s) {sorted(set(options) - set(known))}; the methods' options are "
                        f"{sorted(known)}")
    for name, value in given.items():  # the kind of every option, used or not: seed="x" without SGD too
        known[name].check(value)
    out = {}
    for key in methods:
        m = _methods.METHODS[checks.choice("methods", key, tuple(_methods.METHODS))]
        if not m.available(landscape):
            raise ValueError(m.why_not(landscape))
        opts = {o.name: o.check(given.get(o.name, o.default), landscape) for o in m.options}
        out[key] = m.run(landscape, start, sched, n_steps, **opts)
    return out


def _frame_indices(n_rec: int, max_frames: int) -> np.ndarray:
    """At most ``max_frames`` iterate indices from 0 to n_rec - 1, always keeping the last."""
    if n_rec <= max_frames:
        return np.arange(n_rec)
    return np.unique(np.linspace(0, n_rec - 1, max_frames).round().astype(int))


def _frame_renderer(landscape, paths, *, dpi, figsize, trail, lecture, title):
    """A function k -> RGB frame (H, W, 3) uint8 of the run at iterate k: the background is drawn
    once, the moving artists are blitted onto it."""
    with plotting.lecture_style() if lecture else contextlib.nullcontext():
        fig, (ax,) = plotting.new_figure(figsize=figsize, dpi=dpi)
        plotting.draw_landscape(ax, landscape)
        artists = {m: plotting.draw_path(ax, landscape, p, method=m, trail=trail, animated=True)
                   for m, p in paths.items()}
        ax.legend(handles=[a.full for a in artists.values()], loc="upper right",
                  fontsize="small", framealpha=0.85)
        ax.set_title(title or landscape.name, fontsize="medium")
        counter = ax.text(0.02, 0.97, "", transform=ax.transAxes, va="top", ha="left",
                          animated=True, bbox=dict(fc="white", ec="none", alpha=0.7))
        fig.tight_layout()
    flow_only = list(paths) == ["flow"]
    canvas = fig.canvas
    canvas.draw()  # animated artists are left out of this background
    bg = canvas.copy_from_bbox(fig.bbox)

    def render(k):
        canvas.restore_region(bg)
        for pa in artists.values():
            pa.show(k)
            for a in pa.artists:
                ax.draw_artist(a)
        t = paths["flow"].times[min(k, len(paths["flow"].times) - 1)] if flow_only else None
        counter.set_text(f"t = {t:.3g}" if flow_only else f"k = {k}")
        ax.draw_artist(counter)
        return np.asarray(canvas.buffer_rgba())[..., :3].copy()

    return render


def _caption(landscape, paths) -> str:
    parts = [f"{_methods.METHODS[m].name if m in _methods.METHODS else m}: {p.describe(0)}"
             for m, p in paths.items()]
    return f"{landscape.name}. " + "; ".join(parts)


MAX_FPS, MAX_FRAMES, MAX_HOLD, MAX_PIXELS = 100, 600, 500, 4000  # MAX_PIXELS: per side
MIN_INCHES = 1.5  # per side of figsize: smaller leaves no room for the axes' labels (in lecture style too)
_HTML_COPIES = 7  # the HTML page's encoded frames are held about this many times over (measured: 5 to 6)
_HTML_PIXEL_BYTES = 160  # and the figures, canvases and image buffers, per pixel of a frame (measured: 145)


def save_animation(landscape: Landscape, filename, paths=None, *, start=None, step=0.05,
                   methods=("gd",), n_steps: int = 60, batch_size: int = 1, seed: int = 0,
                   fps: int = 15, max_frames: int = 60, dpi: int = 80, figsize=(6.0, 4.4),
                   trail: int = 15, lecture: bool = False, title: str | None = None,
                   hold_last: int | None = None, loop: bool = True) -> pathlib.Path:
    """Write a run as ``.gif``, ``.mp4`` or ``.html`` (a player that needs no kernel).

    ``paths`` is a Path (drawn as the method that made it) or a dict {method key: Path}, e.g. an explorer's
    ``paths``; without it the runs are computed from ``start``, ``step`` (number or schedule),
    ``methods`` and ``n_steps``. At most ``max_frames`` frames (evenly spaced iterates, <= 600)
    at ``fps`` frames per second (1 to 100), ``figsize`` at least 1.5 x 1.5 inches; the last one is
    held for ``hold_last`` more frame times (default half a second, at most 500; a GIF shows it once
    for longer, so held frames cost no memory; the HTML player repeats it, at most one second's
    worth). Frames are rendered one at a time and streamed to the writer. The folder of
    ``filename`` must exist; an existing file is overwritten. Returns the file path. MP4 needs the
    ``video`` extra (imageio-ffmpeg); without it a ModuleNotFoundError names it.
    """
    out = checks.output_file("filename", filename, FORMATS)
    ext = out.suffix.lower()
    if landscape.dim not in (1, 2):
        raise ValueError(f"only 1-D and 2-D landscapes can be animated; this one has dim={landscape.dim}")
    fps = checks.integer("fps", fps, low=1, high=MAX_FPS)
    max_frames = checks.integer("max_frames", max_frames, low=1, high=MAX_FRAMES)
    hold = max(1, fps // 2) if hold_last is None else checks.integer("hold_last", hold_last, low=0, high=MAX_HOLD)
    dpi = checks.real("dpi", dpi, low=10, high=600)
    size = [checks.real(f"figsize[{i}]", v, low=MIN_INCHES) for i, v in enumerate(_pair("figsize", figsize))]
    if max(size) * dpi > MAX_PIXELS:
        raise ValueError(f"figsize x dpi = {size[0] * dpi:.0f} x {size[1] * dpi:.0f} pixels; at most "
                         f"{MAX_PIXELS} per side: lower dpi or figsize")
    trail = checks.integer("trail", trail, low=0)
    lecture, loop = checks.flag("lecture", lecture), checks.flag("loop", loop)
    ffmpeg = None
    if ext == ".mp4":
        ffmpeg = ffmpeg_available()
        if ffmpeg is None or importlib.util.find_spec("imageio_ffmpeg") is None:
            raise ModuleNotFoundError(f"MP4 export needs imageio-ffmpeg: pip install 'reachkit[video]' "
                                      f"(or save {out.with_suffix('.gif').name} or .html instead)")
    if paths is None:
        paths = run_paths(landscape, start=start, step=step, methods=methods, n_steps=n_steps,
                          batch_size=batch_size, seed=seed)
    elif isinstance(paths, dynamics.Path):
        paths = {_methods.key_of(paths): paths}
    if not paths:
        raise ValueError("nothing to animate: no paths given and no methods selected")
    render = _frame_renderer(landscape, paths, dpi=dpi, figsize=tuple(size), trail=trail,
                             lecture=lecture, title=title)
    ks = _frame_indices(max(len(p.times) for p in paths.values()), max_frames)
    if ext == ".gif":
        _write_gif(out, render, ks, fps, hold, loop)
    elif ext == ".mp4":
        _write_mp4(out, (render(k) for k in ks), fps, hold, ffmpeg)
    else:
        _write_html(out, render, ks, fps, min(hold, fps), loop, _caption(landscape, paths))
    return out


def _pair(name, value):
    try:
        a, b = value
    except (TypeError, ValueError):
        raise TypeError(f"{name} must be a pair (width, height) in inches; got {value!r}") from None
    return a, b


def _write_gif(out, render, ks, fps, hold, loop):
    """Frames quantised one at a time to one shared palette (from the last frame, which shows the
    whole path); the last frame is shown (1 + hold) frame times instead of being repeated."""
    from PIL import Image

    pal = Image.fromarray(render(ks[-1])).quantize(colors=255, method=Image.Quantize.MEDIANCUT)
    frames = (Image.fromarray(render(k)).quantize(palette=pal, dither=Image.Dither.NONE) for k in ks)
    duration = [round(1000 / fps)] * (len(ks) - 1) + [round(1000 * (1 + hold) / fps)]
    next(frames).save(out, save_all=True, append_images=frames, duration=duration,
                      loop=0 if loop else 1, optimize=False, disposal=1)


def _write_mp4(out, frames, fps, hold, ffmpeg):
    import imageio_ffmpeg

    os.environ.setdefault("IMAGEIO_FFMPEG_EXE", ffmpeg)
    frames = iter(frames)
    first = next(frames)
    h, w = first.shape[:2]
    # libx264 with yuv420p needs even sizes: pad by one pixel if needed
    ph, pw = h + h % 2, w + w % 2

    def pad(f):
        if (ph, pw) == f.shape[:2]:
            return f
        g = np.full((ph, pw, 3), 255, np.uint8)
        g[:h, :w] = f
        return g

    writer = imageio_ffmpeg.write_frames(str(out), (pw, ph), fps=fps, codec="libx264",
                                         pix_fmt_in="rgb24", pix_fmt_out="yuv420p",
                                         macro_block_size=1, quality=7)
    writer.send(None)
    last = pad(first)
    writer.send(last)
    for f in frames:
        last = pad(f)
        writer.send(last)
    for _ in range(hold):  # the same array again: no new memory
        writer.send(last)
    writer.close()


def _write_html(out, render, ks, fps, hold, loop, caption):
    """A self-contained page: matplotlib's JavaScript player (``to_jshtml``) with JPEG frames.

    Each frame is rendered when the player encodes it (one RGB frame in memory at a time), onto
    a figure that is a single image, cheap to redraw. The page holds every encoded frame and is
    built from them in a few copies (:data:`_HTML_COPIES`): from the last frame's JPEG size (it
    shows the whole path, the fullest picture) the page's size is estimated and, with the
    figures' buffers, refused above the memory budget before the other frames are encoded.
    """
    import io

    import matplotlib as mpl
    from matplotlib.animation import FuncAnimation

    last = render(ks[-1])
    h, w = last.shape[:2]
    fig, (ax,) = plotting.new_figure(figsize=(w / 100, h / 100), dpi=100)
    ax.set_position([0, 0, 1, 1])
    ax.set_axis_off()
    im = ax.imshow(last, interpolation="nearest")
    n_frames = len(ks) + hold  # the last frame is repeated for the hold
    with io.BytesIO() as jpeg:
        fig.savefig(jpeg, format="jpeg")
        page = n_frames * 4 / 3 * jpeg.tell()  # base64
    checks.memory(f"an HTML player of {n_frames} frames of {w} x {h} pixels (about {page / 2**20:.0f} MB "
                  f"of JPEG frames, built in {_HTML_COPIES} copies)", _HTML_COPIES * page + _HTML_PIXEL_BYTES * w * h,
                  "fewer frames (max_frames, hold_last), a smaller dpi or figsize, or save a .gif or .mp4")

    def show(j):
        if j < len(ks):
            im.set_data(render(ks[j]))  # held frames: the last one stays
        return (im,)

    anim = FuncAnimation(fig, show, frames=n_frames, interval=1000 / fps, repeat=loop)
    limit_mb = checks.MEMORY_BUDGET / _HTML_COPIES / 2**20  # matplotlib drops frames above it
    with mpl.rc_context({"animation.frame_format": "jpeg", "animation.embed_limit": limit_mb}):
        player = anim.to_jshtml(fps=fps, default_mode="loop" if loop else "once")
    if player.count("data:image/jpeg;base64,") != n_frames:
        raise ValueError(f"the HTML player's frames passed {limit_mb:.0f} MB, above the estimate from the last "
                         "frame: save fewer frames (max_frames), a smaller dpi or figsize, or a .gif or .mp4")
    page = (
        "<!DOCTYPE html>\n<html lang='en'><head><meta charset='utf-8'>"
        f"<title>{html.escape(caption[:80])}</title></head><body>\n"
        f"{player}\n<p>{html.escape(caption)}</p>\n</body></html>\n")
    out.write_text(page, encoding="utf-8")
