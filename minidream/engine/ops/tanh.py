"""Hyperbolic tangent (Caffe "TanH", src/caffe/layers/tanh_layer.cpp).

Shapes: x, y any shape.
Formula:  y = tanh(x)
Backward: dx = dy * (1 - y^2)   (Caffe differentiates through the output it kept)
Cache: y.
"""
import math

import numpy as np

from minidream.engine.backend import get_array_module


def forward(x):
    y = get_array_module(x).tanh(x)
    return y, y


def backward(dy, cache):
    y = cache
    return dy * (1 - y * y)


def forward_naive(x):
    y = np.empty_like(x)
    for i in np.ndindex(x.shape):
        e = math.exp(-2 * abs(x[i]))
        y[i] = math.copysign((1 - e) / (1 + e), x[i])
    return y, y


def backward_naive(dy, cache):
    y = cache
    dx = np.empty_like(dy)
    for i in np.ndindex(dy.shape):
        dx[i] = dy[i] * (1 - y[i] ** 2)
    return dx
