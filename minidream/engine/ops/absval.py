"""Absolute value (Caffe "AbsVal", src/caffe/layers/absval_layer.cpp).

Shapes: x, y any shape.
Formula:  y = |x|
Backward: dx = sign(x) * dy, with Caffe's sign (caffe_cpu_sign: (0 < x) - (x < 0)), so sign(0) = 0 and a zero
          input passes no gradient.
Cache: x.
"""
import numpy as np

from minidream.engine.backend import get_array_module


def forward(x):
    return get_array_module(x).abs(x), x


def backward(dy, cache):
    x = cache
    return dy * get_array_module(x).sign(x)


def forward_naive(x):
    y = np.empty_like(x)
    for i in np.ndindex(x.shape):
        y[i] = x[i] if x[i] >= 0 else -x[i]
    return y, x


def backward_naive(dy, cache):
    x = cache
    dx = np.empty_like(dy)
    for i in np.ndindex(dy.shape):
        dx[i] = dy[i] * (int(0 < x[i]) - int(x[i] < 0))
    return dx
