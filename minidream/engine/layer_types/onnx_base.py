"""ONNX operators as layer types: how a node's inputs, attributes and gradients map onto an op.

weights_tools/onnx/convert.py turns each ONNX node that no Caffe type expresses exactly into a spec

    {"name": its output tensor (the node's name when it has several), "type": "onnx.<OpType>",
     "bottoms": the graph tensors it reads, each once, "tops": its output tensors,
     "params": {"attrs": its attributes with ONNX's defaults, "args": one entry per ONNX input position,
                "weight_shapes": [...]}}

(The node's own name is an alias of the layer: meta["extra"]["aliases"], which the Graph resolves.)

An arg is ["bottom", k] (spec bottom k), ["weight", k] (float weight blob k: a float initializer), ["const", value]
(an integer initializer, kept in the spec as a nested list so that shapes can be computed from it), ["const", value,
dtype] (a float initializer that shapes are computed from: Resize's scales) or None (an omitted optional input).
Tensors may have any rank and integer tensors flow where ONNX computes shapes (Shape, Gather, Concat, ... on the
input's size): they get no gradient.

Shapes, computing nothing: each type infers (shape, value) per output from its inputs' (shape, value), the value
known for constants and for what is computed from shapes alone (Shape's output, arithmetic on it). Where every
input's value is known the node is simply evaluated, so shape arithmetic is recomputed for each input size.
"""
import math
from typing import Any, Callable, NamedTuple, Optional

import numpy as np

from minidream.engine.layer_types.base import LayerType, SpecError, unclaimed

TYPE_PREFIX = "onnx."
EVALUATE_LIMIT = 1 << 16  # values this small are computed while inferring shapes (shape arithmetic, constants)


class Info(NamedTuple):
    """What shape inference knows of a tensor: its shape, and its value where shapes alone determine it."""
    shape: tuple
    value: Optional[Any] = None


def by_position(params, bottom, weight, const):
    """One entry per ONNX input position, from the spec's args: bottom(i), weight(i) or const(array) for the
    bottoms, weights and constants, None where the input is omitted."""
    take = {"bottom": bottom, "weight": weight}
    return [None if arg is None else take[arg[0]](arg[1]) if arg[0] in take else const(constant(arg))
            for arg in params["args"]]


def assemble(params, inputs, weights):
    """The op's inputs in ONNX order from the spec's bottoms, weights and constants (None: omitted)."""
    return by_position(params, inputs.__getitem__, weights.__getitem__, lambda value: value)


def constant(arg):
    """The array of a ["const", value(, dtype)] arg."""
    return np.asarray(arg[1], dtype=arg[2] if len(arg) > 2 else np.int64)


def infos(params, in_shapes, in_values):
    """Info per ONNX input position, for shape inference."""
    return by_position(params, lambda i: Info(tuple(in_shapes[i]), in_values[i]),
                       lambda i: Info(tuple(params["weight_shapes"][i])), lambda value: Info(value.shape, value))


def split_gradients(params, grads, n_bottoms):
    """Per-argument gradients -> (one per bottom, summed where a bottom is read twice; one per weight)."""
    dxs, dweights = [None] * n_bottoms, [None] * len(params["weight_shapes"])
    for arg, g in zip(params["args"], grads):
        if arg is None or g is None or arg[0] == "const":
            continue
        target = dxs if arg[0] == "bottom" else dweights
        target[arg[1]] = g if target[arg[1]] is None else target[arg[1]] + g
    return dxs, dweights


def onnx_type(op_type, infer, run, gradient=None, *, attrs=None, keeps_output=True, tops=(1, 1), role="other",
              window=None, classifier_part=False, per_picture=unclaimed):
    """The LayerType "onnx.<op_type>".

    infer(attrs, infos) -> [Info]: output shapes (and values where shapes alone give them), computing nothing.
    run(attrs, args) -> (outputs, cache): the op on the ONNX-ordered inputs (arrays; None for omitted ones).
    gradient(attrs, dys, cache) -> one gradient per ONNX input (None where there is none); None: no gradient flows
    (shape arithmetic). attrs(raw attributes, node name) -> the attributes with ONNX's defaults, checked.
    per_picture: LayerType.per_picture.
    """
    check_attrs = attrs or (lambda raw, name: dict(raw))

    def normalize(raw, name):
        for key in ("args", "attrs"):
            if key not in raw:
                raise SpecError(f"layer {name!r} ({TYPE_PREFIX}{op_type}) lacks params[{key!r}]")
        return {"args": [list(a) if a is not None else None for a in raw["args"]],
                "attrs": check_attrs(dict(raw["attrs"]), name),
                "weight_shapes": [[int(d) for d in s] for s in raw.get("weight_shapes", [])]}

    def infer_layer(p, in_shapes, in_values):
        ins = infos(p, in_shapes, in_values)
        if all(i is None or i.value is not None for i in ins) and all(
                i is None or math.prod(i.shape) <= EVALUATE_LIMIT for i in ins):
            outputs, _ = run(p["attrs"], [None if i is None else i.value for i in ins])
            if all(np.size(o) <= EVALUATE_LIMIT for o in outputs):
                return [np.shape(o) for o in outputs], [np.asarray(o) for o in outputs]
        found = infer(p["attrs"], ins)
        return [tuple(int(d) for d in i.shape) for i in found], [i.value for i in found]

    def forward(p, weights, inputs, ctx):
        return run(p["attrs"], assemble(p, inputs, weights))

    def backward(p, weights, dys, cache, param_grads):
        grads = gradient(p["attrs"], dys, cache) if gradient else [None] * len(p["args"])
        n_bottoms = 1 + max((a[1] for a in p["args"] if a and a[0] == "bottom"), default=-1)
        dxs, dweights = split_gradients(p, grads, n_bottoms)
        return dxs, (dweights if param_grads and dweights else None)

    return LayerType(TYPE_PREFIX + op_type, normalize, lambda p, s: infer_layer(p, s, [None] * len(s))[0],
                     forward, backward, param_shapes=lambda p, s: [tuple(w) for w in p["weight_shapes"]],
                     bottoms=(1, None), tops=tops, output_in_cache=keeps_output, role=role,
                     window=window or (lambda p: None), infer=infer_layer, classifier_part=classifier_part,
                     per_picture=per_picture)


def ints(values):
    """An attribute's or a shape tensor's values as a list of ints."""
    return [int(v) for v in np.asarray(values).reshape(-1)]


def one_output(result):
    """An op's (y, cache) as a run's ([y], cache)."""
    y, cache = result
    return [y], cache


def same_as_first(attrs, ins):
    return [Info(ins[0].shape)]


def checked(fields: dict, op_type: str) -> Callable:
    """attrs(raw, node) for an op whose attributes are {name: converter(raw dict) -> value}; others refused."""
    def normalize(raw, name):
        unknown = sorted(set(raw) - set(fields))
        if unknown:
            raise SpecError(f"node {name!r} ({op_type}): attribute {unknown[0]!r} is not supported by minidream")
        return {key: convert(raw) for key, convert in fields.items()}
    return normalize
