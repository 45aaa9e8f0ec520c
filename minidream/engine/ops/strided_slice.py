"""Strided slice (ONNX Slice): x[start:end:step] along some axes, with ONNX's clamping of out-of-range bounds.

Shapes: x of any rank (integer x too: shapes computed inside a model); y has len(range(start, end, step)) cells along
each sliced axis, x's size along the others.

Rules (onnx.ai/onnx/operators/onnx__Slice.html), per sliced axis of size d: axes default to 0 .. len(starts)-1 and
count from the end when negative; steps default to 1, never 0. A negative start or end has d added. Then, for
step > 0, start and end are clamped to [0, d]; for step < 0, start to [0, d-1] and end to [-1, d-1], where end = -1
means "past the first cell" (not Python's last cell). So the exporters' sentinels INT_MAX and INT_MIN mean "to
the end" and "to the beginning" in either direction:
    y = x[..., start:end:step, ...]   (end = -1 with step < 0 written as None)

Backward: dx = zeros of x's shape with dy placed back at the sliced cells; None for integer x (no gradient).

Cache: SliceCache(x_shape, index (the tuple of slices), differentiable). The code is xp code: the GPU runs it on
CuPy arrays.
"""
from collections import namedtuple

import numpy as np

from minidream.engine.backend import get_array_module

SliceCache = namedtuple("SliceCache", "x_shape index differentiable")


def _bounds(size, start, end, step):
    """(start, end) after ONNX's rules; end None for "past the first cell" when stepping backwards."""
    start, end = (int(v) + size if int(v) < 0 else int(v) for v in (start, end))
    if step > 0:
        return min(max(start, 0), size), min(max(end, 0), size)
    start, end = min(max(start, 0), size - 1), min(max(end, -1), size - 1)
    return start, (None if end < 0 else end)


def _index(x_shape, starts, ends, axes, steps):
    """The tuple of slices that picks y out of x."""
    rank = len(x_shape)
    axes = range(len(starts)) if axes is None else axes
    steps = [1] * len(starts) if steps is None else steps
    if not len(starts) == len(ends) == len(axes) == len(steps):
        raise ValueError(f"starts, ends, axes and steps differ in length: {len(starts)}, {len(ends)}, {len(axes)}, "
                         f"{len(steps)}")
    index = [slice(None)] * rank
    for start, end, axis, step in zip(starts, ends, axes, steps):
        axis, step = int(axis), int(step)
        if not -rank <= axis < rank:
            raise ValueError(f"cannot slice axis {axis} of a rank-{rank} input")
        if step == 0:
            raise ValueError(f"slice step 0 along axis {axis}")
        index[axis % rank] = slice(*_bounds(x_shape[axis % rank], start, end, step), step)
    return tuple(index)


def forward(x, starts, ends, axes=None, steps=None):
    """Inputs: x of any rank and dtype; starts, ends (ints per sliced axis); axes, steps (ints, optional). Returns
    (y, SliceCache); y is a copy."""
    index = _index(x.shape, starts, ends, axes, steps)
    return x[index].copy(), SliceCache(x.shape, index, bool(np.issubdtype(x.dtype, np.inexact)))


def backward(dy, cache):
    """Inputs: dy (y's shape), the SliceCache of forward. Returns dx (x's shape), or None for integer x."""
    if not cache.differentiable:
        return None
    dx = get_array_module(dy).zeros(cache.x_shape, dtype=dy.dtype)
    dx[cache.index] = dy
    return dx


def forward_naive(x, starts, ends, axes=None, steps=None):
    """Loop version: y cell (i_0, ...) copies x cell (start_k + i_k * step_k, ...)."""
    index = _index(x.shape, starts, ends, axes, steps)
    ranges = [range(size)[s] for size, s in zip(x.shape, index)]
    y = np.empty([len(r) for r in ranges], dtype=x.dtype)
    for out in np.ndindex(*y.shape):
        y[out] = x[tuple(r[i] for r, i in zip(ranges, out))]
    return y, SliceCache(x.shape, index, bool(np.issubdtype(x.dtype, np.inexact)))


def backward_naive(dy, cache):
    """Loop version: every dy cell added to the x cell it came from."""
    if not cache.differentiable:
        return None
    ranges = [range(size)[s] for size, s in zip(cache.x_shape, cache.index)]
    dx = np.zeros(cache.x_shape, dtype=dy.dtype)
    for out in np.ndindex(*dy.shape):
        dx[tuple(r[i] for r, i in zip(ranges, out))] += dy[out]
    return dx
