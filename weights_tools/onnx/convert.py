"""Convert an ONNX model into a minidream HDF5 model file, as a .caffemodel converts (docs/format.md).

    convert_onnx("resnet50.onnx", "resnet50.h5")
    convert_onnx("keras.onnx", "keras.h5", OnnxOptions(mean=(127.5,) * 3, std=(127.5,) * 3, input_range=255))

The graph: one spec per node (nodes.py, forms.py); the network input is the graph's one image input (N, C, H, W),
its nominal size the declared one (224x224 where the file leaves it symbolic); a graph that cannot run at another
size (a ViT's position table) is marked fixed-size, and dreams see it in windows of exactly that size.
Preprocessing: ONNX files say nothing of it. torchvision's models take RGB in 0..1 normalized by ImageNet's mean and
std, the default here (printed as assumed); OnnxOptions states others. Recorded as the network-space mean (in
0..255 units, network channel order) and a per-channel scale 1 / (range * std) (minidream.io.images.to_network).
The default dream layer: the deepest 4-D output at 1/16 of the input size, else the deepest output of rank >= 3.
"""
import os
import sys
from pathlib import Path
from typing import NamedTuple, Optional, Sequence

import numpy as np

from minidream.engine.graph import Graph
from minidream.engine.layer_types import TYPES
from minidream.engine.layer_types.onnx_base import TYPE_PREFIX
from minidream.errors import OnnxModelError
from minidream.formats import h5format
from weights_tools.convert import file_sha1, imagenet_classes, per_channel
from weights_tools.onnx import forms
from weights_tools.onnx.nodes import PASS_THROUGH, Builder, constant_value
from weights_tools.onnx.reader import read_onnx
from weights_tools.zoo import read_class_list

TORCHVISION = {"mean": (0.485, 0.456, 0.406), "std": (0.229, 0.224, 0.225), "channel_order": "RGB",
               "input_range": 1.0}
DEFAULT_SIZE = (224, 224)


class OnnxOptions(NamedTuple):
    """What the user states about a model's input (`convert` options); None: torchvision's convention."""

    mean: Optional[Sequence[float]] = None  # per channel, in the network's channel order, in input-range units
    std: Optional[Sequence[float]] = None
    channel_order: Optional[str] = None  # "RGB" | "BGR"
    input_range: Optional[float] = None  # the pixel value white maps to before normalization: 1 or 255
    class_file: object = None


def load_onnx(src, options=OnnxOptions(), quiet=False):
    """(specs, blobs, meta) of an .onnx file; OnnxModelError names the file and the problem."""
    try:
        model = read_onnx(src)
        builder = _build(model)
        graph = Graph(builder.specs, builder.input_name, builder.input_shape[1], builder.aliases)
        meta = _meta(model, builder, graph, options, src)
    except OnnxModelError as exc:
        message = str(exc)
        raise OnnxModelError(message if message.startswith(os.fspath(src)) else f"{os.fspath(src)}: {message}") \
            from None
    if not quiet and meta["extra"].get("assumed"):
        for key, what in meta["extra"]["assumed"].items():
            print(f"assumed {key}: {what}", file=sys.stderr)
    return graph.specs, builder.blobs, meta


def convert_onnx(src, dst, options=OnnxOptions()):
    """Convert the .onnx file `src` into the minidream model file `dst` (atomically); returns its meta."""
    h5format.check_destination(dst)
    specs, blobs, meta = load_onnx(src, options)
    h5format.save(dst, specs, blobs, meta)
    return meta


def _image_input(model):
    inputs = [v for v in model.inputs if v.name not in model.initializers]
    if len(inputs) != 1:
        raise OnnxModelError(f"the graph takes {len(inputs)} inputs ({', '.join(v.name for v in inputs)}); minidream "
                             "dreams with models of one image input")
    value = inputs[0]
    if value.shape is None or len(value.shape) != 4 or value.shape[1] not in (1, 3):
        raise OnnxModelError(f"its input {value.name!r} has shape {value.shape}; minidream needs an image batch "
                             "(N, C, H, W) with 1 or 3 channels")
    if value.dtype is not None and np.dtype(value.dtype).kind != "f":
        raise OnnxModelError(f"its input {value.name!r} is {value.dtype}, not a float tensor")
    size = tuple(d if isinstance(d, int) and d > 0 else n for d, n in zip(value.shape[2:], DEFAULT_SIZE))
    return value.name, (1, value.shape[1], *size)


def _build(model):
    builder = Builder(model, *_image_input(model))
    for node in model.nodes:
        if node.op_type == "Constant":
            builder.constants[node.outputs[0]] = constant_value(node)
        elif node.op_type in PASS_THROUGH:
            builder.pass_through(node)
        elif node.op_type not in forms.HANDLERS and not _has_onnx_form(node):
            raise _unsupported(node, model)
        elif all(builder.is_constant(x) for x in node.inputs):
            if not _has_onnx_form(node):  # only the onnx.<Op> types compute here; exporters fold the rest
                raise OnnxModelError(f"node {node.name or node.outputs[0]!r} ({node.op_type}) computes on constants "
                                     "alone; re-export the model with constant folding (torch.onnx.export's "
                                     "do_constant_folding=True, or onnx-simplifier)")
            builder.fold(node, _attributes(node))
        else:
            node = _single_output(node)
            if not forms.HANDLERS.get(node.op_type, lambda b, n: False)(builder, node):
                if not _has_onnx_form(node):  # a form only Caffe's type has, and the node is not in it
                    raise _unsupported(node, model)
                builder.add_onnx(node, _attributes(node))
    missing = [v.name for v in model.outputs if builder.tensor(v.name) not in builder.shapes]
    if missing:
        raise OnnxModelError(f"the graph's output {missing[0]!r} is a constant or not computed by any node")
    return builder


