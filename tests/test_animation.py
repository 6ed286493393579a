"""reachkit.animation.save_animation writes files that open: GIF frames, an HTML player, MP4."""

import sys

import numpy as np
import pytest
from PIL import Image

from reachkit import dynamics, landscapes
from reachkit.animation import _frame_indices, ffmpeg_available, run_paths, save_animation

SMALL = dict(max_frames=12, dpi=40, figsize=(4.0, 3.0))


def test_gif_has_the_frames_and_loops(tmp_path):
    ls = landscapes.sharp_flat_2d()
    out = save_animation(ls, tmp_path / "gd.gif", step=0.12, start=(0.2, 0.9), n_steps=11,
                         fps=10, hold_last=0, **SMALL)
    with Image.open(out) as im:
        assert im.n_frames == 12  # iterates 0..11, each frame different (the counter changes)
        assert im.size == (160, 120)
        assert im.info.get("loop") == 0 and im.info.get("duration") == 100


def test_frames_are_spread_over_the_run_and_keep_the_end():
    idx = _frame_indices(501, 60)
    assert idx[0] == 0 and idx[-1] == 500 and len(idx) == 60
    assert list(_frame_indices(5, 60)) == [0, 1, 2, 3, 4]


def test_html_player_is_self_contained(tmp_path):
    ls = landscapes.sharp_flat_double_well()
    out = save_animation(ls, tmp_path / "gd.html", step=0.05, start=-0.5, n_steps=30, **SMALL)
    text = out.read_text()
    assert text.startswith("<!DOCTYPE html>") and "</html>" in text
    assert "Animation" in text and "data:image/jpeg;base64," in text  # the JS player, JPEG frames
    assert "converged to the sharp minimum" in text  # caption in words
    assert 5_000 < out.stat().st_size < 2_000_000


def test_mp4_when_ffmpeg_is_available(tmp_path):
    ls = landscapes.saddle()
    if ffmpeg_available() is None:
        with pytest.raises(ModuleNotFoundError, match=r"pip install 'reachkit\[video\]'"):
            save_animation(ls, tmp_path / "gd.mp4", step=0.1, start=(1.0, 0.01), n_steps=20, **SMALL)
        return
    out = save_animation(ls, tmp_path / "gd.mp4", step=0.1, start=(1.0, 0.01), n_steps=20, **SMALL)
    data = out.read_bytes()
    assert data[4:8] == b"ftyp" and len(data) > 1000


@pytest.mark.parametrize("missing", ["ffmpeg binary", "imageio_ffmpeg module"])
def test_mp4_without_the_video_extra_names_it(tmp_path, monkeypatch, missing):
    import reachkit.animation as A

    if missing == "ffmpeg binary":
        monkeypatch.setattr(A, "ffmpeg_available", lambda: None)
    else:  # a lean install: `import imageio_ffmpeg` fails even if a system ffmpeg exists
        monkeypatch.setitem(sys.modules, "imageio_ffmpeg", None)
        monkeypatch.setattr(A, "ffmpeg_available", lambda: "/usr/bin/ffmpeg")
    with pytest.raises(ModuleNotFoundError, match=r"imageio-ffmpeg: pip install 'reachkit\[video\]'"):
        save_animation(landscapes.saddle(), tmp_path / "x.mp4", **SMALL)
    assert not (tmp_path / "x.mp4").exists()


def test_given_paths_are_drawn_as_they_are(tmp_path):
    ls = landscapes.sharp_flat_2d_sum()
    x0 = (0.2, 0.9)
    paths = {"gd": dynamics.gradient_descent(ls, x0, 0.05, 20),
             "sgd": dynamics.sgd(ls, x0, 0.05, 20, seed=3)}
    out = save_animation(ls, tmp_path / "both.gif", paths=paths, lecture=True, **SMALL)
    with Image.open(out) as im:
        assert im.n_frames >= 10
    # one Path alone is drawn under its own method's name
    out = save_animation(ls, tmp_path / "one.gif", paths=paths["sgd"], **SMALL)
    assert out.exists()


def test_run_paths_matches_the_dynamics():
    ls = landscapes.sharp_flat_2d_sum()
    runs = run_paths(ls, start=(0.2, 0.9), step=0.05, methods=("gd", "sgd", "flow"), n_steps=20,
                     batch_size=2, seed=5)
    np.testing.assert_allclose(runs["gd"].iterates,
                               dynamics.gradient_descent(ls, (0.2, 0.9), 0.05, 20).iterates)
    np.testing.assert_allclose(runs["sgd"].iterates,
                               dynamics.sgd(ls, (0.2, 0.9), 0.05, 20, batch_size=2, seed=5).iterates)
    assert runs["flow"].times[-1] == pytest.approx(20 * 0.05)


