"""Property-based test of the public API (issue 9): random numbers, shapes, NaN, inf, bools,
strings and None in every argument of every public function.

Each call must either return a sane result (finite numbers where numbers are promised, a status
from ``dynamics.STATUSES``) or raise a ValueError / TypeError whose message names the argument
that was replaced. Any other exception, or any warning, fails. Sizes stay small (a few starts,
at most a few dozen steps) so the whole file runs in well under a minute.
"""

import contextlib
import dataclasses
import io
import pathlib
import warnings

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import reachkit as rk
from reachkit import dynamics
from reachkit import landscapes as L
from reachkit import network as N
from reachkit.analysis import BasinMap, Bifurcation, ReachResult

SPECIAL = [np.nan, np.inf, -np.inf, 0.0, -0.0, -1.0, 1e300, -1e300, 5e-324, 1e-300, True, False,
           "0.1", "abc", "", None, [], [np.nan], [1.0, 2.0], [[0.5, 0.5]], (1.0, np.inf), object()]

JUNK = st.one_of(
    st.sampled_from(SPECIAL),
    st.floats(-10, 10),
    st.integers(-3, 40),
    st.lists(st.one_of(st.floats(-3, 3), st.sampled_from([np.nan, np.inf])), max_size=4),
    st.lists(st.lists(st.floats(-3, 3), min_size=1, max_size=3), min_size=1, max_size=3),
)

SETTINGS = settings(max_examples=60, deadline=None, derandomize=True, database=None,
                    suppress_health_check=[HealthCheck.too_slow, HealthCheck.filter_too_much])


def _check_sane(result):
    """Numbers finite (NaN only where documented: a bifurcation's diverged orbits, the loss after
    an EoS run diverged), statuses known."""
    if isinstance(result, N.EoSResult):
        assert np.all(np.isfinite(result.loss)) or result.diverged
        assert np.all(np.isfinite(result.theta)) and np.isfinite(result.threshold)
    elif isinstance(result, dynamics.Path):
        assert np.all(np.isfinite(result.iterates)) and np.all(np.isfinite(result.final))
        assert set(result.status) <= set(dynamics.STATUSES)
    elif isinstance(result, ReachResult):
        assert isinstance(result.success, bool) and isinstance(result.note, str) and result.note
        assert np.all(np.isfinite(result.target))
        if result.path is not None:
            _check_sane(result.path)
    elif isinstance(result, BasinMap):
        assert result.labels.min() >= 0 and result.labels.max() < len(result.names)
        _check_sane(result.path)
    elif isinstance(result, Bifurcation):
        assert np.all(np.isfinite(result.steps))
        assert not np.any(np.isinf(result.points))
    elif isinstance(result, L.CriticalPoint):
        assert np.all(np.isfinite(result.x))
    elif isinstance(result, tuple) and all(isinstance(r, np.ndarray) for r in result):  # grid
        assert all(np.all(np.isfinite(r)) for r in result)
    elif isinstance(result, pathlib.Path):
        assert result.stat().st_size > 0
    elif isinstance(result, L.Landscape):
        assert np.all(np.isfinite(result.bounds))
    elif isinstance(result, (list, tuple)):
        for r in result:
            _check_sane(r)
    elif isinstance(result, (float, np.floating, np.ndarray)) and np.asarray(result).dtype.kind == "f":
        assert not np.any(np.isnan(result))
    elif dataclasses.is_dataclass(result):  # schedules
        for f in dataclasses.fields(result):
            v = getattr(result, f.name)
            if isinstance(v, (float, np.ndarray)):
                assert not np.any(np.isnan(v))


def _call(fn, kwargs, name, value):
    """fn(**kwargs with kwargs[name] = value): a sane result or a clear error naming ``name``."""
    args = dict(kwargs, **{name: value})
    with warnings.catch_warnings(), np.errstate(all="warn"):  # whatever np.seterr was left at
        warnings.simplefilter("error")
        try:
            result = fn(**args)
        except (ValueError, TypeError) as err:
            msg = str(err)
            words = ALIASES.get(name, (name,))
            assert any(w in msg for w in words), f"{type(err).__name__} does not name {name!r}: {msg}"
            return
    _check_sane(result)


# argument names that a message may use for the argument (the landscape's parameters are quoted)
ALIASES = {"x": ("x",), "sharp": ("'sharp'",), "flat": ("'flat'",)}

SF2 = L.sharp_flat_2d()
SF1 = L.sharp_flat_double_well()
SUM = L.sharp_flat_2d_sum(n_samples=4)


def _value(x):
    return 0.5 * np.sum(x**2, axis=-1)