def _has_onnx_form(node):
    return TYPE_PREFIX + node.op_type in TYPES


def _unsupported(node, model):
    return OnnxModelError(f"node {node.name or node.outputs[0]!r}: operator {node.op_type} (opset "
                          f"{model.opsets.get('', '?')}) is not supported by minidream; re-export the model "
                          "without it")


def _attributes(node):
    """The node's attributes; a Split's also its number of outputs ("outputs"), which before opset 18's num_outputs
    only the node's output list says."""
    return dict(node.attributes, outputs=len(node.outputs)) if node.op_type == "Split" else node.attributes


def _single_output(node):
    """The node without its omitted outputs. MaxPool's optional Indices output is not computed: refused where the
    node names it (whichever form the pooling takes)."""
    if node.op_type == "MaxPool" and len(node.outputs) > 1 and node.outputs[1]:
        raise OnnxModelError(f"node {node.name or node.outputs[0]!r}: MaxPool's Indices output is not supported by "
                             "minidream; export the model without return_indices")
    return node._replace(outputs=[o for o in node.outputs if o])


def _meta(model, builder, graph, options, src):
    channels = builder.input_shape[1]
    assumed, extra = {}, {"onnx_producer": model.producer, "onnx_opset": model.opsets.get("", None),
                          "aliases": builder.aliases}
    stated = {k: getattr(options, k) for k in TORCHVISION if getattr(options, k) is not None}
    for key, value in TORCHVISION.items():
        if key not in stated:
            assumed[key] = f"{value} (torchvision's; give --{key.replace('_', '-')} otherwise)"
    pre = dict(TORCHVISION, **stated)
    mean, std = (per_channel(pre[k], channels, f"--{k}", OnnxModelError) for k in ("mean", "std"))
    white = float(pre["input_range"])
    if white <= 0 or any(s == 0 for s in std):
        raise OnnxModelError(f"input range {white} and std {std} must be positive")
    extra["input_scale"] = [float(white / 255.0 / s) for s in std]
    input_size = tuple(builder.input_shape[2:])
    try:
        probe = (input_size[0] + 32, input_size[1] + 32)
        graph.shapes(graph.input_shape(probe))
    except ValueError:
        extra["fixed_input_size"] = True
    extra["default_layer"] = _default_layer(graph, input_size, builder.tensor(model.outputs[0].name))
    meta = {"name": model.graph_name or Path(os.fspath(src)).stem, "input_size": input_size,
            "input_channels": channels, "input_blob": builder.input_name, "channel_order": pre["channel_order"],
            "mean_bgr": [float(m * 255.0 / white) for m in mean], "source_file": os.path.basename(os.fspath(src)),
            "source_sha1": file_sha1(src), "extra": extra}
    names = _class_names(graph, builder.tensor(model.outputs[0].name), input_size, options)
    if names is not None:
        meta["class_names"] = names
        if options.class_file is None:
            assumed["class_names"] = "ImageNet's 1000 (the output has 1000 classes; give --classes otherwise)"
    if assumed:
        extra["assumed"] = assumed
    return meta


def _default_layer(graph, input_size, output):
    """The deepest 4-D output nearest 1/16 of the input's height, before the classifier (the first layer with as
    many channels as the model has outputs: SqueezeNet's classifier is a convolution); where the body ends in
    tokens, not maps (a ViT), its deepest output."""
    shapes = graph.output_shapes(input_size)
    names = list(shapes)
    classes = shapes[output][-1] if len(shapes[output]) == 2 else None
    head = next((k for k, n in enumerate(names) if len(shapes[n]) > 2 and shapes[n][1] == classes), len(names))
    body = [n for n in names[:head] if len(shapes[n]) >= 3 and min(shapes[n][1:]) > 1] or names
    maps = [n for n in body if len(shapes[n]) == 4]
    if not maps or len(shapes[body[-1]]) != 4:  # a transformer: its deepest tokens
        return body[-1]
    target = input_size[0] / 16
    nearest = min(abs(shapes[n][2] - target) for n in maps)
    return [n for n in maps if abs(shapes[n][2] - target) == nearest][-1]


def _class_names(graph, output, input_size, options):
    out = graph.output_shapes(input_size)[output]
    if options.class_file is not None:
        names = read_class_list(options.class_file)
        if len(out) != 2 or out[1] != len(names):
            raise OnnxModelError(f"the class list {options.class_file} names {len(names)} classes, the model's "
                                 f"output is {out}")
        return names
    return imagenet_classes()[1] if len(out) == 2 and out[1] == 1000 else None
