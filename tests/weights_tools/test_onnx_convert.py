"""load_onnx on whole graphs: the four real exports against onnxruntime's saved tensors and PyTorch's float64 input
gradient; shape arithmetic recomputed at another input size; and the refusals, one line each, naming the node and
what to do. (test_onnx_ops_graphs.py checks each operator on a graph of its own.)"""
import json
from pathlib import Path

import numpy as np
import pytest

from minidream.engine.net import Net
from minidream.errors import OnnxModelError
from tests.gradcheck import rel_l2
from tests.weights_tools.onnx_graphs import (FORWARD_TOLERANCE, check_graph, convert, image, max_rel, model_bytes,
                                             onnxruntime_output, types, weight)
from weights_tools.onnx.convert import load_onnx
from weights_tools.onnx.writer import make_model
from weights_tools.onnx.writer import make_node as node

REAL = Path(__file__).resolve().parents[2] / ".." / "shared" / "real_onnx"
needs_files = pytest.mark.skipif(not REAL.is_dir(), reason=f"{REAL} (real ONNX exports) is absent")
DX_TOLERANCE = 1e-3  # relative L2: float32 ReLU / max-pool decisions near a tie flip a few values (README there)


def real_names():
    return sorted(json.loads((REAL / "index.json").read_text())) if REAL.is_dir() else []


@needs_files
@pytest.mark.parametrize("name", real_names())
def test_real_export_matches_onnxruntime_and_pytorch(name):
    ref = np.load(REAL / f"{name}.ref.npz")
    net = Net(*load_onnx(REAL / f"{name}.onnx", quiet=True))
    want = {key[4:]: ref[key] for key in ref.files if key.startswith("out/")}
    compared = [n for n in want if n in net.layer_names]  # the others were folded into constants
    assert len(compared) >= len(want) - 1 and str(ref["end"]) in compared
    got = net.forward(ref["x"], end=compared)
    errors = {n: max_rel(got[n], want[n]) for n in compared}
    assert max(errors.values()) <= FORWARD_TOLERANCE, errors
    net.forward(ref["x"], end=str(ref["end"]))
    assert rel_l2(net.backward(ref["g"]), ref["dx"]) <= DX_TOLERANCE


@needs_files
def test_squeezenet_in_float64_matches_pytorch_to_the_stored_precision():
    """The float32 gap (9e-4) is near-ties alone: in float64 the same net matches PyTorch's float64 dx as closely
    as its float32 storage in the npz allows (~6e-8)."""
    ref = np.load(REAL / "squeezenet1_1.ref.npz")
    net = Net(*load_onnx(REAL / "squeezenet1_1.onnx", quiet=True), dtype=np.float64)
    net.forward(ref["x"].astype(np.float64), end=str(ref["end"]))
    assert rel_l2(net.backward(ref["g"].astype(np.float64)), ref["dx"]) <= 2e-7


def reshape_by_batch_chain():
    """y = Reshape(Tanh(x), [N, -1]) with N read from the input's shape, as exporters write a flatten."""
    return [node("Tanh", ["x"], ["t"]), node("Shape", ["x"], ["shape"]),
            node("Gather", ["shape", "zero"], ["n"], axis=0), node("Unsqueeze", ["n", "axes"], ["n1"]),
            node("Concat", ["n1", "minus_one"], ["target"], axis=0), node("Reshape", ["t", "target"], ["y"])]


SHAPE_CONSTANTS = {"zero": np.array(0), "axes": np.array([0]), "minus_one": np.array([-1])}


def test_shape_arithmetic_is_recomputed_at_another_input_size(tmp_path):
    specs = check_graph(tmp_path, reshape_by_batch_chain(), SHAPE_CONSTANTS, shape=(1, 3, 4, 5))
    assert types(specs) == ["TanH", "onnx.Shape", "onnx.Gather", "onnx.Unsqueeze", "onnx.Concat", "onnx.Reshape"]
    nodes = reshape_by_batch_chain()
    specs, blobs, meta = convert(tmp_path, model_bytes(nodes, (1, 3, 32, 32), SHAPE_CONSTANTS))
    assert "fixed_input_size" not in meta["extra"]
    x = image((2, 3, 40, 48))
    want = onnxruntime_output(model_bytes(nodes, ("n", 3, "h", "w"), SHAPE_CONSTANTS), x)
    got = Net(specs, blobs, meta).forward(x, end="y")
    assert got.shape == want.shape == (2, 3 * 40 * 48) and max_rel(got, want) <= FORWARD_TOLERANCE


