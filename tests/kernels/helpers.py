"""Helpers shared by the kernel tests."""
import numpy as np
import pytest

from minidream.backend import GPUUnavailableError, get_cupy


def cuda_device_available():
    try:
        get_cupy()
    except GPUUnavailableError:
        return False
    return True


requires_gpu = pytest.mark.skipif(not cuda_device_available(),
                                  reason="needs CuPy and a CUDA device (runs wherever both exist)")


def assert_close(actual, expected, tol=1e-5):
    """Equal to tol, relative to each element and to the largest |expected| (for values near 0)."""
    expected = np.asarray(expected)
    assert np.asarray(actual).shape == expected.shape
    np.testing.assert_allclose(actual, expected, rtol=tol, atol=tol * max(float(np.abs(expected).max()), 1e-30))
