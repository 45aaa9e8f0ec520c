"""The GPU code path end to end on the CPU: a fake CuPy (tests/kernels/fake_cupy.py) whose
kernels run in the emulation. Catches what the per-op tests cannot: the Net and dream handing
device arrays, caches and in-place outputs to kernels.ops as they really do."""
import numpy as np
import pytest

from minidream.engine.backend import is_gpu
from minidream.models.random_weights import random_model
from tests.kernels import fake_cupy

pytestmark = pytest.mark.usefixtures("emulated")


def _rel(actual, expected):
    actual, expected = np.asarray(actual, np.float64), np.asarray(expected, np.float64)
    return float(np.linalg.norm(actual - expected) / np.linalg.norm(expected))


@pytest.mark.parametrize("name, end, size", [("googlenet", "inception_4a/output", (51, 67)),
                                             ("alexnet", "conv5", (67, 75))])
def test_net_on_the_gpu_path(monkeypatch, rng, name, end, size):
    cpu = random_model(name, seed=0)
    x = (rng.standard_normal((2, 3, *size)) * 50).astype(np.float32)
    y_ref = cpu.forward(x, end=end)
    dy = rng.standard_normal(y_ref.shape).astype(np.float32)
    dx_ref = cpu.backward(dy, param_grads=True)
    cp, launcher = fake_cupy.install(monkeypatch)
    gpu = random_model(name, seed=0, device="gpu")
    y = gpu.forward(cp.asarray(x), end=end)
    assert is_gpu(y) and _rel(y, y_ref) < 1e-5
    dx = gpu.backward(cp.asarray(dy), param_grads=True)
    assert is_gpu(dx) and _rel(dx, dx_ref) < 3e-2  # ReLU flips: see test_gpu._assert_backward_close
    for layer, grads in cpu.grads.items():
        for got, want in zip(gpu.grads[layer], grads):
            assert is_gpu(got) and _rel(got, want) < 3e-2, layer
    assert {"im2col", "col2im", "max_pool_forward", "max_pool_backward", "lrn_forward", "lrn_backward",
            "relu_forward", "relu_backward"} <= launcher.launched


def test_dream_on_the_gpu_path(monkeypatch):
    from minidream.dreaming.deepdream import dream

    image = np.random.default_rng(3).uniform(0, 255, (48, 56, 3)).astype(np.uint8)
    kwargs = dict(model=random_model("alexnet", seed=2), layer="conv3", octaves=1, steps=2, seed=0,
                  progress=False)
    cpu = np.asarray(dream(image, device="cpu", **kwargs), np.float64)
    _, launcher = fake_cupy.install(monkeypatch)
    gpu = np.asarray(dream(image, device="gpu", **kwargs), np.float64)
    assert {"abs_sum", "dream_update"} <= launcher.launched  # the jitter is a mirrored window now, no roll
    assert np.abs(cpu - image).mean() > 1  # the dream changed the image
    assert np.abs(gpu - cpu).max() <= 1  # 8-bit output: at most a rounding step apart


@pytest.mark.parametrize("stride, pad, groups", [((2, 2), (1, 1), 2), ((3, 2), (0, 1), 1), ((1, 1), (0, 0), 1)])
def test_deconvolution_on_the_gpu_path(monkeypatch, rng, stride, pad, groups):
    """Deconvolution's GPU path: convolution's col2im / im2col kernels (emulated) around the matrix products."""
    from minidream.engine.ops import deconvolution

    x = rng.standard_normal((2, 4, 5, 6)).astype(np.float32)
    w = rng.standard_normal((4, 6 // groups, 3, 3)).astype(np.float32)
    b = rng.standard_normal(6).astype(np.float32)
    y, cache = deconvolution.forward(x, w, b, stride, (pad[0], pad[1]), groups)
    dy = rng.standard_normal(y.shape).astype(np.float32)
    grads = deconvolution.backward(dy, cache)
    cp, launcher = fake_cupy.install(monkeypatch)
    y_dev, cache_dev = deconvolution.forward(cp.asarray(x), cp.asarray(w), cp.asarray(b), stride, pad, groups)
    assert cache_dev[0] == "gpu" and is_gpu(y_dev) and _rel(y_dev, y) < 1e-6
    for dev, cpu in zip(deconvolution.backward(cp.asarray(dy), cache_dev), grads):
        assert is_gpu(dev) and _rel(dev, cpu) < 1e-6
    assert {"im2col", "col2im"} <= launcher.launched
