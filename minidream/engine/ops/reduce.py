"""Reductions (ONNX "ReduceMean", "ReduceSum", "ReduceMax") over some axes, any rank.

Shapes: x any shape; axes a list of axes (negative ones count from the end; None or empty: all of them, ONNX's
default); y x's shape with the reduced axes 1 (keepdims) or gone.
Formula:  mean y = Σ x / n,  sum y = Σ x,  max y = max x, over the n elements of the reduced axes.
Backward: mean dx = dy / n,  sum dx = dy (broadcast back over the reduced axes);
          max  dx = dy at the first maximum in row-major order of the reduced axes, 0 elsewhere. With ties the max
          has no derivative; like numpy.argmax we pick the first, so exactly one element gets each dy.
Cache: (kind, x's shape, the sorted axes, the flat index of the first maximum within its reduced block, for max).
"""
import numpy as np

from minidream.engine.backend import get_array_module

KINDS = ("mean", "sum", "max")


def _check(kind):
    if kind not in KINDS:
        raise ValueError(f"unknown reduction {kind!r}: use one of {', '.join(KINDS)}")


def _axes(x, axes):
    """The reduced axes, non-negative and sorted."""
    if axes is None or len(axes) == 0:
        return tuple(range(x.ndim))
    return tuple(sorted({int(a) % x.ndim for a in axes}))


def _blocks(x, axes):
    """x with the reduced axes moved last and merged, row-major: (kept axes..., n)."""
    kept = [k for k in range(x.ndim) if k not in axes]
    moved = x.transpose(kept + list(axes))
    return moved.reshape(moved.shape[:len(kept)] + (-1,))


def _kept_dims_shape(shape, axes):
    return tuple(1 if k in axes else n for k, n in enumerate(shape))


def forward(x, kind, axes=None, keepdims=True):
    """Inputs: x (any shape), kind in KINDS, axes, keepdims. Returns (y, cache)."""
    _check(kind)
    axes = _axes(x, axes)
    y = getattr(x, kind)(axis=axes, keepdims=keepdims)
    first_max = _blocks(x, axes).argmax(axis=-1) if kind == "max" else None
    return y, (kind, x.shape, axes, first_max)


def backward(dy, cache):
    """Inputs: dy (y's shape), the cache of forward. Returns dx (x's shape)."""
    kind, shape, axes, first_max = cache
    xp = get_array_module(dy)
    dy_kept = dy.reshape(_kept_dims_shape(shape, axes))
    n = int(np.prod([shape[k] for k in axes]))
    if kind != "max":  # a copy, not the read-only broadcast view: the caller may write into dx
        return xp.broadcast_to(dy_kept / n if kind == "mean" else dy_kept, shape).copy()
    kept = [k for k in range(len(shape)) if k not in axes]
    one_hot = xp.arange(n) == first_max[..., None]  # (kept axes..., n), true at each block's first maximum
    dx_blocks = one_hot * dy_kept.reshape(first_max.shape + (1,))
    dx_moved = dx_blocks.reshape([shape[k] for k in kept + list(axes)])
    return xp.transpose(dx_moved, tuple(np.argsort(kept + list(axes)).tolist()))


def forward_naive(x, kind, axes=None, keepdims=True):
    _check(kind)
    axes = _axes(x, axes)
    y = np.empty(_kept_dims_shape(x.shape, axes), dtype=x.dtype)
    first_max = {}
    for out in np.ndindex(y.shape):
        block = []  # the positions reduced into y[out], in row-major order of the reduced axes
        for inner in np.ndindex(*[x.shape[k] for k in axes]):
            index = list(out)
            for k, i in zip(axes, inner):
                index[k] = i
            block.append(tuple(index))
        values = [x[index] for index in block]
        if kind == "max":
            best = 0
            for i, v in enumerate(values):
                best = i if v > values[best] else best  # strictly greater: the first of equal maxima stays
            first_max[out], y[out] = block[best], values[best]
        else:
            y[out] = sum(values) / (len(values) if kind == "mean" else 1)
    if not keepdims:
        y = y.reshape([n for k, n in enumerate(x.shape) if k not in axes])
    return y, (kind, x.shape, axes, first_max)


def backward_naive(dy, cache):
    kind, shape, axes, first_max = cache
    dy_kept = dy.reshape(_kept_dims_shape(shape, axes))
    n = int(np.prod([shape[k] for k in axes]))
    dx = np.zeros(shape, dtype=dy.dtype)
    for index in np.ndindex(shape):
        out = tuple(0 if k in axes else i for k, i in enumerate(index))
        if kind == "max":
            dx[index] = dy_kept[out] if first_max[out] == index else 0
        else:
            dx[index] = dy_kept[out] / (n if kind == "mean" else 1)
    return dx
