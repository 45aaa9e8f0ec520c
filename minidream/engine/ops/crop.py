"""Crop (Caffe "Crop", crop_param: axis = 2, offset): cut bottom 0 down to bottom 1's shape.

Shapes (src/caffe/layers/crop_layer.cpp): x (bottom 0) and ref (bottom 1, only its shape is read) have the same
number of axes. Axes before `axis` (canonical; default 2, so N and C are kept) keep x's size; every axis i >= axis
takes ref's size and starts at an offset:
    no offset given  -> 0 on every cropped axis,
    one offset       -> that offset on every cropped axis,
    several offsets  -> one per cropped axis (exactly ndim - axis of them).
    Each cropped axis needs x.shape[i] - offset_i >= ref.shape[i] (Caffe: "crop ... is out-of-bounds").
    FCN uses it to align upsampled score maps with the input, e.g. offset 19 on a 500x500 image.
Formula: y = x[..., o_axis : o_axis + ref_axis, ..., o_last : o_last + ref_last]
Backward: dx = zeros with dy written into the cropped window; ref gets no gradient (Caffe never propagates to
          bottom 1): returned as zeros of ref's shape.
Cache: (x's shape, ref's shape, the per-axis windows).
"""
import numpy as np

from minidream.engine.backend import get_array_module
from minidream.engine.ops.axes import canonical_axis


def _windows(in_shape, ref_shape, axis, offset):
    if len(in_shape) != len(ref_shape):
        raise ValueError(f"Crop needs inputs with the same number of axes: {tuple(in_shape)} and {tuple(ref_shape)}")
    n = len(in_shape)
    axis = canonical_axis(axis, n)
    offset = [int(o) for o in offset]
    if len(offset) > 1 and len(offset) != n - axis:
        raise ValueError(f"Crop from axis {axis} of a {n}-D input takes 1 offset or {n - axis} (one per cropped "
                         f"axis), got {len(offset)}")
    windows = []
    for i in range(n):
        if i < axis:
            windows.append((0, in_shape[i]))
            continue
        start = offset[0] if len(offset) == 1 else offset[i - axis] if offset else 0
        if start < 0 or in_shape[i] - start < ref_shape[i]:
            raise ValueError(f"Crop of axis {i} is out of bounds: size {ref_shape[i]} at offset {start} does not "
                             f"fit in {in_shape[i]} (input {tuple(in_shape)}, reference {tuple(ref_shape)})")
        windows.append((start, start + ref_shape[i]))
    return windows


def output_shape(in_shape, ref_shape, axis=2, offset=()):
    return tuple(b - a for a, b in _windows(in_shape, ref_shape, axis, offset))


def forward(x, ref, axis=2, offset=()):
    windows = _windows(x.shape, ref.shape, axis, offset)
    y = x[tuple(slice(a, b) for a, b in windows)]
    return y, (x.shape, ref.shape, windows)


def backward(dy, cache):
    """Returns (dx, dref); dref is all zeros."""
    x_shape, ref_shape, windows = cache
    xp = get_array_module(dy)
    dx = xp.zeros(x_shape, dtype=dy.dtype)
    dx[tuple(slice(a, b) for a, b in windows)] = dy
    return dx, xp.zeros(ref_shape, dtype=dy.dtype)


def forward_naive(x, ref, axis=2, offset=()):
    windows = _windows(x.shape, ref.shape, axis, offset)
    y = np.empty(tuple(b - a for a, b in windows), dtype=x.dtype)
    for index in np.ndindex(y.shape):
        y[index] = x[tuple(i + a for i, (a, _) in zip(index, windows))]
    return y, (x.shape, ref.shape, windows)


def backward_naive(dy, cache):
    x_shape, ref_shape, windows = cache
    dx = np.zeros(x_shape, dtype=dy.dtype)
    for index in np.ndindex(dy.shape):
        dx[tuple(i + a for i, (a, _) in zip(index, windows))] = dy[index]
    return dx, np.zeros(ref_shape, dtype=dy.dtype)