def _grad(x):
    return 1.0 * x


CALLS = {
    "gradient_descent": (rk.gradient_descent, dict(landscape=SF2, starts=[[-0.7, 0.2]], step=0.04, n_steps=20,
                                                   gtol=1e-10, record_every=1)),
    "gradient_flow": (rk.gradient_flow, dict(landscape=SF2, starts=[[-0.7, 0.2]], t_max=2.0, n_times=5,
                                             gtol=1e-10, rtol=1e-8, atol=1e-10)),
    "sgd": (rk.sgd, dict(landscape=SUM, starts=[[-0.7, 0.2]], step=0.02, n_steps=20, batch_size=2, seed=0)),
    "subgradient_method": (rk.subgradient_method, dict(landscape=L.absolute_value(), starts=[[0.625]],
                                                       step=0.125, n_steps=10)),
    "reach": (rk.reach, dict(landscape=SF1, target="flat minimum", step=0.04, tol=1e-8, max_steps=200,
                             radius=1.0, method="gd")),
    "basin_map": (rk.basin_map, dict(landscape=SF1, step=0.04, n=6, n_steps=30, method="gd", t_max=2.0,
                                     gtol=1e-8)),
    "bifurcation": (rk.bifurcation, dict(landscape=L.smooth_double_well(), steps=[0.09, 0.105],
                                         starts=[-0.95], n_transient=20, n_keep=4)),
    "classify": (rk.classify, dict(landscape=SF2, x=[-1.0, 0.0], tol=1e-8, gtol=1e-6)),
    "sharpness": (rk.sharpness, dict(landscape=SF2, x=[[-1.0, 0.0], [0.3, 0.1]])),
    "stability_threshold": (rk.stability_threshold, dict(landscape=SF2, x=[-1.0, 0.0])),
    "find_critical_points": (rk.find_critical_points, dict(landscape=L.smooth_double_well(), n_starts=20,
                                                           seed=0, newton_steps=20, gtol=1e-9)),
    "grid": (SF2.grid, dict(n=5, bounds=[(-1, 1), (-1, 1)])),
    "constant": (rk.constant, dict(a=0.1)),
    "power": (rk.power, dict(a0=0.1, p=0.5)),
    "armijo": (rk.armijo, dict(a0=1.0)),
    "polyak": (rk.polyak, dict(f_min=0.0)),
    "from_functions": (rk.from_functions, dict(value=_value, grad=_grad, dim=2, bounds=[(-2, 2), (-2, 2)],
                                               lipschitz=1.0, smooth=True, name="bowl")),
    "sharp_flat_2d": (L.sharp_flat_2d, dict(sharp=20.0, flat=1.0)),
    "smooth_double_well": (L.smooth_double_well, dict(sharp=20.0, flat=1.0)),
    "quadratic": (L.quadratic, dict(curvatures=(1.0, 10.0))),
    "shifted_quadratics": (L.shifted_quadratics, dict(shifts=(-1.0, 0.0, 2.0))),
    "interpolating_quadratics": (L.interpolating_quadratics, dict(weights=(0.5, 1.5))),
    "sharp_flat_2d_sum": (L.sharp_flat_2d_sum, dict(n_samples=4, spread=0.5, seed=0)),
}

_X, _Y = N.make_dataset(8, 2, 0)
NET = N.NetworkLandscape(_X, _Y, (2, 3, 1))  # 13 parameters

CALLS.update({
    "make_dataset": (N.make_dataset, dict(n_samples=8, n_features=2, seed=0, n_outputs=1, teacher_width=4,
                                          teacher_gain=3.0, target_scale=2.5, noise=0.0)),
    "network_init": (NET.init, dict(seed=0, scale=1.0)),
    "network_sharpness": (NET.sharpness, dict(theta=NET.init(0))),
    "top_eigenvalue": (N.top_eigenvalue, dict(hvp=lambda v: np.arange(1.0, len(v) + 1) * v, dim=5, n_iter=50,
                                              tol=1e-6, seed=0, v0=None, ncv=None)),
    "edge_of_stability": (N.edge_of_stability, dict(landscape=NET, theta0=NET.init(0), step=0.1, n_steps=5,
                                                    sharpness_every=2, seed=0, eig_tol=1e-4, eig_ncv=5)),
})

EVALUATIONS = {"value": SF2.value, "grad": SF2.grad, "hess": L.mexican_hat().hess}  # hess: finite differences


