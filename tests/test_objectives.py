import numpy as np
import pytest

from minidream.dreaming.deepdream import dream
from minidream.io.images import to_network
from minidream.models.random_weights import random_model
from minidream.models.metadata import class_index, default_layer
from minidream.dreaming.objective_base import Sum
from minidream.dreaming.objectives import L2, Channel, ClassNeuron, Guide


@pytest.fixture(scope="module")
def net():
    return random_model("googlenet")


@pytest.fixture(scope="module")
def mini():
    return random_model("mini", seed=1)


@pytest.fixture(scope="module")
def photo():
    yy, xx = np.mgrid[0:56, 0:72]
    return (np.stack([xx * 3, yy * 4, (xx + yy) * 2], axis=-1) % 256).astype(np.uint8)


def _acts(shape, seed=0):
    return np.random.default_rng(seed).standard_normal(shape).astype(np.float32)


def test_l2_value_and_gradient_is_the_activation(net):
    a = _acts((1, 4, 3, 5))
    value, grads = L2("conv2/3x3").bind(net)({"conv2/3x3": a})
    assert value == pytest.approx(0.5 * float((a.astype(np.float64) ** 2).sum()), rel=1e-5)
    np.testing.assert_array_equal(grads["conv2/3x3"], a)
    assert grads["conv2/3x3"] is not a  # the net's own buffer stays untouched


def test_channel_value_and_gradient(net):
    a = _acts((1, 6, 3, 4))
    value, grads = Channel("conv2/3x3", [1, 4]).bind(net)({"conv2/3x3": a})
    assert value == pytest.approx(float(a[:, [1, 4]].mean()), rel=1e-5)
    g = grads["conv2/3x3"]
    assert np.all(g[:, [1, 4]] == np.float32(1 / 24)) and not g[:, [0, 2, 3, 5]].any()


def test_channel_out_of_range(net):
    with pytest.raises(ValueError, match="has 192 channels"):
        Channel("conv2/3x3", 192).bind(net)


def test_weighted_sum_on_one_layer_is_not_normalized(net):
    a = _acts((1, 6, 3, 4))
    objective = (0.5 * L2("conv2/3x3") + Channel("conv2/3x3", 2)).bind(net)
    value, grads = objective({"conv2/3x3": a})
    l2, (ch, chg) = L2("conv2/3x3").bind(net)({"conv2/3x3": a}), Channel("conv2/3x3", 2).bind(net)({"conv2/3x3": a})
    assert value == pytest.approx(0.5 * l2[0] + ch, rel=1e-5)
    np.testing.assert_allclose(grads["conv2/3x3"], 0.5 * a + chg["conv2/3x3"], rtol=1e-6)


def test_sum_over_layers_normalizes_by_layer_size(net):
    a, b = _acts((1, 4, 2, 2)), _acts((1, 8, 5, 5), seed=1)
    acts = {"conv2/3x3": a, "inception_3a/output": b}
    objective = (2.0 * L2("conv2/3x3") + L2("inception_3a/output")).bind(net)
    value, grads = objective(acts)
    expected = 2.0 * 0.5 * (a.astype(float) ** 2).sum() / a.size + 0.5 * (b.astype(float) ** 2).sum() / b.size
    assert value == pytest.approx(expected, rel=1e-5)
    np.testing.assert_allclose(grads["conv2/3x3"], 2.0 * a / a.size, rtol=1e-6)
    np.testing.assert_allclose(grads["inception_3a/output"], b / b.size, rtol=1e-6)
    assert objective.layers == ("conv2/3x3", "inception_3a/output")


def test_arithmetic_and_repr():
    objective = 0.5 * L2("a") + Channel("b", 3) - L2("c")
    assert isinstance(objective, Sum)
    assert [w for w, _ in objective.terms] == [0.5, 1.0, -1.0]
    assert repr(objective) == "0.5 * L2('a') + Channel('b', 3) + -1 * L2('c')"
    assert sum([L2("a"), L2("b")]).terms[1][1].layer == "b"
    with pytest.raises(TypeError):
        L2("a") + 1


