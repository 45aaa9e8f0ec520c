"""The one place that decides NumPy vs CuPy.

Chainer-style: an op asks ``get_array_module(x)`` and gets ``numpy`` or ``cupy``
back; ops with a hand-written CUDA kernel branch on ``is_gpu(x)``. Importing
minidream never imports CuPy — only asking for ``device="gpu"`` does.
"""
import sys

import numpy as np

DEVICES = ("cpu", "gpu")

INSTALL_HINT = (
    "install the GPU extra with `pip install .[gpu]` (cupy-cuda13x, for CUDA 13.x), or the CuPy wheel "
    "that matches your CUDA: cupy-cuda12x for CUDA 12.x, cupy-cuda11x for CUDA 11.x "
    "(`nvidia-smi` shows the driver's CUDA version)"
)


class GPUUnavailableError(RuntimeError):
    """Raised when device="gpu" is asked for but CuPy or a CUDA device is missing."""


def _import_cupy():
    try:
        import cupy
    except ImportError as exc:
        raise GPUUnavailableError(
            f"device='gpu' needs CuPy, which is not installed ({exc}); {INSTALL_HINT}"
        ) from None
    return cupy


def cupy_or_none():
    """CuPy if it is already imported by someone, else None (never imports it)."""
    return sys.modules.get("cupy")


def get_cupy():
    """CuPy with a usable CUDA device, or GPUUnavailableError saying which part is missing."""
    cupy = _import_cupy()
    try:
        count = cupy.cuda.runtime.getDeviceCount()
    except Exception as exc:  # CUDARuntimeError when no driver is present
        raise GPUUnavailableError(
            f"device='gpu' needs a CUDA device, but CuPy found none ({exc}). "
            "Run on a machine with an NVIDIA GPU and driver, or use device='cpu'."
        ) from None
    if count == 0:
        raise GPUUnavailableError(
            "device='gpu' needs a CUDA device, but CuPy found none. "
            "Run on a machine with an NVIDIA GPU and driver, or use device='cpu'."
        )
    return cupy


def check_device(device):
    """Validate a device name; return it normalized ("cpu" or "gpu")."""
    name = str(device).lower()
    if name in ("cuda", "gpu") or name.startswith("cuda:"):
        name = "gpu"
    if name not in DEVICES:
        raise ValueError(f"unknown device {device!r}: use 'cpu' or 'gpu'")
    if name == "gpu":
        get_cupy()
    return name


def is_gpu(x):
    """True when x is a CuPy array."""
    cupy = cupy_or_none()
    return cupy is not None and isinstance(x, cupy.ndarray)


def get_array_module(*arrays):
    """numpy or cupy, whichever the arrays live in (numpy when none is a CuPy array)."""
    for a in arrays:
        if is_gpu(a):
            return cupy_or_none()
    return np


def xp_for(device):
    """The array module for a device name."""
    return get_cupy() if check_device(device) == "gpu" else np


def to_device(a, device):
    """Move an array to "cpu" (numpy) or "gpu" (cupy); float arrays become float32."""
    device = check_device(device)
    if device == "gpu":
        cupy = get_cupy()
        return cupy.asarray(a)
    return as_numpy(a)


def as_numpy(a):
    """A NumPy array whatever device a lives on."""
    if is_gpu(a):
        return a.get()
    return np.asarray(a)
