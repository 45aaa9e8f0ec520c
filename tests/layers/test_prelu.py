import numpy as np
import pytest

from minidream.engine.ops import prelu
from tests.gradcheck import numerical_gradient, rel_error


@pytest.mark.parametrize("shape", [(2, 3, 4, 5), (4, 6)])
@pytest.mark.parametrize("shared, slope_shape", [(False, None), (True, ()), (True, (1,))])
def test_prelu_fast_naive_and_finite_differences(shape, shared, slope_shape):
    rng = np.random.default_rng(0)
    x = rng.standard_normal(shape)
    x[np.abs(x) < 1e-3] = 0.5  # finite differences stay off the kink
    slope = rng.uniform(-0.5, 1.5, shape[1] if slope_shape is None else slope_shape)
    y, cache = prelu.forward(x, slope, shared)
    y_ref, cache_ref = prelu.forward_naive(x, slope, shared)
    assert rel_error(y, y_ref) < 1e-12
    dy = rng.standard_normal(shape)
    dx, dslope = prelu.backward(dy, cache)
    dx_ref, dslope_ref = prelu.backward_naive(dy, cache_ref)
    assert rel_error(dx, dx_ref) < 1e-12 and rel_error(dslope, dslope_ref) < 1e-12
    assert dslope.shape == slope.shape
    assert rel_error(dx, numerical_gradient(lambda v: prelu.forward(v, slope, shared)[0], x.copy(), dy)) < 1e-7
    num = numerical_gradient(lambda v: prelu.forward(x, v, shared)[0], slope.copy(), dy)
    assert rel_error(dslope, num) < 1e-7


def test_prelu_slopes_are_per_channel_or_shared():
    x = -np.ones((1, 3, 1, 1))
    y, _ = prelu.forward(x, np.array([0.1, 0.2, 0.3]))
    assert np.allclose(y.ravel(), [-0.1, -0.2, -0.3])
    y, cache = prelu.forward(x, np.array(0.25), channel_shared=True)
    assert np.allclose(y.ravel(), -0.25)
    _, dslope = prelu.backward(np.ones_like(x), cache)
    assert dslope.shape == () and dslope == -3.0  # one slope collects every channel's gradient


def test_prelu_slope_count_must_match_setting():
    with pytest.raises(ValueError, match="one per channel or set channel_shared"):
        prelu.forward(np.ones((1, 3, 2, 2)), np.ones(1))
    with pytest.raises(ValueError, match="channel_shared takes one slope"):
        prelu.forward(np.ones((1, 3, 2, 2)), np.ones(3), channel_shared=True)
