"""Each Caffe rule once, in minidream/engine/layer_types: code outside it asks a layer's LayerType (role, window,
classifier_part, initial_values, affine terms) instead of testing type strings, and Caffe's setup checks
(Softmax's axis, groups) refuse a bad file at conversion, not later inside NumPy."""
import math
import pathlib
import re

import numpy as np
import pytest

from minidream.dreaming.jitter import receptive_radius
from minidream.engine.net import Net
from minidream.engine.ops import conv as conv_op
from minidream.engine.ops import deconvolution
from minidream.errors import CaffeModelError
from minidream.engine.layer_types import TYPES, Context, SpecError, layer_type
from minidream.engine.layer_types.base import ROLES
from minidream.training.finetuning import head_start
from minidream.training.loop import init_weights
from tests.weights_tools.conftest import small_specs
from weights_tools import writer as pw
from weights_tools.convert import convert

ROOT = pathlib.Path(__file__).resolve().parents[1]


def test_no_code_outside_the_caffe_side_tests_a_layer_type_string():
    """The engine, the dream and training read LayerType facts; only engine/layer_types (the table) and weights_tools
    (the reader of Caffe's files) may name Caffe's type strings in a comparison."""
    compare = re.compile(r"""\[["']type["']\]\s*(==|!=|in\b|not in\b)|(==|!=)\s*\w*\[["']type["']\]""")
    offenders = [f"{path.relative_to(ROOT)}:{n}" for path in (ROOT / "minidream").rglob("*.py")
                 if "engine/layer_types" not in path.as_posix()
                 for n, line in enumerate(path.read_text().splitlines(), 1) if compare.search(line)]
    assert offenders == []


def test_every_type_has_a_known_role_and_the_roles_the_rest_reads():
    assert {t.role for t in TYPES.values()} <= set(ROLES)
    assert layer_type("InnerProduct").role == "fully_connected"
    assert layer_type("Convolution").role == "convolution"
    caffe_head = [name for name, t in TYPES.items() if t.classifier_part and not name.startswith("onnx.")]
    assert caffe_head == ["InnerProduct", "ReLU", "Dropout", "Softmax", "Flatten"]
    # ONNX's pointwise activations may sit in a head too (MobileNet v3: Linear, Hardswish, Linear)
    assert layer_type("onnx.HardSwish").classifier_part and not layer_type("onnx.MatMul").classifier_part


def test_windows_give_the_receptive_radius_by_hand():
    """conv 3x3 s1 (radius 2), pool 2x2 s2 (radius 3, stride 2), conv 3x3 (radius 3 + 2*2 = 7), fc: everything."""
    def lay(name, kind, bottom, **params):
        return {"name": name, "type": kind, "bottoms": [bottom], "tops": [name], "params": params}
    net = Net([lay("c1", "Convolution", "data", num_output=2, kernel_size=[3, 3]),
               lay("p1", "Pooling", "c1", pool="MAX", kernel_size=[2, 2], stride=[2, 2]),
               lay("c2", "Convolution", "p1", num_output=2, kernel_size=[3, 3], pad=[1, 1]),
               lay("r2", "ReLU", "c2"),
               lay("g", "Pooling", "r2", pool="AVE", global_pooling=True),
               lay("fc", "InnerProduct", "r2", num_output=3)],
              meta={"input_size": (16, 16)})
    assert [receptive_radius(net, [name]) for name in ("c1", "p1", "c2", "r2")] == [2, 3, 7, 7]
    assert receptive_radius(net, ["g"]) == receptive_radius(net, ["fc"]) == math.inf


def test_training_starts_normalization_layers_at_caffes_filler_constants():
    net = init_weights(_bn_net(), seed=0)
    mean, var, factor = net.params["bn"]
    gamma, beta = net.params["scale"]
    assert not mean.any() and not var.any() and not factor.any()
    assert (gamma == 1).all() and not beta.any()
    assert np.abs(net.params["conv"][0]).max() > 0  # the convolution is still drawn at random


