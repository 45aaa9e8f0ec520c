"""A CuPy stand-in for the layer tests: device arrays on the CPU, so each op's GPU branch runs here too."""
import sys

import pytest

from tests.kernels import fake_cupy


@pytest.fixture
def fake_device(monkeypatch):
    """The fake `cupy` module (tests/kernels/fake_cupy.py) installed for one test; use its .asarray to go "on device".

    Only the array module is faked, no kernels are compiled: the ops tested with it need none.
    """
    module = fake_cupy._module()
    monkeypatch.setitem(sys.modules, "cupy", module)
    return module
