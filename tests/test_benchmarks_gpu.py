"""benchmarks/gpu.py times the step a dream runs (make_step), and its PyTorch column computes that same step."""
import numpy as np
import pytest

from benchmarks import gpu
from benchmarks.cases import DREAM_JITTER, input_image
from minidream.dreaming.ascent import update
from minidream.dreaming.jitter import gradient, margin_for
from minidream.dreaming.objectives import L2
from minidream.models.random_weights import random_model

CASE = ("alexnet", "conv5")
SIZE = (99, 131)  # small, not square: a transposed window would show


def _bounds(net):
    mean = np.asarray(net.meta["mean_bgr"], np.float32).reshape(1, 3, 1, 1)
    return -mean, 255 - mean


def test_the_step_is_the_dreams_jittered_step_in_mirrored_context():
    net = random_model(CASE[0], seed=1)
    x = input_image(SIZE)
    got = x.copy()
    with net.frozen():
        gpu._minidream_step(net, CASE[1], *_bounds(net))(got)
        objective = L2(CASE[1]).bind(net)
        # the step's shift, drawn as make_step draws it from the benchmark's generator
        ox, oy = (int(v) for v in np.random.default_rng(0).integers(-DREAM_JITTER, DREAM_JITTER + 1, size=2))
        _, g = gradient(net, objective, x, 1024, None, (oy, ox), DREAM_JITTER, margin_for(net, objective.layers))
    expected = x.copy()
    update(expected, g, gpu.STEP_SIZE, *_bounds(net))
    np.testing.assert_allclose(got, expected, rtol=0, atol=1e-3)
    assert not np.array_equal(got, x)


def test_the_pytorch_step_is_the_same_step_unshifted():
    torch = pytest.importorskip("torch")
    net = random_model(CASE[0], seed=1)
    x = input_image(SIZE)
    got = gpu._torch_step(net, CASE[1], "cpu")(torch.from_numpy(x.copy())).numpy()
    objective = L2(CASE[1]).bind(net)
    with net.frozen():
        _, g = gradient(net, objective, x, 1024, None, (0, 0), DREAM_JITTER, margin_for(net, objective.layers))
    expected = x.copy()
    update(expected, g, gpu.STEP_SIZE, *_bounds(net))
    assert np.linalg.norm(got - expected) <= 1e-4 * np.linalg.norm(expected - x)
