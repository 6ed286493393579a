import warnings

import numpy as np
import pytest


@pytest.fixture
def no_warnings():
    """Turn every warning into an error inside the test body."""
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        yield


@pytest.fixture
def rng():
    return np.random.default_rng(12345)
