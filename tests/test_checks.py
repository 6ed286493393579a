"""The shared argument rule: bools and strings are not numbers; messages name argument, value, rule."""

import numpy as np
import pytest

from reachkit import checks


@pytest.mark.parametrize("bad", [True, "0.1", None, [0.1], 1j])
def test_real_refuses_what_is_not_a_real_number(bad):
    with pytest.raises(TypeError, match="step must be a real number"):
        checks.real("step", bad)


@pytest.mark.parametrize("bad", [float("nan"), float("inf"), -1.0, 0.0])
def test_real_positive_refuses_nan_inf_and_non_positive(bad):
    with pytest.raises(ValueError, match=r"step must be .*got"):
        checks.real("step", bad, positive=True)


def test_real_accepts_numpy_scalars_and_ints_and_returns_float():
    assert checks.real("step", np.float32(0.5)) == 0.5
    assert type(checks.real("step", 2)) is float
    assert checks.real("x", float("inf"), finite=False) == float("inf")


def test_real_bounds_open_and_closed():
    assert checks.real("c", 0.5, low=0, high=1, low_open=True, high_open=True) == 0.5
    with pytest.raises(ValueError, match=r"c must be > 0 and < 1; got 1"):
        checks.real("c", 1, low=0, high=1, low_open=True, high_open=True)
    assert checks.real("c", 1, low=0, high=1) == 1.0


@pytest.mark.parametrize("bad", [True, 2.5, 2.0, "3", None])
def test_integer_refuses_bools_floats_strings(bad):
    with pytest.raises(TypeError, match="n_steps must be an integer"):
        checks.integer("n_steps", bad)


def test_integer_bounds_and_numpy_ints():
    assert checks.integer("n", np.int64(3), low=1) == 3
    with pytest.raises(ValueError, match=r"n must be an integer >= 1; got 0"):
        checks.integer("n", 0, low=1)


@pytest.mark.parametrize("bad, err", [(-1, ValueError), (2**32, ValueError), (1.5, TypeError),
                                      ("abc", TypeError), (True, TypeError)])
def test_seed_range(bad, err):
    with pytest.raises(err, match="seed"):
        checks.seed("seed", bad)
    assert checks.seed("seed", 2**32 - 1) == 2**32 - 1


def test_flag_choice_interval():
    assert checks.flag("basins", np.bool_(True)) is True
    with pytest.raises(TypeError, match="basins must be True or False"):
        checks.flag("basins", 1)
    assert checks.choice("schedule", "power", ("constant", "power")) == "power"
    with pytest.raises(ValueError, match=r"schedule must be one of \('constant', 'power'\); got 'pow'"):
        checks.choice("schedule", "pow", ("constant", "power"))
    with pytest.raises(TypeError, match="methods"):
        checks.choice("methods", ["gd"], ("gd", "sgd"))
    assert checks.interval("t_range", (0.5, 2)) == (0.5, 2.0)
    for bad in [(2, 1), (1, 1), (0, float("nan"))]:
        with pytest.raises(ValueError, match="t_range"):
            checks.interval("t_range", bad)
    with pytest.raises(TypeError, match="pair"):
        checks.interval("t_range", 3)


def test_ndim_names_the_argument_of_a_ragged_list():
    assert checks.ndim("step", [0.1, 0.2]) == 1
    with pytest.raises(ValueError, match=r"step must be a number or a rectangular array.*ragged"):
        checks.ndim("step", [[0.0], [0.0, 0.0]])


def test_seed_message_prints_the_integer_bound():
    with pytest.raises(ValueError, match=r"seed must be an integer >= 0 and <= 4294967295; got 8589934592$"):
        checks.seed("seed", 2**33)


def test_a_bool_is_not_one_of_integer_choices():
    with pytest.raises(TypeError, match=r"target must be one of \(0, 1, 2\); got True"):
        checks.choice("target", True, (0, 1, 2))
    assert checks.choice("target", np.int64(1), (0, 1, 2)) == 1


# -- silent coercions (issue 16, R15): bools are not coordinates, an array is not a list --------
def test_bools_inside_coordinates_starts_and_targets_are_refused():
    import reachkit as rk
    from reachkit import landscapes as L

    q, well = L.quadratic(), L.smooth_double_well()
    with pytest.raises(TypeError, match=r"x must be real numbers \(not bools or strings\); got \[True, 0.5\]"):
        q.value([True, 0.5])  # was 1.75, the value at (1, 0.5)
    with pytest.raises(TypeError, match="starts must be real numbers"):
        rk.gradient_descent(q, [True, 0.5], 0.1, 2)
    with pytest.raises(TypeError, match="starts must be real numbers"):
        rk.gradient_descent(q, [[0.2, 0.5], [np.True_, 0.5]], 0.1, 2)
    from reachkit.explorers.reach_model import ReachModel

    model = ReachModel(well, background=False)  # targets 0 and 2 (1 is the local maximum)
    with pytest.raises(TypeError, match=r"target must be one of \(0, 2\); got True"):
        model.update(target=True)  # True == 1 would have passed as "is one of them" for (0, 1, ...)
    with pytest.raises(ValueError, match="target must be a label"):
        rk.explore_reach(well, target=True)
    assert q.value([1, 0.5]) == pytest.approx(0.5 * 1 + 0.5 * 10 * 0.25)  # integers are numbers
    with pytest.raises(ValueError, match=r"curvatures must be a list of numbers; got an array of shape \(2, 2, 2\)"):
        L.quadratic(np.zeros((2, 2, 2)))  # was an 8-D landscape
    with pytest.raises(ValueError, match=r"steps must be a list of numbers"):
        rk.analysis.sgd_outcomes(L.sharp_flat_2d_sum(), [[0.1, 0.2]], [1], [[0.1, 0.2]], 5)
