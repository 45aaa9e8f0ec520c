"""Synthetic .caffemodel files with the structures of the zoo's real models, written by tests/weights_tools/
weights_tools/writer.py (independently of the reader), converted and compared with the Net they were written from:
VGG in the old V1 format, ResNet bottleneck blocks (bias-free convolutions, BatchNorm + Scale, Eltwise SUM),
MobileNet's depthwise convolutions, Inception-v3's asymmetric 1x7 / 7x1 kernels, and the deploy headers of the
Places models (input: + input_dim, input: + input_shape, an Input layer) read through --prototxt.
"""
import numpy as np
import pytest

from minidream.models.random_weights import he_init
from minidream.engine.net import Net
from minidream.engine.layer_types.specs import conv, fc, layer, pool, relu
from weights_tools import writer as pw
from weights_tools import CaffeModelError
from weights_tools.convert import Options, load_caffemodel


def conv_bn(name, bottom, n, k, stride=1, pad=0, group=1, relu_after=True):
    specs = [layer(name, "Convolution", bottom, num_output=n, kernel_size=[k, k], stride=[stride, stride],
                   pad=[pad, pad], group=group, bias_term=False),
             layer(f"bn_{name}", "BatchNorm", name, name), layer(f"scale_{name}", "Scale", name, name, bias_term=True)]
    return specs + ([relu(f"relu_{name}", name)] if relu_after else [])


def vgg():
    return [conv("conv1_1", "data", 4, 3, pad=1), relu("relu1_1", "conv1_1"),
            conv("conv1_2", "conv1_1", 4, 3, pad=1), relu("relu1_2", "conv1_2"), pool("pool1", "conv1_2", "MAX", 2, 2),
            conv("conv2_1", "pool1", 6, 3, pad=1), relu("relu2_1", "conv2_1"), pool("pool2", "conv2_1", "MAX", 2, 2),
            fc("fc6", "pool2", 8), relu("relu6", "fc6"), layer("drop6", "Dropout", "fc6", "fc6", dropout_ratio=0.5),
            fc("fc8", "fc6", 5), layer("prob", "Softmax", "fc8", axis=1)]


def resnet():
    specs = conv_bn("conv1", "data", 4, 3, pad=1) + [pool("pool1", "conv1", "MAX", 3, 2)]
    specs += conv_bn("res2a_branch1", "pool1", 8, 1, relu_after=False)
    specs += conv_bn("res2a_branch2a", "pool1", 2, 1) + conv_bn("res2a_branch2b", "res2a_branch2a", 2, 3, pad=1)
    specs += conv_bn("res2a_branch2c", "res2a_branch2b", 8, 1, relu_after=False)
    specs += [layer("res2a", "Eltwise", ["res2a_branch1", "res2a_branch2c"], operation="SUM"),
              relu("res2a_relu", "res2a")]
    specs += conv_bn("res2b_branch2a", "res2a", 2, 1) + conv_bn("res2b_branch2b", "res2b_branch2a", 8, 3, pad=1,
                                                                relu_after=False)
    specs += [layer("res2b", "Eltwise", ["res2a", "res2b_branch2b"], operation="SUM", coeff=[1.0, 0.5]),
              relu("res2b_relu", "res2b"),
              layer("pool5", "Pooling", "res2b", pool="AVE", global_pooling=True), fc("fc5", "pool5", 5),
              layer("prob", "Softmax", "fc5", axis=1)]
    return specs


def mobilenet():
    specs = conv_bn("conv1", "data", 4, 3, stride=2, pad=1)
    specs += conv_bn("conv2_1/dw", "conv1", 4, 3, pad=1, group=4) + conv_bn("conv2_1/sep", "conv2_1/dw", 8, 1)
    specs += conv_bn("conv2_2/dw", "conv2_1/sep", 8, 3, stride=2, pad=1, group=8)
    return specs + [layer("pool6", "Pooling", "conv2_2/dw", pool="AVE", global_pooling=True),
                    fc("fc7", "pool6", 5), layer("prob", "Softmax", "fc7", axis=1)]


