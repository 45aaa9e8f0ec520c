"""What the fast engine's methods of stride-1 convolutions (speed/winograd.py, speed/shifted_rows.py) are checked
with: each has forward(x, w, pad, groups, b) and backward_dx(dy, w, x_shape, pad, groups), checked against conv's loop
versions (tests/speed/test_stride1_methods.py), and inputs made from a case (N, C, H, W, F, KH, KW, pad, groups)."""
import numpy as np

from minidream.engine.ops import conv
from tests.gradcheck import numerical_gradient, rel_error


def inputs(case, dtype=np.float64, seed=0):
    """(x, w, pad, groups) for a case (N, C, H, W, F, KH, KW, pad, groups), standard normal."""
    n, c, h, w, f, kh, kw, pad, groups = case
    rng = np.random.default_rng(seed)
    return (rng.standard_normal((n, c, h, w)).astype(dtype),
            rng.standard_normal((f, c // groups, kh, kw)).astype(dtype), pad, groups)


def assert_matches_direct_loops(method, x, w, pad, groups):
    """forward (with a bias) and backward_dx against conv.forward_naive / backward_naive, float64, to 1e-13; y comes
    back C-contiguous."""
    b = np.random.default_rng(8).standard_normal(w.shape[0])
    y_ref, cache = conv.forward_naive(x, w, b, (1, 1), pad, groups)
    y = method.forward(x, w, pad, groups, b)
    assert y.shape == y_ref.shape and y.flags.c_contiguous and rel_error(y, y_ref) < 1e-13
    dy = np.random.default_rng(1).standard_normal(y.shape)
    dx = method.backward_dx(dy, w, x.shape, pad, groups)
    assert dx.shape == x.shape and rel_error(dx, conv.backward_naive(dy, cache, weight_grads=False)[0]) < 1e-13


def assert_dx_matches_finite_differences(method, x, w, pad, groups):
    dy = np.random.default_rng(3).standard_normal(method.forward(x, w, pad, groups).shape)
    numeric = numerical_gradient(lambda v: method.forward(v, w, pad, groups), x, dy)
    assert rel_error(method.backward_dx(dy, w, x.shape, pad, groups), numeric) < 1e-8


def assert_textbook_matches_direct_loops(method, x, w, pad):
    """method.forward_naive (one group, no bias) against conv.forward_naive, float64, to 1e-13."""
    assert rel_error(method.forward_naive(x, w, pad), conv.forward_naive(x, w, None, (1, 1), pad)[0]) < 1e-13
