"""Matrix product with numpy.matmul's rules (ONNX "MatMul"): a ViT's (N, tokens, width) @ (width, out) and the
attention's (N, heads, tokens, d) @ (N, heads, d, tokens).

Shapes: a (..., M, K), b (..., K, N) -> y (..., M, N), the batch axes "..." broadcast against each other.
  A 1-D a (K,) is a row (1, K) and a 1-D b (K,) a column (K, 1); the added axis is dropped from y.
Formula:  y[..., i, j] = Σ_k a[..., i, k] · b[..., k, j]
Backward: da = dy @ bᵀ, db = aᵀ @ dy (ᵀ swaps the last two axes), on the promoted 2-D-or-more shapes, each summed
  over the batch axes broadcasting added or repeated (elementwise.unbroadcast) and reshaped to its input's shape.
  An integer operand has no gradient: None.
Cache: (a, b).
"""
import numpy as np

from minidream.engine.backend import get_array_module
from minidream.engine.ops.elementwise import is_integer, source_index, unbroadcast


def _promoted(a, b, dy=None):
    """a, b and dy (when given) with matmul's 1-D promotion made explicit: every one at least 2-D."""
    if b.ndim == 1:
        b, dy = b[:, None], (None if dy is None else dy[..., None])
    if a.ndim == 1:
        a, dy = a[None, :], (None if dy is None else dy[..., None, :])
    return a, b, dy


def forward(a, b):
    """Inputs: a (..., M, K) or (K,), b (..., K, N) or (K,). Returns (y, cache = (a, b))."""
    return get_array_module(a, b).matmul(a, b), (a, b)


def backward(dy, cache):
    """Inputs: dy (y's shape), the cache of forward. Returns (da, db), in a's and b's shapes (None for integers).

    A 2-D b (a weight) takes one product over all the batch's rows, db = a_rowsᵀ @ dy_rows, not a product per batch
    entry summed afterwards; the stacks' transposes are made contiguous, since NumPy's matmul runs a strided stack
    without the BLAS (docs/speed.md)."""
    a, b = cache
    xp = get_array_module(dy)
    a2, b2, dy2 = _promoted(a, b, dy)
    da = None if is_integer(a) else unbroadcast(xp.matmul(dy2, _transposed(xp, b2)), a2.shape).reshape(a.shape)
    if is_integer(b):
        db = None
    elif b2.ndim == 2:
        db = (a2.reshape(-1, a2.shape[-1]).T @ dy2.reshape(-1, dy2.shape[-1])).reshape(b.shape)
    else:
        db = unbroadcast(xp.matmul(_transposed(xp, a2), dy2), b2.shape).reshape(b.shape)
    return da, db


def _transposed(xp, m):
    """m with its last two axes swapped: a view for a matrix (the BLAS reads it transposed), a copy for a stack."""
    swapped = xp.swapaxes(m, -1, -2)
    return swapped if m.ndim == 2 else xp.ascontiguousarray(swapped)


def _batch_shape(a2, b2):
    return np.broadcast_shapes(a2.shape[:-2], b2.shape[:-2])


def forward_naive(a, b):
    a2, b2, _ = _promoted(a, b)
    (m, k), n = a2.shape[-2:], b2.shape[-1]
    y = np.zeros(_batch_shape(a2, b2) + (m, n), dtype=np.result_type(a, b))
    for batch in np.ndindex(y.shape[:-2]):
        a_m, b_m = a2[source_index(batch, a2.shape[:-2])], b2[source_index(batch, b2.shape[:-2])]
        for i in range(m):
            for j in range(n):
                y[batch + (i, j)] = sum(a_m[i, t] * b_m[t, j] for t in range(k))
    kept = ((m,) if a.ndim > 1 else ()) + ((n,) if b.ndim > 1 else ())  # the axes 1-D promotion added go again
    return y.reshape(y.shape[:-2] + kept), (a, b)


def backward_naive(dy, cache):
    a, b = cache
    a2, b2, dy2 = _promoted(a, b, dy)
    (m, k), n = a2.shape[-2:], b2.shape[-1]
    da, db = np.zeros(a2.shape), np.zeros(b2.shape)
    for batch in np.ndindex(_batch_shape(a2, b2)):
        ia, ib = source_index(batch, a2.shape[:-2]), source_index(batch, b2.shape[:-2])
        for i in range(m):
            for j in range(n):
                for t in range(k):
                    da[ia + (i, t)] += dy2[batch + (i, j)] * b2[ib + (t, j)]
                    db[ib + (t, j)] += dy2[batch + (i, j)] * a2[ia + (i, t)]
    return (None if is_integer(a) else da.reshape(a.shape).astype(a.dtype),
            None if is_integer(b) else db.reshape(b.shape).astype(b.dtype))
