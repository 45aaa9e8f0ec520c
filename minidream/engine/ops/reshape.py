"""Reshape (Caffe "Reshape", reshape_param: shape, axis = 0, num_axes = -1).

Shapes (src/caffe/layers/reshape_layer.cpp): the input axes [axis, axis + num_axes) (num_axes -1: to the end; a
negative axis counts from the end with -1 meaning "after the last axis") are replaced by `shape`, where
    0  copies the input dimension at the same position (input axis `axis + i`),
    -1 (at most one) is inferred so that the element count is unchanged,
    any other value is taken as is.
    Example: (2, 8) with shape (0, 2, -1) -> (2, 2, 4); with shape (1,), axis 1, num_axes 0 -> (2, 1, 8).
Formula: y is x's data in C order under the new shape (Caffe shares the memory; we return a view).
Backward: dx = dy reshaped to x's shape. Cache: x's shape.
"""
import math

import numpy as np


def output_shape(in_shape, shape, axis=0, num_axes=-1):
    """Caffe's Reshape output shape; ValueError naming the problem for every shape Caffe would reject."""
    n, shape = len(in_shape), [int(d) for d in shape]
    start = axis if axis >= 0 else n + axis + 1
    if not 0 <= start <= n:
        raise ValueError(f"Reshape axis {axis} is out of range for a {n}-D input {tuple(in_shape)}")
    if num_axes < -1:
        raise ValueError(f"Reshape num_axes must be >= 0, or -1 for all remaining axes; got {num_axes}")
    end = n if num_axes == -1 else start + num_axes
    if end > n:
        raise ValueError(f"Reshape axis {axis} + num_axes {num_axes} goes past the {n}-D input {tuple(in_shape)}")
    if shape.count(-1) > 1 or any(d < -1 for d in shape):
        raise ValueError(f"Reshape shape {tuple(shape)} may hold dims >= 0 and at most one -1 (to infer)")
    new = list(shape)
    for i, d in enumerate(shape):
        if d == 0:
            if start + i >= n:
                raise ValueError(f"Reshape shape {tuple(shape)} has a 0 at position {i}, but the input "
                                 f"{tuple(in_shape)} has no axis {start + i} to copy")
            new[i] = in_shape[start + i]
    out = list(in_shape[:start]) + new + list(in_shape[end:])
    count = math.prod(in_shape)
    if -1 in new:
        known = math.prod(d for d in out if d != -1)
        if known == 0 or count % known:
            raise ValueError(f"Reshape cannot infer the -1 in {tuple(shape)}: {count} elements of "
                             f"{tuple(in_shape)} do not divide by the product of the other dims, {known}")
        out[out.index(-1)] = count // known
    if math.prod(out) != count:
        raise ValueError(f"Reshape of {tuple(in_shape)} ({count} elements) to {tuple(out)} "
                         f"({math.prod(out)} elements) would change the element count")
    return tuple(out)


def forward(x, shape, axis=0, num_axes=-1):
    return x.reshape(output_shape(x.shape, shape, axis, num_axes)), x.shape


def backward(dy, cache):
    return dy.reshape(cache)


def c_order_copy(a, shape):
    """a's elements copied one by one, in C order, into a new array of `shape` (the naive reshape)."""
    out = np.empty(shape, dtype=a.dtype)
    for src, dst in zip(np.ndindex(a.shape), np.ndindex(out.shape)):
        out[dst] = a[src]
    return out


def forward_naive(x, shape, axis=0, num_axes=-1):
    return c_order_copy(x, output_shape(x.shape, shape, axis, num_axes)), x.shape


def backward_naive(dy, cache):
    return c_order_copy(dy, cache)
