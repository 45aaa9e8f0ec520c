import numpy as np
import pytest

from minidream.engine.ops import lrn
from tests.gradcheck import numerical_gradient, rel_error

# alpha near 1 and k small make every term of the window matter: a window one channel short fails here.
HYPER = [(5, 1.0, 0.75, 1.0), (3, 0.9, 0.5, 0.5), (1, 2.0, 0.75, 2.0), (7, 1.5, 1.2, 1.0)]


def _fast_and_naive_errors(x, dy, *params):
    """(forward, backward) relative errors of the fast LRN against the naive one."""
    y, cache = lrn.forward(x, *params)
    y_ref, cache_ref = lrn.forward_naive(x, *params)
    return rel_error(y, y_ref), rel_error(lrn.backward(dy, cache), lrn.backward_naive(dy, cache_ref))


@pytest.mark.parametrize("local_size, alpha, beta, k", HYPER)
def test_fast_matches_naive(local_size, alpha, beta, k):
    x = np.random.default_rng(0).standard_normal((2, 9, 4, 3)).astype(np.float32)
    dy = np.random.default_rng(1).standard_normal(x.shape).astype(np.float32)
    assert max(_fast_and_naive_errors(x, dy, local_size, alpha, beta, k)) < 1e-6


@pytest.mark.parametrize("local_size, alpha, beta, k", HYPER)
def test_gradient_matches_finite_differences(local_size, alpha, beta, k):
    rng = np.random.default_rng(2)
    x = rng.standard_normal((2, 7, 3, 2))
    y, cache = lrn.forward(x, local_size, alpha, beta, k)
    dy = rng.standard_normal(y.shape)
    num = numerical_gradient(lambda v: lrn.forward(v, local_size, alpha, beta, k)[0], x, dy)
    assert rel_error(lrn.backward(dy, cache), num) < 1e-7


def test_formula_by_hand():
    # Channel 0 with n=3: window {c-1, c, c+1} = {missing, 0, 1}.
    x = np.array([1.0, 2.0, 3.0]).reshape(1, 3, 1, 1)
    y, _ = lrn.forward(x, local_size=3, alpha=3.0, beta=1.0, k=1.0)
    assert np.isclose(y[0, 0, 0, 0], 1.0 / (1.0 + (1 + 4)))
    assert np.isclose(y[0, 1, 0, 0], 2.0 / (1.0 + (1 + 4 + 9)))
    assert np.isclose(y[0, 2, 0, 0], 3.0 / (1.0 + (4 + 9)))


def test_even_local_size_rejected():
    with pytest.raises(ValueError, match="odd"):
        lrn.forward(np.zeros((1, 4, 2, 2), np.float32), local_size=4)


@pytest.mark.parametrize("channels", [1, 2, 3, 4, 6])
@pytest.mark.parametrize("local_size", [3, 5, 9])
def test_windows_wider_than_the_channels_match_naive(channels, local_size):
    # The window sum runs on pairs of channels; near both edges, and when the window covers every channel, its
    # pairs are partly padding.
    rng = np.random.default_rng(channels * 10 + local_size)
    x = rng.standard_normal((2, channels, 3, 4))
    dy = rng.standard_normal(x.shape)
    assert max(_fast_and_naive_errors(x, dy, local_size, 1.0, 0.75, 1.0)) < 1e-12
