"""Power (Caffe "Power", power_param: power = 1, scale = 1, shift = 0 by default).

Shapes: x, y any shape.
Formula (src/caffe/layers/power_layer.cpp):  y = (shift + scale * x) ^ power
    Caffe's special case: when power * scale == 0 the input is ignored and y is the constant
    1 if power == 0 (even where the base is 0), else shift ^ power.
Backward: dy/dx = power * scale * (shift + scale * x) ^ (power - 1), with Caffe's special cases:
    power * scale == 0  ->  dx = 0 (the output is constant)
    power == 1          ->  dx = scale * dy
    power == 2          ->  dx = dy * 2 * scale * (shift + scale * x)      (no power, no division)
    otherwise Caffe computes power * scale * y / (shift + scale * x). That equals our
    power * scale * base ^ (power - 1) wherever base != 0; at base == 0 Caffe's quotient is 0/0 = NaN,
    where we give the limit (0 for power > 1, inf for power < 1) so one zero input cannot poison a gradient.
Cache: (x, power, scale, shift).
"""
import numpy as np

from minidream.engine.backend import get_array_module


def forward(x, power=1.0, scale=1.0, shift=0.0):
    xp = get_array_module(x)
    if power * scale == 0:
        value = 1.0 if power == 0 else shift ** power
        y = xp.full(x.shape, value, dtype=x.dtype)
    else:
        y = x * scale + shift
        if power != 1:
            y **= power
    return y, (x, power, scale, shift)


def backward(dy, cache):
    x, power, scale, shift = cache
    xp = get_array_module(dy)
    diff_scale = power * scale
    if diff_scale == 0:
        return xp.zeros_like(dy)
    if power == 1:
        return dy * scale
    base = x * scale + shift
    if power == 2:
        return dy * (diff_scale * base)
    return dy * (diff_scale * base ** (power - 1))


def forward_naive(x, power=1.0, scale=1.0, shift=0.0):
    y = np.empty_like(x)
    for i in np.ndindex(x.shape):
        y[i] = (1.0 if power == 0 else shift ** power) if power * scale == 0 else (shift + scale * x[i]) ** power
    return y, (x, power, scale, shift)


def backward_naive(dy, cache):
    x, power, scale, shift = cache
    dx = np.empty_like(dy)
    for i in np.ndindex(dy.shape):
        slope = 0.0 if power * scale == 0 else power * scale * (shift + scale * x[i]) ** (power - 1)
        dx[i] = dy[i] * slope
    return dx
