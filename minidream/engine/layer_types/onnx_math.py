"""ONNX's arithmetic: broadcasting binary ops, activations, MatMul, Gemm, LayerNormalization, (Log)Softmax, reductions.

Semantics from onnx/onnx docs/Operators.md (opsets 13..21); the formulas are in each op's docstring
(minidream/engine/ops/). Binary ops broadcast as NumPy does; a float operand computed from shapes alone (a ViT's
attention scale, sqrt of a width) takes the other operand's array type and dtype.
"""
import numpy as np

from minidream.engine.backend import as_numpy, get_array_module
from minidream.engine.layer_types.base import WHOLE_INPUT, each_picture
from minidream.engine.layer_types.onnx_base import Info, checked, constant, one_output, onnx_type, same_as_first
from minidream.engine.ops import (arithmetic, clip, erf, gelu, gemm, hard_sigmoid, hard_swish, layer_norm,
                                  log_softmax, matmul, neg, reduce, softmax, softplus, sqrt)


def _alike(a, b):
    """Both operands as the array type and dtype of the larger float one. ONNX types the two alike; here a value
    computed from shapes alone is a small NumPy array of its own dtype beside the network's float32 (or CuPy) one."""
    floats = [x for x in (a, b) if x.dtype.kind == "f"]
    if not floats:
        return a, b
    target = max(floats, key=lambda x: (get_array_module(x) is not np, x.size))
    xp = get_array_module(target)
    return tuple(x if x is target else xp.asarray(x, dtype=target.dtype) for x in (a, b))


def _broadcast_shape(attrs, ins):
    return [Info(np.broadcast_shapes(ins[0].shape, ins[1].shape))]


def _binary(op_type, kind):
    def run(attrs, args):
        y, cache = arithmetic.forward(*_alike(args[0], args[1]), kind)
        return [y], cache

    return onnx_type(op_type, _broadcast_shape, run,
                     lambda attrs, dys, cache: list(arithmetic.backward(dys[0], cache)), attrs=checked({}, op_type),
                     per_picture=_constants_broadcast)


def _constants_broadcast(p):
    """per_picture of a broadcasting binary op: each of its initializers is a scalar, a vector (along the last axis)
    or has a leading 1, so none has a size of its own along a batch's axis (MobileNet's x * gate, x + shift)."""
    shapes = p["weight_shapes"] + [list(constant(a).shape) for a in p["args"] if a and a[0] == "const"]
    return all(len(s) <= 1 or s[0] == 1 for s in shapes)


def _numpy_binary(op_type, function):
    """Integer-valued binary ops of shape arithmetic (Mod, Equal): computed, no gradient."""
    def run(attrs, args):
        xp = get_array_module(args[0])
        return [function(xp, args[0], args[1], attrs)], None

    fields = {"fmod": lambda raw: int(raw.get("fmod", 0))} if op_type == "Mod" else {}
    return onnx_type(op_type, _broadcast_shape, run, attrs=checked(fields, op_type))


def _mod(xp, a, b, attrs):
    return xp.fmod(a, b) if attrs.get("fmod") else xp.mod(a, b)


def _unary(op_type, op, fields=None, **onnx_type_args):
    def run(attrs, args):
        y, cache = op.forward(args[0], **attrs)
        return [y], cache

    # pointwise, so a classifier head may hold it (MobileNet's Linear, Hardswish, Linear) and slide it over a map
    return onnx_type(op_type, same_as_first, run, lambda attrs, dys, cache: [op.backward(dys[0], cache)],
                     attrs=checked(fields or {}, op_type), classifier_part=True, per_picture=each_picture,
                     **onnx_type_args)


def _clip_run(attrs, args):
    # the bounds are scalars: 0-d in ONNX, one value as a weight blob (.item() reads both)
    low, high = (None if len(args) <= k or args[k] is None else float(as_numpy(args[k]).item()) for k in (1, 2))
    y, cache = clip.forward(args[0], low, high)
    return [y], cache


def _matmul_shape(attrs, ins):
    a, b = ins[0].shape, ins[1].shape
    a2, b2 = (1,) + a if len(a) == 1 else a, b + (1,) if len(b) == 1 else b
    if a2[-1] != b2[-2]:
        raise ValueError(f"MatMul of {a} and {b}: inner sizes {a2[-1]} and {b2[-2]} differ")
    out = np.broadcast_shapes(a2[:-2], b2[:-2]) + (a2[-2], b2[-1])
    return [Info(out[:-2] + (out[-1],) if len(a) == 1 and len(b) > 1 else out[:-1] if len(b) == 1 else out)]


def _gemm_run(attrs, args):
    y, cache = gemm.forward(args[0], args[1], args[2] if len(args) > 2 else None, attrs["alpha"], attrs["beta"],
                            attrs["transA"], attrs["transB"])
    return [y], cache


def _gemm_shape(attrs, ins):
    m = ins[0].shape[1] if attrs["transA"] else ins[0].shape[0]
    n = ins[1].shape[0] if attrs["transB"] else ins[1].shape[1]
    return [Info((m, n))]


