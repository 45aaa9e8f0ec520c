"""Helpers shared by the kernel tests."""
import os

import numpy as np
import pytest

from minidream.engine.backend import GPUUnavailableError, get_cupy


def cuda_device_available():
    try:
        get_cupy()
    except GPUUnavailableError:
        return False
    return True


# MINIDREAM_REQUIRE_GPU=1: the GPU tests run (and fail) instead of skipping where CuPy or the device is missing; on a
# GPU machine that turns a broken CuPy into failures, and with pytest --setup-plan it checks their fixtures anywhere.
REQUIRE_GPU = os.environ.get("MINIDREAM_REQUIRE_GPU") == "1"
requires_gpu = pytest.mark.skipif(not REQUIRE_GPU and not cuda_device_available(),
                                  reason="needs CuPy and a CUDA device (runs wherever both exist; "
                                         "MINIDREAM_REQUIRE_GPU=1 makes them run)")


def assert_close(actual, expected, tol=1e-5):
    """Equal to tol, relative to each element and to the largest |expected| (for values near 0)."""
    expected = np.asarray(expected)
    assert np.asarray(actual).shape == expected.shape
    np.testing.assert_allclose(actual, expected, rtol=tol, atol=tol * max(float(np.abs(expected).max()), 1e-30))


CONV_CASES = [
    # (N, C, H, W), (F, KH, KW), stride, pad, groups
    ((2, 3, 17, 19), (4, 3, 3), (1, 1), (1, 1), 1),
    ((2, 4, 11, 8), (6, 3, 5), (2, 3), (1, 2), 2),
    ((3, 6, 9, 10), (6, 5, 5), (2, 2), (0, 0), 3),
    ((1, 3, 23, 27), (4, 11, 11), (4, 4), (0, 0), 1),  # AlexNet conv1's shape of window
    ((2, 5, 6, 7), (3, 1, 1), (1, 1), (0, 0), 1),  # pointwise: no im2col
    ((2, 4, 7, 6), (4, 1, 1), (2, 2), (0, 0), 2),  # 1x1 but strided: im2col
]

POOL_CASES = [
    # (N, C, H, W), kernel, stride, pad
    ((2, 3, 17, 19), (3, 3), (2, 2), (0, 0)),  # ceil mode: last window hangs over the edge
    ((1, 2, 8, 8), (2, 2), (2, 2), (0, 0)),
    ((2, 3, 9, 7), (3, 3), (2, 2), (1, 1)),  # padding and the clip rule
    ((1, 2, 6, 7), (3, 2), (1, 2), (1, 0)),
    ((2, 2, 5, 6), (3, 3), (1, 1), (1, 1)),  # GoogLeNet's 3x3/s1/p1 inside inception
    ((1, 3, 5, 5), (5, 5), (1, 1), (0, 0)),  # global pooling
]
