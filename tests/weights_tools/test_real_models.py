"""Every real .caffemodel in ../shared/real_caffemodels: converted, loaded, and compared layer by layer with Caffe's
own outputs (*.caffe_ref.npz, from pycaffe) and with OpenCV's independent Caffe importer (cv2.dnn).

Float32 near-ties: the reference inputs x were nudged off them when the npz files were made — no ReLU/PReLU input
and no max-pool window's top two values lie closer than kink_margin (recorded in each npz, >= 1.6e-6 of the
blob's scale) — so the input gradient is the same function on both sides; we use those x as they are.
Tolerance: 1e-4 relative to the blob's largest value (Caffe and we sum in different orders).
"""
import os
from pathlib import Path

import numpy as np
import pytest

from minidream.engine.speed import shifted_rows
from minidream.engine.net import Net
from weights_tools.convert import Options, load_caffemodel

REAL = Path(__file__).resolve().parents[2] / ".." / "shared" / "real_caffemodels"
# model -> (the deploy net our conversion and OpenCV read, OpenCV's if different)
MODELS = {
    "alphabet62_iter_50000": ("alphabet62_deploy.prototxt", None),
    "cifar10_full_iter_70000_2014": ("cifar10_full_iter_70000_2014_deploy.prototxt", None),
    "cifar10_quick_iter_5000_2014": ("cifar10_quick.prototxt", None),
    "cifar10_quick_iter_5000_2015": ("cifar10_quick.prototxt", None),
    "lenet_iter_10000_2014": ("lenet_iter_10000_2014_deploy.prototxt", None),
    "lenet_iter_10000_2017": ("lenet_iter_10000_2017_deploy.prototxt", None),
    "mobilenet_cifar10_iter_100000": ("mobilenet_cifar10_iter_100000_deploy.prototxt", None),
    "mtcnn_det1_jfda": ("mtcnn_det1_jfda_deploy.prototxt", None),
    "mtcnn_det4_jfda": ("mtcnn_det4_jfda_deploy.prototxt", None),
    "resnet20_cifar10_iter_53500": ("resnet20_cifar10_iter_53500_deploy.prototxt", None),
    # the TEST-phase train_val Caffe wrote the file from (DummyData input, Accuracy layers): phase rules at work
    "squeezenet_v1.1_caffe_random": ("squeezenet_v1.1_caffe_random.written_from.prototxt",
                                     "squeezenet_v1.1_deploy.prototxt"),
}
TOLERANCE = 1e-4

needs_files = pytest.mark.skipif(not REAL.is_dir(), reason=f"{REAL} (real Caffe files) is absent")


def rel_error(got, want):
    return float(np.abs(got - want).max() / max(float(np.abs(want).max()), 1e-30))


def reference_blobs(ref, net):
    """{name: Caffe's blob} for every layer output in the npz that the net can address (several-top: top/)."""
    out = {}
    for key in ref.files:
        kind, _, name = key.partition("/")
        if kind == "top" or (kind == "out" and len(net.spec(name)["tops"]) == 1):
            out[name] = ref[key]
    return out


def load(stem, prototxt=True):
    options = Options(prototxt=REAL / MODELS[stem][0]) if prototxt else Options()
    specs, blobs, meta = load_caffemodel(REAL / f"{stem}.caffemodel", options=options)
    return Net(specs, blobs, meta)


@needs_files
@pytest.mark.parametrize("stem", sorted(MODELS))
def test_every_layer_and_the_input_gradient_match_caffe(stem):
    ref = np.load(REAL / f"{stem}.caffe_ref.npz")
    net = load(stem)
    want = reference_blobs(ref, net)
    assert len(want) >= sum(k.startswith("out/") for k in ref.files) - 1  # all layers (a Slice: its tops)
    got = net.forward(ref["x"], end=list(want))
    errors = {name: rel_error(got[name], want[name]) for name in want}
    assert max(errors.values()) <= TOLERANCE, sorted(errors.items(), key=lambda kv: -kv[1])[:3]
    end = str(ref["end"])
    net.forward(ref["x"], end=end)
    assert rel_error(net.backward(ref["g"]), ref["dx"]) <= TOLERANCE


@needs_files
@pytest.mark.parametrize("stem", ["cifar10_full_iter_70000_2014", "cifar10_quick_iter_5000_2015",
                                  "lenet_iter_10000_2017"])
