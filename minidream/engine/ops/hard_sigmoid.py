"""Hard sigmoid (ONNX "HardSigmoid"): a piecewise-linear sigmoid.

Shapes: x, y any shape.
Formula:  y = max(0, min(1, alpha · x + beta))   (ONNX defaults alpha = 0.2, beta = 0.5)
Backward: dx = alpha · dy where 0 < alpha · x + beta < 1, else 0. At the two corners the function has no
          derivative; like PyTorch's hardsigmoid we take the flat side's 0 there.
Cache: (inside, alpha): where the linear piece applies.
"""
from minidream.engine.ops.elementwise import map_naive


def forward(x, alpha=0.2, beta=0.5):
    """Inputs: x (any shape, float), alpha, beta. Returns (y (x's shape), cache)."""
    z = float(alpha) * x + float(beta)
    inside = (z > 0) & (z < 1)
    return z.clip(0, 1), (inside, float(alpha))


def backward(dy, cache):
    """Inputs: dy (y's shape), the cache of forward. Returns dx."""
    inside, alpha = cache
    return dy * inside * alpha  # the bool mask first: it keeps dy's dtype


def forward_naive(x, alpha=0.2, beta=0.5):
    return map_naive(lambda v: max(0.0, min(1.0, alpha * v + beta)), x), (x, alpha, beta)


def backward_naive(dy, cache):
    x, alpha, beta = cache
    return map_naive(lambda g, v: alpha * g if 0 < alpha * v + beta < 1 else 0.0, dy, x)