@pytest.mark.parametrize("fn_name", sorted(EVALUATIONS))
@SETTINGS
@given(value=JUNK)
def test_evaluation_gives_finite_numbers_at_moderate_points_or_a_clear_error(fn_name, value):
    """value / grad / hess: NaN in gives NaN out (no error), but moderate finite points give
    finite numbers of the right shape, and non-numbers a clear error naming x."""
    with warnings.catch_warnings(), np.errstate(all="warn"):  # whatever np.seterr was left at
        warnings.simplefilter("error")
        try:
            out = EVALUATIONS[fn_name](value)
        except (ValueError, TypeError) as err:
            assert "x " in str(err) or "x must" in str(err), str(err)
            return
    x = np.asarray(value, dtype=float)
    x = x.reshape(1) if x.ndim == 0 else x
    lead = x.shape[:-1]
    assert out.shape[:len(lead)] == lead
    moderate = np.all(np.isfinite(x) & (np.abs(x) < 1e30), axis=-1)
    assert np.all(np.isfinite(out[moderate]))


CASES = [pytest.param(fn_name, arg, id=f"{fn_name}-{arg}")
         for fn_name, (_, kwargs) in CALLS.items() for arg in kwargs if arg != "landscape"]


@pytest.mark.parametrize("fn_name, arg", CASES)
@SETTINGS
@given(value=JUNK)
def test_every_argument_gives_a_sane_result_or_a_clear_error(fn_name, arg, value):
    fn, kwargs = CALLS[fn_name]
    _call(fn, kwargs, arg, value)


@pytest.mark.parametrize("fn_name", ["classify", "sharpness", "stability_threshold"])
@SETTINGS
@given(shape=st.lists(st.integers(0, 3), min_size=0, max_size=3),
       fill=st.sampled_from([0.3, np.nan, np.inf, -1e300, 1e300]))
def test_point_arguments_of_any_shape(fn_name, shape, fill):
    fn, kwargs = CALLS[fn_name]
    _call(fn, kwargs, "x", np.full(tuple(shape), fill))


@SETTINGS
@given(values=st.dictionaries(st.sampled_from(["sharp", "flat"]), JUNK, min_size=1))
def test_landscape_parameters_through_with_params(values):
    with warnings.catch_warnings(), np.errstate(all="warn"):  # whatever np.seterr was left at
        warnings.simplefilter("error")
        try:
            ls = SF2.with_params(**values)
        except (ValueError, TypeError) as err:
            assert any(f"'{k}'" in str(err) for k in values), str(err)
            return
    assert set(ls.params) == {"sharp", "flat"}
    _check_sane(ls.critical_points())


SPIRAL = dict(start=(0.5, 0.0), turns=1.0, n_points=20, rtol=1e-8, atol=1e-10)


@pytest.mark.parametrize("arg", sorted(SPIRAL))
@settings(max_examples=25, deadline=None, derandomize=True, database=None,
          suppress_health_check=[HealthCheck.too_slow])
@given(value=JUNK)
def test_mexican_hat_flow_arguments(arg, value):
    """Its ODE solver (LSODA) gets only checked numbers: a bad one left it broken (issue 16 R1)."""
    _call(L.mexican_hat_flow, SPIRAL, arg, value)


ANIMATION = dict(fps=10, max_frames=4, hold_last=1, dpi=30, figsize=(2.0, 1.5), trail=3, methods=("gd",),
                 n_steps=3, step=0.05, start=(0.2, 0.9), lecture=False, loop=True)


@pytest.mark.parametrize("arg", sorted(ANIMATION))
@settings(max_examples=8, deadline=None, derandomize=True, database=None,
          suppress_health_check=[HealthCheck.too_slow])
@given(value=JUNK)
def test_save_animation_arguments(tmp_path_factory, arg, value):
    out = tmp_path_factory.mktemp("anim") / "a.gif"
    _call(lambda **kw: rk.save_animation(SF2, out, **kw), ANIMATION, arg, value)


LINK_TEXT = st.one_of(JUNK, st.text(max_size=30), st.sampled_from([
    "https://hub.example.edu", "HTTPS://h.org/a b", "https://h.org/?q#f", "javascript:alert(1)", "file:///etc",
    "--upload-pack=x", "../../etc", "a/./b", "https://h.org/<script>", 'https://h.org/"x', "git://h/r.git",
    "https://h.org\n/x", "03", "03_x.ipynb", "../x.ipynb"]))
LINK = dict(hub="https://hub.example.edu/j", repo="https://github.com/o/reachkit.git", branch="main",
            notebook=None, folder="reachkit", app="lab")