def test_unbound_objective_says_so():
    with pytest.raises(RuntimeError, match="bind"):
        L2("a").layers


def test_layer_none_is_the_model_default(net, mini):
    assert L2().bind(net).layers == ("inception_4c/output",)
    assert default_layer(mini.meta) == "conv5" and L2().bind(mini).layers == ("conv5",)  # mini.DEFAULT_LAYER


def test_channel_raises_its_channel_more_than_l2(net, photo):
    layer, channel = "inception_3a/output", 5
    kwargs = dict(model=net, octaves=1, steps=4, seed=0, jitter=0, progress=False)
    by_l2 = dream(photo, layer=layer, **kwargs)
    by_channel = dream(photo, objective=Channel(layer, channel), **kwargs)

    def mean_channel(rgb):
        return float(net.forward(to_network(rgb, net.meta), end=layer)[0, channel].mean())

    start = mean_channel(photo)
    assert mean_channel(by_channel) - start > 2 * (mean_channel(by_l2) - start)
    assert mean_channel(by_channel) > start


def test_class_neuron_at_nominal_size_is_the_logit(mini):
    # mini's head is fc6 (4x4 over pool5) -> relu -> fc7 -> relu -> fc8: three layers made convolutions.
    x = to_network(np.random.default_rng(0).integers(0, 256, (64, 64, 3), dtype=np.uint8), mini.meta)
    objective = ClassNeuron(3).bind(mini)
    assert objective.layers == ("pool5",)
    acts = mini.forward(x, end=["pool5", "fc8"])
    value, _ = objective(acts)
    assert value == pytest.approx(float(acts["fc8"][0, 3]), rel=1e-4, abs=1e-4)


def test_class_neuron_googlenet_nominal_size(net):
    x = to_network(np.random.default_rng(1).integers(0, 256, (224, 224, 3), dtype=np.uint8), net.meta)
    objective = ClassNeuron(17).bind(net)
    assert objective.layers == ("inception_5b/output",)
    acts = net.forward(x, end=["inception_5b/output", "loss3/classifier"])
    assert objective(acts)[0] == pytest.approx(float(acts["loss3/classifier"][0, 17]), rel=1e-4, abs=1e-4)


def test_class_neuron_gradient_matches_finite_differences(mini):
    objective = ClassNeuron(2).bind(mini)
    a = np.abs(_acts((1, 64, 6, 5), seed=3)).astype(np.float64)  # float64: differences need the digits
    _, grads = objective({"pool5": a})
    rng = np.random.default_rng(0)
    for _ in range(5):
        idx = tuple(int(rng.integers(0, s)) for s in a.shape)
        up, down = a.copy(), a.copy()
        up[idx] += 1e-4
        down[idx] -= 1e-4
        numeric = (objective({"pool5": up})[0] - objective({"pool5": down})[0]) / 2e-4
        assert grads["pool5"][idx] == pytest.approx(numeric, rel=1e-3, abs=1e-6)


def test_class_neuron_value_is_the_mean_over_positions(mini):
    objective = ClassNeuron(1).bind(mini)
    a = np.abs(_acts((1, 64, 5, 6), seed=4))
    value, _ = objective({"pool5": a})
    crops = [objective({"pool5": a[:, :, i:i + 4, j:j + 4]})[0] for i in range(2) for j in range(3)]
    assert value == pytest.approx(float(np.mean(crops)), rel=1e-4)


