"""The text-format reader: the same dicts as the binary reader, every syntax form, hostile input."""
import time
from pathlib import Path

import numpy as np
import pytest

from weights_tools import writer as pw
from weights_tools import CaffeModelError
from weights_tools.caffemodel import parse_layers, read_bytes
from weights_tools.prototxt import MAX_DEPTH, parse_prototxt
from weights_tools.schema import PARAM_FIELD

REAL = Path(__file__).resolve().parents[2] / ".." / "shared" / "real_caffemodels"
# prototxt -> the .caffemodel whose stored net it describes (README.md of that folder).
PAIRS = {
    "alphabet62_deploy.prototxt": "alphabet62_iter_50000",
    "cifar10_full.prototxt": "cifar10_full_iter_70000_2014",
    "cifar10_full_iter_70000_2014_deploy.prototxt": "cifar10_full_iter_70000_2014",
    "cifar10_quick.prototxt": "cifar10_quick_iter_5000_2014",
    "lenet.prototxt": "lenet_iter_10000_2014",
    "lenet_deploy_2017.prototxt": "lenet_iter_10000_2017",
    "lenet_iter_10000_2014_deploy.prototxt": "lenet_iter_10000_2014",
    "lenet_iter_10000_2017_deploy.prototxt": "lenet_iter_10000_2017",
    "mobilenet_cifar10_iter_100000_deploy.prototxt": "mobilenet_cifar10_iter_100000",
    "mtcnn_det1_jfda_deploy.prototxt": "mtcnn_det1_jfda",
    "mtcnn_det4_jfda_deploy.prototxt": "mtcnn_det4_jfda",
    "resnet20_cifar10_iter_53500_deploy.prototxt": "resnet20_cifar10_iter_53500",
    "squeezenet_v1.1_caffe_random.written_from.prototxt": "squeezenet_v1.1_caffe_random",
    "squeezenet_v1.1_deploy.prototxt": "squeezenet_v1.1_caffe_random",
}
TRAIN_ONLY = {"Data", "ImageData", "HDF5Data", "MemoryData", "DummyData", "Python", "Input", "SoftmaxWithLoss",
              "Accuracy", "EuclideanLoss", "Split"}
needs_real = pytest.mark.skipif(not REAL.is_dir(), reason="../shared/real_caffemodels is absent")


def plain(value):
    """Arrays as lists, so nested dicts compare with ==; also checks float arrays are float32/64."""
    if isinstance(value, np.ndarray):
        assert value.dtype in (np.float32, np.float64)
        return [value.dtype.name] + value.tolist()
    if isinstance(value, dict):
        return {k: plain(v) for k, v in value.items()}
    if isinstance(value, list):
        return [plain(v) for v in value]
    return value


def unsplit(layers):
    """Binary layers with Caffe's Split copies folded back into their source blob names."""
    alias, kept = {}, []
    for layer in layers:
        if layer["type"] == "Split":
            alias.update((top, alias.get(layer["bottom"][0], layer["bottom"][0])) for top in layer["top"])
        elif "bottom" in layer:
            kept.append(dict(layer, bottom=[alias.get(b, b) for b in layer["bottom"]]))
        else:
            kept.append(layer)
    return kept


def test_every_real_prototxt_is_paired():
    if REAL.is_dir():
        assert sorted(p.name for p in REAL.glob("*.prototxt")) == sorted(PAIRS)


@needs_real
@pytest.mark.parametrize("name", sorted(PAIRS))
def test_real_prototxt_matches_the_caffemodels_stored_net(name):
    _, text_layers, _ = parse_prototxt(REAL / name)
    _, binary_layers, _ = parse_layers(read_bytes(REAL / f"{PAIRS[name]}.caffemodel"))
    binary = {layer["name"]: layer for layer in unsplit(binary_layers)}
    text_blobs = {b for layer in text_layers for b in layer.get("top", [])}
    compared = 0
    for layer in text_layers:
        other = binary.get(layer["name"])
        if layer["type"] in TRAIN_ONLY or other is None or other["type"] in TRAIN_ONLY:
            # Only the declared input and the deploy net's final Softmax (which may keep the
            # name of the loss it replaces) are the deploy net's own.
            assert layer["type"] in ("Input", "Softmax") or layer["type"] == other["type"], layer["name"]
            continue
        assert layer["type"] == other["type"]
        assert layer.get("top") == other.get("top") and layer.get("bottom") == other.get("bottom")
        field = PARAM_FIELD.get(layer["type"])
        mine, theirs = plain(layer.get(field, {})), plain(other.get(field, {}))
        if layer["type"] == "BatchNorm":  # the deploy nets switch BN to its stored statistics
            assert mine.pop("use_global_stats") is True
            theirs.pop("use_global_stats", None)
        assert mine == theirs, layer["name"]
        compared += 1
    for other in binary.values():  # what the deploy net left out: data, losses, label plumbing
        if other["name"] not in {layer["name"] for layer in text_layers}:
            assert other["type"] in TRAIN_ONLY or not set(other["bottom"]) <= text_blobs, other["name"]
    assert compared >= 5