def refusal(tmp_path, nodes, initializers=None, inputs=(("x", (1, 3, 6, 6)),), opset=17):
    """The one-line message of the OnnxModelError that converting the graph raises."""
    data = make_model(nodes, inputs=list(inputs), outputs=[("y", None)], initializers=initializers, opset=opset)
    with pytest.raises(OnnxModelError) as caught:
        convert(tmp_path, data)
    message = str(caught.value)
    assert "\n" not in message and message.startswith(str(tmp_path / "model.onnx"))
    return message


@pytest.mark.parametrize("nodes, initializers, expected", [
    pytest.param([node("LpNormalization", ["x"], ["y"], name="lp")], {},
                 "node 'lp': operator LpNormalization (opset 17) is not supported by minidream; re-export the model "
                 "without it", id="unsupported-operator"),
    pytest.param([node("ConvTranspose", ["x", "w"], ["y"], name="up", output_padding=[1, 1], strides=[2, 2])],
                 {"w": weight(3, 2, 2, 2)}, "node 'up' (ConvTranspose): only symmetric pads without output_padding, "
                 "output_shape or dilation are supported (Caffe's Deconvolution); re-export with padding=k//2-style "
                 "symmetric pads", id="conv-transpose-output-padding"),
    pytest.param([node("MaxPool", ["x"], ["p", "i"], name="pool", kernel_shape=[2, 2]),
                  node("Cast", ["i"], ["y"], to=1)], {},
                 "node 'pool': MaxPool's Indices output is not supported by minidream; export the model without "
                 "return_indices", id="max-pool-indices"),
    pytest.param([node("Conv", ["x", "w"], ["y"], name="c", auto_pad="SAME_UPPER", strides=[2, 2])],
                 {"w": weight(2, 3, 3, 3)}, "node 'c' (Conv): auto_pad SAME_UPPER with strides [2, 2] pads by the "
                 "input's size; re-export it with explicit pads", id="same-pad-stride-2"),
    pytest.param([node("BatchNormalization", ["x", "s", "b", "m", "v"], ["y"], name="bn", training_mode=1)],
                 {k: np.ones(3, np.float32) for k in "sbmv"}, "node 'bn' (BatchNormalization): training_mode=1: "
                 "export the model in eval mode", id="batch-norm-training"),
    pytest.param([node("ReduceMax", ["x"], ["m"], axes=[1, 2, 3], keepdims=0), node("Cast", ["m"], ["i"], to=7),
                  node("Concat", ["i", "rest"], ["shape"], axis=0), node("Reshape", ["x", "shape"], ["y"], name="r")],
                 {"rest": np.array([-1])}, "node 'r' (Reshape): Reshape's target shape is computed from the image's "
                 "values", id="reshape-by-image-values"),
    pytest.param([node("PRelu", ["x", "slope"], ["y"], name="act")], {"slope": np.ones(3, np.float32)},
                 "node 'act' (PRelu): its slope of shape (3,) varies along other axes of its input (1, 3, 6, 6) than "
                 "the channels", id="prelu-slope-per-column"),
    pytest.param([node("Relu", ["c"], ["r"], name="rc"), node("Add", ["x", "r"], ["y"])],
                 {"c": np.ones((3, 1, 1), np.float32)}, "node 'rc' (Relu) computes on constants alone; re-export the "
                 "model with constant folding", id="caffe-form-on-constants"),
])
def test_refusals_name_the_node_and_the_fix(tmp_path, nodes, initializers, expected):
    assert expected in refusal(tmp_path, nodes, initializers)


@pytest.mark.parametrize("inputs, expected", [
    ((("x", (1, 3, 6, 6)), ("mask", (1, 1, 6, 6))), "the graph takes 2 inputs (x, mask); minidream dreams with "
                                                    "models of one image input"),
    ((("x", (1, 3, 36)),), "its input 'x' has shape (1, 3, 36); minidream needs an image batch (N, C, H, W)"),
    ((("x", (1, 3, 6, 6), np.int64),), "its input 'x' is int64, not a float tensor"),
])
def test_inputs_that_are_not_one_image_are_refused(tmp_path, inputs, expected):
    assert expected in refusal(tmp_path, [node("Relu", ["x"], ["y"])], inputs=inputs)
