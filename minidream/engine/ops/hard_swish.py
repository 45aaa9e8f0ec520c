"""Hard swish (ONNX "HardSwish"; Howard et al., "Searching for MobileNetV3", 2019): x times a hard sigmoid.

Shapes: x, y any shape.
Formula:  y = x · s(x),  s(x) = max(0, min(1, x/6 + 1/2))   (ops/hard_sigmoid.py with alpha = 1/6, beta = 1/2)
Backward: the product rule, dx = dy · s(x) + x · (ds/dx · dy), ds/dx from hard_sigmoid's backward: so
          dx = dy · (x/3 + 1/2) for -3 < x < 3, dy for x >= 3, 0 for x <= -3 (at x = 3 the value 1 of the
          right-hand side, where PyTorch's hardswish takes the left-hand 3/2).
Cache: (x, s(x), hard_sigmoid's cache).
"""
from minidream.engine.ops import hard_sigmoid
from minidream.engine.ops.elementwise import map_naive

_ALPHA, _BETA = 1 / 6, 0.5


def forward(x):
    """Inputs: x (any shape, float). Returns (y (x's shape), cache)."""
    s, s_cache = hard_sigmoid.forward(x, _ALPHA, _BETA)
    return x * s, (x, s, s_cache)


def backward(dy, cache):
    """Inputs: dy (y's shape), the cache of forward. Returns dx."""
    x, s, s_cache = cache
    return dy * s + x * hard_sigmoid.backward(dy, s_cache)


def forward_naive(x):
    return map_naive(lambda v: v * max(0.0, min(1.0, v / 6 + 0.5)), x), x


def backward_naive(dy, cache):
    return map_naive(lambda g, v: 0.0 if v <= -3 else g if v >= 3 else g * (v / 3 + 0.5), dy, cache)
