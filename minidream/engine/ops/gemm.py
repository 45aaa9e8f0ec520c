"""General matrix multiply (ONNX "Gemm"): the classifier of torchvision's exports, y = x · Wᵀ + b.

Shapes: a (M, K) or, with trans_a, (K, M); b (K, N) or, with trans_b, (N, K); c None or broadcastable to (M, N)
(unidirectionally: c's shape never grows y's); y (M, N).
Formula:  y = alpha · A' @ B' + beta · c,  A' = aᵀ if trans_a else a,  B' = bᵀ if trans_b else b
Backward: dA' = alpha · dy @ B'ᵀ,  dB' = alpha · A'ᵀ @ dy (transposed back where the input was),
          dc = beta · dy summed over the axes c was broadcast along (elementwise.unbroadcast); None without c.
Cache: (A', B', alpha, beta, trans_a, trans_b, c's shape or None).
"""
import numpy as np

from minidream.engine.ops.elementwise import source_index, unbroadcast


def forward(a, b, c=None, alpha=1.0, beta=1.0, trans_a=False, trans_b=False):
    """Inputs: a, b 2-D, c (or None), the ONNX attributes. Returns (y (M, N), cache)."""
    a_t, b_t = (a.T if trans_a else a), (b.T if trans_b else b)
    alpha, beta = float(alpha), float(beta)  # Python floats: a NumPy float64 would make float32 products float64
    y = alpha * (a_t @ b_t)
    if c is not None:
        if np.broadcast_shapes(np.shape(c), y.shape) != y.shape:
            raise ValueError(f"Gemm's c of shape {tuple(np.shape(c))} does not broadcast to y's {y.shape}")
        y += beta * c
    return y, (a_t, b_t, alpha, beta, trans_a, trans_b, None if c is None else np.shape(c))


def backward(dy, cache):
    """Inputs: dy (M, N), the cache of forward. Returns (da, db, dc) in a's, b's and c's shapes (dc None without c)."""
    a_t, b_t, alpha, beta, trans_a, trans_b, c_shape = cache
    da_t, db_t = alpha * (dy @ b_t.T), alpha * (a_t.T @ dy)
    dc = None if c_shape is None else unbroadcast(beta * dy, c_shape)
    return (da_t.T if trans_a else da_t), (db_t.T if trans_b else db_t), dc


def forward_naive(a, b, c=None, alpha=1.0, beta=1.0, trans_a=False, trans_b=False):
    a_t, b_t = (a.T if trans_a else a), (b.T if trans_b else b)
    (m, k), n = a_t.shape, b_t.shape[1]
    y = np.zeros((m, n), dtype=np.result_type(a, b))
    for i in range(m):
        for j in range(n):
            y[i, j] = alpha * sum(a_t[i, t] * b_t[t, j] for t in range(k))
            if c is not None:
                y[i, j] += beta * np.asarray(c)[source_index((i, j), np.shape(c))]
    return y, (a_t, b_t, alpha, beta, trans_a, trans_b, None if c is None else np.shape(c))


def backward_naive(dy, cache):
    a_t, b_t, alpha, beta, trans_a, trans_b, c_shape = cache
    (m, k), n = a_t.shape, b_t.shape[1]
    da_t, db_t = np.zeros(a_t.shape), np.zeros(b_t.shape)
    dc = None if c_shape is None else np.zeros(c_shape)
    for i in range(m):
        for j in range(n):
            for t in range(k):
                da_t[i, t] += alpha * dy[i, j] * b_t[t, j]
                db_t[t, j] += alpha * dy[i, j] * a_t[i, t]
            if dc is not None:
                dc[source_index((i, j), c_shape)] += beta * dy[i, j]
    return (da_t.T if trans_a else da_t), (db_t.T if trans_b else db_t), dc
