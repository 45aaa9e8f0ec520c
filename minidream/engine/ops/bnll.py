"""Binomial normal log-likelihood, i.e. softplus (Caffe "BNLL", src/caffe/layers/bnll_layer.cpp).

Shapes: x, y any shape.
Formula:  y = log(1 + exp(x)), computed in Caffe's two branches so exp never overflows:
          y = x + log(1 + exp(-x))  for x > 0,     y = log(1 + exp(x))  otherwise
          (we take log1p of the same argument: equal up to rounding, more accurate for large |x|).
Backward: dx = dy * e / (e + 1) with e = exp(min(x, 50)): Caffe's kBNLL_THRESHOLD = 50 caps the exponent, so a
          large x gives exactly dy (e/(e+1) rounds to 1) instead of inf/inf = NaN.
Cache: x.
"""
import math

import numpy as np

from minidream.engine.backend import get_array_module

THRESHOLD = 50.0  # Caffe's kBNLL_THRESHOLD


def forward(x):
    xp = get_array_module(x)
    y = xp.maximum(x, 0) + xp.log1p(xp.exp(-xp.abs(x)))
    return y, x


def backward(dy, cache):
    x = cache
    xp = get_array_module(x)
    e = xp.exp(xp.minimum(x, THRESHOLD))
    return dy * e / (e + 1)


def forward_naive(x):
    y = np.empty_like(x)
    for i in np.ndindex(x.shape):
        y[i] = x[i] + math.log1p(math.exp(-x[i])) if x[i] > 0 else math.log1p(math.exp(x[i]))
    return y, x


def backward_naive(dy, cache):
    x = cache
    dx = np.empty_like(dy)
    for i in np.ndindex(dy.shape):
        e = math.exp(min(x[i], THRESHOLD))
        dx[i] = dy[i] * e / (e + 1)
    return dx
