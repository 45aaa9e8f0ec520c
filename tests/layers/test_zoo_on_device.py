"""Every zoo op on (fake) CuPy arrays: the same numbers as on NumPy, and device arrays out (no silent host copies)."""
import numpy as np
import pytest

from minidream.engine.ops import (absval, batch_norm, bias, bnll, crop, elu, eltwise, flatten, lrn_within_channel, power, prelu, reshape, scale, sigmoid, slice as slice_op, tanh)

RNG = np.random.default_rng(0)
X = RNG.standard_normal((2, 3, 5, 4))
C = X.shape[1]

# name -> (module, positional array inputs, keyword parameters); forward(*arrays, **params)
CASES = {
    "elu": (elu, [X], {"alpha": 0.7}),
    "tanh": (tanh, [X], {}),
    "sigmoid": (sigmoid, [X], {}),
    "absval": (absval, [X], {}),
    "bnll": (bnll, [X], {}),
    "power": (power, [np.abs(X) + 0.5], {"power": 1.7, "scale": 0.8, "shift": 0.3}),
    "prelu": (prelu, [X, RNG.uniform(0, 1, C)], {}),
    "bias": (bias, [X, RNG.standard_normal(C)], {}),
    "scale": (scale, [X, RNG.standard_normal(C), RNG.standard_normal(C)], {}),
    "batch_norm_global": (batch_norm, [X, RNG.standard_normal(C), RNG.uniform(1, 2, C), np.array([2.0])], {}),
    "batch_norm_train": (batch_norm, [X, np.zeros(C), np.zeros(C), np.zeros(1)], {"use_global_stats": False}),
    "lrn_within_channel": (lrn_within_channel, [X], {"local_size": 3, "alpha": 1.0, "beta": 0.75}),
    "flatten": (flatten, [X], {}),
    "reshape": (reshape, [X], {"shape": (0, -1, 2)}),
    "crop": (crop, [X, np.zeros((2, 3, 3, 2))], {"offset": (1, 2)}),
}


def _as_list(grads):
    return list(grads) if isinstance(grads, (tuple, list)) else [grads]


@pytest.mark.parametrize("name", sorted(CASES))
def test_op_on_device_matches_numpy(name, fake_device):
    op, arrays, params = CASES[name]
    cp = fake_device
    y, cache = op.forward(*[a.copy() for a in arrays], **params)
    dy = np.random.default_rng(1).standard_normal(y.shape)
    grads = _as_list(op.backward(dy, cache))
    y_dev, cache_dev = op.forward(*[cp.asarray(a) for a in arrays], **params)
    grads_dev = _as_list(op.backward(cp.asarray(dy), cache_dev))
    assert isinstance(y_dev, cp.ndarray) and np.allclose(y_dev, y, rtol=1e-12, atol=1e-12)
    assert len(grads_dev) == len(grads)
    for dev, host in zip(grads_dev, grads):
        if host is None:
            assert dev is None
        else:
            assert isinstance(dev, cp.ndarray) and np.allclose(dev, host, rtol=1e-12, atol=1e-12)


@pytest.mark.parametrize("operation", ["SUM", "PROD", "MAX"])
def test_eltwise_on_device(operation, fake_device):
    cp = fake_device
    xs = [RNG.standard_normal((2, 3, 4)) for _ in range(3)]
    y, cache = eltwise.forward(xs, operation)
    y_dev, cache_dev = eltwise.forward([cp.asarray(x) for x in xs], operation)
    assert isinstance(y_dev, cp.ndarray) and np.allclose(y_dev, y)
    dy = RNG.standard_normal(y.shape)
    for dev, host in zip(eltwise.backward(cp.asarray(dy), cache_dev), eltwise.backward(dy, cache)):
        assert isinstance(dev, cp.ndarray) and np.allclose(dev, host)


def test_slice_on_device(fake_device):
    cp = fake_device
    ys, cache = slice_op.forward(cp.asarray(X), 2, axis=2, slice_point=(2,))
    assert all(isinstance(y, cp.ndarray) for y in ys)
    dx = slice_op.backward([None, cp.asarray(np.ones(ys[1].shape))], cache)
    assert isinstance(dx, cp.ndarray) and dx[:, :, :2].sum() == 0 and dx[:, :, 2:].sum() == ys[1].size
