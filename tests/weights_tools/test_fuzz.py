"""Hostile model files (tests/weights_tools/mutations.py) through convert and load: only the documented error
types, bounded time and memory per case, nothing non-finite accepted, and the attacks issue 12 found, by name."""
import json
import time
import tracemalloc

import h5py
import numpy as np
import pytest

from minidream.formats import h5format
from minidream.errors import ModelFileError
from weights_tools import writer as pw
from tests.weights_tools.conftest import small_model
from tests.weights_tools.mutations import caffemodel_case, h5_case
from weights_tools import CaffeModelError
from weights_tools.convert import convert
from minidream.models.loading import load_net, save_model
from minidream.models.loading import MINI_PATH


def _bounded(call, size, seconds=1.0):
    """call()'s outcome ("ok" or "error"); fails on other exceptions, slow cases or allocations over 2x + 1 MiB."""
    tracemalloc.start()
    start = time.perf_counter()
    try:
        call()
        outcome = "ok"
    except (CaffeModelError, ModelFileError):
        outcome = "error"
    finally:
        peak = tracemalloc.get_traced_memory()[1]
        tracemalloc.stop()
    assert time.perf_counter() - start < seconds
    assert peak < 2 * size + (1 << 20), f"{peak} bytes allocated for a {size}-byte file"
    return outcome


def _finite(net):
    return all(np.isfinite(a).all() for arrays in net.params.values() for a in arrays)


def test_mutated_caffemodels_convert_or_fail_with_caffemodelerror(tmp_path):
    rng = np.random.default_rng(2026)
    outcomes = {}
    for i in range(300):
        kind, data = caffemodel_case(rng)
        src, dst = tmp_path / f"{i}.caffemodel", tmp_path / f"{i}.h5"
        src.write_bytes(data)
        outcome = _bounded(lambda: convert(src, dst), len(data))
        if outcome == "ok":
            assert _finite(load_net(dst)), f"case {i} ({kind}) wrote non-finite weights"
        else:
            assert not dst.exists()
        outcomes.setdefault(kind, set()).add(outcome)
    for kind in ("weights", "input", "name", "wiring"):  # every one of these is hostile in some case
        assert "error" in outcomes[kind], kind
    assert len(outcomes) == 8  # every kind of mutation was drawn


def test_mutated_h5_files_load_or_fail_with_modelfileerror(tmp_path):
    good = tmp_path / "good.h5"
    save_model(small_model()[2], good)
    rng = np.random.default_rng(2026)
    kinds = {}
    for i in range(200):
        dst = tmp_path / f"{i}.h5"
        kind = h5_case(rng, good, dst)
        try:
            outcome = _bounded(lambda: load_net(dst), dst.stat().st_size)
        except (OSError, RuntimeError, KeyError, ValueError, TypeError, ZeroDivisionError) as exc:
            if type(exc) is not ModelFileError:
                pytest.fail(f"case {i} ({kind}): {type(exc).__name__}: {exc}")
            raise
        if outcome == "ok":
            assert kind in ("flip", "attr", "drop_attr", "params", "json"), f"case {i} ({kind}) loaded"
            assert _finite(load_net(dst))
        kinds.setdefault(kind, set()).add(outcome)
    for kind in ("drop_blob", "transpose", "retype", "nan", "extlink", "external", "bomb", "extra_blob", "cut"):
        assert kinds.get(kind) == {"error"}, kind


# ---------------------------------------------------------------- the named attacks of issue 12
def _deploy(tmp_path, specs=None, blobs=None, input_size=(13, 13)):
    if specs is None:
        specs, blobs, _ = small_model()
    path = tmp_path / "attack.caffemodel"
    path.write_bytes(pw.deploy(specs, blobs, input_size=input_size))
    return path


def _param(name, **params):
    specs, blobs, _ = small_model()
    for spec in specs:
        if spec["name"] == name:
            spec["params"].update(params)
    return specs, blobs


@pytest.mark.parametrize("attack, match", [
    (lambda: _param("cat", axis=7), "axis"),
    (lambda: _param("conv1", pad=[2**32, 2**32]), "pad|output"),
    (lambda: _param("norm1", alpha=float("nan")), "alpha nan"),
    (lambda: _param("conv1", kernel_size=[100000, 100000]), "conv1"),
])
def test_hostile_parameters(tmp_path, attack, match):
    start = time.perf_counter()
    with pytest.raises(CaffeModelError, match=match):
        convert(_deploy(tmp_path, *attack()), tmp_path / "out.h5")
    assert time.perf_counter() - start < 1.0 and not (tmp_path / "out.h5").exists()


def test_huge_declared_input_is_refused_from_the_header(tmp_path):
    start = time.perf_counter()
    with pytest.raises(CaffeModelError, match="100000x100000 is outside"):
        convert(_deploy(tmp_path, input_size=(100000, 100000)), tmp_path / "out.h5")
    assert time.perf_counter() - start < 0.5


@pytest.mark.parametrize("value", [np.nan, np.inf, -np.inf, 1e38])
def test_non_finite_or_absurd_weights_are_refused_naming_the_layer(tmp_path, value):
    specs, blobs, _ = small_model()
    blobs["b"][0].reshape(-1)[3] = value
    with pytest.raises(CaffeModelError, match="layer 'b': weight blob 0 holds"):
        convert(_deploy(tmp_path, specs, blobs), tmp_path / "out.h5")


def test_nul_in_a_layer_name_is_a_caffemodelerror(tmp_path):
    specs, blobs, _ = small_model()
    specs[0]["name"] = "conv\0one"
    blobs["conv\0one"] = blobs.pop("conv1")
    with pytest.raises(CaffeModelError, match="NUL"):
        convert(_deploy(tmp_path, specs, blobs), tmp_path / "out.h5")


