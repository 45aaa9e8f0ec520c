"""Neuron, Direction and Caricature: values and gradients against float64 centered differences of the value, their
refusals, their recipes, and that a dream with each raises what it measures."""
import numpy as np
import pytest

import minidream
from minidream.io.images import to_network
from minidream.dreaming.objective_base import from_data
from minidream.models.loading import load_model
from minidream.objectives import Caricature, Channel, Direction, Neuron
from tests.gradcheck import numerical_gradient, rel_error

PHOTO = "examples/chelsea.jpg"


@pytest.fixture(scope="module")
def mini():
    return load_model("mini")


def _check_gradient(objective, shape):
    """The objective's gradient against centered differences of its own value, on a random float64 map."""
    a = np.random.default_rng(0).standard_normal(shape)
    layer = objective.layers[0]
    _, grads = objective({layer: a})
    numeric = numerical_gradient(lambda v: np.array([objective({layer: v})[0]]), a, np.ones(1))
    assert rel_error(grads[layer], numeric) < 1e-7


@pytest.mark.parametrize("make", [
    lambda: Neuron("conv5", 3), lambda: Neuron("conv5", 3, y=1, x=2),
    lambda: Direction("conv5", np.random.default_rng(1).standard_normal(64)),
    lambda: Caricature("conv5", PHOTO), lambda: Caricature("conv5", PHOTO, exaggerate=False),
], ids=["neuron-centre", "neuron-at", "direction", "caricature", "inversion"])
def test_gradients_are_the_values_derivatives_and_recipes_rebuild_them(mini, make):
    objective = make().bind(mini)
    _check_gradient(objective, (1, 64, 5, 4))
    data = objective.to_data()
    assert from_data(data).bind(mini).to_data() == data


def test_a_neuron_reads_one_unit_and_a_direction_is_a_weighted_channel_mean(mini):
    a = np.random.default_rng(2).standard_normal((1, 64, 5, 4))
    assert Neuron("conv5", 7).bind(mini)({"conv5": a})[0] == pytest.approx(a[0, 7, 2, 2])
    v = np.zeros(64)
    v[[3, 9]] = [1.0, -2.0]
    expected = a[0, 3].mean() - 2 * a[0, 9].mean()
    assert Direction("conv5", v).bind(mini)({"conv5": a})[0] == pytest.approx(expected)
    one_hot = np.eye(64)[12]
    assert Direction("conv5", one_hot).bind(mini)({"conv5": a})[0] == pytest.approx(
        Channel("conv5", 12).bind(mini)({"conv5": a})[0])


def test_bad_channels_and_vectors_are_refused_by_name(mini):
    with pytest.raises(ValueError, match="64 channels .* channel 64 does not exist"):
        Neuron("conv5", 64).bind(mini)
    with pytest.raises(ValueError, match="one weight per channel: 64, got 3"):
        Direction("conv5", [1, 2, 3]).bind(mini)


@pytest.mark.parametrize("objective, measure", [
    (Neuron("conv5", 0), lambda a: a[0, 0, a.shape[2] // 2, a.shape[3] // 2]),
    (Direction("conv5", np.eye(64)[5] - np.eye(64)[6]), lambda a: a[0, 5].mean() - a[0, 6].mean()),
])
def test_a_dream_raises_what_the_objective_measures(mini, objective, measure):
    rng = np.random.default_rng(3)
    image = rng.integers(96, 160, (64, 64, 3), dtype=np.uint8)
    before = measure(mini.forward(to_network(image, mini.meta), end="conv5"))
    out = minidream.dream(image, model=mini, objective=objective, octaves=1, steps=10, jitter=0, seed=0,
                          progress=False)
    after = measure(mini.forward(to_network(out, mini.meta), end="conv5"))
    assert after > before + 0.1