def _layer_norm_run(attrs, args):
    y, cache = layer_norm.forward(args[0], args[1], args[2] if len(args) > 2 else None, attrs["axis"],
                                  attrs["epsilon"])
    return [y], cache


def _axis_op(op_type, op, default_axis):
    def run(attrs, args):
        y, cache = op.forward(args[0], attrs["axis"])
        return [y], cache

    return onnx_type(op_type, same_as_first, run, lambda attrs, dys, cache: [op.backward(dys[0], cache)],
                     attrs=checked({"axis": lambda raw: int(raw.get("axis", default_axis))}, op_type),
                     role="softmax" if op_type == "Softmax" else "other")


def _reduce(op_type, kind):
    def axes_of(attrs, axes_input, rank):
        """The reduced axes: the attribute (before opset 18) or the input; none given: all of them, or none with
        noop_with_empty_axes."""
        axes = attrs["axes"] if axes_input is None else [int(a) for a in np.asarray(axes_input).reshape(-1)]
        if not axes:
            return [] if attrs["noop_with_empty_axes"] else list(range(rank))
        return sorted(a % rank for a in axes)

    def run(attrs, args):
        axes = axes_of(attrs, args[1] if len(args) > 1 else None, np.ndim(args[0]))
        if not axes:
            return [args[0]], None
        y, cache = reduce.forward(args[0], kind, axes, bool(attrs["keepdims"]))
        return [y], cache

    def infer(attrs, ins):
        axes_input = ins[1] if len(ins) > 1 else None
        if axes_input is not None and axes_input.value is None:
            raise ValueError(f"{op_type}'s axes are computed while it runs; minidream needs them constant")
        shape = ins[0].shape
        axes = axes_of(attrs, None if axes_input is None else axes_input.value, len(shape))
        return [Info(tuple(1 if d in axes else n for d, n in enumerate(shape) if attrs["keepdims"] or d not in axes))]

    def gradient(attrs, dys, cache):
        return [dys[0] if cache is None else reduce.backward(dys[0], cache), None]

    fields = {"axes": lambda raw: [int(a) for a in raw.get("axes", [])],
              "keepdims": lambda raw: int(raw.get("keepdims", 1)),
              "noop_with_empty_axes": lambda raw: int(raw.get("noop_with_empty_axes", 0))}
    return onnx_type(op_type, infer, run, gradient, attrs=checked(fields, op_type))


def _alpha_beta(alpha, beta):
    return {"alpha": lambda raw: float(raw.get("alpha", alpha)), "beta": lambda raw: float(raw.get("beta", beta))}


TYPES = [
    _binary("Add", "add"), _binary("Sub", "sub"), _binary("Mul", "mul"), _binary("Div", "div"),
    _binary("Pow", "pow"),
    _numpy_binary("Mod", _mod), _numpy_binary("Equal", lambda xp, a, b, attrs: xp.equal(a, b)),
    _unary("Erf", erf), _unary("Sqrt", sqrt), _unary("Neg", neg), _unary("Softplus", softplus),
    _unary("Gelu", gelu, {"approximate": lambda raw: str(raw.get("approximate", "none"))}),
    _unary("HardSigmoid", hard_sigmoid, _alpha_beta(0.2, 0.5)),
    _unary("HardSwish", hard_swish),
    onnx_type("Clip", same_as_first, _clip_run, lambda attrs, dys, cache: [clip.backward(dys[0], cache), None, None],
              attrs=checked({}, "Clip"), per_picture=each_picture),
    onnx_type("MatMul", _matmul_shape, lambda attrs, args: one_output(matmul.forward(args[0], args[1])),
              lambda attrs, dys, cache: list(matmul.backward(dys[0], cache)), attrs=checked({}, "MatMul")),
    onnx_type("Gemm", _gemm_shape, _gemm_run, lambda attrs, dys, cache: list(gemm.backward(dys[0], cache)),
              attrs=checked({**_alpha_beta(1.0, 1.0), "transA": lambda raw: bool(raw.get("transA", 0)),
                             "transB": lambda raw: bool(raw.get("transB", 0))}, "Gemm"),
              window=lambda p: WHOLE_INPUT),
    onnx_type("LayerNormalization", same_as_first, _layer_norm_run,
              lambda attrs, dys, cache: list(layer_norm.backward(dys[0], cache)),
              attrs=checked({"axis": lambda raw: int(raw.get("axis", -1)),
                             "epsilon": lambda raw: float(raw.get("epsilon", 1e-5)),
                             "stash_type": lambda raw: int(raw.get("stash_type", 1))}, "LayerNormalization")),
    _axis_op("Softmax", softmax, -1), _axis_op("LogSoftmax", log_softmax, -1),
    _reduce("ReduceMean", "mean"), _reduce("ReduceSum", "sum"), _reduce("ReduceMax", "max"),
]
