"""Calls that printed a warning (issue 16, R11) run with every warning an error."""

import warnings

import numpy as np
import pytest

import reachkit as rk
from reachkit import analysis, optimizers
from reachkit import landscapes as L


@pytest.fixture
def warnings_are_errors():
    with warnings.catch_warnings(), np.errstate(all="warn"):  # whatever np.seterr was left at
        warnings.simplefilter("error")
        # deprecations inside other packages are not ours (at the oldest versions allowed, ipywidgets calls
        # a deprecated traitlets API and matplotlib a deprecated pyparsing one); reachkit's own still raise
        warnings.filterwarnings("ignore", category=DeprecationWarning, module=r"(?!reachkit)")
        yield


@pytest.mark.parametrize("name", ["absolute_value", "cubic"])  # also piecewise_linear, plateau: same rule
def test_a_bifurcation_diagram_without_thresholds_draws_no_empty_legend(warnings_are_errors, name):
    ex = rk.explore(getattr(L, name)(), bifurcation=True, n_steps=20, background=False)
    assert ex.model.values["bifurcation"] and ex.model._bif is not None  # the diagram is drawn, quietly


def test_huge_numbers_give_inf_not_a_warning(warnings_are_errors):
    path = rk.gradient_flow(L.sharp_flat_2d(), [1e308, 1e308], 1.0, 3)
    assert path.status[0] in ("diverged", "stalled", "moving")
    assert analysis.interpolation_stability([-1e308], 0.5).mean_square_factor == np.inf
    # lambda_max(D^1/2 H D^1/2) for H = diag(1, 10): 10 d_2, which overflows to inf (it gave NaN)
    assert optimizers.preconditioned_sharpness(L.quadratic(), [1.0, 1.0], [1e308, 1e308]) == np.inf
    assert optimizers.preconditioned_sharpness(L.quadratic(), [1.0, 1.0], [1e300, 1e300]) == pytest.approx(1e301)
