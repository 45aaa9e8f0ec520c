"""minidream.load_model: names, files, .caffemodel caching by SHA1, auto and mini."""
import numpy as np
import pytest

import minidream
from minidream.models import loading
from minidream.formats.h5format import ModelFileError
from weights_tools import writer as pw
from tests.weights_tools.conftest import small_model
from weights_tools import cache, convert as convert_module


@pytest.fixture(autouse=True)
def cache_home(tmp_path, monkeypatch):
    monkeypatch.setenv("MINIDREAM_HOME", str(tmp_path / "cache"))


@pytest.fixture
def small_caffemodel(tmp_path):
    specs, blobs, net = small_model()
    path = tmp_path / "small.caffemodel"
    path.write_bytes(pw.snapshot(specs, blobs, "V1", crop=13))
    return path, net


def test_caffemodel_is_converted_once_and_cached_by_sha1(small_caffemodel, monkeypatch):
    path, reference = small_caffemodel
    net = minidream.load_model(path)
    cached = list((cache.home() / "converted").glob("*.h5"))
    assert [p.stem for p in cached] == [convert_module.file_sha1(path)]
    x = np.random.default_rng(0).standard_normal((1, 3, 13, 13)).astype(np.float32)
    np.testing.assert_array_equal(net.forward(x), reference.forward(x))
    monkeypatch.setattr(convert_module, "convert", lambda *a, **k: pytest.fail("converted twice"))
    minidream.load_model(str(path))


def test_h5_path_and_device(small_caffemodel, tmp_path):
    path, reference = small_caffemodel
    convert_module.convert(path, tmp_path / "small.h5")
    net = minidream.load_model(tmp_path / "small.h5", device="cpu")
    assert net.device == "cpu" and net.layer_names == reference.layer_names


def test_named_model_comes_from_the_cache(small_caffemodel):
    path, _ = small_caffemodel
    convert_module.convert(path, cache.model_path("googlenet"))
    assert minidream.load_model("googlenet").layer_names[0] == "conv1"
    assert minidream.load_model("auto").layer_names[0] == "conv1"  # googlenet cached: auto uses it


def test_auto_without_googlenet_uses_mini_and_says_how_to_get_googlenet(capsys, monkeypatch, tmp_path):
    specs, blobs, _ = small_model()
    mini = tmp_path / "mini.h5"
    from minidream.formats import h5format
    h5format.save(mini, specs, blobs, {"name": "mini", "input_size": (13, 13)})
    monkeypatch.setattr(loading, "MINI_PATH", mini)
    net = minidream.load_model("auto")
    assert net.meta["name"] == "mini"
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and "python -m weights_tools fetch googlenet" in err


def test_missing_mini_is_a_clear_error(monkeypatch, tmp_path):
    monkeypatch.setattr(loading, "MINI_PATH", tmp_path / "nothing" / "mini.h5")
    with pytest.raises(ModelFileError, match="bundled 'mini' model is missing"):
        minidream.load_model("mini")


def test_unknown_names_and_missing_files():
    with pytest.raises(ValueError, match="mini, auto, googlenet, alexnet, caffenet"):
        minidream.load_model("vgg17")  # not in the zoo (vgg16 is: it is fetched by name)
    with pytest.raises(FileNotFoundError, match="nope.caffemodel"):
        minidream.load_model("nope.caffemodel")
    with pytest.raises(ModelFileError, match="not found"):
        minidream.load_model("nope.h5")


def test_every_zoo_name_loads_through_fetch(monkeypatch, small_caffemodel):
    """load_model(NAME) for every zoo model asks fetch_model for it (download, verify, convert with the entry's
    prototxt, mean, scale, channel order and classes) and loads the result."""
    path, _ = small_caffemodel
    asked = []

    def fake_fetch(name):
        asked.append(name)
        target = cache.model_path(name)
        if not target.exists():
            convert_module.convert(path, target)
        return target

    monkeypatch.setattr(loading, "fetch_model", fake_fetch)
    for name in loading.MODELS:
        assert minidream.load_model(name).layer_names[0] == "conv1"
    assert asked == list(loading.MODELS) and len(asked) >= 18
