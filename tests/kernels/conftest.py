"""Shared fixtures for the kernel tests: the CPU emulation of kernels/*.cu and a seeded rng."""
import shutil

import numpy as np
import pytest


@pytest.fixture(scope="session")
def emulated():
    """The g++ emulation of kernels/*.cu (compiled once, cached by source hash)."""
    if shutil.which("g++") is None:
        pytest.skip("emulating the kernels needs g++ on the PATH")
    from tests.kernels.emulation import emulated_launcher

    return emulated_launcher()


@pytest.fixture
def rng():
    return np.random.default_rng(0)

