"""The one table of layer types: everything minidream knows about a `type` string (a LayerType: base.py) — Caffe's
layer types (core, normalization, activations, structure), and as "onnx.<Op>" the ONNX operators that no Caffe type
expresses (onnx_math, onnx_tensor, onnx_spatial; how a node maps onto an op: onnx_base).

The Net, the graph's shape inference, the converter, the dream, training and the layer listings all read it; code
outside this folder asks a spec's LayerType (type_of) for its role, window or affine terms, never tests the type
string. Adding a Caffe layer type is one op file in minidream/engine/ops/ plus its LayerType here (and tests),
plus, where the .caffemodel stores parameters of its own, its *_param message in weights_tools/schema.py (the one
place that knows caffe.proto's field numbers).
"""
from minidream.engine.layer_types import (activations, core, normalization, onnx_math, onnx_spatial, onnx_tensor,
                                          structure)
from minidream.engine.layer_types.base import Context, LayerType, SpecError
from minidream.engine.layer_types.onnx_base import TYPE_PREFIX

TYPES = {t.name: t for t in core.TYPES + normalization.TYPES + activations.TYPES + structure.TYPES + onnx_math.TYPES
         + onnx_tensor.TYPES + onnx_spatial.TYPES}


def type_of(spec):
    """The LayerType of a layer spec (a dict with "name" and "type")."""
    return layer_type(spec["type"], spec.get("name", "?"))


def layer_type(name, layer="?"):
    """The LayerType of a Caffe type string; SpecError naming the layer and the supported types otherwise."""
    if name not in TYPES:
        family = [t for t in TYPES if t.startswith(TYPE_PREFIX) == str(name).startswith(TYPE_PREFIX)]
        raise SpecError(f"layer {layer!r} has type {name!r}, which minidream does not support "
                        f"(supported: {', '.join(family)})")
    return TYPES[name]


__all__ = ["TYPES", "Context", "LayerType", "SpecError", "layer_type", "type_of"]
