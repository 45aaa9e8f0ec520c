"""Softplus (ONNX "Softplus"): a smooth ReLU.

Shapes: x, y any shape.
Formula:  y = log(1 + exp(x)), computed as max(x, 0) + log1p(exp(-|x|)): the same function, with no overflow of
          exp for large x and no loss of log(1 + tiny) for very negative x.
Backward: dx = dy · sigmoid(x)   (ops/sigmoid.py)
Cache: x.
"""
import math

from minidream.engine.backend import get_array_module
from minidream.engine.ops import sigmoid
from minidream.engine.ops.elementwise import map_naive


def forward(x):
    """Inputs: x (any shape, float). Returns (y (x's shape), cache = x)."""
    xp = get_array_module(x)
    return xp.maximum(x, 0) + xp.log1p(xp.exp(-xp.abs(x))), x


def backward(dy, cache):
    """Inputs: dy (y's shape), the cache of forward. Returns dx."""
    return dy * sigmoid.forward(cache)[0]


def forward_naive(x):
    return map_naive(lambda v: max(v, 0.0) + math.log1p(math.exp(-abs(v))), x), x


def backward_naive(dy, cache):
    return dy * sigmoid.forward_naive(cache)[0]
