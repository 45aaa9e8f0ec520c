"""Every layer test under both engines (minidream/engine/engines.py): the fast one, whose ops plug in the speed
machinery, and the textbook one; and a CuPy stand-in, so each op's GPU branch runs here too."""
import sys

import pytest

from minidream.engine.engines import ENGINES, set_engine
from tests.kernels import fake_cupy


@pytest.fixture(autouse=True, params=ENGINES)
def engine(request):
    """The engine this test runs under; the one set before comes back after it."""
    with set_engine(request.param):
        yield request.param


@pytest.fixture
def fake_device(monkeypatch):
    """The fake `cupy` module (tests/kernels/fake_cupy.py) installed for one test; use its .asarray to go "on device".

    Only the array module is faked, no kernels are compiled: the ops tested with it need none.
    """
    module = fake_cupy._module()
    monkeypatch.setitem(sys.modules, "cupy", module)
    return module
