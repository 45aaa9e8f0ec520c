"""The kernel tests' own fixture: the CPU emulation of kernels/*.cu (the seeded rng is tests/conftest.py's)."""
import shutil

import pytest


@pytest.fixture(scope="session")
def emulated():
    """The g++ emulation of kernels/*.cu (compiled once, cached by source hash)."""
    if shutil.which("g++") is None:
        pytest.skip("emulating the kernels needs g++ on the PATH")
    from tests.kernels.emulation import emulated_launcher

    return emulated_launcher()
