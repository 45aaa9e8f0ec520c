"""Exponential linear unit (Caffe "ELU", elu_param.alpha, default 1).

From Clevert, Unterthiner & Hochreiter, "Fast and Accurate Deep Network Learning by Exponential Linear Units"
(2015), in Caffe's form (src/caffe/layers/elu_layer.cpp):

Shapes: x, y any shape (N, ...).
Formula:  y = max(x, 0) + alpha * (exp(min(x, 0)) - 1)
Backward: dx = dy                 where x > 0
          dx = dy * (alpha + y)   where x <= 0   (alpha + y = alpha * exp(x) there; Caffe reuses y)
Cache: (x, y, alpha).
"""
import math

import numpy as np

from minidream.engine.backend import get_array_module


def forward(x, alpha=1.0):
    xp = get_array_module(x)
    y = xp.maximum(x, 0) + alpha * (xp.exp(xp.minimum(x, 0)) - 1)
    return y, (x, y, alpha)


def backward(dy, cache):
    x, y, alpha = cache
    xp = get_array_module(dy)
    return xp.where(x > 0, dy, dy * (alpha + y))


def forward_naive(x, alpha=1.0):
    y = np.empty_like(x)
    for i in np.ndindex(x.shape):
        y[i] = x[i] if x[i] > 0 else alpha * (math.exp(x[i]) - 1)
    return y, (x, y, alpha)


def backward_naive(dy, cache):
    x, _, alpha = cache
    dx = np.empty_like(dy)
    for i in np.ndindex(dy.shape):
        dx[i] = dy[i] if x[i] > 0 else dy[i] * alpha * math.exp(x[i])
    return dx
