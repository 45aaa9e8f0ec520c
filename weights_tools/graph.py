"""Turn the layers of a Caffe snapshot into the inference graph minidream runs.

A .caffemodel written while training is the *training* net:

- a Data layer (tops ``data`` and ``label``) instead of a declared input;
- loss and metric layers (SoftmaxWithLoss, Accuracy) reading ``label``;
- Split layers Caffe inserted wherever one blob feeds several layers. For top j of
  layer L read by n layers, Caffe adds a layer ``<blob>_<L>_<j>_split`` with tops
  ``<blob>_<L>_<j>_split_<k>`` (k = 0..n-1) and renames each consumer's bottom to
  one of them (caffe/util/insert_splits.cpp).

``build`` folds every Split back into its source blob name, drops the data/loss/
metric layers (a Data layer's first top becomes the input blob), keeps everything
else in file order (in-place ReLUs, GoogLeNet's auxiliary loss1/* and loss2/*
classifiers) and checks that each layer reads only blobs produced before it. When
the net's main SoftmaxWithLoss is dropped, a Softmax named ``prob`` takes its place,
as in BVLC's deploy nets, so the converted net outputs class probabilities.
"""
import warnings

from weights_tools.errors import CaffeModelError
from weights_tools.layers import SUPPORTED, normalize_params, shape_blobs
from weights_tools.schema import PARAM_FIELD

DATA_TYPES = {"Data", "ImageData", "HDF5Data", "MemoryData", "WindowData", "DummyData", "AnnotatedData", "Input"}
TRAIN_ONLY = DATA_TYPES | {
    "SoftmaxWithLoss", "Accuracy", "EuclideanLoss", "HingeLoss", "InfogainLoss", "MultinomialLogisticLoss",
    "SigmoidCrossEntropyLoss", "ContrastiveLoss", "Silence", "HDF5Output",
}


def _check_names(layers):
    seen = set()
    for i, layer in enumerate(layers):
        name = layer.get("name")
        if not name:
            raise CaffeModelError(f"layer #{i} ({layer['type'] or 'no type'}) has no name")
        if name in seen:
            raise CaffeModelError(f"two layers are named {name!r}; layer names must be unique")
        seen.add(name)


def fold_splits(layers):
    """Remove Split layers, renaming their tops back to the blob they copy."""
    alias, kept = {}, []
    for layer in layers:
        bottoms = [alias.get(b, b) for b in layer.get("bottom", [])]
        if layer["type"] == "Split":
            if len(bottoms) != 1:
                raise CaffeModelError(f"Split layer {layer.get('name', '?')!r} has {len(bottoms)} bottoms, expected 1")
            for top in layer.get("top", []):
                alias[top] = bottoms[0]
            continue
        layer["bottom"] = bottoms
        kept.append(layer)
    return kept, len(layers) - len(kept)


def _dims_hw(dims, where):
    if len(dims) != 4 or min(dims) <= 0:
        raise CaffeModelError(f"{where}: input shape {dims} is not a positive 4-D (N, C, H, W) shape")
    return (dims[2], dims[3])


