"""Asking for the GPU where it cannot work fails with minidream.backend's one clear error."""
import pathlib
import sys
import types

import pytest

from minidream import kernels
from minidream import random_model
from minidream.backend import GPUUnavailableError, check_device


@pytest.fixture
def no_cupy(monkeypatch):
    monkeypatch.setitem(sys.modules, "cupy", None)  # `import cupy` now raises ImportError


def test_without_cupy_the_error_names_it_and_the_install(no_cupy):
    with pytest.raises(GPUUnavailableError, match=r"needs CuPy, which is not installed.*pip install \.\[gpu\]"
                                                  r".*cupy-cuda13x.*cupy-cuda12x"):
        check_device("gpu")


def test_without_cupy_models_raise_the_same_error(no_cupy):
    with pytest.raises(GPUUnavailableError, match="needs CuPy"):
        random_model("alexnet", device="gpu")


def test_the_kernel_loader_imports_cupy_only_to_compile(no_cupy):
    # minidream.kernels stands alone (it imports nothing from minidream): without CuPy only compiling fails.
    assert kernels.kernel_table()
    with pytest.raises(ImportError):
        kernels.get_module(pathlib.Path(__file__).with_name("shim_check.cu"))


def test_without_a_device_the_error_says_so(monkeypatch):
    def no_driver():
        raise RuntimeError("cudaErrorNoDevice: no CUDA-capable device is detected")

    fake = types.SimpleNamespace(cuda=types.SimpleNamespace(runtime=types.SimpleNamespace(getDeviceCount=no_driver)))
    monkeypatch.setitem(sys.modules, "cupy", fake)
    with pytest.raises(GPUUnavailableError, match="needs a CUDA device, but CuPy found none"):
        check_device("cuda")