@needs_real
def test_the_prototxt_caffe_wrote_from_is_the_stored_net():
    """Caffe stores the net it built; only phase, loss_weight and Split renames are its additions."""
    _, text_layers, _ = parse_prototxt(REAL / "squeezenet_v1.1_caffe_random.written_from.prototxt")
    _, binary_layers, _ = parse_layers(read_bytes(REAL / "squeezenet_v1.1_caffe_random.caffemodel"))
    binary = {layer["name"]: layer for layer in unsplit(binary_layers)}
    for layer in text_layers:
        other = {k: v for k, v in binary[layer["name"]].items() if k not in ("blobs", "phase", "loss_weight")}
        assert plain(layer) == plain(other)


def _binary(text_layer_payload_pairs, v1=False):
    """parse_layers of a NetParameter holding the given layer payloads."""
    return parse_layers(b"".join(pw.f_bytes(2 if v1 else 100, p) for p in text_layer_payload_pairs))


def test_text_and_binary_give_identical_dicts():
    conv = {"name": "c", "type": "Convolution", "bottoms": ["data"], "tops": ["c"],
            "params": {"num_output": 4, "kernel_size": [3, 1], "pad": [1, 0], "stride": [2, 2], "group": 2,
                       "bias_term": False}}
    lrn = {"name": "n", "type": "LRN", "bottoms": ["c"], "tops": ["n"],
           "params": {"local_size": 3, "alpha": 1e-4, "beta": 0.75, "k": 2.0}}
    eltwise = pw.f_string(1, "e") + pw.f_string(2, "Eltwise") + pw.f_string(3, "n") + pw.f_string(3, "c") + \
        pw.f_string(4, "e") + pw.f_bytes(110, pw.f_varint(1, 2) + pw.f_float(2, 0.5) + pw.f_float(2, -1.25))
    bn = pw.f_string(1, "bn") + pw.f_string(2, "BatchNorm") + pw.f_bytes(8, pw.f_varint(1, 1)) + \
        pw.f_bytes(139, pw.f_varint(1, 1) + pw.f_float(3, 1e-3))
    reshape = pw.f_string(1, "r") + pw.f_string(2, "Reshape") + \
        pw.f_bytes(133, pw.f_bytes(1, pw.f_packed_varints(1, [0, -1, 2])) + pw.f_varint(2, 1))
    _, binary, _ = _binary([pw.layer_message(conv, [], False), pw.layer_message(lrn, [], False), eltwise, bn,
                            reshape])
    _, text, generation = parse_prototxt("""
        layer { name: "c" type: "Convolution" bottom: "data" top: "c"
                convolution_param { num_output: 4 pad_h: 1 pad_w: 0 kernel_h: 3 kernel_w: 1 stride: 2 group: 2
                                    bias_term: false weight_filler { type: "xavier" } } }
        layer { name: "n" type: "LRN" bottom: "c" top: "n"
                lrn_param { local_size: 3 alpha: 0.0001 beta: 0.75 k: 2 } }
        layer { name: 'e' type: "Elt" "wise" bottom: "n" bottom: "c" top: "e"
                eltwise_param { operation: MAX coeff: [0.5, -1.25] } }
        layer { name: "bn" type: "BatchNorm" include { phase: TEST }
                batch_norm_param { use_global_stats: true eps: 1e-3 } }
        layer { name: "r" type: "Reshape" reshape_param { shape { dim: 0 dim: -1 dim: 2 } axis: 1 } }
    """)
    assert generation == "current"
    assert plain(text) == plain(binary)
    assert text[2]["eltwise_param"]["coeff"].dtype == np.float32
    assert text[1]["lrn_param"]["alpha"] == np.float32(1e-4)  # a float32, as struct.unpack("<f") gives


def test_v1_text_gives_the_binary_v1_dicts():
    pool = {"name": "p", "type": "Pooling", "bottoms": ["data"], "tops": ["p"],
            "params": {"pool": "AVE", "kernel_size": [3, 3], "stride": [2, 2]}}
    _, binary, generation = _binary([pw.layer_message(pool, [], True)], v1=True)
    _, text, text_generation = parse_prototxt("""
        name: "old"  input: "data"  input_dim: 1 input_dim: 3 input_dim: 8 input_dim: 8
        layers { bottom: "data" top: "p" name: "p" type: POOLING
                 pooling_param { pool: AVE kernel_size: 3 stride: 2 } }
    """)
    assert generation == text_generation == "V1"
    assert plain(text) == plain(binary) and text[0]["type"] == "Pooling"


