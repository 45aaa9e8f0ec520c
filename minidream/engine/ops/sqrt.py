"""Square root (ONNX "Sqrt"), elementwise.

Shapes: x, y any shape.
Formula:  y = √x   (NaN for x < 0, as in NumPy and onnxruntime)
Backward: dx = dy / (2 y)   (infinite at x = 0, where √ has a vertical tangent)
Cache: y.
"""
import math

from minidream.engine.backend import get_array_module
from minidream.engine.ops.elementwise import map_naive


def forward(x):
    """Inputs: x (any shape, float). Returns (y (x's shape), cache = y)."""
    y = get_array_module(x).sqrt(x)
    return y, y


def backward(dy, cache):
    """Inputs: dy (y's shape), the cache of forward. Returns dx."""
    return dy / (2 * cache)


def forward_naive(x):
    y = map_naive(lambda v: math.sqrt(v) if v >= 0 else math.nan, x)
    return y, y


def backward_naive(dy, cache):
    return map_naive(lambda g, v: g / (2 * v), dy, cache)
