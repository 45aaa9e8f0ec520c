"""Negation (ONNX "Neg"), elementwise; integer x too (shape arithmetic).

Shapes: x, y any shape.
Formula:  y = -x
Backward: dx = -dy
Cache: None: the derivative is a constant.
"""
from minidream.engine.ops.elementwise import map_naive


def forward(x):
    """Inputs: x (any shape). Returns (y (x's shape), cache = None)."""
    return -x, None


def backward(dy, cache):
    """Inputs: dy (y's shape), the cache of forward. Returns dx."""
    return -dy


def forward_naive(x):
    return map_naive(lambda v: -v, x), None


def backward_naive(dy, cache):
    return map_naive(lambda g: -g, dy)
