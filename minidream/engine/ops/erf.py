"""The error function (ONNX "Erf"), elementwise.

Shapes: x, y any shape.
Formula:  y = erf(x) = (2/√π) ∫_0^x exp(-t²) dt
Backward: dx = dy · (2/√π) · exp(-x²)
Cache: x.

NumPy has no erf (and minidream does not need SciPy), so the CPU path evaluates W. J. Cody's rational
approximations ("Rational Chebyshev approximations for the error function", Math. Comp. 23 (1969) 631-637; the
coefficients of his SPECFUN routine CALERF), in float64 whatever x's dtype, then rounds to it:
  |x| <= 0.46875:      erf(x)  = x · A(x²) / B(x²)
  0.46875 < |x| <= 4:  erfc(|x|) = exp(-x²) · C(|x|) / D(|x|)
  |x| > 4:             erfc(|x|) = exp(-x²) / |x| · (1/√π - z · P(z) / Q(z)),  z = 1/x²
and erf(x) = sign(x) · (1 - erfc(|x|)) outside the first interval; erfc (which ops/gelu.py uses) the same way
round. tests/layers/test_unary_onnx.py measures both against math.erf and math.erfc: float64 results within a few
units in the last place, float32 ones rounded to the same float32 as the C library's. The short textbook
formulas are not enough: Abramowitz–Stegun 7.1.26 is off by up to 1.5e-7, two to three float32 ulps near erf = 1.
On CuPy, cupyx.scipy.special's erf and erfc.
"""
import math

import numpy as np

from minidream.engine.backend import get_array_module, is_gpu
from minidream.engine.ops.elementwise import map_naive

# Cody's coefficients, highest power first (numpy.polyval's order).
_A = [1.85777706184603153e-1, 3.16112374387056560e00, 1.13864154151050156e02, 3.77485237685302021e02,
      3.20937758913846947e03]
_B = [1.0, 2.36012909523441209e01, 2.44024637934444173e02, 1.28261652607737228e03, 2.84423683343917062e03]
_C = [2.15311535474403846e-8, 5.64188496988670089e-1, 8.88314979438837594e00, 6.61191906371416295e01,
      2.98635138197400131e02, 8.81952221241769090e02, 1.71204761263407058e03, 2.05107837782607147e03,
      1.23033935479799725e03]
_D = [1.0, 1.57449261107098347e01, 1.17693950891312499e02, 5.37181101862009858e02, 1.62138957456669019e03,
      3.29079923573345963e03, 4.36261909014324716e03, 3.43936767414372164e03, 1.23033935480374942e03]
_P = [1.63153871373020978e-2, 3.05326634961232344e-1, 3.60344899949804439e-1, 1.25781726111229246e-1,
      1.60837851487422766e-2, 6.58749161529837803e-4]
_Q = [1.0, 2.56852019228982242e00, 1.87295284992346047e00, 5.27905102951428412e-1, 6.05183413124413191e-2,
      2.33520497626869185e-3]
_TWO_OVER_SQRT_PI = 2 / math.sqrt(math.pi)


def erf(x):
    """erf elementwise, in x's dtype (float32 or float64): cupyx's on CuPy, Cody's approximations on NumPy."""
    if is_gpu(x):
        from cupyx.scipy.special import erf as cupy_erf

        return cupy_erf(x)
    x64, small, erf_small, erfc_abs = _cody(x)
    y = np.copysign(1 - erfc_abs, x64)
    y[small] = erf_small
    return y.reshape(x.shape).astype(x.dtype, copy=False)


def erfc(x):
    """erfc = 1 - erf elementwise, in x's dtype, without the cancellation of 1 - erf(x) for large x (GELU's
    Φ(x) = erfc(-x/√2)/2 for negative x): cupyx's on CuPy, Cody's approximations on NumPy."""
    if is_gpu(x):
        from cupyx.scipy.special import erfc as cupy_erfc

        return cupy_erfc(x)
    x64, small, erf_small, erfc_abs = _cody(x)
    y = np.where(x64 < 0, 2 - erfc_abs, erfc_abs)
    y[small] = 1 - erf_small
    return y.reshape(x.shape).astype(x.dtype, copy=False)


def _cody(x):
    """Cody's three intervals in float64: (x in float64, the mask |x| <= 0.46875, erf(x) there, erfc(|x|) (0
    inside that mask))."""
    x64 = np.array(x, np.float64, ndmin=1)  # 1-D at least: a 0-d x would make scalars, not arrays, below
    ax = np.abs(x64)
    small, large = ax <= 0.46875, ax > 4
    middle = ~small & ~large
    erfc_abs = np.zeros_like(ax)
    erfc_abs[middle] = np.polyval(_C, ax[middle]) / np.polyval(_D, ax[middle])
    z = 1 / ax[large] ** 2
    erfc_abs[large] = (1 / math.sqrt(math.pi) - z * np.polyval(_P, z) / np.polyval(_Q, z)) / ax[large]
    # exp(-x²) as exp(-h²) · exp(-(x-h)(x+h)), h = x rounded down to 1/16: h² is exact, so x²'s rounding error
    # (which exp would multiply by up to x² ≈ 700) never arises; CALERF does the same. Past 40, exp(-x²) is 0 in
    # float64: the clamp keeps an infinite x from making inf - inf.
    outside = np.minimum(ax[~small], 40)
    h = np.trunc(outside * 16) / 16
    erfc_abs[~small] *= np.exp(-h * h) * np.exp(-(outside - h) * (outside + h))
    squares = x64[small] ** 2
    return x64, small, x64[small] * np.polyval(_A, squares) / np.polyval(_B, squares), erfc_abs


def forward(x):
    """Inputs: x (any shape, float). Returns (y (x's shape), cache = x)."""
    return erf(x), x


def backward(dy, cache):
    """Inputs: dy (y's shape), the cache of forward. Returns dx."""
    x = cache
    return dy * (_TWO_OVER_SQRT_PI * get_array_module(x).exp(-x * x))


def forward_naive(x):
    return map_naive(math.erf, x), x


def backward_naive(dy, cache):
    return map_naive(lambda g, v: g * _TWO_OVER_SQRT_PI * math.exp(-v * v), dy, cache)
