"""Diversity (minidream.dreaming.diversity): its gradient against float64 differences, its refusals, its recipe, and
what it does to a batch: pictures further apart in Gram-matrix space than pictures that differ only by their noise."""
import json

import numpy as np
import pytest

import minidream
from minidream.dreaming.objective_base import from_data
from minidream.io.images import to_network
from minidream.objectives import Channel, Diversity


def _bound(weight=2.0):
    d = Diversity("conv5", weight=weight)
    d.layer, d._bound = "conv5", True  # a description is enough here: no net needed for the arithmetic
    return d


def _numeric(f, a, eps=1e-6):
    g = np.zeros_like(a)
    for i in np.ndindex(a.shape):
        up, down = a.copy(), a.copy()
        up[i] += eps
        down[i] -= eps
        g[i] = (f(up) - f(down)) / (2 * eps)
    return g


@pytest.mark.parametrize("weighed", [False, True])
def test_the_gradient_is_the_float64_centered_difference(weighed):
    rng = np.random.default_rng(0)
    a = rng.standard_normal((3, 4, 3, 5))
    weights = {"conv5": rng.uniform(0.2, 1.0, size=(3, 5))} if weighed else None
    d = _bound()
    value, grads = d({"conv5": a}, weights)
    numeric = _numeric(lambda x: d({"conv5": x}, weights)[0], a)
    assert np.abs(grads["conv5"] - numeric).max() <= 1e-7 * np.abs(numeric).max()
    # the value is -weight times the mean pairwise cosine similarity of the Gram matrices
    w = np.ones((3, 5)) if weights is None else weights["conv5"]
    grams = [(x.reshape(4, -1) * w.reshape(-1)) @ x.reshape(4, -1).T for x in a]
    cos = [np.sum(grams[i] * grams[j]) / np.linalg.norm(grams[i]) / np.linalg.norm(grams[j])
           for i in range(3) for j in range(3) if i != j]
    assert value == pytest.approx(-2.0 * np.mean(cos), rel=1e-12)


def test_identical_pictures_are_as_similar_as_can_be_and_a_dead_layer_has_no_gradient():
    a = np.random.default_rng(1).standard_normal((1, 4, 3, 3))
    value, _ = _bound(1.0)({"conv5": np.concatenate([a, a])})
    assert value == pytest.approx(-1.0)
    value, grads = _bound(1.0)({"conv5": np.zeros((2, 4, 3, 3))})
    assert value == 0.0 and not grads["conv5"].any()


def test_a_batch_of_one_is_refused_before_any_work():
    with pytest.raises(ValueError, match="at least 2 pictures, got 1"):
        _bound()({"conv5": np.ones((1, 4, 3, 3))})
    net = minidream.load_model("mini")
    for batch in (None, 1):
        with pytest.raises(ValueError, match="compares the pictures of a batch: give batch=K with K >= 2"):
            minidream.dream(None, model=net, objective=Channel("conv5", 0) + Diversity("conv5"), size=(64, 64),
                            batch=batch, progress=False)
    with pytest.raises(ValueError, match="only compares the pictures"):
        minidream.dream(None, model=net, objective=Diversity("conv5"), size=(64, 64), batch=2, progress=False)


def test_it_is_rebuilt_from_its_recipe_data():
    d = Diversity("conv5", weight=0.5)
    again = from_data(json.loads(json.dumps(d.to_data())))
    assert isinstance(again, Diversity) and repr(again) == "Diversity('conv5', weight=0.5)"


def _similarity(net, images, layer="conv5"):
    """Mean pairwise cosine similarity of the pictures' Gram matrices at layer (a plain forward at their size)."""
    grams = []
    for img in images:
        a = net.forward(to_network(np.asarray(img), net.meta), end=layer)[0].astype(np.float64)
        flat = a.reshape(a.shape[0], -1)
        g = (flat @ flat.T).ravel()
        grams.append(g / np.linalg.norm(g))
    k = len(grams)
    return np.mean([grams[i] @ grams[j] for i in range(k) for j in range(k) if i != j])


def test_diversity_pushes_a_batch_apart_further_than_the_noise_alone():
    net = minidream.load_model("mini")
    kwargs = dict(model=net, size=(64, 64), param="fft", octaves=1, steps=16, step_size=4.0, seed=3, batch=4,
                  progress=False)
    seeds_only = minidream.dream(None, objective=Channel("conv5", 2), **kwargs)
    diverse = minidream.dream(None, objective=Channel("conv5", 2) + Diversity("conv5", 16.0), **kwargs)
    assert _similarity(net, diverse) < _similarity(net, seeds_only) - 0.05