def test_enum_identifiers_inside_layer_params():
    _, layers, _ = parse_prototxt("""
        layer { name: "dw" type: "Convolution" convolution_param { num_output: 8 group: 8 engine: CAFFE } }
        layer { name: "n" type: "LRN" lrn_param { norm_region: WITHIN_CHANNEL } param { share_mode: PERMISSIVE } }
        layer { name: "d" type: "Data" data_param { backend: LMDB } exclude { phase: TRAIN } }
    """)
    assert layers[0]["convolution_param"]["engine"] == 1
    assert layers[1]["lrn_param"]["norm_region"] == 1 and layers[1]["param"] == [{"share_mode": 1}]
    assert layers[2]["data_param"]["backend"] == 1 and layers[2]["exclude"] == [{"phase": 0}]


def test_v0_layers_get_an_upgrade_hint():
    with pytest.raises(CaffeModelError, match="V0 format.*upgrade_net_proto_text"):
        parse_prototxt("layers { layer { name: 'conv1' type: 'conv' num_output: 96 } }")


@pytest.mark.parametrize("snippet, field, expected", [
    ("input_dim: [1, 3, 224, 224]", "input_dim", [1, 3, 224, 224]),  # list syntax
    ("input_dim: 1; input_dim: 3,", "input_dim", [1, 3]),  # separators
    ("input_dim: 0x10 input_dim: 017 input_dim: -5", "input_dim", [16, 15, -5]),  # hex, octal, negative
    ("input_shape: { dim: 2 } input_shape < dim: [3] >", "input_shape", [{"dim": [2]}, {"dim": [3]}]),
    ("input_shape: [{dim: 1}, {dim: 2}]", "input_shape", [{"dim": [1]}, {"dim": [2]}]),
    ("name: 'a\\'b\\n\\x41\\101\\\\'", "name", "a'b\nAA\\"),  # escapes
    ('name: "caf\\303\\251" " ok"', "name", "caf\u00e9 ok"),  # octal UTF-8 bytes, concatenation
    ('name: "é"', "name", "é"),
    ("force_backward: True", "force_backward", True),
    ("force_backward: t", "force_backward", True),
    ("force_backward: 0", "force_backward", False),
    ("state { phase: TRAIN stage: 'x' }", "state", {"phase": 0, "stage": ["x"]}),
    ("# only a comment\nname: \"n\" # trailing comment", "name", "n"),
    ("input: \"data\"\ninput_dim: 10\n\tinput_dim: 3\r\ninput_dim:224 input_dim :224", "input_dim", [10, 3, 224, 224]),
    ("unknown_field: 3 unknown_msg { a: { b: [1, 2] } c: 'x' } unknown_list: [1, 2] name: 'n'", "name", "n"),
])
def test_syntax_forms(snippet, field, expected):
    net, _, _ = parse_prototxt(snippet + "\nlayer { name: 'x' type: 'ReLU' }")
    assert net[field] == expected


@pytest.mark.parametrize("text, value", [
    ("1e-5", 1e-5), ("-2.5E+2", -250.0), (".5", 0.5), ("3.", 3.0), ("7", 7.0), ("1.5f", 1.5),
    ("inf", float("inf")), ("-inf", float("-inf")), ("-Infinity", float("-inf")), ("0x10", 16.0),
])
def test_float_forms(text, value):
    _, layers, _ = parse_prototxt(f"layer {{ name: 'r' type: 'ReLU' relu_param {{ negative_slope: {text} }} }}")
    assert layers[0]["relu_param"]["negative_slope"] == np.float32(value)


def test_nan_is_accepted_for_floats():
    _, layers, _ = parse_prototxt("layer { name: 'r' relu_param { negative_slope: nan } }")
    assert np.isnan(layers[0]["relu_param"]["negative_slope"])


