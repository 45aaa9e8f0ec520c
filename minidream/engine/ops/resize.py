"""Resize (ONNX Resize, modes "nearest" and "linear") of the last two axes: upsampling or downsampling by a grid.

Shapes: x (N, C, H, W) -> y (N, C, OH, OW); out_size = (OH, OW) (the caller turns ONNX's scales or sizes into it).

Formula, per axis of input length L and output length O, and scale O / L, or ONNX's scales input where the model
gives one (O = floor(L * scale) may differ from L * scale: 5 * 1.5 -> 7, read at scale 1.5, not 1.4)
(ONNX's coordinate_transformation_mode):
    half_pixel          s(o) = (o + 0.5) / scale - 0.5
    pytorch_half_pixel  the same, but s = 0 when O == 1
    align_corners       s(o) = o * (L - 1) / (O - 1), and 0 when O == 1
    asymmetric          s(o) = o / scale
nearest: y reads the cell round(s) clipped to [0, L-1], round by nearest_mode: round_prefer_floor (halves down),
round_prefer_ceil (halves up), floor or ceil. linear (bilinear over the two axes): s is clamped to [0, L-1] (ONNX's
edge rule, as onnxruntime codes it), i = floor(s), and y mixes cells i and min(i + 1, L-1) with weights
1 - (s - i) and s - i.

Each axis is thus a fixed matrix A (O, L) with one or two nonzeros per row, and
    y = A_h @ x @ A_w^T,   backward: dx = A_h^T @ dy @ A_w
— the exact adjoint as a transpose, with no scatter (a gather's adjoint would add into shared cells). The matrices
are small next to x; the products are xp code, so the GPU runs them with CuPy. Cache: ResizeCache(rows A_h,
cols A_w).
"""
from collections import namedtuple

import numpy as np

from minidream.engine.backend import get_array_module

MODES = ("nearest", "linear")
COORDINATE_MODES = ("half_pixel", "pytorch_half_pixel", "align_corners", "asymmetric")
NEAREST_MODES = {"round_prefer_floor": lambda s: np.ceil(s - 0.5), "round_prefer_ceil": lambda s: np.floor(s + 0.5),
                 "floor": np.floor, "ceil": np.ceil}
ResizeCache = namedtuple("ResizeCache", "rows cols")


def _check(name, value, choices):
    if value not in choices:
        raise ValueError(f"unknown Resize {name} {value!r}; choose one of {', '.join(choices)}")


def source_coordinates(out, size, coordinate_mode, scale=None):
    """s(o) for o < out along an axis of length `size` (float64); scale: out / size unless given."""
    o, scale = np.arange(out, dtype=np.float64), out / size if scale is None else float(scale)
    if coordinate_mode == "align_corners":
        return o * (size - 1) / (out - 1) if out > 1 else np.zeros(out)
    if coordinate_mode == "asymmetric":
        return o / scale
    if coordinate_mode == "pytorch_half_pixel" and out == 1:
        return np.zeros(out)
    return (o + 0.5) / scale - 0.5


def taps(out, size, mode, coordinate_mode, nearest_mode, scale=None):
    """(first cell, second cell, weight of the second) of every output index along one axis."""
    s = source_coordinates(out, size, coordinate_mode, scale)
    if mode == "nearest":
        first = np.clip(NEAREST_MODES[nearest_mode](s), 0, size - 1).astype(np.int64)
        return first, first, np.zeros(out)
    s = np.clip(s, 0, size - 1)
    first = np.floor(s).astype(np.int64)
    return first, np.minimum(first + 1, size - 1), s - first


def interpolation_matrix(out, size, mode, coordinate_mode, nearest_mode, scale=None):
    """A (out, size): row o holds the weights output o gives the input cells."""
    first, second, weight = taps(out, size, mode, coordinate_mode, nearest_mode, scale)
    matrix = np.zeros((out, size))
    np.add.at(matrix, (np.arange(out), first), 1 - weight)
    np.add.at(matrix, (np.arange(out), second), weight)  # the same cell twice where first == second: weights sum
    return matrix


def _options(mode, coordinate_transformation_mode, nearest_mode):
    _check("mode", mode, MODES)
    _check("coordinate_transformation_mode", coordinate_transformation_mode, COORDINATE_MODES)
    _check("nearest_mode", nearest_mode, NEAREST_MODES)
    return mode, coordinate_transformation_mode, nearest_mode


def forward(x, out_size, mode="nearest", coordinate_transformation_mode="half_pixel",
            nearest_mode="round_prefer_floor", scales=(None, None)):
    """Inputs: x (N, C, H, W); out_size (OH, OW); the ONNX attributes above; scales (along H, along W): ONNX's
    scales input, or None for OH / H and OW / W. Returns (y (N, C, OH, OW), ResizeCache)."""
    options = _options(mode, coordinate_transformation_mode, nearest_mode)
    xp = get_array_module(x)
    rows, cols = (xp.asarray(interpolation_matrix(out, size, *options, scale).astype(x.dtype))
                  for out, size, scale in zip(out_size, x.shape[2:], scales))
    return rows @ x @ cols.T, ResizeCache(rows, cols)


def backward(dy, cache):
    """Inputs: dy (N, C, OH, OW), the ResizeCache of forward. Returns dx (N, C, H, W)."""
    return cache.rows.T @ dy @ cache.cols


def forward_naive(x, out_size, mode="nearest", coordinate_transformation_mode="half_pixel",
                  nearest_mode="round_prefer_floor", scales=(None, None)):
    """Loop version: every output pixel mixes its (up to) four input cells."""
    options = _options(mode, coordinate_transformation_mode, nearest_mode)
    (oh, ow), (h, w) = out_size, x.shape[2:]
    row_taps, col_taps = taps(oh, h, *options, scales[0]), taps(ow, w, *options, scales[1])
    y = np.zeros(x.shape[:2] + (oh, ow), dtype=x.dtype)
    for i, j in np.ndindex(oh, ow):
        for r, row_weight in _cells(row_taps, i):
            for q, col_weight in _cells(col_taps, j):
                y[:, :, i, j] += row_weight * col_weight * x[:, :, r, q]
    return y, (x.shape, row_taps, col_taps)


def _cells(axis_taps, o):
    first, second, weight = (t[o] for t in axis_taps)
    return (first, 1 - weight), (second, weight)


def backward_naive(dy, cache):
    """Loop version: every output pixel's gradient back to its cells, weighted as in forward."""
    x_shape, row_taps, col_taps = cache
    dx = np.zeros(x_shape, dtype=dy.dtype)
    for i, j in np.ndindex(*dy.shape[2:]):
        for r, row_weight in _cells(row_taps, i):
            for q, col_weight in _cells(col_taps, j):
                dx[:, :, r, q] += row_weight * col_weight * dy[:, :, i, j]
    return dx
