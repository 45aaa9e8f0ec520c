"""Bias (Caffe "Bias"): add a learned bias, or a second input, broadcast over the input from `axis` on.

Shapes (src/caffe/layers/bias_layer.cpp, caffe.proto BiasParameter):
    x, y (d0, ..., d_{n-1});  b covers k = b.ndim consecutive axes of x starting at `axis`:
    b.shape == x.shape[axis:axis + k]   (axis may be negative; default 1 = channels, so b is (C,)).
    A 0-d b (Caffe's "empty shape") is a scalar and `axis` is ignored, as in Caffe.
    One-bottom form: b is the layer's blob, of shape param_shape(x.shape, axis, num_axes) (num_axes = -1: to the
    end). Two-bottom form: b is bottom[1] and num_axes is whatever bottom[1] has. forward/backward serve both.
Formula:  y[..., i_axis .. i_{axis+k-1}, ...] = x[...] + b[i_axis .. i_{axis+k-1}]
Backward: dx = dy (returned as dy itself, no copy), db = dy summed over every axis outside [axis, axis + k).
          For the two-bottom form db is the gradient of bottom[1].
Cache: (b shape, canonical axis, x.ndim).
"""
import numpy as np

from minidream.engine.ops.axes import canonical_axis


def param_shape(x_shape, axis=1, num_axes=1):
    """Shape of the learned blob of the one-bottom form: x_shape[axis:axis + num_axes] (num_axes -1: to the end)."""
    axis = canonical_axis(axis, len(x_shape))
    if num_axes < -1:
        raise ValueError(f"num_axes must be >= 0, or -1 for all axes from `axis` on; got {num_axes}")
    end = len(x_shape) if num_axes == -1 else axis + num_axes
    if end > len(x_shape):
        raise ValueError(f"axis {axis} + num_axes {num_axes} goes past the {len(x_shape)}-D input {tuple(x_shape)}")
    return tuple(x_shape[axis:end])


def broadcast_shape(x_shape, p_shape, axis):
    """(canonical axis, shape that p reshapes to so it broadcasts against x); checks that p fits x there."""
    k = len(p_shape)
    axis = 0 if k == 0 else canonical_axis(axis, len(x_shape))
    if tuple(x_shape[axis:axis + k]) != tuple(p_shape):
        raise ValueError(
            f"parameter of shape {tuple(p_shape)} does not fit input {tuple(x_shape)} at axis {axis}: "
            f"it must equal the input's axes {axis}..{axis + k - 1}, {tuple(x_shape[axis:axis + k])}"
        )
    return axis, (1,) * axis + tuple(p_shape) + (1,) * (len(x_shape) - axis - k)


def reduce_to(a, p_shape, axis):
    """Sum a over every axis outside [axis, axis + len(p_shape)): the adjoint of broadcasting p."""
    k = len(p_shape)
    outside = tuple(range(axis)) + tuple(range(axis + k, a.ndim))
    return a.sum(axis=outside).reshape(p_shape)


def forward(x, b, axis=1):
    axis, shape = broadcast_shape(x.shape, b.shape, axis)
    return x + b.reshape(shape), (b.shape, axis)


def backward(dy, cache):
    """Returns (dx, db)."""
    b_shape, axis = cache
    return dy, reduce_to(dy, b_shape, axis)


def forward_naive(x, b, axis=1):
    axis, _ = broadcast_shape(x.shape, b.shape, axis)
    k = b.ndim
    y = np.empty_like(x)
    for i in np.ndindex(x.shape):
        y[i] = x[i] + b[i[axis:axis + k]]
    return y, (b.shape, axis)


def backward_naive(dy, cache):
    b_shape, axis = cache
    db = np.zeros(b_shape, dtype=dy.dtype)
    for i in np.ndindex(dy.shape):
        db[i[axis:axis + len(b_shape)]] += dy[i]
    return dy.copy(), db
