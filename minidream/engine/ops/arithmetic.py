"""Binary arithmetic with NumPy broadcasting (ONNX "Add", "Sub", "Mul", "Div", "Pow"); integer operands too.

Shapes: a, b broadcastable (minidream/engine/ops/elementwise.py); y their broadcast shape.
Formula, by kind:  add y = a + b,  sub y = a - b,  mul y = a · b,  div y = a / b,  pow y = a^b.
  Integer a and b (shape arithmetic) keep integer semantics: ONNX Div on integers truncates toward zero, as C
  does (-7 / 2 = -3, where NumPy's // floors to -4); a zero divisor is an error rather than undefined.
Backward, with the local derivatives (∂y/∂a, ∂y/∂b):
  add (1, 1),  sub (1, -1),  mul (b, a),  div (1/b, -y/b),
  pow (b · a^(b-1), log(a) · y) — the second only where a > 0, where a^b is smooth in b; elsewhere a^b is
      defined for integer b alone, as a function of b it has no derivative there, and we pass 0.
  da = unbroadcast(dy · ∂y/∂a, a's shape), db likewise: an element broadcasting repeated collects every repeat's
  gradient. An integer operand has no gradient: None.
Cache: (kind, a, b, y).
"""
import math
import operator

import numpy as np

from minidream.engine.backend import get_array_module
from minidream.engine.ops.elementwise import is_integer, source_index, unbroadcast

KINDS = ("add", "sub", "mul", "div", "pow")


def _check(kind):
    if kind not in KINDS:
        raise ValueError(f"unknown arithmetic kind {kind!r}: use one of {', '.join(KINDS)}")


def _divide(a, b, xp):
    if not (is_integer(a) and is_integer(b)):
        return a / b
    if xp.any(b == 0):
        raise ZeroDivisionError("integer division by zero in an ONNX Div")
    # |a| // |b| is the quotient truncated toward zero; the sign comes back after: exact for every integer
    return xp.abs(a) // xp.abs(b) * (xp.sign(a) * xp.sign(b))


def _local_derivatives(kind, a, b, y, xp):
    """(∂y/∂a, ∂y/∂b), elementwise and broadcastable to y."""
    if kind == "mul":
        return b, a
    if kind == "div":
        return 1 / b, -y / b
    if kind == "pow":
        positive = a > 0
        # log of 1 where a <= 0, so that no log(0) or log(-1) is taken; those elements pass 0 (see above)
        return b * a ** (b - 1), xp.where(positive, xp.log(xp.where(positive, a, 1)) * y, 0)
    return 1, (-1 if kind == "sub" else 1)


def forward(a, b, kind):
    """Inputs: a, b (broadcastable; float or both integer), kind in KINDS. Returns (y, cache)."""
    _check(kind)
    xp = get_array_module(a, b)
    if kind == "div":
        y = _divide(a, b, xp)
    else:
        y = {"add": operator.add, "sub": operator.sub, "mul": operator.mul, "pow": xp.power}[kind](a, b)
    return y, (kind, a, b, y)


def backward(dy, cache):
    """Inputs: dy (y's shape), the cache of forward. Returns (da, db): each in its input's shape, None for an
    integer input."""
    kind, a, b, y = cache
    dy_da, dy_db = _local_derivatives(kind, a, b, y, get_array_module(dy))
    da = None if is_integer(a) else unbroadcast(dy * dy_da, np.shape(a))
    db = None if is_integer(b) else unbroadcast(dy * dy_db, np.shape(b))
    return da, db


def _divide_scalar(p, q):
    if isinstance(p, np.integer) and isinstance(q, np.integer):
        if q == 0:
            raise ZeroDivisionError("integer division by zero in an ONNX Div")
        quotient = abs(int(p)) // abs(int(q))
        return quotient if (p < 0) == (q < 0) else -quotient
    return p / q


_SCALAR_FORWARD = {"add": operator.add, "sub": operator.sub, "mul": operator.mul, "div": _divide_scalar,
                   "pow": operator.pow}
_SCALAR_DERIVATIVES = {
    "add": lambda p, q, r: (1, 1), "sub": lambda p, q, r: (1, -1), "mul": lambda p, q, r: (q, p),
    "div": lambda p, q, r: (1 / q, -p / (q * q)),
    "pow": lambda p, q, r: (q * p ** (q - 1), math.log(p) * r if p > 0 else 0.0),
}


def forward_naive(a, b, kind):
    _check(kind)
    a, b = np.asarray(a), np.asarray(b)
    shape = np.broadcast_shapes(a.shape, b.shape)
    y = np.empty(shape, dtype=np.result_type(a, b))
    for index in np.ndindex(shape):
        y[index] = _SCALAR_FORWARD[kind](a[source_index(index, a.shape)], b[source_index(index, b.shape)])
    return y, (kind, a, b, y)


def backward_naive(dy, cache):
    kind, a, b, y = cache
    da, db = np.zeros(a.shape), np.zeros(b.shape)
    for index in np.ndindex(y.shape):
        ia, ib = source_index(index, a.shape), source_index(index, b.shape)
        dy_da, dy_db = _SCALAR_DERIVATIVES[kind](a[ia], b[ib], y[index])
        da[ia] += dy[index] * dy_da
        db[ib] += dy[index] * dy_db
    return (None if is_integer(a) else da.astype(a.dtype)), (None if is_integer(b) else db.astype(b.dtype))
