"""Fully connected layer (Caffe "InnerProduct").

Shapes: x (N, C, H, W) or (N, K) is flattened in (C, H, W) order to (N, K); w (Nout, K); b (Nout,) or None;
y (N, Nout).

Formula: y = x · wᵀ + b
Backward: dx = dy · w (reshaped to x's shape),  dw = dyᵀ · x,  db = sum_n dy.
The products are those of the Columns for x (ops/im2col.py): NumPy's, the fast engine's split over the cores, or
cuBLAS.
"""
import numpy as np

from minidream.engine.ops.im2col import columns_for, columns_of


def _flat(x, w):
    x_flat = x.reshape(x.shape[0], -1)
    if x_flat.shape[1] != w.shape[1]:
        raise ValueError(
            f"fully connected layer expects {w.shape[1]} inputs per image but got {x_flat.shape[1]} "
            f"(input shape {tuple(x.shape[1:])}); fully connected layers need the network's nominal input size"
        )
    return x_flat


def forward(x, w, b):
    """Inputs: x (N, ...), w (Nout, K), b (Nout,) or None. Returns (y (N, Nout), cache).

    cache = (path, x_flat (N, K), x's shape, w, whether there is a bias): the path of the products that made it,
    dw needs x_flat, dx needs w and x's shape. NumPy or CuPy arrays alike (one matrix product)."""
    x_flat, cols = _flat(x, w), columns_for(x)
    y = cols.matmul(x_flat, w.T)
    if b is not None:
        y += b
    return y, (cols.path, x_flat, x.shape, w, b is not None)


def backward(dy, cache, weight_grads=True):
    """Inputs: dy (N, Nout), the cache of forward. Returns (dx (x's shape), dw, db); dw, db None without
    weight_grads, db None without a bias."""
    path, x_flat, x_shape, w, has_bias = cache
    matmul = columns_of(path).matmul
    dx = matmul(dy, w).reshape(x_shape)
    if not weight_grads:
        return dx, None, None
    return dx, matmul(dy.T, x_flat), (dy.sum(axis=0) if has_bias else None)


def forward_naive(x, w, b):
    x_flat = _flat(x, w)
    n, (n_out, k) = x_flat.shape[0], w.shape
    y = np.zeros((n, n_out), dtype=x.dtype)
    for i in range(n):
        for o in range(n_out):
            y[i, o] = sum(x_flat[i, j] * w[o, j] for j in range(k)) + (b[o] if b is not None else 0)
    return y, ("naive", x_flat, x.shape, w, b is not None)


def backward_naive(dy, cache, weight_grads=True):
    _, x_flat, x_shape, w, has_bias = cache
    n, (n_out, k) = x_flat.shape[0], w.shape
    dx, dw = np.zeros_like(x_flat), np.zeros_like(w)
    for i in range(n):
        for o in range(n_out):
            for j in range(k):
                dx[i, j] += dy[i, o] * w[o, j]
                dw[o, j] += dy[i, o] * x_flat[i, j]
    db = dy.sum(axis=0) if has_bias else None
    if not weight_grads:
        dw = db = None
    return dx.reshape(x_shape), dw, db


