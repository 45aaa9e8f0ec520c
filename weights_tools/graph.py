"""Turn the layers of a Caffe snapshot into the inference graph minidream runs.

A .caffemodel written while training is the *training* net: data layers instead of a
declared input, losses and metrics reading labels, Caffe's Split copies
(weights_tools.training_net says what each is). A deploy prototxt (--prototxt) gives
the graph instead, with an Input layer or an ``input:`` header.

``build`` applies Caffe's TEST-phase include/exclude rules, folds every Split back into
its source blob name, drops the data layers (the first one's first top becomes the
input blob), the losses and metrics and every layer reading labels, refuses an
unsupported layer the net needs (naming it; --skip-unsupported can drop only trailing
ones), keeps everything else in file order (in-place ReLUs, GoogLeNet's auxiliary loss1/* and loss2/*
classifiers), normalizes each layer's parameters through minidream's layer registry and
checks the wiring with minidream.engine.graph (the same rules the Net runs by). When the net's
main SoftmaxWithLoss is dropped, a Softmax named ``prob`` takes its place, as in BVLC's
deploy nets, so the converted net outputs class probabilities.

``fit_weights`` then finds the input size at which the blobs fit the graph (a fully
connected layer's weight count pins it down) and shapes them — shape arithmetic only,
no network is built.
"""
import warnings

from minidream.engine.graph import Graph, normalized
from minidream.engine.layer_types import TYPES, SpecError
from minidream.errors import CaffeModelError
from weights_tools.layers import blob_values, fits, shaped
from weights_tools.schema import PARAM_FIELD
from weights_tools.training_net import fold_splits, in_phase, is_data_layer, training_only

# Input sizes tried when a file declares none: the common ones first, then every size up to 512.
COMMON_SIZES = (224, 227, 231, 256, 299, 64, 32, 28)
MAX_SEARCHED_SIZE = 512

def _check_names(layers):
    seen = set()
    for i, layer in enumerate(layers):
        name = layer.get("name")
        if not name:
            raise CaffeModelError(f"layer #{i} ({layer['type'] or 'no type'}) has no name")
        if name in seen:
            raise CaffeModelError(f"two layers are named {name!r}; layer names must be unique")
        seen.add(name)


def _dims(dims, where):
    if len(dims) != 4 or min(dims) <= 0:
        raise CaffeModelError(f"{where}: input shape {dims} is not a positive 4-D (N, C, H, W) shape")
    return dims


def find_input(net, layers):
    """What the file says about the input: {blob, channels, size (H, W), mean, mean_file, scale, source}.

    None for what it does not say. source: "header" (input: + input_dim / input_shape), "Input" (an Input
    layer), "data layer" (a training data layer with its transform_param: then no mean_value means no mean
    and no scale means 1, as Caffe does), or None.
    """
    found = {"blob": "data", "channels": None, "size": None, "mean": None, "mean_file": None, "scale": None,
             "source": None}
    dims = None
    if net.get("input"):
        found["blob"], found["source"] = net["input"][0], "header"
        if net.get("input_shape"):
            dims = _dims(net["input_shape"][0].get("dim", []), "NetParameter.input_shape")
        elif net.get("input_dim"):
            dims = _dims(net["input_dim"][:4], "NetParameter.input_dim")
        if dims:
            found["channels"], found["size"] = dims[1], (dims[2], dims[3])
        return found
    # the TEST phase's data layer first (a train_val net has one per phase); a snapshot has only TRAIN's
    feeders = sorted((layer for layer in layers if is_data_layer(layer) and layer.get("top")),
                     key=lambda layer: not in_phase(layer))
    if not feeders:
        return found
    layer = feeders[0]
    found["blob"] = layer["top"][0]
    shapes = layer.get("input_param", {}).get("shape") or layer.get("dummy_data_param", {}).get("shape")
    if shapes:
        dims = _dims(shapes[0].get("dim", []), f"{layer['type']} layer {layer.get('name', '?')!r}")
        found["channels"], found["size"] = dims[1], (dims[2], dims[3])
    if layer["type"] == "Input":
        found["source"] = "Input"
        return found
    found["source"] = "data layer"
    transform, data = layer.get("transform_param", {}), layer.get("data_param", {})
    crop = transform.get("crop_size") or data.get("crop_size")
    if crop and crop > 0:
        found["size"] = (crop, crop)
    means = transform.get("mean_value")
    found["mean"] = [float(v) for v in means] if means is not None and len(means) else []
    found["mean_file"] = transform.get("mean_file") or data.get("mean_file")
    found["scale"] = float(transform.get("scale", data.get("scale", 1.0)))
    return found


def input_channels(specs, blobs, found):
    """The input's channel count: declared, else what the first convolution's weights imply, else 3."""
    if found["channels"] is not None:
        return int(found["channels"])
    for spec in specs:
        if found["blob"] in spec["bottoms"] and spec["type"] == "Convolution" and blobs.get(spec["name"]):
            p = spec["params"]
            per_group = len(blobs[spec["name"]][0][0]) // (p["num_output"] * p["kernel_size"][0] * p["kernel_size"][1])
            return per_group * p["group"]
    return 3


def _needed_tops(layers):
    """Blobs that supported layers read, directly or through other layers (a reverse walk)."""
    needed = set()
    for layer in reversed(layers):
        if layer["type"] in TYPES or needed.intersection(layer.get("top", [])):
            needed.update(layer["bottom"])
    return needed