def _bn_net():
    def lay(name, kind, bottom, top=None, **params):
        return {"name": name, "type": kind, "bottoms": [bottom], "tops": [top or name], "params": params}
    return Net([lay("conv", "Convolution", "data", num_output=4, kernel_size=[3, 3]),
                lay("bn", "BatchNorm", "conv", "conv"),
                lay("scale", "Scale", "conv", "conv", bias_term=True),
                lay("fc", "InnerProduct", "conv", num_output=2)], meta={"input_size": (8, 8)})


def test_the_finetuned_head_is_the_trailing_classifier_parts():
    specs = small_specs()
    assert specs[head_start(specs)]["name"] == "fc"  # fc, relu_fc, drop, out, prob; the pooling before is the body


def test_a_softmax_axis_outside_the_blob_is_refused_at_conversion(tmp_path):
    """Caffe refuses it at setup; before, convert accepted it and classify failed with NumPy's axis error."""
    specs = [dict(s, params=dict(s["params"], axis=5)) if s["type"] == "Softmax" else s for s in small_specs()]
    blobs = {s["name"]: [] for s in specs}
    for name, arrays in Net(small_specs(), meta={"input_size": (13, 13)}).params.items():
        blobs[name] = [np.ones(a.shape, np.float32) for a in arrays]
    src = tmp_path / "bad_axis.caffemodel"
    src.write_bytes(pw.deploy(specs, blobs, input_size=(13, 13)))
    with pytest.raises(CaffeModelError, match=r"prob.*axis 5"):
        convert(src, tmp_path / "bad_axis.h5")
    assert not (tmp_path / "bad_axis.h5").exists()


def test_group_rules_are_one_check_with_one_message():
    """Files (the layer types) and arrays (the ops) are checked by the one rule, ops.im2col.check_groups."""
    conv = layer_type("Convolution")
    with pytest.raises(SpecError, match=r"layer 'c': its 6 outputs \(num_output\) do not divide into 4 groups"):
        conv.normalize({"num_output": 6, "kernel_size": [3], "group": 4}, "c")
    params = conv.normalize({"num_output": 4, "kernel_size": [3], "group": 2}, "c")
    message = "its 3 input channels do not divide into 2 groups"
    for kind in (conv, layer_type("Deconvolution")):
        with pytest.raises(ValueError, match=message):
            kind.param_shapes(params, [(1, 3, 8, 8)])
    x = np.zeros((1, 3, 8, 8), np.float32)
    with pytest.raises(ValueError, match=message):
        conv_op.forward(x, np.zeros((4, 1, 3, 3), np.float32), None, groups=2)
    with pytest.raises(ValueError, match=message):
        deconvolution.forward(x, np.zeros((3, 2, 3, 3), np.float32), None, groups=2)


def test_a_dilated_convolution_is_caffes_dilation():
    """Caffe's ConvolutionParameter.dilation: the kernel's taps spread by d, its extent (k - 1) * d + 1."""
    kind = layer_type("Convolution")
    p = kind.normalize({"num_output": 2, "kernel_size": [3], "dilation": [2], "pad": [1]}, "c")
    assert p["dilation"] == [2, 2] and kind.output_shapes(p, [(1, 3, 9, 9)]) == [(1, 2, 7, 7)]
    x = np.random.default_rng(0).standard_normal((1, 3, 9, 9))
    w = np.random.default_rng(1).standard_normal((2, 3, 3, 3))
    (y,), _ = kind.forward(dict(p, bias_term=False), [w], [x], Context())
    assert np.allclose(y, conv_op.forward_naive(x, w, None, (1, 1), (1, 1), 1, (2, 2))[0])
    with pytest.raises(SpecError, match="dilated Deconvolution"):
        layer_type("Deconvolution").normalize({"num_output": 2, "kernel_size": [3], "dilation": [2]}, "d")
