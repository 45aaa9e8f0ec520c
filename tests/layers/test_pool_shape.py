"""The textbook pools' geometry (minidream/engine/ops/pool_shape.py): the padded input every window reads, and
unpadded as its exact adjoint (<padded(a), b> == <a, unpadded(b)>)."""
import numpy as np
import pytest

from minidream.engine.ops import pool_shape
from tests.speed.test_pool_phases import GEOMETRIES


@pytest.mark.parametrize("geometry", GEOMETRIES)
def test_padded_input_holds_every_window_and_unpadded_is_its_adjoint(geometry):
    n, c, h, w, kernel, stride, pad = geometry
    rng = np.random.default_rng(0)
    x = rng.standard_normal((n, c, h, w))
    xpad = pool_shape.padded(x, kernel, stride, pad, 0.0)
    assert xpad.shape[2:] == pool_shape.padded_shape(x.shape, kernel, stride, pad)
    for axis in (0, 1):  # the last window ends inside the padded input
        out = pool_shape.output_size(x.shape[2 + axis], kernel[axis], stride[axis], pad[axis])
        assert (out - 1) * stride[axis] + kernel[axis] <= xpad.shape[2 + axis]
    grad = rng.standard_normal(xpad.shape)
    assert np.isclose(np.vdot(xpad, grad), np.vdot(x, pool_shape.unpadded(grad, x.shape, kernel, stride, pad)),
                      rtol=1e-12)