def test_nul_in_the_net_name_is_a_caffemodelerror_as_in_a_layer_name(tmp_path):
    specs, blobs, _ = small_model()
    src = tmp_path / "named.caffemodel"
    src.write_bytes(pw.deploy(specs, blobs, input_size=(13, 13), name="net\0name"))
    with pytest.raises(CaffeModelError, match=r"named.caffemodel: the net's name 'net\\x00name' contains a NUL"):
        convert(src, tmp_path / "out.h5")
    assert not (tmp_path / "out.h5").exists()


def _relus(count):
    specs = [{"name": "conv", "type": "Convolution", "bottoms": ["data"], "tops": ["conv"],
              "params": {"num_output": 2, "kernel_size": [1, 1]}}]
    specs += [{"name": f"relu{i}", "type": "ReLU", "bottoms": ["conv"], "tops": ["conv"], "params": {}}
              for i in range(count)]
    return specs, {"conv": [np.ones((2, 3, 1, 1), np.float32), np.zeros(2, np.float32)]}


def test_thirty_thousand_in_place_relus_convert_and_load_in_seconds(tmp_path):
    src = _deploy(tmp_path, *_relus(30000), input_size=(8, 8))
    start = time.process_time()  # CPU time: other sessions on the machine do not count
    convert(src, tmp_path / "deep.h5")
    converted = time.process_time() - start
    specs, blobs, meta = h5format.load(tmp_path / "deep.h5")
    assert converted < 5.0 and time.process_time() - start < 8.0
    assert len(specs) == 30001 and blobs["conv"][0].shape == (2, 3, 1, 1)


# ---------------------------------------------------------------- the .h5 loader
@pytest.fixture
def saved(tmp_path):
    path = tmp_path / "model.h5"
    save_model(small_model()[2], path)
    return path


def test_bit_rot_in_a_weight_fails_the_checksum(saved):
    with h5py.File(saved, "r+") as f:
        f["weights/00000/blob_0"][0, 0, 0, 0] += 1e-3
    with pytest.raises(ModelFileError, match="checksum"):
        h5format.load(saved)


def test_gzip_bomb_is_refused_before_it_is_read(saved):
    with h5py.File(saved, "r+") as f:
        del f["weights/00000/blob_0"]
        f["weights/00000"].create_dataset("blob_0", shape=(256, 1024, 1024), dtype="f4", compression="gzip",
                                          chunks=(1, 1024, 1024))
    start = time.perf_counter()
    with pytest.raises(ModelFileError, match=r"float32 \(256, 1024, 1024\), the graph needs float32 \(4, 3, 3, 3\)"):
        h5format.load(saved)
    assert time.perf_counter() - start < 0.5  # reading it would be 1 GiB


def test_external_storage_and_links_are_refused(saved, tmp_path):
    other = tmp_path / "other.h5"
    h5format.save(other, *h5format.load(saved))
    with h5py.File(saved, "r+") as f:
        del f["weights/00000"]
        f["weights/00000"] = h5py.ExternalLink(str(other), "/weights/00000")
    with pytest.raises(ModelFileError, match="ExternalLink"):
        h5format.load(saved)
    with h5py.File(saved, "r+") as f:
        del f["weights/00000"]
        g = f["weights"].create_group("00000")
        g.create_dataset("blob_0", shape=(4, 3, 3, 3), dtype="f4", external=[(str(other), 0, h5py.h5f.UNLIMITED)])
        g.create_dataset("blob_1", data=np.zeros(4, np.float32))
    with pytest.raises(ModelFileError, match="another file"):
        h5format.load(saved)


@pytest.mark.parametrize("change, match", [
    (lambda f: f.attrs.__delitem__("format_version"), "format_version is missing"),
    (lambda f: f.attrs.__setitem__("surprise", 1), "unknown attribute 'surprise'"),
    (lambda f: f.attrs.__setitem__("mean_bgr", np.array([np.nan, 0, 0], np.float32)), "finite numbers, one per input channel"),
    (lambda f: f["weights/00000"].__delitem__("blob_1"), "missing"),
])
def test_attributes_and_datasets_are_checked(saved, change, match):
    with h5py.File(saved, "r+") as f:
        change(f)
    with pytest.raises(ModelFileError, match=match):
        h5format.load(saved)


def test_stride_zero_and_transposed_weights(saved):
    with h5py.File(saved, "r+") as f:
        graph = json.loads(f["graph"][()])
        graph[0]["params"]["stride"] = [0, 0]
        del f["graph"]
        f.create_dataset("graph", data=json.dumps(graph), dtype=h5py.string_dtype("utf-8"))
    with pytest.raises(ModelFileError, match="stride"):
        h5format.load(saved)


def test_transposed_fully_connected_weight_is_refused(saved):
    with h5py.File(saved, "r+") as f:
        key = next(k for k in f["weights"] if f["weights"][k]["blob_0"].ndim == 2)
        w = np.asarray(f["weights"][key]["blob_0"])
        del f["weights"][key]["blob_0"]
        f["weights"][key].create_dataset("blob_0", data=w.T.copy())
    with pytest.raises(ModelFileError, match="the graph needs float32"):
        h5format.load(saved)


def test_version_1_files_are_still_read():
    with h5py.File(MINI_PATH, "r") as f:
        assert int(f.attrs["format_version"]) == 1 and "layers" in f
    net = load_net(MINI_PATH)
    assert _finite(net) and len(net.layer_names) > 10