def find_input(net, layers):
    """(input blob, (H, W) or None, mean_bgr or None, scale) from the net or its data layer."""
    if net.get("input"):
        if net.get("input_shape"):
            size = _dims_hw(net["input_shape"][0].get("dim", []), "NetParameter.input_shape")
        elif net.get("input_dim"):
            size = _dims_hw(net["input_dim"][:4], "NetParameter.input_dim")
        else:
            size = None
        return net["input"][0], size, None, 1.0
    for layer in layers:
        if layer["type"] not in DATA_TYPES or not layer.get("top"):
            continue
        size, mean, scale = None, None, 1.0
        if layer["type"] == "Input" and layer.get("input_param", {}).get("shape"):
            size = _dims_hw(layer["input_param"]["shape"][0].get("dim", []), f"Input layer {layer.get('name', '?')!r}")
        transform = layer.get("transform_param", {})
        crop = transform.get("crop_size") or layer.get("data_param", {}).get("crop_size")
        if crop and crop > 0:
            size = (crop, crop)
        means = transform.get("mean_value")
        if means is not None and len(means) in (1, 3):
            mean = [float(v) for v in means] * (3 // len(means))
        scale = float(transform.get("scale", layer.get("data_param", {}).get("scale", 1.0)))
        return layer["top"][0], size, mean, scale
    return "data", None, None, 1.0


def _drop_unsupported(layers, skip_unsupported):
    """Drop unsupported layers whose outputs no supported layer reads (only if asked to)."""
    bad = [layer for layer in layers if layer["type"] not in SUPPORTED]
    if not bad:
        return layers, []
    if not skip_unsupported:
        layer = bad[0]
        raise CaffeModelError(
            f"layer {layer['name']!r} has type {layer['type']!r}, which minidream does not support "
            f"(supported: {', '.join(SUPPORTED)}); if it only follows the layers you need, "
            "convert with --skip-unsupported to drop it"
        )
    needed, kept, skipped = set(), [], []
    for layer in reversed(layers):
        if layer["type"] in SUPPORTED:
            needed.update(layer["bottom"])
            kept.append(layer)
        elif needed.intersection(layer.get("top", [])):
            raise CaffeModelError(
                f"layer {layer['name']!r} has unsupported type {layer['type']!r} and supported layers read "
                f"its output, so it cannot be skipped (supported: {', '.join(SUPPORTED)})"
            )
        else:
            skipped.append(layer["name"])
            warnings.warn(f"skipping unsupported layer {layer['name']!r} ({layer['type']})", stacklevel=3)
    return kept[::-1], skipped[::-1]


def _validate(specs, input_blob):
    available = {input_blob}
    for spec in specs:
        many = spec["type"] == "Concat"
        if (len(spec["bottoms"]) < 1 if many else len(spec["bottoms"]) != 1) or len(spec["tops"]) != 1:
            raise CaffeModelError(
                f"layer {spec['name']!r} ({spec['type']}) has {len(spec['bottoms'])} bottoms and "
                f"{len(spec['tops'])} tops; expected {'one or more' if many else 'one'} and one"
            )
        for blob in spec["bottoms"]:
            if blob not in available:
                raise CaffeModelError(
                    f"layer {spec['name']!r} reads blob {blob!r}, which no earlier layer produces "
                    f"(the network input is {input_blob!r})"
                )
        available.update(spec["tops"])
    if not specs:
        raise CaffeModelError("the file holds no layers minidream can run (only data/loss layers)")


def build(net, layers, skip_unsupported=False):
    """NetParameter dict + decoded layers -> (specs, blobs, info); see the module doc."""
    layers, folded = fold_splits(layers)
    input_blob, size, mean, scale = find_input(net, layers)
    dropped = [layer for layer in layers if layer["type"] in TRAIN_ONLY]
    layers = [layer for layer in layers if layer["type"] not in TRAIN_ONLY]
    _check_names(layers)  # after dropping: train_val nets name both phases' data layers "data"
    layers, skipped = _drop_unsupported(layers, skip_unsupported)
    specs, blobs = [], {}
    for layer in layers:
        kind, name = layer["type"], layer["name"]
        raw = layer.get(PARAM_FIELD[kind], {})
        params = normalize_params(kind, raw, name)
        spec = {"name": name, "type": kind, "bottoms": list(layer["bottom"]),
                "tops": list(layer.get("top", [])), "params": params}
        weights = shape_blobs(kind, params, layer.get("blobs", []), name, raw.get("transpose", False))
        if weights:
            blobs[name] = weights
        specs.append(spec)
    added = _add_prob(specs, dropped)
    _validate(specs, input_blob)
    info = {"name": net.get("name", ""), "input_blob": input_blob, "input_size": size, "mean_bgr": mean,
            "scale": scale, "dropped": [layer.get("name", "") for layer in dropped], "skipped": skipped,
            "added": added, "folded_splits": folded}
    return specs, blobs, info


def _add_prob(specs, dropped):
    """Append Softmax 'prob' after the final classifier if its SoftmaxWithLoss was dropped."""
    losses = [layer for layer in dropped if layer["type"] == "SoftmaxWithLoss"]
    if not specs or not losses or any(spec["name"] == "prob" or "prob" in spec["tops"] for spec in specs):
        return []
    final = specs[-1]["tops"][:1]
    if not final or losses[-1].get("bottom", [])[:1] != final:
        return []
    specs.append({"name": "prob", "type": "Softmax", "bottoms": final, "tops": ["prob"], "params": {"axis": 1}})
    return ["prob"]
