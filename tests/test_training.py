import os

import numpy as np
import pytest

from minidream.training import evaluation, finetuning, image_folder, patterns, loop as training
from minidream.formats import h5format
from minidream.architectures import builtin
from minidream.cli import main
from minidream.engine.net import Net
from tests.tiny_nets import pattern_set, tiny_arch
from minidream.models.loading import load_net


@pytest.fixture
def tiny(monkeypatch):
    monkeypatch.setitem(builtin.ARCHITECTURES, "tiny", tiny_arch)
    return "tiny"


def two_classes(n, seed, size=36):
    return pattern_set(n, seed, size=size)


# ---------------------------------------------------------------- loss and gradients
def test_softmax_cross_entropy_value_and_gradient():
    rng = np.random.default_rng(0)
    scores, labels = rng.normal(0, 3, (5, 4)), np.array([0, 3, 1, 1, 2])
    loss, dscores = evaluation.softmax_cross_entropy(scores, labels)
    p = np.exp(scores) / np.exp(scores).sum(axis=1, keepdims=True)
    assert loss == pytest.approx(-np.log(p[np.arange(5), labels]).mean())
    numeric = np.zeros_like(scores)
    for i in np.ndindex(scores.shape):
        step = np.zeros_like(scores)
        step[i] = 1e-6
        numeric[i] = (evaluation.softmax_cross_entropy(scores + step, labels)[0]
                      - evaluation.softmax_cross_entropy(scores - step, labels)[0]) / 2e-6
    np.testing.assert_allclose(dscores, numeric, rtol=1e-5, atol=1e-9)


def test_softmax_cross_entropy_is_stable_for_huge_scores():
    loss, dscores = evaluation.softmax_cross_entropy(np.array([[1000.0, 0.0], [0.0, 1000.0]]), np.array([0, 0]))
    assert np.isfinite(loss) and loss == pytest.approx(500.0)
    assert np.isfinite(dscores).all()


def test_weight_gradients_of_every_weighted_layer_match_centered_differences():
    # float64 so centered differences are exact to ~1e-8; LRN alpha large enough to matter.
    specs, meta = tiny_arch()
    specs[3]["params"]["alpha"] = 0.5
    net = Net(specs, meta=meta, dtype=np.float64)
    rng = np.random.default_rng(3)
    for arrays in net.params.values():
        for a in arrays:
            a[...] = rng.normal(0, 0.3, a.shape)
    # Shuffled distinct values: no max-pool ties and no ReLU inputs at exactly 0.
    x = rng.permutation(np.linspace(-2, 2, 3 * 3 * 32 * 32)).reshape(3, 3, 32, 32)
    labels = np.array([0, 1, 1])

    def loss():
        scores = net.forward(x, end="fc4", train=True, rng=np.random.default_rng(5))  # same dropout mask
        return evaluation.softmax_cross_entropy(scores, labels)

    value, dscores = loss()
    net.backward(dscores, param_grads=True)
    assert sorted(net.grads) == ["conv1", "conv2", "fc3", "fc4"]
    check = np.random.default_rng(9)
    for name, arrays in net.params.items():
        for which, (a, g) in enumerate(zip(arrays, net.grads[name])):
            assert g.shape == a.shape
            for i in [tuple(check.integers(0, s) for s in a.shape) for _ in range(6)]:
                old = a[i]
                a[i] = old + 1e-5
                up = loss()[0]
                a[i] = old - 1e-5
                down = loss()[0]
                a[i] = old
                numeric = (up - down) / 2e-5
                assert abs(g[i] - numeric) <= 1e-6 * max(1.0, abs(numeric)), (name, which, i, g[i], numeric)


# ---------------------------------------------------------------- training
def test_tiny_training_learns_two_classes(tiny):
    result = training.train(two_classes(256, seed=0), tiny, val=two_classes(64, seed=1), epochs=8, batch_size=16,
                            lr=0.02, progress=False)
    assert result.history[0]["val_accuracy"] < 0.75
    assert result.history[-1]["loss"] < 0.5 * result.history[0]["loss"]
    assert result.history[-1]["val_accuracy"] >= 0.85
    assert result.net.meta["class_names"] == ["rings", "checkerboard"]


def test_training_is_deterministic_with_a_seed(tiny):
    data = two_classes(64, seed=0)

    def weights(seed):
        net = training.train(data, tiny, epochs=1, batch_size=16, seed=seed, progress=False).net
        return np.concatenate([a.ravel() for arrays in net.params.values() for a in arrays])

    np.testing.assert_array_equal(weights(3), weights(3))
    assert not np.array_equal(weights(3), weights(4))


