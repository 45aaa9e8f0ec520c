"""A stand-in for CuPy, so the GPU code path (net.to("gpu"), the ops' GPU branches, dream on device="gpu")
runs on machines without a GPU.

Its arrays are NumPy arrays of a subclass (``is_gpu`` tells them apart), its functions are
NumPy's with results re-wrapped, and kernels launch through the CPU emulation. Only the
array module is fake: the kernels, launch geometry and ops code are the real ones.
"""
import functools
import sys
import types

import numpy as np

from minidream import kernels
from tests.kernels.emulation import EmulatedLauncher


class DeviceArray(np.ndarray):
    """What the fake CuPy returns: a NumPy array that ``is_gpu`` accepts."""

    def get(self):
        return np.array(self).view(np.ndarray)


def _wrap(value):
    if isinstance(value, np.ndarray) and not isinstance(value, DeviceArray):
        return value.view(DeviceArray)
    if isinstance(value, tuple):
        return tuple(_wrap(v) for v in value)
    return value


def _module():
    fake = types.ModuleType("cupy")
    fake.ndarray = DeviceArray
    fake.cuda = types.SimpleNamespace(runtime=types.SimpleNamespace(getDeviceCount=lambda: 1))
    fake.asarray = lambda a, dtype=None: np.array(np.asarray(a, dtype=dtype)).view(DeviceArray)

    def __getattr__(name):  # everything else: NumPy's, returning device arrays
        value = getattr(np, name)
        if not callable(value) or isinstance(value, type):
            return value
        return functools.wraps(value)(lambda *args, **kw: _wrap(value(*args, **kw)))

    fake.__getattr__ = __getattr__
    return fake


def _launcher(fake):
    class FakeDeviceLauncher(EmulatedLauncher):
        """The emulation, taking and returning the fake device arrays; records what it launched."""

        def __init__(self, paths):
            super().__init__(paths)
            self.launched = set()

        def empty(self, shape, dtype=np.float32):
            return super().empty(shape, dtype).view(DeviceArray)

        def __call__(self, name, grid, block, *args):
            self.launched.add(name)
            super().__call__(name, grid, block, *args)

    launcher = FakeDeviceLauncher(kernels.sources())
    launcher.xp = fake
    return launcher


def install(monkeypatch):
    """Make ``import cupy`` return the fake and GPU launches run emulated, for one test.

    Returns (fake cupy module, launcher); launcher.launched holds the kernel names launched.
    """
    fake = _module()
    monkeypatch.setitem(sys.modules, "cupy", fake)
    launcher = _launcher(fake)
    monkeypatch.setattr(kernels, "launcher", lambda: launcher)
    return fake, launcher
