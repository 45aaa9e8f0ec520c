"""Flatten (Caffe "Flatten", flatten_param: axis = 1, end_axis = -1): merge axes axis..end_axis into one.

Shapes (src/caffe/layers/flatten_layer.cpp): x (d0, ..., d_{n-1}) ->
    y (d0, ..., d_{axis-1}, d_axis * ... * d_end, d_{end+1}, ..., d_{n-1})
    with axis and end_axis Caffe-canonical (negative counts from the end). Default: (N, C, H, W) -> (N, C*H*W).
    Caffe takes count(axis, end_axis + 1), so end_axis == axis - 1 is allowed and inserts an axis of size 1.
Formula: y is x's data in the same (C) order under the new shape; Caffe shares the memory, we return a view.
Backward: dx = dy reshaped to x's shape (a view). Cache: x's shape.
"""
import math

from minidream.engine.ops.axes import canonical_axis
from minidream.engine.ops.reshape import c_order_copy


def output_shape(in_shape, axis=1, end_axis=-1):
    """Caffe's Flatten output shape; ValueError for axes out of range or end_axis < axis - 1."""
    n = len(in_shape)
    start, end = canonical_axis(axis, n), canonical_axis(end_axis, n)
    if end < start - 1:
        raise ValueError(f"Flatten end_axis {end_axis} comes before axis {axis} for a {n}-D input {tuple(in_shape)}")
    return tuple(in_shape[:start]) + (math.prod(in_shape[start:end + 1]),) + tuple(in_shape[end + 1:])


def forward(x, axis=1, end_axis=-1):
    return x.reshape(output_shape(x.shape, axis, end_axis)), x.shape


def backward(dy, cache):
    return dy.reshape(cache)


def forward_naive(x, axis=1, end_axis=-1):
    """Copies element by element in C order: the order flatten must keep."""
    return c_order_copy(x, output_shape(x.shape, axis, end_axis)), x.shape


def backward_naive(dy, cache):
    return c_order_copy(dy, cache)
