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


@pytest.fixture
def live():
    """``live(ex, name, value, final=True)``: what the view sends when a live slider of ``ex`` is
    dragged (``final=False``) or released / its box typed into (a request answered by ``ack``)."""
    seq = iter(range(10**9))

    def send(ex, name, value, final=True):
        ex.view._on_front_msg(ex.view, {"seq": next(seq), "final": final, "changes": {name: value}}, [])

    return send
