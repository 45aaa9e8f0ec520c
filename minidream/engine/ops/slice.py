"""Slice (Caffe "Slice", slice_param: axis = 1, slice_point): cut one input into several outputs along an axis.

Shapes (src/caffe/layers/slice_layer.cpp): x (..., D, ...) with D = x.shape[axis] (axis may be negative; Caffe's
deprecated slice_dim is the same as a non-negative axis). With slice_point p_1 < ... < p_{k-1}, strictly
increasing and inside (0, D), there are k = len(slice_point) + 1 outputs (Caffe checks that the layer has exactly
that many tops): y_i = x[..., p_i:p_{i+1}, ...] with p_0 = 0, p_k = D. Without slice_point the axis is split into
num_tops equal parts, which needs D % num_tops == 0.
Formula: y_i = x[p_i:p_{i+1}] along axis.     Forward returns the list [y_0, ..., y_{k-1}].
Backward: dx = the dys concatenated along axis; takes the list of dys, where None stands for an output nobody
          used (its slice of dx is zero).
Cache: (x's shape, canonical axis, the bounds [p_0, ..., p_k]).
"""
import numpy as np

from minidream.engine.backend import get_array_module
from minidream.engine.ops.axes import canonical_axis


def _bounds(in_shape, num_tops, axis=1, slice_point=()):
    """[p_0 = 0, p_1, ..., p_k = D]: where each output starts and ends along the canonical axis."""
    axis = canonical_axis(axis, len(in_shape))
    size = in_shape[axis]
    points = [int(p) for p in slice_point]
    if points:
        if len(points) != num_tops - 1:
            raise ValueError(f"Slice with {len(points)} slice points makes {len(points) + 1} outputs, "
                             f"but the layer has {num_tops} tops")
        edges = [0] + points + [size]
        if any(a >= b for a, b in zip(edges, edges[1:])):
            raise ValueError(f"Slice points {tuple(points)} must increase strictly inside (0, {size}), "
                             f"the size of axis {axis} of input {tuple(in_shape)}")
        return axis, edges
    if num_tops < 1 or size % num_tops:
        raise ValueError(f"Slice into {num_tops} equal parts needs axis {axis} of input {tuple(in_shape)} "
                         f"(size {size}) to divide by {num_tops}; give slice_point instead")
    step = size // num_tops
    return axis, [i * step for i in range(num_tops + 1)]


def output_shape(in_shape, num_tops, axis=1, slice_point=()):
    """The list of output shapes."""
    axis, edges = _bounds(in_shape, num_tops, axis, slice_point)
    return [tuple(in_shape[:axis]) + (b - a,) + tuple(in_shape[axis + 1:]) for a, b in zip(edges, edges[1:])]


def _along(axis, a, b):
    return (slice(None),) * axis + (slice(a, b),)


def forward(x, num_tops, axis=1, slice_point=()):
    axis, edges = _bounds(x.shape, num_tops, axis, slice_point)
    ys = [x[_along(axis, a, b)] for a, b in zip(edges, edges[1:])]
    return ys, (x.shape, axis, edges)


def backward(dys, cache):
    x_shape, axis, edges = cache
    present = [d for d in dys if d is not None]
    if not present:
        raise ValueError("Slice backward needs at least one output gradient (all were None)")
    xp = get_array_module(*present)
    dx = xp.empty(x_shape, dtype=present[0].dtype)
    for d, a, b in zip(dys, edges, edges[1:]):
        dx[_along(axis, a, b)] = 0 if d is None else d
    return dx


def forward_naive(x, num_tops, axis=1, slice_point=()):
    axis, edges = _bounds(x.shape, num_tops, axis, slice_point)
    ys = [np.empty(s, dtype=x.dtype) for s in output_shape(x.shape, num_tops, axis, slice_point)]
    for index in np.ndindex(x.shape):
        top = np.searchsorted(edges, index[axis], side="right") - 1
        y_index = index[:axis] + (index[axis] - edges[top],) + index[axis + 1:]
        ys[top][y_index] = x[index]
    return ys, (x.shape, axis, edges)


def backward_naive(dys, cache):
    x_shape, axis, edges = cache
    dx = np.zeros(x_shape, dtype=next(d for d in dys if d is not None).dtype)
    for index in np.ndindex(x_shape):
        top = np.searchsorted(edges, index[axis], side="right") - 1
        if dys[top] is not None:
            dx[index] = dys[top][index[:axis] + (index[axis] - edges[top],) + index[axis + 1:]]
    return dx
