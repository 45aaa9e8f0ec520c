import hashlib
import time

import numpy as np
import pytest

import minidream
from minidream.architectures.mini import architecture as mini_architecture
from minidream.models.random_weights import he_init
from minidream.engine.net import Net
from weights_tools import writer as pw
from tests.weights_tools.conftest import small_model
from weights_tools import CaffeModelError
from weights_tools.__main__ import main
from weights_tools.convert import convert, imagenet_classes


def test_full_size_googlenet_snapshot_round_trip(googlenet_v1, tmp_path, capsys):
    """V1 training snapshot (53.5 MB) -> CLI convert -> load_model -> same outputs and input gradient."""
    path, reference = googlenet_v1
    assert 53.0e6 < path.stat().st_size < 54.0e6  # the size of the real bvlc_googlenet.caffemodel
    dst = tmp_path / "googlenet.h5"
    start = time.perf_counter()
    assert main(["convert", str(path), str(dst)]) == 0
    assert time.perf_counter() - start < 10.0
    assert "wrote" in capsys.readouterr().out
    net = minidream.load_model(dst)
    assert net.specs == reference.specs  # aux loss1/loss2 branches kept, losses dropped, prob restored
    for name in reference.params:
        for a, b in zip(reference.params[name], net.params[name]):
            np.testing.assert_array_equal(a, b)
    meta = net.meta
    assert meta["name"] == "googlenet" and meta["input_size"] == (224, 224)
    assert meta["mean_bgr"] == [104.0, 117.0, 123.0] and meta["channel_order"] == "BGR"
    assert meta["source_file"] == "bvlc_googlenet.caffemodel"
    assert meta["source_sha1"] == hashlib.sha1(path.read_bytes()).hexdigest()
    assert meta["class_names"][0] == "tench, Tinca tinca" and len(meta["class_names"]) == 1000
    assert meta["extra"]["class_wnids"][-1] == "n15075141"

    x = np.random.default_rng(0).standard_normal((1, 3, 224, 224)).astype(np.float32)
    ends = ["inception_4c/output", "loss1/classifier", "prob"]
    want, got = reference.forward(x, end=ends), net.forward(x, end=ends)
    for name in ends:
        np.testing.assert_array_equal(got[name], want[name])
    grad = {"inception_4c/output": np.ones_like(want["inception_4c/output"])}
    np.testing.assert_array_equal(net.backward(grad), reference.backward(grad))


@pytest.mark.parametrize("generation", ["V1", "current"])
def test_mini_architecture_round_trip_through_load_model(generation, tmp_path):
    specs, meta = mini_architecture()
    reference = he_init(Net(specs, meta=meta), seed=3)
    src = tmp_path / "mini.caffemodel"
    src.write_bytes(pw.snapshot(reference.specs, reference.params, generation, name="Mini", crop=64,
                                mean=(127.5, 127.5, 127.5)))
    net = minidream.load_model(src)
    assert net.specs == reference.specs
    x = np.random.default_rng(1).standard_normal((2, 3, 64, 64)).astype(np.float32)
    np.testing.assert_array_equal(net.forward(x, end="fc8"), reference.forward(x, end="fc8"))
    assert net.meta["name"] == "mini" and net.meta["input_size"] == (64, 64)
    assert "class_names" not in net.meta or len(net.meta["class_names"]) != 1000


def test_input_size_is_inferred_when_the_file_declares_none(tmp_path):
    specs, blobs, reference = small_model()
    data = pw.f_string(3, "data") + b"".join(pw.f_bytes(100, pw.layer_message(s, blobs.get(s["name"], []), False))
                                             for s in specs)
    src = tmp_path / "small.caffemodel"
    src.write_bytes(data)
    meta = convert(src, tmp_path / "small.h5")
    assert meta["input_size"] == (11, 11)  # the smallest size whose pooled output fits fc's weights
    assert meta["mean_bgr"] == [104.0, 117.0, 123.0]
    x = np.random.default_rng(3).standard_normal((1, 3, 13, 13)).astype(np.float32)
    np.testing.assert_array_equal(minidream.load_model(tmp_path / "small.h5").forward(x), reference.forward(x))


def test_unrecognized_input_blob_name_survives_the_h5_file(tmp_path):
    specs, blobs, reference = small_model()
    specs = [dict(s, bottoms=["image" if b == "data" else b for b in s["bottoms"]]) for s in specs]
    data = pw.f_string(3, "image") + pw.f_bytes(8, pw.f_packed_varints(1, [1, 3, 13, 13]))
    data += b"".join(pw.f_bytes(100, pw.layer_message(s, blobs.get(s["name"], []), False)) for s in specs)
    src = tmp_path / "image_input.caffemodel"
    src.write_bytes(data)
    net = minidream.load_model(src)
    x = np.random.default_rng(2).standard_normal((1, 3, 13, 13)).astype(np.float32)
    np.testing.assert_array_equal(net.forward(x), reference.forward(x))


def test_conversion_is_atomic(tmp_path, monkeypatch):
    specs, blobs, _ = small_model()
    src = tmp_path / "small.caffemodel"
    src.write_bytes(pw.snapshot(specs, blobs, "V1", crop=13))

    import h5py

    def interrupted(*args, **kwargs):  # Ctrl-C while the weights are being written
        raise KeyboardInterrupt

    monkeypatch.setattr(h5py.Group, "create_dataset", interrupted)
    with pytest.raises(KeyboardInterrupt):
        convert(src, tmp_path / "out" / "small.h5")
    assert list((tmp_path / "out").iterdir()) == []


def test_errors_name_the_file(tmp_path):
    bad = tmp_path / "bad.caffemodel"
    bad.write_bytes(b"\x12\xff\xff\xff\x0f")
    with pytest.raises(CaffeModelError, match="bad.caffemodel"):
        convert(bad, tmp_path / "x.h5")
    assert not (tmp_path / "x.h5").exists()


def test_class_names_file_is_caffes_synset_words():
    wnids, names = imagenet_classes()
    assert len(wnids) == len(set(wnids)) == 1000 and wnids == sorted(wnids)
    assert (wnids[0], names[0]) == ("n01440764", "tench, Tinca tinca")
    assert (wnids[281], names[281]) == ("n02123045", "tabby, tabby cat")
    assert names[-1] == "toilet tissue, toilet paper, bathroom tissue"