@pytest.mark.parametrize("arg", sorted(LINK))
@SETTINGS
@given(value=LINK_TEXT)
def test_hub_links_are_well_formed_urls_or_a_clear_error(arg, value):
    """A link parses back (urlsplit / parse_qs) to the hub's own address and exactly the values given:
    http(s), no spaces, quotes or < in it, a repository on http(s)/git/ssh, a folder inside the home."""
    from urllib.parse import parse_qs, urlsplit

    from reachkit.links import hub_link

    kwargs = dict(LINK, **{arg: value})
    try:
        link = hub_link(**kwargs)
    except (TypeError, ValueError) as err:
        assert arg in str(err), str(err)
        return
    parts = urlsplit(link)
    assert parts.scheme in ("http", "https") and parts.hostname and not parts.fragment
    assert not any(c in link for c in ' "<>\\\n\t'), link
    assert parts.path.endswith("/hub/user-redirect/git-pull")
    q = {k: v[0] for k, v in parse_qs(parts.query, strict_parsing=True).items()}
    assert set(q) == {"repo", "branch", "targetpath", "urlpath"}
    assert urlsplit(q["repo"]).scheme in ("http", "https", "git", "ssh") and not q["repo"].startswith("-")
    assert ".." not in q["targetpath"].split("/") and ".." not in q["urlpath"].split("/")
    assert q["branch"] == kwargs["branch"].strip() and not q["branch"].startswith("-")


# -- the explorer's front-end traits and requests: what a browser (or a hand-made message) can send --

FRONT_TRAITS = ["step", "start", "frame", "playing", "speed", "revealed", "reduced_motion", "trail", "limits"]
_FRONT = {}


def _front_explorer():
    if "ex" not in _FRONT:
        _FRONT["ex"] = rk.explore(L.sharp_flat_2d(), start=(-0.7, 1.2), step=0.04, n_steps=60)
    return _FRONT["ex"]


def _sane_explorer(ex):
    """The model's values are valid and shown: a finite start inside the plot, a positive step in use,
    a status line that is the run's own or says what was refused."""
    v = ex.model.values
    assert np.all(np.isfinite(v["start"])) and len(v["start"]) == 2 and v["step"] > 0
    assert ex.view.step > 0 and len(ex.view.start) == 2 and np.all(np.isfinite(ex.view.start))
    assert ex.view.status == ex.model.current.status or ex.view.status.startswith("Could not update:")
    assert set(ex.model.current.status.split(": ", 1)[0].split()) and ex.describe()


@SETTINGS
@given(name=st.sampled_from(FRONT_TRAITS), value=JUNK)
def test_front_end_trait_values_are_taken_or_refused_in_the_status_line(name, value):
    """A synced trait from the browser (ipywidgets' set_state): taken if valid, else refused in the
    status line; nothing raised, nothing printed into the kernel's output; the explorer still works."""
    ex = _front_explorer()
    with warnings.catch_warnings(), contextlib.redirect_stderr(io.StringIO()) as err:
        warnings.simplefilter("error")
        ex.view.set_state({name: value})
    assert err.getvalue() == ""
    _sane_explorer(ex)
    assert ex.set(step=0.05) and ex.model.values["step"] == 0.05 and ex.view.status == ex.model.current.status


REQUEST_CHANGES = st.dictionaries(st.sampled_from(["start", "step", "sharp", "flat", "frame", "x", ""]), JUNK,
                                  max_size=3)


@SETTINGS
@given(seq=st.one_of(st.integers(-2, 10**9), st.sampled_from([None, True, "1", 1.5, np.nan])),
       final=st.one_of(st.booleans(), st.sampled_from([None, 0, 1, "yes"])), changes=REQUEST_CHANGES,
       junk=st.sampled_from([None, {}, [], "rk-ping?", 5]))
def test_front_end_requests_are_answered_or_refused_never_raised(seq, final, changes, junk):
    """A drag request from the view ({seq, final, changes}): applied and acknowledged with its seq, or
    refused in the status line (still acknowledged when its seq is valid, so the drag goes on)."""
    ex = _front_explorer()
    before = ex.view.ack
    content = {"seq": seq, "final": final, "changes": changes} if junk is None else junk
    with warnings.catch_warnings(), contextlib.redirect_stderr(io.StringIO()) as err:
        warnings.simplefilter("error")
        ex.view._on_front_msg(ex.view, content, [])
    assert err.getvalue() == ""
    _sane_explorer(ex)
    valid_seq = isinstance(seq, int) and not isinstance(seq, bool) and seq >= 0
    assert ex.view.ack == (seq if junk is None and valid_seq else before)
    assert ex.set(step=0.05, sharp=20.0) and ex.view.status == ex.model.current.status
