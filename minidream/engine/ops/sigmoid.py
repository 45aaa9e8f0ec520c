"""Logistic sigmoid (Caffe "Sigmoid", src/caffe/layers/sigmoid_layer.cpp).

Shapes: x, y any shape.
Formula:  y = 1 / (1 + exp(-x)), computed as Caffe does since 2017: y = 0.5 * tanh(0.5 * x) + 0.5
          (the same function, with no exp overflow for large negative x).
Backward: dx = dy * y * (1 - y)
Cache: y.
"""
import math

import numpy as np

from minidream.engine.backend import get_array_module


def forward(x):
    y = 0.5 * get_array_module(x).tanh(0.5 * x) + 0.5
    return y, y


def backward(dy, cache):
    y = cache
    return dy * y * (1 - y)


def forward_naive(x):
    y = np.empty_like(x)
    for i in np.ndindex(x.shape):
        # the textbook form, split by sign so exp never overflows
        y[i] = 1 / (1 + math.exp(-x[i])) if x[i] >= 0 else math.exp(x[i]) / (1 + math.exp(x[i]))
    return y, y


def backward_naive(dy, cache):
    y = cache
    dx = np.empty_like(dy)
    for i in np.ndindex(dy.shape):
        dx[i] = dy[i] * y[i] * (1 - y[i])
    return dx