def test_train_cli_on_an_image_folder_writes_a_loadable_model(tiny, tmp_path, capsys):
    patterns.save_folder(tmp_path / "data", per_class=10, size=36, seed=0, classes=("rings", "checkerboard"))
    out = tmp_path / "model.h5"
    assert main(["train", str(tmp_path / "data"), "--arch", tiny, "--epochs", "2", "--val-fraction", "0.2",
                 "-o", str(out), "--no-progress"]) == 0
    assert "wrote" in capsys.readouterr().out
    specs, blobs, meta = h5format.load(out)
    assert meta["class_names"] == ["checkerboard", "rings"]
    assert blobs["fc4"][0].shape == (2, 32)
    assert [h["epoch"] for h in meta["extra"]["history"]] == [1, 2]
    assert load_net(out).forward(np.zeros((1, 3, 32, 32), np.float32), end="prob").shape == (1, 2)


# ---------------------------------------------------------------- image folders
def test_image_folder_uses_val_subfolder_and_checks_classes(tmp_path):
    patterns.save_folder(tmp_path, per_class=3, size=20, seed=0, classes=("grid", "rays"))
    patterns.save_folder(tmp_path / "val", per_class=1, size=20, seed=1, classes=("grid", "rays"))
    train_set, val_set = image_folder.load_folder(tmp_path, 18, progress=False)
    assert train_set.images.shape == (6, 18, 18, 3) and val_set.images.shape == (2, 18, 18, 3)
    assert train_set.class_names == ["grid", "rays"] and val_set.labels.tolist() == [0, 1]
    os.makedirs(tmp_path / "val" / "bricks")
    with pytest.raises(ValueError, match="bricks"):
        image_folder.load_folder(tmp_path, 18, progress=False)


def test_image_folder_errors_name_the_fix(tmp_path):
    with pytest.raises(FileNotFoundError, match="not found"):
        image_folder.load_folder(tmp_path / "missing", 16)
    os.makedirs(tmp_path / "only")
    with pytest.raises(ValueError, match="at least two class sub-folders"):
        image_folder.load_folder(tmp_path, 16)


def test_holdout_keeps_a_share_of_every_class():
    labels = np.array([0] * 10 + [1] * 20)
    keep, held = image_folder.holdout(labels, 0.1, seed=0)
    assert np.bincount(labels[held]).tolist() == [1, 2]
    assert sorted(np.concatenate([keep, held]).tolist()) == list(range(30))


def test_random_crops_are_windows_and_flips():
    images = np.arange(2 * 6 * 6 * 3, dtype=np.uint8).reshape(2, 6, 6, 3)
    crops = image_folder.random_crops(images, 4, np.random.default_rng(0))
    for image, crop in zip(images, crops):
        windows = [image[t:t + 4, l:l + 4] for t in range(3) for l in range(3)]
        assert any(np.array_equal(crop, w) or np.array_equal(crop, w[:, ::-1]) for w in windows)


# ---------------------------------------------------------------- fine-tuning
def test_head_start_of_the_built_in_architectures():
    alexnet, _ = builtin.architecture("alexnet")
    googlenet, _ = builtin.architecture("googlenet")
    assert alexnet[finetuning.head_start(alexnet)]["name"] == "fc6"
    assert googlenet[finetuning.head_start(googlenet)]["bottoms"] == ["pool5/7x7_s1"]
    assert alexnet[finetuning.head_start(alexnet, "fc8")]["name"] == "fc8"
    with pytest.raises(ValueError, match="fully connected layers"):
        finetuning.head_start(alexnet, "fc9")


def test_finetune_on_a_small_folder_trains_only_the_head(tiny, tmp_path):
    base = training.train(two_classes(96, seed=0), tiny, epochs=2, batch_size=32, progress=False).net
    frozen = {name: [a.copy() for a in base.params[name]] for name in ("conv1", "conv2")}
    classes = ("stripes", "polka_dots", "zigzag")
    patterns.save_folder(tmp_path / "data", per_class=12, size=36, seed=2, classes=classes)
    out = tmp_path / "mine.h5"
    result = finetuning.finetune(base, tmp_path / "data", out, epochs=8, batch_size=16, lr=0.05,
                               val_fraction=0.25, progress=False)
    net = load_net(out)
    assert net.meta["class_names"] == sorted(classes)
    assert net.params["fc4"][0].shape == (3, 32)
    assert net.meta["extra"]["trained_layers"] == ["fc3", "relu3", "drop3", "fc4", "prob"]
    for name, arrays in frozen.items():
        for before, after in zip(arrays, net.params[name]):
            np.testing.assert_array_equal(before, after)
    assert not np.array_equal(base.params["fc3"][0], net.params["fc3"][0])
    assert result.history[-1]["loss"] < result.history[0]["loss"]
    assert (tmp_path / "mine.history.csv").exists() and (tmp_path / "mine.confusion.png").exists()
    assert result.confusion.shape == (3, 3) and result.confusion.sum() == 9  # a quarter of 36 held out