def inception_v3():
    def asym(name, bottom, n, kh, kw):
        return [layer(name, "Convolution", bottom, num_output=n, kernel_size=[kh, kw], stride=[1, 1],
                      pad=[kh // 2, kw // 2], group=1, bias_term=True), relu(f"{name}_relu", name)]
    specs = [conv("conv", "data", 4, 3, stride=2), relu("conv_relu", "conv")]
    specs += asym("mixed/tower/conv", "conv", 3, 1, 7) + asym("mixed/tower/conv_1", "mixed/tower/conv", 4, 7, 1)
    specs += asym("mixed/conv", "conv", 2, 1, 1)
    return specs + [layer("mixed/join", "Concat", ["mixed/conv", "mixed/tower/conv_1"], axis=1),
                    pool("pool", "mixed/join", "MAX", 3, 2), fc("logits", "pool", 5),
                    layer("prob", "Softmax", "logits", axis=1)]


def reference(specs, size, seed=0):
    net = he_init(Net(specs, meta={"input_size": size}), seed)
    rng = np.random.default_rng(seed)
    for name in net.layer_names:  # statistics that are not the identity: mean and variance SUMS, factor ~1000
        if net.spec(name)["type"] in ("BatchNorm", "Scale"):
            for blob in net.params[name]:
                blob[...] = rng.random(blob.shape) + 0.5
            if net.spec(name)["type"] == "BatchNorm":
                net.params[name][2][...] = 999.982  # the third blob of a trained net: 1/(1 - 0.999) ~ 1000
    return net


def same(net, reference_net, size, channels=3):
    assert [(s["name"], s["type"]) for s in net.specs] == [(s["name"], s["type"]) for s in reference_net.specs]
    x = np.random.default_rng(1).standard_normal((2, channels, *size)).astype(np.float32)
    np.testing.assert_array_equal(net.forward(x), reference_net.forward(x))
    net.forward(x, end=net.layer_names[-2])
    reference_net.forward(x, end=net.layer_names[-2])
    g = np.ones((2, 5), np.float32)
    np.testing.assert_array_equal(net.backward(g), reference_net.backward(g))


@pytest.mark.parametrize("build, generation, size", [(vgg, "V1", (16, 16)), (resnet, "current", (16, 16)),
                                                     (mobilenet, "current", (16, 16)),
                                                     (inception_v3, "current", (19, 19))])
def test_training_snapshots_with_the_zoos_structures(build, generation, size):
    ref = reference(build(), size)
    data = pw.snapshot(ref.specs, ref.params, generation, name="Synthetic", crop=size[0], mean=(1.0, 2.0, 3.0))
    specs, blobs, meta = load_caffemodel(data)
    same(Net(specs, blobs, meta), ref, size)
    # the V1 writer's data layer has mean_value 1, 2, 3; the current one's none, so Caffe subtracts nothing
    assert meta["input_size"] == size and meta["mean_bgr"] == ([1.0, 2.0, 3.0] if generation == "V1" else [0.0] * 3)


@pytest.mark.parametrize("header", ["input_dim", "input_shape", "Input"])
def test_deploy_prototxt_headers_with_weights_matched_by_name(header):
    ref = reference(resnet(), (16, 16))
    data = pw.snapshot(ref.specs, ref.params, "current", crop=16)  # the weights' own net: a training net
    text = pw.prototxt(ref.specs, [10, 3, 16, 16], header)
    specs, blobs, meta = load_caffemodel(data, options=Options(prototxt=text))
    same(Net(specs, blobs, meta), ref, (16, 16))
    assert meta["extra"]["dropped_layers"] == ([] if header != "Input" else ["data"])


def test_a_prototxt_layer_without_weights_in_the_caffemodel_is_named():
    ref = reference(vgg(), (16, 16))
    renamed = [dict(s, name="conv9") if s["name"] == "conv2_1" else s for s in ref.specs]
    text = pw.prototxt(renamed, [1, 3, 16, 16], "input_dim")
    with pytest.raises(CaffeModelError, match="'conv9' needs weights .* the file has none"):
        load_caffemodel(pw.snapshot(ref.specs, ref.params, "V1", crop=16), options=Options(prototxt=text))


def test_a_shared_prelu_slope_stored_as_a_0d_blob_and_slice_dim():
    """Caffe stores channel_shared PReLU's slope as a 0-d blob (BlobShape with no dims); Slice's deprecated
    slice_dim is its axis."""
    specs = [conv("conv1", "data", 4, 3), layer("prelu1", "PReLU", "conv1", "conv1", channel_shared=True),
             dict(layer("split", "Slice", "conv1", slice_dim=1, slice_point=[1]), tops=["a", "b"]),
             layer("mul", "Eltwise", ["a", "a"], operation="PROD"), fc("fc", "mul", 5),
             layer("prob", "Softmax", "fc", axis=1)]
    ref = reference(specs, (8, 8))
    ref.params["prelu1"][0][...] = -0.3
    blobs = dict(ref.params, prelu1=[ref.params["prelu1"][0].reshape(())])
    specs, weights, meta = load_caffemodel(pw.deploy(ref.specs, blobs, input_size=(8, 8)))
    assert weights["prelu1"][0].shape == (1,) and weights["prelu1"][0][0] == np.float32(-0.3)
    net = Net(specs, weights, meta)
    assert net.spec("split")["params"]["axis"] == 1 and net.output_shapes()["b"] == (1, 3, 6, 6)
    same(net, ref, (8, 8))


@pytest.mark.parametrize("kind", ["Data", "ImageData", "HDF5Data", "MemoryData", "WindowData", "DummyData", "Python",
                                  "Input", "SomeCustomReader"])
def test_every_data_layer_kind_is_the_input_and_label_readers_are_dropped(kind):
    """Any layer without bottoms is the network input (its first top); layers reading its other tops go."""
    ref = reference(vgg(), (16, 16))
    data = {"name": "feed", "type": kind, "bottoms": [], "tops": ["data", "label"]}
    target = {"name": "target", "type": "Flatten", "bottoms": ["label"], "tops": ["target"]}  # supported, but labels
    loss = {"name": "myloss", "type": "CustomLoss", "bottoms": ["fc8", "target"], "tops": ["loss"]}
    out = pw.f_string(1, "net")
    for spec in [data, target] + ref.specs[:-1] + [loss]:
        out += pw.f_bytes(100, pw.layer_message(spec, ref.params.get(spec["name"], []), False))
    specs, blobs, meta = load_caffemodel(out, options=Options(input_size=(16, 16)))
    assert meta["extra"]["dropped_layers"] == ["feed", "target", "myloss"]
    assert [s["name"] for s in specs] == [s["name"] for s in ref.specs[:-1]]
    x = np.random.default_rng(0).standard_normal((1, 3, 16, 16)).astype(np.float32)
    np.testing.assert_array_equal(Net(specs, blobs, meta).forward(x), ref.forward(x, end="fc8"))


def test_caffes_phase_rules_pick_the_test_net():
    """Net::FilterNet: include needs one rule met, exclude none; the TEST phase, level 0, no stages."""
    ref = reference(vgg(), (16, 16))
    deploy_layers = pw.prototxt(ref.specs, [1, 3, 16, 16], "input_dim").split("\n", 5)[5]
    text = '''name: "train_val"
layer { name: "data" type: "Data" top: "data" top: "label" include { phase: TRAIN }
        transform_param { mean_value: 9 crop_size: 16 } }
layer { name: "data" type: "Data" top: "data" top: "label" include { phase: TEST }
        transform_param { mean_value: 1 mean_value: 2 mean_value: 3 crop_size: 16 } }
layer { name: "train_only" type: "Threshold" bottom: "data" top: "t" include { phase: TRAIN } }
layer { name: "not_in_test" type: "Threshold" bottom: "data" top: "u" exclude { phase: TEST } }
layer { name: "staged" type: "Threshold" bottom: "data" top: "v" include { stage: "extra" } }
layer { name: "leveled" type: "Threshold" bottom: "data" top: "w" include { min_level: 1 } }
''' + deploy_layers
    specs, blobs, meta = load_caffemodel(pw.snapshot(ref.specs, ref.params, "V1", crop=16),
                                         options=Options(prototxt=text))
    assert [s["name"] for s in specs] == [s["name"] for s in ref.specs]  # no Threshold survived the rules
    assert meta["mean_bgr"] == [1.0, 2.0, 3.0]  # the TEST data layer's transform_param
