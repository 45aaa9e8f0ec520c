"""The one table of Caffe layer types: everything minidream knows about a `type` string (minidream/formats/caffe/base.py).

The Net, the graph's shape inference, the converter and the layer listings all read it. Adding a layer type is
one op file in minidream/engine/ops/ plus its LayerType here (and tests).
"""
from minidream.formats.caffe import activations, core, normalization, structure
from minidream.formats.caffe.base import Context, LayerType, SpecError

TYPES = {t.name: t for t in core.TYPES + normalization.TYPES + activations.TYPES + structure.TYPES}


def layer_type(name, layer="?"):
    """The LayerType of a Caffe type string; SpecError naming the layer and the supported types otherwise."""
    if name not in TYPES:
        raise SpecError(f"layer {layer!r} has type {name!r}, which minidream does not support "
                        f"(supported: {', '.join(TYPES)})")
    return TYPES[name]


__all__ = ["TYPES", "Context", "LayerType", "SpecError", "layer_type"]
