"""Gaussian error linear unit (ONNX "Gelu", opset 20; Hendrycks & Gimpel, "Gaussian Error Linear Units", 2016).

Shapes: x, y any shape.
Formula, approximate="none":  y = x · Φ(x),  Φ(x) = (1 + erf(x/√2)) / 2 = erfc(-x/√2) / 2, the standard normal
                              CDF (as erfc: 1 + erf(x/√2) cancels to nothing in float32 for x < -5)
         approximate="tanh":  y = x · (1 + tanh(u)) / 2,  u = √(2/π) · (x + 0.044715 x³)
Backward, "none":  dx = dy · (Φ(x) + x · φ(x)),  φ(x) = exp(-x²/2) / √(2π)
          "tanh":  dx = dy · ((1 + t) / 2 + x/2 · (1 - t²) · √(2/π) · (1 + 3 · 0.044715 x²)),  t = tanh(u)
Cache: (x, approximate, Φ(x) or t): the factor forward made, which backward needs again.
"""
import math

from minidream.engine.backend import get_array_module
from minidream.engine.ops import erf
from minidream.engine.ops.elementwise import map_naive

_SQRT_2_OVER_PI = math.sqrt(2 / math.pi)
_CUBIC = 0.044715


def _check(approximate):
    if approximate not in ("none", "tanh"):
        raise ValueError(f"Gelu approximate must be 'none' or 'tanh', not {approximate!r}")


def forward(x, approximate="none"):
    """Inputs: x (any shape, float), approximate "none" (erf) or "tanh". Returns (y (x's shape), cache)."""
    _check(approximate)
    if approximate == "none":
        factor = 0.5 * erf.erfc(x * (-1 / math.sqrt(2)))
        return x * factor, (x, approximate, factor)
    factor = get_array_module(x).tanh(_SQRT_2_OVER_PI * (x + _CUBIC * x * x * x))
    return 0.5 * x * (1 + factor), (x, approximate, factor)


def backward(dy, cache):
    """Inputs: dy (y's shape), the cache of forward. Returns dx."""
    x, approximate, factor = cache
    if approximate == "none":
        density = get_array_module(x).exp(-0.5 * x * x) * (1 / math.sqrt(2 * math.pi))
        return dy * (factor + x * density)
    du_dx = _SQRT_2_OVER_PI * (1 + 3 * _CUBIC * x * x)
    return dy * (0.5 * (1 + factor) + 0.5 * x * (1 - factor * factor) * du_dx)


def _gelu(v, approximate):
    if approximate == "none":
        return 0.5 * v * math.erfc(-v / math.sqrt(2))
    return 0.5 * v * (1 + math.tanh(_SQRT_2_OVER_PI * (v + _CUBIC * v ** 3)))


def _slope(v, approximate):
    if approximate == "none":
        return 0.5 * math.erfc(-v / math.sqrt(2)) + v * math.exp(-v * v / 2) / math.sqrt(2 * math.pi)
    t = math.tanh(_SQRT_2_OVER_PI * (v + _CUBIC * v ** 3))
    return 0.5 * (1 + t) + 0.5 * v * (1 - t * t) * _SQRT_2_OVER_PI * (1 + 3 * _CUBIC * v * v)


def forward_naive(x, approximate="none"):
    _check(approximate)
    return map_naive(lambda v: _gelu(v, approximate), x), (x, approximate, None)


def backward_naive(dy, cache):
    x, approximate, _ = cache
    return map_naive(lambda g, v: g * _slope(v, approximate), dy, x)
