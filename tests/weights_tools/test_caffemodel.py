import numpy as np
import pytest

from weights_tools import writer as pw
from tests.weights_tools.conftest import small_model
from weights_tools import CaffeModelError, read_caffemodel


def _assert_same(specs, blobs, specs2, blobs2):
    assert specs2 == specs
    assert sorted(blobs2) == sorted(blobs)
    for name in blobs:
        for a, b in zip(blobs[name], blobs2[name]):
            assert a.shape == b.shape and a.dtype == b.dtype == np.float32
            np.testing.assert_array_equal(a, b)


@pytest.mark.parametrize("generation", ["V1", "current"])
@pytest.mark.parametrize("options", [{}, {"packed": False}, {"double": True}, {"diff": True, "packed": False},
                                     {"legacy": False}, {"legacy": True}])
def test_training_snapshot_reads_back_as_the_deploy_graph(generation, options):
    specs, blobs, _ = small_model()
    data = pw.snapshot(specs, blobs, generation, name="Small", crop=13, mean=(1.0, 2.0, 3.0), blob_options=options)
    specs2, blobs2, info = read_caffemodel(data)
    _assert_same(specs, blobs, specs2, blobs2)
    assert info["generation"] == generation
    assert info["input_blob"] == "data" and info["input_size"] == (13, 13)
    assert info["dropped"] == ["data", "loss", "top-1"] and info["added"] == ["prob"]
    if generation == "V1":
        assert info["mean_bgr"] == [1.0, 2.0, 3.0]


def test_snapshot_really_has_caffes_splits_and_they_fold_away():
    specs, blobs, _ = small_model()
    layers = pw.training_layers(specs)
    splits = [layer for layer in layers if layer["type"] == "Split"]
    # norm1 feeds a, b and p; label and the classifier's output feed the loss and the accuracy layer.
    assert [s["name"] for s in splits] == ["label_data_1_split", "norm1_norm1_0_split", "out_out_0_split"]
    assert splits[1]["tops"] == [f"norm1_norm1_0_split_{k}" for k in range(3)]
    by_name = {layer["name"]: layer for layer in layers}
    assert by_name["b"]["bottoms"] == ["norm1_norm1_0_split_1"]
    _, _, info = read_caffemodel(pw.snapshot(specs, blobs, "V1", crop=13))
    assert info["folded_splits"] == 3


def test_deploy_net_with_declared_input():
    specs, blobs, _ = small_model()
    specs2, blobs2, info = read_caffemodel(pw.deploy(specs, blobs, input_size=(13, 13)))
    _assert_same(specs, blobs, specs2, blobs2)
    assert info["input_size"] == (13, 13) and info["dropped"] == [] and info["added"] == []


def test_legacy_inner_product_dims_are_one_one_n_k():
    specs, blobs, _ = small_model()
    message = pw.blob(blobs["fc"][0], legacy=True)
    from weights_tools.schema import BLOB
    from weights_tools.wire import decode
    got = decode(message, BLOB)
    assert [got["num"], got["channels"], got["height"], got["width"]] == [1, 1, 5, blobs["fc"][0].shape[1]]


def test_proto2_defaults_apply_when_fields_are_absent():
    conv = {"name": "c", "type": "Convolution", "bottoms": ["n"], "tops": ["c"],
            "params": {"num_output": 2, "kernel_size": [3, 3]}}
    w = [np.ones((2, 3, 3, 3), np.float32), np.zeros(2, np.float32)]
    # LRN with an empty lrn_param; conv with only num_output/kernel_size written.
    data = pw.f_string(3, "data") + pw.f_bytes(100, pw.f_string(1, "n") + pw.f_string(2, "LRN") +
                                               pw.f_string(3, "data") + pw.f_string(4, "n"))
    data += pw.f_bytes(100, pw.layer_message(conv, w, False))
    specs, _, _ = read_caffemodel(data)
    assert specs[0]["params"] == {"local_size": 5, "alpha": 1.0, "beta": 0.75, "k": 1.0,
                                  "norm_region": "ACROSS_CHANNELS"}
    assert specs[1]["params"] == {"num_output": 2, "kernel_size": [3, 3], "stride": [1, 1], "pad": [0, 0],
                                  "group": 1, "bias_term": True, "dilation": [1, 1]}


