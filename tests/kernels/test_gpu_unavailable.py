"""Asking for the GPU where it cannot work fails with minidream.engine.backend's one clear error."""
import os
import pathlib
import subprocess
import sys
import types

import pytest

from minidream import kernels
from minidream import random_model
from minidream.engine.backend import GPUUnavailableError, check_device


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


def test_the_gpu_tests_find_their_fixtures_without_a_gpu():
    """tests/gpu is skipped wherever no GPU is, so a fixture it asks for but cannot reach (rng was once defined only
    for tests/kernels, and all 34 of its set-ups failed on the first real card) shows only there. pytest's
    --setup-plan resolves every test's fixtures without running it; MINIDREAM_REQUIRE_GPU=1 keeps the tests from
    skipping before that."""
    root = pathlib.Path(__file__).resolve().parents[2]
    run = subprocess.run([sys.executable, "-m", "pytest", "tests/gpu", "--setup-plan", "-q", "-p", "no:cacheprovider"],
                         cwd=root, env={**os.environ, "MINIDREAM_REQUIRE_GPU": "1"}, capture_output=True, text=True)
    assert run.returncode == 0, run.stdout[-3000:]
    assert " SETUP    F rng" in run.stdout  # the plan was made for the tests themselves, not skipped