def test_5x5_layers_through_shifted_rows_match_caffe(stem, monkeypatch):
    """These nets' 5x5 layers are too small for shifted rows at the files' input sizes; with its thresholds at 0 every
    stride-1 convolution that Winograd leaves takes it, and the outputs and dx still match Caffe's."""
    monkeypatch.setattr(shifted_rows, "MIN_OUTPUTS", 0)
    monkeypatch.setattr(shifted_rows, "MIN_DEPTH", 0)
    ran = []
    original = shifted_rows.forward
    monkeypatch.setattr(shifted_rows, "forward", lambda *a: ran.append(a[1].shape) or original(*a))
    ref = np.load(REAL / f"{stem}.caffe_ref.npz")
    net = load(stem)
    want = reference_blobs(ref, net)
    got = net.forward(ref["x"], end=list(want))
    assert max(rel_error(got[name], want[name]) for name in want) <= TOLERANCE
    net.forward(ref["x"], end=str(ref["end"]))
    assert rel_error(net.backward(ref["g"]), ref["dx"]) <= TOLERANCE
    assert any(shape[2:] == (5, 5) for shape in ran)


@needs_files
@pytest.mark.parametrize("stem", sorted(MODELS))
def test_the_stored_net_converts_without_a_prototxt_to_the_same_outputs(stem):
    """Without --prototxt the graph is the one in the .caffemodel (training net: data/losses dropped)."""
    ref = np.load(REAL / f"{stem}.caffe_ref.npz")
    net, deploy = load(stem, prototxt=False), load(stem)
    shared = [name for name in deploy.layer_names if name in net.layer_names and len(net.spec(name)["tops"]) == 1]
    assert len(shared) >= len(deploy.layer_names) - 2
    got, want = net.forward(ref["x"], end=shared), deploy.forward(ref["x"], end=shared)
    for name in shared:
        np.testing.assert_array_equal(got[name], want[name])


@needs_files
@pytest.mark.parametrize("stem", sorted(MODELS))
def test_every_layer_matches_opencv_dnn(stem):
    cv2 = pytest.importorskip("cv2")
    if not hasattr(cv2, "dnn") or not hasattr(cv2.dnn, "readNetFromCaffe"):
        pytest.skip("this OpenCV has no readNetFromCaffe (removed in OpenCV 5)")
    ref = np.load(REAL / f"{stem}.caffe_ref.npz")
    ours = load(stem)
    prototxt = REAL / (MODELS[stem][1] or MODELS[stem][0])
    cv_net = cv2.dnn.readNetFromCaffe(os.fspath(prototxt), os.fspath(REAL / f"{stem}.caffemodel"))
    cv_net.enableFusion(False)  # compare layer by layer, not fused conv+BN+ReLU
    if hasattr(cv_net, "enableWinograd"):
        cv_net.enableWinograd(False)  # its Winograd 3x3 convolution alone differs by ~3e-6
    names = [name for name in reference_blobs(ref, ours) if name in set(cv_net.getLayerNames())]
    assert len(names) >= len(ours.layer_names) // 2
    cv_net.setInput(ref["x"])
    theirs = dict(zip(names, cv_net.forward(names)))
    mine = ours.forward(ref["x"], end=names)
    errors = {name: rel_error(mine[name].reshape(theirs[name].shape), theirs[name]) for name in names}
    assert max(errors.values()) <= TOLERANCE, sorted(errors.items(), key=lambda kv: -kv[1])[:3]
    scores = class_scores(ours, names)
    if scores is not None:  # the same top-5 classes for each image, in all three
        for a, b, c in zip(mine[scores].reshape(len(ref["x"]), -1),
                           theirs[scores].reshape(len(ref["x"]), -1), ref[f"out/{scores}"].reshape(len(ref["x"]), -1)):
            assert list(np.argsort(-a)[:5]) == list(np.argsort(-b)[:5]) == list(np.argsort(-c)[:5])


def class_scores(net, names):
    """The last layer among names that scores classes: a Softmax, else one with one value per channel (>= 5
    channels: SqueezeNet's global pool10); None for nets without one (MTCNN's landmark regressor)."""
    for name in reversed(names):
        shape = net.output_shape(name)
        if net.spec(name)["type"] == "Softmax" or (len(shape) == 4 and shape[2:] == (1, 1) and shape[1] >= 5):
            return name
    return None
