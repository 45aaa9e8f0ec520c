"""The zoo ops against Caffe's own outputs for real .caffemodel files (../shared/real_caffemodels, see its README).

Each *.caffe_ref.npz holds every layer's top as pycaffe left it. We walk the file's layers in order, keep the value
of every blob as Caffe produced it, and for each zoo layer feed Caffe's bottoms (and the file's blobs) to our op
and compare with Caffe's top. Skipped when the folder is absent.
"""
import pathlib

import numpy as np
import pytest

from minidream.engine.ops import batch_norm, eltwise, lrn_within_channel, prelu, reshape, scale, slice as slice_op
from tests.gradcheck import rel_error

FOLDER = pathlib.Path(__file__).resolve().parents[2] / ".." / "shared" / "real_caffemodels"
if not FOLDER.is_dir():
    pytest.skip("needs ../shared/real_caffemodels", allow_module_level=True)

from weights_tools.caffemodel import parse_layers, read_bytes  # noqa: E402  (only once the data is there)

# Parameters from each file's deploy prototxt (weights_tools does not decode these layers' params): all BatchNorms
# use_global_stats with the default eps, Scales have bias_term, Eltwise is SUM, PReLU per channel.
RESHAPE = {"landmark": (0, 10)}
SLICE = {"landmark_slice": (1, (2, 4, 6, 8))}
EXPECTED = {  # model -> the zoo layer types it must exercise
    "resnet20_cifar10_iter_53500": {"BatchNorm", "Scale", "Eltwise"},
    "mobilenet_cifar10_iter_100000": {"BatchNorm", "Scale"},
    "mtcnn_det1_jfda": {"PReLU"},
    "mtcnn_det4_jfda": {"PReLU", "Reshape", "Slice"},
    "cifar10_full_iter_70000_2014": {"LRN"},
}


def _blobs(layer):
    def dims(b):  # V1 files give num/channels/height/width instead of a shape
        return b["shape"]["dim"] if "shape" in b else [b.get(k, 1) for k in ("num", "channels", "height", "width")]

    return [np.asarray(b["data"], np.float32).reshape(dims(b)) for b in layer.get("blobs", [])]


def _zoo_op(layer, bottoms):
    """Our op's tops for one Caffe layer, or None when it is not a zoo layer."""
    kind, blobs = layer["type"], _blobs(layer)
    if kind == "BatchNorm":
        return [batch_norm.forward(bottoms[0], *blobs, use_global_stats=True)[0]]
    if kind == "Scale":
        return [scale.forward(bottoms[0], blobs[0], blobs[1] if len(blobs) > 1 else None)[0]]
    if kind == "Eltwise":
        return [eltwise.forward(bottoms, "SUM")[0]]
    if kind == "PReLU":
        return [prelu.forward(bottoms[0], blobs[0])[0]]
    if kind == "Reshape":
        return [reshape.forward(bottoms[0], RESHAPE[layer["name"]])[0]]
    if kind == "Slice":
        axis, points = SLICE[layer["name"]]
        return slice_op.forward(bottoms[0], len(layer["top"]), axis, points)[0]
    if kind == "LRN" and layer["lrn_param"].get("norm_region") == 1:  # WITHIN_CHANNEL
        p = layer["lrn_param"]
        return [lrn_within_channel.forward(bottoms[0], p["local_size"], p["alpha"], p["beta"])[0]]
    return None


@pytest.mark.parametrize("model", sorted(EXPECTED))
def test_zoo_layers_match_caffe(model):
    ref = np.load(FOLDER / f"{model}.caffe_ref.npz")
    _, layers, _ = parse_layers(read_bytes(FOLDER / f"{model}.caffemodel"))
    value = {}  # blob name -> Caffe's current value of it
    checked = set()
    for layer in layers:
        bottoms, tops, name = layer.get("bottom", []), layer.get("top", []), layer["name"]
        if not bottoms:  # the data layer: its first top is the net input
            value[tops[0]] = ref["x"]
            continue
        if layer["type"] == "Split":
            value.update({top: value.get(bottoms[0]) for top in tops})
            continue
        if any(value.get(b) is None for b in bottoms) or f"out/{name}" not in ref.files:
            continue  # a training-only branch (labels, losses)
        caffe_tops = [ref[f"top/{t}"] for t in tops] if len(tops) > 1 else [ref[f"out/{name}"]]
        ours = _zoo_op(layer, [value[b] for b in bottoms])
        if ours is not None:
            assert len(ours) == len(caffe_tops)
            for mine, theirs in zip(ours, caffe_tops):
                assert mine.shape == theirs.shape, name
                assert rel_error(mine, theirs) < 1e-5, name
            checked.add(layer["type"])
        value.update(zip(tops, caffe_tops))
    assert checked == EXPECTED[model]
