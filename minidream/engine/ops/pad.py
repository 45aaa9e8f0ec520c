"""Pad (ONNX Pad): a border around every axis of x, or a crop where a pad is negative.

Shapes: x (d_0, ..., d_{r-1}), any rank; pads = [b_0, ..., b_{r-1}, e_0, ..., e_{r-1}] (ONNX's order: all the
begins, then all the ends); y has d_k + b_k + e_k along axis k.

Formula. A negative pad first crops that many cells off its end; the rest pad the cropped x, whose axis k has
length L_k, by mode:
    constant  y = value outside x
    reflect   the cells mirrored about the end cell, which is not repeated (numpy's 'reflect'): pads < L_k
    edge      the end cell repeated
Every y cell is a copy of one x cell (or the constant), so backward adds each dy cell to the x cell it copies, axis by
axis: the middle L_k cells of dy plus, for reflect, the border cells flipped onto the cells they mirror
(1 .. b_k and L_k - 1 - e_k .. L_k - 2) and, for edge, the border sums onto the end cells; then the crop's cells
are zeros.

Cache: PadCache(x_shape, crop (slices of x kept), widths ((b_k, e_k) pads >= 0 of the cropped x), mode).
The code is xp code: the GPU runs it on CuPy arrays.
"""
from collections import namedtuple

import numpy as np

from minidream.engine.backend import get_array_module

MODES = ("constant", "reflect", "edge")
PadCache = namedtuple("PadCache", "x_shape crop widths mode")


def _geometry(x_shape, pads, mode):
    """The slices of x a crop keeps and the (begin, end) widths that pad the cropped x."""
    if mode not in MODES:
        raise ValueError(f"unknown pad mode {mode!r}; choose one of {', '.join(MODES)}")
    rank = len(x_shape)
    if len(pads) != 2 * rank:
        raise ValueError(f"pads has {len(pads)} entries; an input of rank {rank} needs {2 * rank}")
    begins, ends = [int(p) for p in pads[:rank]], [int(p) for p in pads[rank:]]
    crop = tuple(slice(max(-b, 0), size - max(-e, 0)) for size, b, e in zip(x_shape, begins, ends))
    widths = tuple((max(b, 0), max(e, 0)) for b, e in zip(begins, ends))
    for size, keep, (b, e) in zip(x_shape, crop, widths):
        length = keep.stop - keep.start
        too_short = length <= max(b, e) if mode == "reflect" else length == 0 and mode == "edge" and (b or e)
        if length < 0 or (too_short and (b or e)):
            raise ValueError(f"pads {list(pads)} do not fit an axis of size {size} in mode {mode!r}")
    return crop, widths


def forward(x, pads, mode="constant", value=0.0):
    """Inputs: x of any rank; pads (2*rank ints, ONNX's order); mode "constant", "reflect" or "edge"; value (constant
    mode). Returns (y, PadCache)."""
    crop, widths = _geometry(x.shape, pads, mode)
    options = {"constant_values": value} if mode == "constant" else {}
    return get_array_module(x).pad(x[crop], widths, mode=mode, **options), PadCache(x.shape, crop, widths, mode)


def _along(a, axis, index):
    return a[(slice(None),) * axis + (index,)]


def backward(dy, cache):
    """Inputs: dy (y's shape), the PadCache of forward. Returns dx (x's shape)."""
    xp, grad = get_array_module(dy), dy
    for axis, (b, e) in enumerate(cache.widths):
        length = grad.shape[axis] - b - e
        middle = _along(grad, axis, slice(b, b + length)).copy()
        if cache.mode == "reflect":  # border cell b - k mirrors cell k; end border cell k mirrors cell L - 2 - k
            _along(middle, axis, slice(1, b + 1))[...] += xp.flip(_along(grad, axis, slice(0, b)), axis)
            _along(middle, axis, slice(length - 1 - e, length - 1))[...] += xp.flip(
                _along(grad, axis, slice(b + length, None)), axis)
        elif cache.mode == "edge":
            _along(middle, axis, slice(0, 1))[...] += _along(grad, axis, slice(0, b)).sum(axis, keepdims=True)
            _along(middle, axis, slice(length - 1, length))[...] += _along(grad, axis, slice(b + length, None)).sum(
                axis, keepdims=True)
        grad = middle
    dx = xp.zeros(cache.x_shape, dtype=dy.dtype)
    dx[cache.crop] = grad
    return dx


def _source(index, size, begin, mode):
    """The cropped-x cell that y cell `index` copies along one axis, None for the constant."""
    i = index - begin
    if 0 <= i < size:
        return i
    if mode == "constant":
        return None
    if mode == "edge":
        return min(max(i, 0), size - 1)
    return -i if i < 0 else 2 * (size - 1) - i


def forward_naive(x, pads, mode="constant", value=0.0):
    """Loop version: every y cell looks up the cell it copies."""
    crop, widths = _geometry(x.shape, pads, mode)
    kept = x[crop]
    y = np.full(tuple(s + b + e for s, (b, e) in zip(kept.shape, widths)), value, dtype=x.dtype)
    for index in np.ndindex(*y.shape):
        source = [_source(i, s, b, mode) for i, s, (b, _) in zip(index, kept.shape, widths)]
        if None not in source:
            y[index] = kept[tuple(source)]
    return y, PadCache(x.shape, crop, widths, mode)


def backward_naive(dy, cache):
    """Loop version: every dy cell added to the cell it copied."""
    kept_shape = tuple(s - b - e for s, (b, e) in zip(dy.shape, cache.widths))
    grad = np.zeros(kept_shape, dtype=dy.dtype)
    for index in np.ndindex(*dy.shape):
        source = [_source(i, s, b, cache.mode) for i, s, (b, _) in zip(index, kept_shape, cache.widths)]
        if None not in source:
            grad[tuple(source)] += dy[index]
    dx = np.zeros(cache.x_shape, dtype=dy.dtype)
    dx[cache.crop] = grad
    return dx