@pytest.mark.parametrize("text, message", [
    ("layer { name: 'x' ", "line 1, column 19: expected a field name or '}'"),
    ("layer { name: 'x' } }", "line 1, column 21: expected a field name, found '}'"),
    ("layer {\n  name: 'x'\n  type: 7 }", "line 3, column 9: expected a quoted string"),
    ("layer { name: 'x\n' }", "line 1, column 15: unexpected character"),
    ("layer { name 'x' }", "expected ':'"),
    ("input_dim: 99999999999999999999999", "outside the 64-bit range"),
    ("input_dim: " + "9" * 100, "expected an integer"),
    ("input_dim: 1.5", "expected an integer"),
    ("input_dim: 12abc", "malformed number"),
    ("layer { relu_param { negative_slope: 1e39 } }", "does not fit a float"),
    ("layer { pooling_param { pool: MEDIAN } }", "'MEDIAN' is not a value of 'pool' (one of MAX, AVE, STOCHASTIC)"),
    ("layer { convolution_param { num_output: TEN } }", "'TEN' is not a value of 'num_output'"),
    ("layer { name: 'a' name: 'b' }", "line 1, column 19: field 'name' is set twice"),
    ("layer { name: ['a'] }", "not repeated"),
    ("layer { name: 'a\\q' }", "unknown escape"),
    ("layer { name: '\\377' }", "UTF-8"),
    ("force_backward: 2", "expected true or false"),
    ("force_backward: yes", "expected true or false"),
    ("layer { 5: 1 }", "expected a field name or '}', found '5'"),
    ("input_dim: [1, 2", "expected ']'"),
    ("unknown { a { b }", "unbalanced"),
    ("unknown { a ] }", "mismatched"),
    ("layer { name: 'x' } \x00", "unexpected character '\\x00'"),
    ("input_dim: [" + ", ".join(["1"] * 65) + "]", "more than 64 integers"),
    ("layer { " * (MAX_DEPTH + 2), "nested more than"),
    ("unknown { " * (MAX_DEPTH + 2), "nested more than"),
    ("name: 'x'", "no layers found"),
    ("layer { name: 'a' } layers { name: 'b' }", "mixes V1"),
])
def test_bad_input_names_line_and_column(text, message):
    with pytest.raises(CaffeModelError, match="prototxt line|no layers|mixes") as err:
        parse_prototxt(text)
    assert message in str(err.value)


def test_binary_file_is_refused_with_position(tmp_path):
    path = tmp_path / "model.caffemodel"
    path.write_bytes(b"name: 'n'\n\x0a\xff\xfe junk")
    with pytest.raises(CaffeModelError, match="line 3, column 1: not UTF-8 text"):
        parse_prototxt(path)
    with pytest.raises(CaffeModelError, match="cannot read"):
        parse_prototxt(str(tmp_path / "missing.prototxt"))


FUZZ_SEED_TEXT = """name: "fuzz"  # a net with every form
input: "data" input_shape { dim: [1, 3, 16, 16] }
layer { name: "conv" type: "Convolution" bottom: "data" top: "conv"
  param { lr_mult: 1 } convolution_param { num_output: 4 kernel_size: 3 pad: 1 weight_filler { type: "xavier" } } }
layer { name: "pool" type: "Pooling" bottom: "conv" top: "pool" pooling_param: { pool: AVE kernel_h: 2 kernel_w: 2 } }
layer { name: "e" type: "Eltwise" bottom: "pool" bottom: "pool" top: "e" eltwise_param { coeff: [1.5, -2e-3] } }
layer { name: "s" type: "Slice" bottom: "e" top: "a" top: "b" slice_param { axis: 1 slice_point: 2 } }
"""


def _seeds():
    real = sorted(REAL.glob("*deploy.prototxt"))[:3] if REAL.is_dir() else []
    return [FUZZ_SEED_TEXT] + [path.read_text() for path in real]


@pytest.mark.parametrize("seed", range(len(_seeds())))
def test_fuzzed_prototxts_only_raise_caffemodelerror(seed):
    """Mutations of a valid net (ours, and real ones when present): each parses or raises
    CaffeModelError, quickly."""
    seed_text = _seeds()[seed]
    parse_prototxt(seed_text)
    rng = np.random.default_rng(2026 + seed)
    alphabet = list("{}[]<>:;,-'\"\\#.0123456789eExXabz_ \n\t") + ["\x00", "\xff", "inf", "layer {", "}" * 3]
    outcomes = {"ok": 0, "error": 0}
    start = time.perf_counter()
    for _ in range(400 if seed == 0 else 100):
        text = list(seed_text)
        for _ in range(int(rng.integers(1, 6))):
            pos = int(rng.integers(0, len(text)))
            action = rng.integers(0, 4)
            if action == 0:
                del text[pos]
            elif action == 1:
                text.insert(pos, alphabet[int(rng.integers(0, len(alphabet)))])
            elif action == 2:
                text[pos] = alphabet[int(rng.integers(0, len(alphabet)))]
            else:
                text = text[:pos]
        try:
            parse_prototxt("".join(text) or "\n")
            outcomes["ok"] += 1
        except CaffeModelError:
            outcomes["error"] += 1
    assert time.perf_counter() - start < 10
    assert outcomes["ok"] > 5 and outcomes["error"] > 40
