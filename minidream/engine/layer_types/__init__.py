"""The one table of Caffe layer types: everything minidream knows about a `type` string (a LayerType: base.py).

The Net, the graph's shape inference, the converter, the dream, training and the layer listings all read it; code
outside this folder asks a spec's LayerType (type_of) for its role, window or affine terms, never tests the type
string. Adding a Caffe layer type is one op file in minidream/engine/ops/ plus its LayerType here (and tests),
plus, where the .caffemodel stores parameters of its own, its *_param message in weights_tools/schema.py (the one
place that knows caffe.proto's field numbers).
"""
from minidream.engine.layer_types import activations, core, normalization, structure
from minidream.engine.layer_types.base import Context, LayerType, SpecError

TYPES = {t.name: t for t in core.TYPES + normalization.TYPES + activations.TYPES + structure.TYPES}


def type_of(spec):
    """The LayerType of a layer spec (a dict with "name" and "type")."""
    return layer_type(spec["type"], spec.get("name", "?"))


def layer_type(name, layer="?"):
    """The LayerType of a Caffe type string; SpecError naming the layer and the supported types otherwise."""
    if name not in TYPES:
        raise SpecError(f"layer {layer!r} has type {name!r}, which minidream does not support "
                        f"(supported: {', '.join(TYPES)})")
    return TYPES[name]


__all__ = ["TYPES", "Context", "LayerType", "SpecError", "layer_type", "type_of"]