def test_float_params_are_read_as_float32_shortest_decimal():
    lrn = {"name": "n", "type": "LRN", "bottoms": ["data"], "tops": ["n"],
           "params": {"local_size": 5, "alpha": 1e-4, "beta": 0.75}}
    specs, _, _ = read_caffemodel(pw.f_string(3, "data") + pw.f_bytes(100, pw.layer_message(lrn, [], False)))
    assert specs[0]["params"]["alpha"] == 1e-4


def test_transposed_inner_product_weights_are_transposed_back():
    w = np.arange(12, dtype=np.float32).reshape(3, 4)  # stored (K=3, N=4)
    fc = {"name": "fc", "type": "InnerProduct", "bottoms": ["data"], "tops": ["fc"],
          "params": {"num_output": 4, "bias_term": False}}
    message = pw.layer_message(fc, [w], False) + pw.f_bytes(117, pw.f_varint(1, 4) + pw.f_varint(2, 0)
                                                            + pw.f_varint(6, 1))
    _, blobs, _ = read_caffemodel(pw.f_string(3, "data") + pw.f_bytes(100, message))
    np.testing.assert_array_equal(blobs["fc"][0], w.T)


def _with_layer(extra_layer, where=-1, v1=False):
    specs, blobs, _ = small_model()
    specs = specs[:-1]  # no final Softmax: the extra layer comes last
    specs.insert(len(specs) if where == -1 else where, extra_layer)
    return pw.snapshot(specs, blobs, "V1" if v1 else "current", crop=13)


def test_unsupported_layer_error_names_layer_type_and_supported_types():
    sig = {"name": "squash", "type": "Threshold", "bottoms": ["out"], "tops": ["squash"], "params": {}}
    for v1 in (False, True):
        with pytest.raises(CaffeModelError) as err:
            read_caffemodel(_with_layer(sig, v1=v1))
        text = str(err.value)
        assert "'squash'" in text and "'Threshold'" in text and "Convolution" in text and "--skip-unsupported" in text


def test_skip_unsupported_drops_trailing_layers_with_a_warning():
    sig = {"name": "squash", "type": "Threshold", "bottoms": ["out"], "tops": ["squash"], "params": {}}
    with pytest.warns(UserWarning, match="squash"):
        specs, _, info = read_caffemodel(_with_layer(sig), skip_unsupported=True)
    assert info["skipped"] == ["squash"] and "squash" not in [s["name"] for s in specs]


def test_skip_unsupported_refuses_a_layer_the_net_still_needs():
    exp = {"name": "t", "type": "Exp", "bottoms": ["conv1"], "tops": ["conv1"], "params": {}}
    for skip in (True, False):  # the net needs it: refused, and --skip-unsupported is not suggested
        with pytest.raises(CaffeModelError, match="'t' has type 'Exp'.*the layers after it read its output") as err:
            read_caffemodel(_with_layer(exp, where=2), skip_unsupported=skip)
        assert "--skip-unsupported" not in str(err.value) and "\n" not in str(err.value)


def _one_layer(kind, param_field, payload):
    layer = (pw.f_string(1, "x") + pw.f_string(2, kind) + pw.f_string(3, "data") + pw.f_string(4, "x")
             + pw.f_bytes(param_field, payload))
    return pw.f_string(3, "data") + pw.f_bytes(100, layer)


@pytest.mark.parametrize("kind, field, payload, message", [
    ("Pooling", 121, pw.f_varint(1, 2) + pw.f_varint(2, 3), "STOCHASTIC"),
    ("LRN", 118, pw.f_varint(1, 4), "odd"),
    ("Convolution", 106, pw.f_varint(1, 2) + pw.f_varint(4, 3) + pw.f_varint(18, 0), "invalid dilation"),
    ("Convolution", 106, pw.f_varint(1, 2), "no kernel"),
    ("Convolution", 106, pw.f_varint(1, 3) + pw.f_varint(4, 3) + pw.f_varint(5, 2), "group"),
    ("Convolution", 106, pw.f_varint(1, 2) + pw.f_varint(4, 3) + pw.f_varint(4, 3) + pw.f_varint(4, 3), "3-D"),
    ("Pooling", 121, pw.f_varint(2, 3) + pw.f_varint(7, 2), "stride_h and stride_w"),
    ("Pooling", 121, pw.f_varint(5, 3) + pw.f_varint(6, 0), "invalid kernel"),
    ("Convolution", 106, pw.f_varint(1, 2) + pw.f_varint(4, 3) + pw.f_varint(6, 0), "invalid stride"),
    ("InnerProduct", 117, pw.f_varint(1, 5) + pw.f_varint(5, 2), "axis 2"),
    ("Dropout", 108, pw.f_float(1, 1.5), "dropout_ratio"),
])
def test_unsupported_or_invalid_parameters_are_named(kind, field, payload, message):
    with pytest.raises(CaffeModelError, match=message) as err:
        read_caffemodel(_one_layer(kind, field, payload))
    assert "'x'" in str(err.value)