def test_class_neuron_on_maps_smaller_than_the_classifier(net, mini):
    # mini's fc6 covers 4x4 of pool5: a 2x3 map gets a zero border, 4x5, so two 4x4 windows fit
    a = np.abs(_acts((1, 64, 2, 3), seed=5))
    padded = np.pad(a, ((0, 0), (0, 0), (1, 1), (1, 1)))
    objective = ClassNeuron(0).bind(mini)
    windows = [objective({"pool5": padded[:, :, :, j:j + 4]})[0] for j in (0, 1)]
    assert objective({"pool5": a})[0] == pytest.approx(np.mean(windows), rel=1e-5)
    # GoogLeNet's 7x7 average pool shrinks to a 3x3 map: the class score of the map's mean feature
    b = np.abs(_acts((1, 1024, 3, 3), seed=6))
    objective = ClassNeuron(5).bind(net)
    w, bias = net.params["loss3/classifier"]
    expected = float(w[5] @ b.mean(axis=(2, 3))[0] + bias[5])
    assert objective({"inception_5b/output": b})[0] == pytest.approx(expected, rel=1e-4, abs=1e-5)


def test_class_neuron_dream_on_a_small_image(net, photo):
    out = dream(photo, model=net, objective=ClassNeuron(3), octaves=2, steps=1, seed=0, progress=False)
    assert out.shape == photo.shape and not np.array_equal(out, photo)


def test_class_names_resolve(mini):
    names = mini.meta["class_names"]
    assert class_index(mini.meta, names[2], len(names)) == 2
    assert class_index(mini.meta, names[2].upper(), len(names)) == 2
    assert class_index(mini.meta, "4", len(names)) == 4
    with pytest.raises(ValueError, match="Did you mean"):
        class_index(mini.meta, names[1][:-1] + "x", len(names))
    with pytest.raises(ValueError, match="out of range"):
        class_index(mini.meta, len(names), len(names))


def test_class_name_synonyms():
    class Fake:
        meta = {"class_names": ["tench, Tinca tinca", "goldfish, Carassius auratus"]}

    assert class_index(Fake.meta, "goldfish", 2) == 1
    assert class_index(Fake.meta, "carassius auratus", 2) == 1


def test_class_neuron_needs_names_or_index(net):
    with pytest.raises(ValueError, match="no class names"):
        ClassNeuron("goldfish").bind(net)


def test_guide_gradient_is_the_best_matching_guide_feature(net, photo):
    objective = Guide(photo, "conv2/3x3").bind(net)
    y = objective.features  # (C, M)
    a = _acts((1, y.shape[0], 2, 3))
    value, grads = objective({"conv2/3x3": a})
    x = a.reshape(y.shape[0], -1)
    best = (x.T @ y).argmax(axis=1)
    np.testing.assert_array_equal(grads["conv2/3x3"], y[:, best].reshape(a.shape))
    assert value == pytest.approx(float((x.T @ y).max(axis=1).sum()), rel=1e-5)


def test_sum_guide_and_class_neuron_dreams_run(net, mini, photo):
    kwargs = dict(octaves=1, steps=1, seed=0, progress=False)
    out = dream(photo, model=net, objective=0.5 * L2("conv2/3x3") + Channel("inception_3a/output", 3), **kwargs)
    assert out.shape == photo.shape and not np.array_equal(out, photo)
    out = dream(photo, model=net, objective=Guide(photo[::-1], "inception_3a/output"), **kwargs)
    assert out.shape == photo.shape and not np.array_equal(out, photo)
    big = np.pad(photo, ((8, 8), (4, 4), (0, 0)), mode="reflect")  # mini's classifier needs 64x64
    out = dream(big, model=mini, objective=ClassNeuron(mini.meta["class_names"][0]), **kwargs)
    assert out.shape == big.shape and not np.array_equal(out, big)


def test_guide_scores_each_image_of_a_batch_on_its_own(mini, photo):
    guide = Guide(photo, "conv3").bind(mini)
    a = _acts((2, 64, 5, 6), seed=7)
    value, grads = guide({"conv3": a})
    singles = [guide({"conv3": a[i:i + 1]}) for i in range(2)]
    assert value == pytest.approx(sum(v for v, _ in singles), rel=1e-5)
    np.testing.assert_allclose(grads["conv3"], np.concatenate([g["conv3"] for _, g in singles]), rtol=1e-6)