def _drop_unsupported(layers, skip_unsupported):
    """Drop unsupported layers whose outputs no supported layer reads (only if asked to)."""
    bad = [layer for layer in layers if layer["type"] not in TYPES]
    if not bad:
        return layers, []
    needed = _needed_tops(layers)
    blocking = [layer for layer in bad if needed.intersection(layer.get("top", []))]
    supported = ", ".join(TYPES)
    if blocking or not skip_unsupported:
        layer = (blocking or bad)[0]
        if blocking:  # the net needs it: --skip-unsupported cannot help, so it is not suggested
            raise CaffeModelError(f"layer {layer['name']!r} has type {layer['type']!r}, which minidream does not "
                                  f"support, and the layers after it read its output (supported: {supported})")
        raise CaffeModelError(f"layer {layer['name']!r} has type {layer['type']!r}, which minidream does not support "
                              f"(supported: {supported}); nothing else reads its output, so convert with "
                              "--skip-unsupported to drop it")
    skipped = [layer["name"] for layer in bad]
    for layer in bad:
        warnings.warn(f"skipping unsupported layer {layer['name']!r} ({layer['type']})", stacklevel=3)
    return [layer for layer in layers if layer["type"] in TYPES], skipped


def build(net, layers, skip_unsupported=False):
    """NetParameter dict + decoded layers -> (Graph, raw blobs {layer: [(values, dims)]}, info); see the module doc.

    Caffe's TEST phase is applied (include/exclude rules); the input facts come from the file's header, Input
    or data layer (find_input, which looks at the training data layer too: it carries the transform_param).
    """
    found = find_input(net, layers)
    layers, folded = fold_splits(layers)
    data = [layer for layer in layers if is_data_layer(layer)]  # every phase's: their extra tops are labels
    dropped = [(layer, "a data layer") for layer in data if layer.get("name") not in
               {other.get("name") for other in data[:data.index(layer)]}]  # train_val nets name both "data"
    rest = [layer for layer in layers if not is_data_layer(layer) and in_phase(layer)]
    dropped += training_only(rest, data)
    gone = {id(layer) for layer, _ in dropped}
    layers = [layer for layer in rest if id(layer) not in gone]
    _check_names(layers)  # after dropping: train_val nets name both phases' data layers "data"
    layers, skipped = _drop_unsupported(layers, skip_unsupported)
    specs, raw, transposed = [], {}, set()
    for layer in layers:
        kind, name = layer["type"], layer["name"]
        params = layer.get(PARAM_FIELD.get(kind, ""), {})
        if kind == "BatchNorm" and layer.get("phase") == 0:
            # Saved from the TRAIN net, whose use_global_stats (often an explicit false) is for training: the
            # inference graph takes Caffe's phase rule instead (stored statistics in TEST), as a deploy net does.
            params = {k: v for k, v in params.items() if k != "use_global_stats"}
        specs.append({"name": name, "type": kind, "bottoms": list(layer["bottom"]),
                      "tops": list(layer.get("top", [])), "params": params})
        if layer.get("blobs"):
            raw[name] = [blob_values(blob, name, k) for k, blob in enumerate(layer["blobs"])]
        if params.get("transpose"):
            transposed.add(name)
    added = _add_prob(specs, [layer for layer, _ in dropped])
    if not specs:
        raise CaffeModelError("the file holds no layers minidream can run (only data/loss layers)")
    try:
        specs = [normalized(spec) for spec in specs]
        graph = Graph(specs, found["blob"], input_channels(specs, raw, found))
    except SpecError as exc:
        raise CaffeModelError(str(exc)) from None
    info = {"name": net.get("name", ""), "input_blob": found["blob"], "input_size": found["size"],
            "input": found, "transposed": transposed, "skipped": skipped, "added": added,
            "dropped": [layer.get("name", "") for layer, _ in dropped],
            "dropped_why": [f"{layer.get('name', '')} ({layer['type']}: {why})" for layer, why in dropped
                            if not is_data_layer(layer)],
            "folded_splits": folded}
    return graph, raw, info


def candidate_sizes(first=None):
    """Input sizes to try, in order: `first` (a declared or known size) alone, else the common ones, then all."""
    if first is not None:
        return [tuple(first)]
    return [(s, s) for s in COMMON_SIZES + tuple(s for s in range(1, MAX_SEARCHED_SIZE + 1) if s not in COMMON_SIZES)]


def fit_weights(graph, raw, info, sizes):
    """(input size, {layer: [arrays]}) for the first size at which every blob fits the graph."""
    problem = None
    for size in sizes:
        try:
            shapes = graph.param_shapes(size)
        except ValueError as exc:
            problem = problem or str(exc)
            continue
        extra = sorted(set(raw) - set(shapes))
        if extra:
            raise CaffeModelError(f"layer {extra[0]!r} carries weight blobs, but its type has none")
        misfit = next((name for name, want in shapes.items() if name not in raw or len(raw[name]) != len(want)
                       or not all(fits(v, d, s[::-1] if name in info["transposed"] and k == 0 else s)
                                  for k, ((v, d), s) in enumerate(zip(raw[name], want)))), None)
        if misfit is None:
            return size, {name: shaped(raw[name], want, name, name in info["transposed"])
                          for name, want in shapes.items()}
        if not any(graph.specs[graph.index[name]]["type"] == "InnerProduct" for name in shapes):
            sizes = sizes[:1]  # nothing else depends on the input size: another size cannot help
        if problem is None or len(sizes) == 1:
            want = shapes[misfit]
            given = [tuple(d) if d is not None else len(v) for v, d in raw.get(misfit, [])]
            problem = (f"layer {misfit!r} has weight blobs {given}, the graph needs {want}" if misfit in raw else
                       f"layer {misfit!r} needs weights {want}, and the file has none for a layer of that name")
        if len(sizes) == 1:
            break
    tried = f"the {sizes[0][0]}x{sizes[0][1]} input" if len(sizes) == 1 else "any common input size"
    raise CaffeModelError(f"the weights do not fit the graph at {tried}: {problem}")


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
