"""Read a .caffemodel (a serialized caffe.NetParameter) into minidream's (specs, blobs, info).

Both generations are read: current ``layer`` messages (string types) and the V1
``layers`` messages (enum types) that the 2014 BVLC snapshots contain. The layers are
then put through weights_tools.graph, which turns a training snapshot into the
inference graph minidream runs.

The whole file is read once into one bytes object; float weights are numpy views into
it (read-only, no copy), so peak memory is about the file size plus what the caller
does with the arrays.
"""
import os

from minidream.errors import CaffeModelError
from weights_tools import graph, schema
from weights_tools.foreign import looks_like
from weights_tools.prototxt import net_layers, parse_prototxt
from weights_tools.training_net import is_data_layer
from weights_tools.wire import decode


def read_bytes(path):
    """The file's bytes, with a CaffeModelError naming the path if it cannot be read."""
    try:
        with open(path, "rb") as f:
            return f.read()
    except OSError as exc:
        raise CaffeModelError(f"cannot read {path}: {exc.strerror or exc}") from None


def parse_layers(buf):
    """Decode the NetParameter in ``buf``; returns (net dict, layers, generation).

    layers: list of dicts {name, type (string), bottom, top, blobs, *_param ...};
    generation: "V1" or "current".
    """
    if not len(buf):
        raise CaffeModelError("empty file: a .caffemodel holds at least one layer")
    foreign = looks_like(buf)  # an ONNX model, a .h5, a prototxt ...: said by name, not as a wire-type error
    if foreign:
        raise CaffeModelError(f"this looks like {foreign[0]}, not a .caffemodel: {foreign[1]}")
    net = decode(buf, schema.NET)
    layers, generation = net_layers(net, "upgrade_net_proto_binary")
    return net, layers, generation


def with_prototxt(weights_net, weights_layers, prototxt):
    """(net, layers) of a deploy prototxt with the caffemodel's blobs matched by layer name, as Caffe's
    Net::CopyTrainedLayersFrom does (a caffemodel layer the prototxt lacks is ignored; a prototxt layer with
    weights that the caffemodel lacks is an error later, when its blobs do not fit). The caffemodel's data
    layer stays available for the input facts (mean, scale) the deploy net cannot state."""
    net, layers, _ = parse_prototxt(prototxt)
    blobs = {layer.get("name"): layer["blobs"] for layer in weights_layers if layer.get("blobs")}
    for layer in layers:
        layer["blobs"] = blobs.get(layer.get("name"), [])
    fallback = [layer for layer in weights_layers if is_data_layer(layer)]
    return net, layers, fallback


def read_net(source, skip_unsupported=False, prototxt=None):
    """(Graph, raw blobs, info) of a .caffemodel file (path, bytes or memoryview): weights_tools.graph.build.

    prototxt: a deploy net (path or text) giving the graph, with the weights matched by layer name.
    """
    buf = read_bytes(source) if isinstance(source, (str, os.PathLike)) else source
    net, layers, generation = parse_layers(buf)
    fallback = None
    if prototxt is not None:
        net, layers, fallback = with_prototxt(net, layers, prototxt)
    found, raw, info = graph.build(net, layers, skip_unsupported=skip_unsupported)
    if fallback and info["input"]["source"] != "data layer":
        trained = graph.find_input({}, fallback)  # the training data layer's transform_param
        if trained["source"] == "data layer":
            info["input"].update({k: trained[k] for k in ("mean", "mean_file", "scale")})
    info["generation"] = generation
    return found, raw, info


def read_caffemodel(source, skip_unsupported=False):
    """Parse a .caffemodel file (path, bytes or memoryview) for minidream.

    Returns (specs, blobs, info): specs/blobs as in the minidream contract (blobs are
    read-only float32 views into the file's bytes); info: {name, generation, input_blob,
    input_size (H, W) at which the weights fit (the declared one, else the first that fits),
    input_channels, mean_bgr or None, scale, dropped, skipped, folded_splits}.
    Raises CaffeModelError for anything it cannot turn into a minidream net.
    """
    net_graph, raw, info = read_net(source, skip_unsupported)
    info["input_size"], blobs = graph.fit_weights(net_graph, raw, info, graph.candidate_sizes(info["input_size"]))
    info["input_channels"] = net_graph.input_channels
    info["mean_bgr"], info["scale"] = info["input"]["mean"] or None, info["input"]["scale"] or 1.0
    return net_graph.specs, blobs, info