def test_bad_requests_raise_clear_errors(tmp_path):
    ls = landscapes.saddle()
    with pytest.raises(ValueError, match=r"filename must end in one of \(.\.gif., .\.mp4., .\.html., .\.htm.\)"):
        save_animation(ls, tmp_path / "x.avi")
    with pytest.raises(ValueError, match="finite-sum"):
        save_animation(ls, tmp_path / "x.gif", methods=("sgd",))
    with pytest.raises(ValueError, match="1-D and 2-D"):
        save_animation(landscapes.quadratic((1.0, 1.0, 1.0)), tmp_path / "x.gif")


def test_held_last_frame_is_one_frame_shown_longer(tmp_path):
    ls = landscapes.sharp_flat_2d()
    out = save_animation(ls, tmp_path / "hold.gif", step=0.12, start=(0.2, 0.9), n_steps=7,
                         fps=20, hold_last=500, **SMALL)
    with Image.open(out) as im:
        assert im.n_frames == 8  # held frames are not repeated (bounded memory and time)
        durations = []
        for i in range(im.n_frames):
            im.seek(i)
            durations.append(im.info["duration"])
    assert durations == [50] * 7 + [50 * 501]


@pytest.mark.parametrize("kwargs, exc, name", [
    (dict(fps=10**6), ValueError, "fps"), (dict(fps=0), ValueError, "fps"), (dict(fps=2.5), TypeError, "fps"),
    (dict(hold_last=10**6), ValueError, "hold_last"), (dict(max_frames=0), ValueError, "max_frames"),
    (dict(max_frames=10**6), ValueError, "max_frames"), (dict(dpi=0), ValueError, "dpi"),
    (dict(dpi=True), TypeError, "dpi"), (dict(figsize=(0.0, 3.0)), ValueError, "figsize"),
    (dict(figsize=(100.0, 3.0)), ValueError, "figsize"), (dict(loop="yes"), TypeError, "loop"),
    (dict(figsize=(0.5, 0.5)), ValueError, r"figsize\[0\] must be >= 1.5; got 0.5"),  # tight layout failed
    (dict(seed="x"), TypeError, "seed must be an integer; got 'x'"),  # without SGD among the methods
    (dict(batch_size=0), ValueError, "batch_size must be an integer >= 1"),
])
def test_bad_arguments_are_refused_before_any_work(tmp_path, kwargs, exc, name):
    with pytest.raises(exc, match=name):
        save_animation(landscapes.saddle(), tmp_path / "x.gif", **kwargs)
    assert not (tmp_path / "x.gif").exists()


def test_a_missing_folder_is_refused_and_an_existing_file_is_overwritten(tmp_path):
    ls = landscapes.saddle()
    with pytest.raises(ValueError, match="does not exist"):
        save_animation(ls, tmp_path / "no" / "such" / "x.gif", n_steps=3, **SMALL)
    assert not (tmp_path / "no").exists()
    target = tmp_path / "x.gif"
    target.write_bytes(b"old")
    save_animation(ls, target, n_steps=3, **SMALL)
    with Image.open(target) as im:
        assert im.format == "GIF"


def test_the_html_player_renders_each_frame_when_it_encodes_it(tmp_path, monkeypatch):
    """Issue 16 R5: the HTML export rendered every RGB frame first (600 frames at 1000 px:
    1.9 GB). Now at most the frame being encoded (and the last, kept for the hold) is alive."""
    import weakref

    import reachkit.animation as A

    alive, most = [], [0]
    make = A._frame_renderer

    def counting(*args, **kwargs):
        render = make(*args, **kwargs)

        def tracked(k):
            frame = render(k)
            alive.append(weakref.ref(frame))
            most[0] = max(most[0], sum(r() is not None for r in alive))
            return frame
        return tracked

    monkeypatch.setattr(A, "_frame_renderer", counting)
    save_animation(landscapes.sharp_flat_2d(), tmp_path / "gd.html", step=0.05, start=(0.2, 0.9),
                   n_steps=20, max_frames=20, dpi=20, figsize=(2.0, 1.5), hold_last=0)
    assert most[0] <= 3


def test_an_html_player_above_the_memory_budget_is_refused_with_its_size(tmp_path, monkeypatch):
    from reachkit import checks

    monkeypatch.setattr(checks, "MEMORY_BUDGET", 8 * 2**20)  # the run itself needs about 5 MiB
    with pytest.raises(ValueError, match=r"HTML player of 60 frames of 600 x 440 pixels .* needs about .* MiB.*"
                                         r"memory budget of 8 MiB.*max_frames"):
        save_animation(landscapes.sharp_flat_2d(), tmp_path / "gd.html", step=0.05, start=(0.2, 0.9),
                       n_steps=59, max_frames=60, dpi=100, hold_last=0)
    assert not (tmp_path / "gd.html").exists()
