"""Transpose (ONNX "Transpose"): the axes of x in a new order, e.g. a ViT's (N, tokens, heads, d) to
(N, heads, tokens, d).

Shapes: x (d_0, ..., d_{r-1}); perm a permutation of 0..r-1 (None: the axes reversed, ONNX's default);
y (d_perm[0], ..., d_perm[r-1]).
Formula:  y[i_0, ..., i_{r-1}] = x[j] with j[perm[k]] = i_k
Backward: the inverse permutation, dx = transpose(dy, argsort(perm)): a relabelling of indices, whose adjoint is
          its inverse.
Cache: perm. y is a view of x, as NumPy's and CuPy's transpose give it.
"""
import numpy as np

from minidream.engine.backend import get_array_module


def _perm(x, perm):
    perm = tuple(reversed(range(x.ndim))) if perm is None else tuple(int(p) % x.ndim for p in perm)
    if sorted(perm) != list(range(x.ndim)):
        raise ValueError(f"transpose perm {perm} is not a permutation of the {x.ndim} axes of x")
    return perm


def forward(x, perm=None):
    """Inputs: x (any rank), perm (or None). Returns (y, cache = perm)."""
    perm = _perm(x, perm)
    return get_array_module(x).transpose(x, perm), perm


def backward(dy, cache):
    """Inputs: dy (y's shape), the cache of forward. Returns dx (x's shape)."""
    return get_array_module(dy).transpose(dy, tuple(np.argsort(cache).tolist()))


def forward_naive(x, perm=None):
    perm = _perm(x, perm)
    y = np.empty([x.shape[p] for p in perm], dtype=x.dtype)
    for index in np.ndindex(y.shape):
        source = [0] * x.ndim
        for k, p in enumerate(perm):
            source[p] = index[k]
        y[index] = x[tuple(source)]
    return y, perm


def backward_naive(dy, cache):
    perm = cache
    dx = np.empty([dy.shape[perm.index(axis)] for axis in range(dy.ndim)], dtype=dy.dtype)
    for index in np.ndindex(dy.shape):
        dx[tuple(index[perm.index(axis)] for axis in range(dy.ndim))] = dy[index]
    return dx
