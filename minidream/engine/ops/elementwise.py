"""What the elementwise and broadcasting ops (the ONNX arithmetic, unary ops, MatMul, Gemm, Expand) share.

NumPy broadcasting lines shapes up from the right; an axis of size 1, or one missing on the left, is repeated.
Its adjoint: an input element repeated k times collects the sum of the k gradients — `unbroadcast`. The loop
versions (`*_naive`) find each output element's source by hand — `source_index` — and map scalar functions over
arrays with `map_naive`.
"""
import numpy as np


def unbroadcast(grad, shape):
    """grad (a broadcast result's shape) summed back to `shape`: over the leading axes broadcasting added and over
    the axes where `shape` has a 1 that was repeated."""
    added = grad.ndim - len(shape)
    repeated = tuple(added + k for k, n in enumerate(shape) if n == 1 and grad.shape[added + k] != 1)
    return grad.sum(axis=tuple(range(added)) + repeated).reshape(shape)


def source_index(index, shape):
    """The element of an input of `shape` that broadcasting copies to output position `index`."""
    aligned = index[len(index) - len(shape):]
    return tuple(i if n != 1 else 0 for i, n in zip(aligned, shape))


def map_naive(f, *arrays):
    """f(*elements) for every position of same-shape arrays, one Python call each; the result has the first's
    dtype."""
    out = np.empty_like(arrays[0])
    for index in np.ndindex(out.shape):
        out[index] = f(*(a[index] for a in arrays))
    return out


def is_integer(a):
    """True for an integer (or boolean) array: shape arithmetic, which has no gradient."""
    return not np.issubdtype(a.dtype, np.inexact)
