"""Centered-difference gradient checks (cs231n style), used by the layer and net tests."""
import numpy as np


def numerical_gradient(f, x, dy, h=1e-5):
    """d(sum(f(x) * dy))/dx by centered differences; f maps an array to an array, x is float64."""
    grad = np.zeros_like(x)
    for index in np.ndindex(x.shape):
        old = x[index]
        x[index] = old + h
        plus = np.sum(f(x) * dy)
        x[index] = old - h
        minus = np.sum(f(x) * dy)
        x[index] = old
        grad[index] = (plus - minus) / (2 * h)
    return grad


def param_grad_errors(net, x, end, dy, layers):
    """{(layer, blob index): rel_error of net.grads (from the last backward with param_grads=True) against
    centered differences of sum(forward(x, end) * dy) in that blob}; every blob is put back as it was."""
    errors = {}
    for layer in layers:
        for k, (blob, grad) in enumerate(zip(net.params[layer], net.grads[layer])):
            original = blob.copy()

            def f(v, blob=blob):
                blob[...] = v
                return net.forward(x, end=end).copy()

            errors[layer, k] = rel_error(grad, numerical_gradient(f, original.copy(), dy))
            blob[...] = original
    return errors


def rel_error(a, b):
    """max |a - b| / max(|a| + |b|), robust to tiny values."""
    a, b = np.asarray(a, np.float64), np.asarray(b, np.float64)
    return float(np.max(np.abs(a - b)) / max(np.max(np.abs(a) + np.abs(b)), 1e-12))


def rel_l2(a, b):
    """||a - b|| / ||b|| over the whole array: for float32 results whose elements may differ where near-ties flip."""
    a, b = np.asarray(a, np.float64), np.asarray(b, np.float64)
    return float(np.linalg.norm(a - b) / max(np.linalg.norm(b), 1e-30))


def tie_free(shape, rng):
    """A shuffled arange scaled to about unit size: no two values are equal, so max-pool gradients are defined."""
    values = rng.permutation(int(np.prod(shape))).astype(np.float64)
    return (values / values.size - 0.5).reshape(shape)
