"""Elementwise combination of k >= 2 inputs of one shape (Caffe "Eltwise", eltwise_param.operation).

Shapes: xs = [x_0, ..., x_{k-1}], all the same shape; y that shape. Backward returns a list of k dxs.
Rules (src/caffe/layers/eltwise_layer.cpp):
    SUM (the default):  y = sum_i coeff_i * x_i, coeff default all 1, else exactly one per input (Caffe: "Eltwise
                        Layer takes one coefficient per bottom blob"); dx_i = coeff_i * dy.
    PROD:               y = prod_i x_i; coefficients are an error (Caffe: "only takes coefficients for summation").
                        dx_i = dy * prod_{j != i} x_j — Caffe's stable_prod_grad (default true); with it false,
                        Caffe's dy * y / x_i, which is NaN where x_i == 0.
    MAX:                y = max_i x_i; the whole gradient goes to the input that won: dx_i = dy where mask == i.
                        Caffe's CPU tie rule, which we follow on both devices: x_0 vs x_1 is `x_0 > x_1 ? 0 : 1`, so
                        on a tie between the first two, x_1 wins; every later x_i must be strictly greater than the
                        running max to take over, so on a tie with a later input the earlier winner keeps it.
                        (Caffe's CUDA kernel gives every tie to the later input; its CPU code is the reference.)
Cache: ("SUM", coeffs) | ("PROD", xs, y, stable_prod_grad) | ("MAX", mask, k), mask an int32 array of winners.
"""
import numpy as np

from minidream.engine.backend import get_array_module

OPERATIONS = ("SUM", "PROD", "MAX")


def _check(xs, operation, coeffs):
    if operation not in OPERATIONS:
        raise ValueError(f"unknown Eltwise operation {operation!r}; use one of {', '.join(OPERATIONS)}")
    if len(xs) < 2:
        raise ValueError(f"Eltwise needs at least 2 inputs, got {len(xs)}")
    for i, x in enumerate(xs[1:], 1):
        if x.shape != xs[0].shape:
            raise ValueError(f"Eltwise inputs must share one shape: input 0 is {xs[0].shape}, input {i} is {x.shape}")
    if coeffs is not None and operation != "SUM":
        raise ValueError("Eltwise takes coefficients only for SUM (Caffe's rule); drop coeff or use SUM")
    if coeffs is not None and len(coeffs) != len(xs):
        raise ValueError(f"Eltwise takes one coefficient per input: got {len(coeffs)} for {len(xs)} inputs")
    return [1.0] * len(xs) if coeffs is None else [float(c) for c in coeffs]


def forward(xs, operation="SUM", coeffs=None, stable_prod_grad=True):
    coeffs = _check(xs, operation, coeffs)
    xp = get_array_module(*xs)
    if operation == "SUM":
        # A coefficient of 1 (ResNet's shortcuts) multiplies nothing: one pass per input instead of three.
        scaled = [x if c == 1 else c * x for c, x in zip(coeffs, xs)]
        y = scaled[0] + scaled[1]
        for x in scaled[2:]:
            y += x
        return y, ("SUM", coeffs)
    if operation == "PROD":
        y = xs[0] * xs[1]
        for x in xs[2:]:
            y *= x
        return y, ("PROD", xs, y, stable_prod_grad)
    first_wins = xs[0] > xs[1]  # ties between the first two go to x_1
    y = xp.where(first_wins, xs[0], xs[1])
    mask = (~first_wins).astype(np.int32)  # 0 where x_0 won, 1 where x_1 did
    for i, x in enumerate(xs[2:], 2):
        takes_over = x > y  # strictly greater: the earlier winner keeps a tie
        y = xp.where(takes_over, x, y)
        mask[takes_over] = i
    return y, ("MAX", mask, len(xs))


def backward(dy, cache):
    """Returns [dx_0, ..., dx_{k-1}]."""
    operation = cache[0]
    if operation == "SUM":
        # dy itself where the coefficient is 1 (ResNet's shortcuts): no backward writes into its dy, and the Net
        # sums two gradients of one blob into a new array, so sharing it is safe and saves a pass per input.
        return [dy if c == 1 else c * dy for c in cache[1]]
    if operation == "MAX":
        _, mask, k = cache
        return [dy * (mask == i) for i in range(k)]
    _, xs, y, stable = cache
    dxs = []
    for i, x in enumerate(xs):
        if stable:
            others = [xj for j, xj in enumerate(xs) if j != i]
            partial = others[0].copy()
            for xj in others[1:]:
                partial *= xj
        else:
            partial = y / x
        dxs.append(dy * partial)
    return dxs


def forward_naive(xs, operation="SUM", coeffs=None, stable_prod_grad=True):
    coeffs = _check(xs, operation, coeffs)
    y = np.empty_like(xs[0])
    mask = np.empty(y.shape, dtype=np.int32)
    for e in np.ndindex(y.shape):
        values = [x[e] for x in xs]
        if operation == "SUM":
            y[e] = sum(c * v for c, v in zip(coeffs, values))
        elif operation == "PROD":
            y[e] = np.prod(values)
        else:
            winner = 0 if values[0] > values[1] else 1
            for i in range(2, len(values)):
                if values[i] > values[winner]:
                    winner = i
            y[e], mask[e] = values[winner], winner
    if operation == "SUM":
        return y, ("SUM", coeffs)
    if operation == "PROD":
        return y, ("PROD", xs, y, stable_prod_grad)
    return y, ("MAX", mask, len(xs))


def backward_naive(dy, cache):
    operation = cache[0]
    if operation == "SUM":
        return [c * dy for c in cache[1]]
    if operation == "MAX":
        _, mask, k = cache
        dxs = [np.zeros_like(dy) for _ in range(k)]
        for e in np.ndindex(dy.shape):
            dxs[mask[e]][e] = dy[e]
        return dxs
    _, xs, y, stable = cache
    dxs = [np.empty_like(dy) for _ in xs]
    for e in np.ndindex(dy.shape):
        for i, x in enumerate(xs):
            partial = np.prod([xj[e] for j, xj in enumerate(xs) if j != i]) if stable else y[e] / x[e]
            dxs[i][e] = dy[e] * partial
    return dxs
