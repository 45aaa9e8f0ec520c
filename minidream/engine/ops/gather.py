"""Gather (ONNX "Gather"): slices of x along an axis, picked by an array of indices. A ViT takes its class token
with it; shape arithmetic picks sizes out of Shape's output (integer x).

Shapes: x (d_0, ..., d_{r-1}); indices any shape (0-d: one slice, the axis disappears); axis in [-r, r);
y = x.shape[:axis] + indices.shape + x.shape[axis+1:].
Formula:  y[a..., i..., b...] = x[a..., indices[i...], b...]; a negative index counts from the end (ONNX); one
          outside [-d_axis, d_axis) is a ValueError naming it.
Backward: the adjoint of a gather is a scatter-add: dx = 0, then dx[a..., indices[i...], b...] += dy[a..., i..., b...]
          — an index that repeats collects every one of its gradients. numpy.add.at on the CPU; on CuPy
          cupyx.scatter_add, whose atomic adds make the order of the sums (not which terms are summed) vary from
          run to run where indices repeat. None for an integer x.
Cache: (indices with negatives wrapped, axis, x's shape, whether x is integer).
"""
import numpy as np

from minidream.engine.backend import as_numpy, get_array_module, is_gpu
from minidream.engine.ops.axes import canonical_axis
from minidream.engine.ops.elementwise import is_integer


def _wrapped(x, indices, axis):
    """(indices with negative ones wrapped, the axis made non-negative); ValueError for indices out of range."""
    xp = get_array_module(x)
    axis = canonical_axis(axis, x.ndim)
    size = x.shape[axis]
    indices = xp.asarray(indices).astype(np.int64)
    bad = (indices < -size) | (indices >= size)
    if bad.any():
        raise ValueError(f"gather indices {sorted(set(as_numpy(indices[bad]).tolist()))} are out of range for "
                         f"axis {axis} of size {size} (use -{size} .. {size - 1})")
    return xp.where(indices < 0, indices + size, indices), axis


def forward(x, indices, axis=0):
    """Inputs: x (any shape, float or integer), indices (integer array), axis. Returns (y, cache)."""
    indices, axis = _wrapped(x, indices, axis)
    y = get_array_module(x).take(x, indices, axis=axis)
    return y, (indices, axis, x.shape, is_integer(x))


def backward(dy, cache):
    """Inputs: dy (y's shape), the cache of forward. Returns dx (x's shape), or None for an integer x."""
    indices, axis, shape, integer = cache
    if integer:
        return None
    xp = get_array_module(dy)
    # the gathered axis first in both: dy's index axes (axis .. axis+indices.ndim) and dx's axis
    dy_first = xp.moveaxis(dy, list(range(axis, axis + indices.ndim)), list(range(indices.ndim)))
    dx_first = xp.zeros((shape[axis],) + shape[:axis] + shape[axis + 1:], dtype=dy.dtype)
    if is_gpu(dy):
        import cupyx

        cupyx.scatter_add(dx_first, indices, dy_first)
    else:
        np.add.at(dx_first, indices, dy_first)
    return xp.moveaxis(dx_first, 0, axis)


def forward_naive(x, indices, axis=0):
    indices, axis = _wrapped(x, indices, axis)
    y = np.empty(x.shape[:axis] + indices.shape + x.shape[axis + 1:], dtype=x.dtype)
    for index in np.ndindex(y.shape):
        before, at, after = index[:axis], index[axis:axis + indices.ndim], index[axis + indices.ndim:]
        y[index] = x[before + (indices[at],) + after]
    return y, (indices, axis, x.shape, is_integer(x))


def backward_naive(dy, cache):
    indices, axis, shape, integer = cache
    if integer:
        return None
    dx = np.zeros(shape, dtype=dy.dtype)
    for index in np.ndindex(dy.shape):
        before, at, after = index[:axis], index[axis:axis + indices.ndim], index[axis + indices.ndim:]
        dx[before + (indices[at],) + after] += dy[index]
    return dx