def test_pad_h_alone_means_pad_w_zero():
    specs, _, _ = read_caffemodel(_one_layer("Pooling", 121, pw.f_varint(2, 3) + pw.f_varint(9, 1)))
    assert specs[0]["params"]["pad"] == [1, 0] and specs[0]["params"]["kernel_size"] == [3, 3]


def test_global_pooling_and_concat_dim():
    data = _one_layer("Pooling", 121, pw.f_varint(1, 1) + pw.f_varint(12, 1))
    specs, _, _ = read_caffemodel(data)
    assert specs[0]["params"] == {"pool": "AVE", "kernel_size": [0, 0], "stride": [1, 1], "pad": [0, 0],
                                  "global_pooling": True}
    concat = pw.f_bytes(2, pw.f_string(2, "data") + pw.f_string(3, "c") + pw.f_string(4, "c") + pw.f_varint(5, 3)
                        + pw.f_bytes(9, pw.f_varint(1, 2)))
    specs, _, _ = read_caffemodel(pw.f_string(3, "data") + concat)
    assert specs[0]["type"] == "Concat" and specs[0]["params"] == {"axis": 2}


def test_weight_count_mismatch_names_the_layer():
    specs, blobs, _ = small_model()
    blobs = dict(blobs, fc=[blobs["fc"][0][:, :-1], blobs["fc"][1]])
    data = pw.snapshot(specs, blobs, "V1", crop=13)
    with pytest.raises(CaffeModelError, match="'fc' has weight blobs .*the graph needs"):
        read_caffemodel(data)


def test_missing_weights_name_the_layer():
    specs, blobs, _ = small_model()
    blobs = {k: v for k, v in blobs.items() if k != "a"}
    with pytest.raises(CaffeModelError, match=r"'a' needs weights \[\(2, 4, 1, 1\), \(2,\)\], and the file has none"):
        read_caffemodel(pw.snapshot(specs, blobs, "current", crop=13))


def test_not_a_caffemodel():
    with pytest.raises(CaffeModelError, match="no layers"):
        read_caffemodel(pw.f_string(1, "just a name"))
    with pytest.raises(CaffeModelError, match="empty"):
        read_caffemodel(b"")


def test_v0_layers_get_an_upgrade_hint():
    with pytest.raises(CaffeModelError, match="upgrade_net_proto_binary"):
        read_caffemodel(pw.f_bytes(2, pw.f_bytes(1, pw.f_string(1, "conv1"))))


def test_bottom_nobody_writes_is_reported():
    relu = {"name": "r", "type": "ReLU", "bottoms": ["ghost"], "tops": ["r"], "params": {}}
    with pytest.raises(CaffeModelError, match="'ghost'"):
        read_caffemodel(pw.f_string(3, "data") + pw.f_bytes(100, pw.layer_message(relu, [], False)))


def test_input_layer_declares_the_input():
    specs, blobs, _ = small_model()
    shape = pw.f_bytes(1, pw.f_packed_varints(1, [1, 3, 13, 13]))
    data = pw.f_bytes(100, pw.f_string(1, "input") + pw.f_string(2, "Input") + pw.f_string(4, "data")
                      + pw.f_bytes(143, shape))
    data += b"".join(pw.f_bytes(100, pw.layer_message(s, blobs.get(s["name"], []), False)) for s in specs)
    specs2, blobs2, info = read_caffemodel(data)
    _assert_same(specs, blobs, specs2, blobs2)
    assert info["input_size"] == (13, 13) and info["dropped"] == ["input"]
