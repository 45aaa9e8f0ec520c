"""ONNX's tensor plumbing: Reshape, Flatten, Squeeze, Unsqueeze, Transpose, Concat, Split, Slice, Gather, Expand,
Where, and the shape arithmetic exporters emit (Shape, Cast, Range, ConstantOfShape).

Semantics from onnx/onnx docs/Operators.md (opsets 13..21). Shape arithmetic runs on small integer NumPy arrays
and gets no gradient; a float tensor's gradient passes through Cast between float types.
"""
import math

import numpy as np

from minidream.engine.backend import get_array_module
from minidream.engine.layer_types.onnx_base import Info, checked, ints, one_output, onnx_type, same_as_first
from minidream.engine.ops import concat, expand, gather, reshape
from minidream.engine.ops import slice as slice_op
from minidream.engine.ops import strided_slice, transpose
from minidream.engine.ops.axes import canonical_axis

# TensorProto.DataType -> NumPy, for Cast and ConstantOfShape
DTYPES = {1: np.float32, 2: np.uint8, 3: np.int8, 5: np.int16, 6: np.int32, 7: np.int64, 9: np.bool_, 10: np.float16,
          11: np.float64, 12: np.uint32, 13: np.uint64}


def _known(info, what, op_type):
    """The value of a shape-like input, which inference needs."""
    if info.value is None:
        raise ValueError(f"{op_type}'s {what} is computed from the image's values, not its size; minidream needs "
                         "it computable from shapes")
    return info.value


# ---------------------------------------------------------------- reshaping: views of the input
def _target_shape(in_shape, shape, allowzero):
    """ONNX Reshape's rule: 0 copies the input's dimension (unless allowzero), -1 is inferred."""
    shape = [in_shape[i] if d == 0 and not allowzero else d for i, d in enumerate(shape)]
    return reshape.output_shape(tuple(in_shape), shape)


def _reshaped(op_type, target, fields=None):
    """A type whose output is its input under a new shape: target(attrs, input shape, args) -> shape."""
    def run(attrs, args):
        y, cache = reshape.forward(args[0], target(attrs, args[0].shape, args))
        return [y], cache

    def infer(attrs, ins):
        values = [None] + [None if i is None else _known(i, "target shape", op_type) for i in ins[1:]]
        return [Info(tuple(target(attrs, ins[0].shape, values)))]

    return onnx_type(op_type, infer, run, lambda attrs, dys, cache: [reshape.backward(dys[0], cache)],
                     attrs=checked(fields or {}, op_type))


def _squeeze_target(attrs, shape, args):
    axes = [a % len(shape) for a in ints(args[1])] if len(args) > 1 and args[1] is not None else \
        [d for d, n in enumerate(shape) if n == 1]
    return [n for d, n in enumerate(shape) if d not in axes]


def _unsqueeze_target(attrs, shape, args):
    rank = len(shape) + len(ints(args[1]))
    axes, dims = sorted(a % rank for a in ints(args[1])), iter(shape)
    return [1 if d in axes else next(dims) for d in range(rank)]


def _flatten_target(attrs, shape, args):
    axis = attrs["axis"] + len(shape) if attrs["axis"] < 0 else attrs["axis"]
    return [math.prod(shape[:axis]), math.prod(shape[axis:])]


# ---------------------------------------------------------------- joining, cutting, picking
def _concat_run(attrs, args):
    axis = canonical_axis(attrs["axis"], np.ndim(args[0]))
    y, cache = concat.forward(args, axis)
    return [y], cache


def _concat_shape(attrs, ins):
    axis = canonical_axis(attrs["axis"], len(ins[0].shape))
    out = list(ins[0].shape)
    out[axis] = sum(i.shape[axis] for i in ins)
    return [Info(tuple(out))]


def _split_points(attrs, shape, split, outputs):
    axis = canonical_axis(attrs["axis"], len(shape))
    if split is None:
        size = -(-shape[axis] // outputs)  # ONNX: equal parts, the last one smaller
        split = [min(size, shape[axis] - k * size) for k in range(outputs)]
    return axis, list(np.cumsum(ints(split))[:-1])


def _split_type():
    def run(attrs, args):
        axis, points = _split_points(attrs, args[0].shape, args[1] if len(args) > 1 else None, attrs["outputs"])
        ys, cache = slice_op.forward(args[0], attrs["outputs"], axis, points)
        return ys, cache

    def infer(attrs, ins):
        split = None if len(ins) < 2 or ins[1] is None else _known(ins[1], "split sizes", "Split")
        axis, points = _split_points(attrs, ins[0].shape, split, attrs["outputs"])
        return [Info(s) for s in slice_op.output_shape(ins[0].shape, attrs["outputs"], axis, points)]

    # "outputs": the node's output count, which the converter adds (before opset 18 only the output list says it)
    fields = {"axis": lambda raw: int(raw.get("axis", 0)), "outputs": lambda raw: int(raw["outputs"]),
              "num_outputs": lambda raw: raw.get("num_outputs")}
    return onnx_type("Split", infer, run, lambda attrs, dys, cache: [slice_op.backward(dys, cache), None],
                     attrs=checked(fields, "Split"), tops=(1, None))


def _slice_run(attrs, args):
    starts, ends, axes, steps = (None if len(args) <= k or args[k] is None else ints(args[k]) for k in (1, 2, 3, 4))
    y, cache = strided_slice.forward(args[0], starts, ends, axes, steps)
    return [y], cache


def _slice_shape(attrs, ins):
    known = [None if len(ins) <= k or ins[k] is None else ints(_known(ins[k], "bounds", "Slice")) for k in range(1, 5)]
    y, _ = strided_slice.forward(np.broadcast_to(np.float32(0), ins[0].shape), *known)
    return [Info(y.shape)]


def _gather_shape(attrs, ins):
    shape, axis = ins[0].shape, canonical_axis(attrs["axis"], len(ins[0].shape))
    return [Info(shape[:axis] + tuple(ins[1].shape) + shape[axis + 1:])]


def _expand_shape(attrs, ins):
    return [Info(np.broadcast_shapes(ins[0].shape, tuple(ints(_known(ins[1], "shape", "Expand")))))]


def _where_run(attrs, args):
    xp = get_array_module(*[a for a in args if hasattr(a, "shape")])
    return [xp.where(args[0], args[1], args[2])], (args[0], np.shape(args[1]), np.shape(args[2]))


def _where_gradient(attrs, dys, cache):
    condition, x_shape, y_shape = cache
    xp = get_array_module(dys[0])
    zero = xp.zeros((), dys[0].dtype)
    return [None, _sum_to(xp.where(condition, dys[0], zero), x_shape), _sum_to(xp.where(condition, zero, dys[0]),
                                                                              y_shape)]


def _sum_to(g, shape):
    """g summed over the axes broadcasting added to an input of `shape`."""
    extra = g.ndim - len(shape)
    g = g.sum(axis=tuple(range(extra))) if extra else g
    axes = tuple(d for d, n in enumerate(shape) if n == 1 and g.shape[d] != 1)
    return g.sum(axis=axes, keepdims=True) if axes else g


# ---------------------------------------------------------------- shape arithmetic (no gradient)
def _shape_run(attrs, args):
    return [np.asarray(np.shape(args[0]), dtype=np.int64)[attrs["start"]:attrs["end"]]], None


def _shape_infer(attrs, ins):
    value = np.asarray(ins[0].shape, dtype=np.int64)[attrs["start"]:attrs["end"]]
    return [Info(value.shape, value)]


def _cast_run(attrs, args):
    dtype = DTYPES[attrs["to"]]
    x = args[0]
    if x.dtype.kind == "f" and np.dtype(dtype).kind == "f":
        return [x], "float"  # the network computes in its own float type: a float-to-float Cast is the identity
    return [x.astype(dtype)], None


def _range_run(attrs, args):
    start, limit, delta = (np.asarray(a).reshape(()) for a in args)
    return [np.arange(start, limit, delta, dtype=np.result_type(start, limit, delta))], None


def _constant_of_shape_run(attrs, args):
    values, dtype = attrs["value"]
    return [np.full(ints(args[0]), values[0], dtype=dtype)], None


def _tensor_value(raw):
    """ConstantOfShape's value: a one-element tensor (the reader's array, or [values, dtype] from a saved spec)."""
    value = raw.get("value")
    if value is None:
        return [[0.0], "float32"]
    if isinstance(value, np.ndarray):
        return [value.reshape(-1).tolist(), str(value.dtype)]
    return [list(value[0]), str(value[1])]


def _computed(op_type):
    """Shape inference for shape arithmetic: evaluated from the inputs' values (see onnx_base.infer_layer)."""
    def infer(attrs, ins):
        raise ValueError(f"{op_type} reads values that are not computable from shapes alone; minidream cannot "
                         "run it on a dreamed image")
    return infer


TYPES = [
    _reshaped("Reshape", lambda attrs, shape, args: _target_shape(shape, ints(args[1]), attrs["allowzero"]),
              {"allowzero": lambda raw: int(raw.get("allowzero", 0))}),
    _reshaped("Flatten", _flatten_target, {"axis": lambda raw: int(raw.get("axis", 1))}),
    _reshaped("Squeeze", _squeeze_target), _reshaped("Unsqueeze", _unsqueeze_target),
    onnx_type("Transpose", lambda attrs, ins: [Info(tuple(ins[0].shape[d] for d in attrs["perm"]) if attrs["perm"]
                                                    else tuple(reversed(ins[0].shape)))],
              lambda attrs, args: one_output(transpose.forward(args[0], attrs["perm"] or None)),
              lambda attrs, dys, cache: [transpose.backward(dys[0], cache)],
              attrs=checked({"perm": lambda raw: [int(d) for d in raw.get("perm", [])]}, "Transpose")),
    onnx_type("Concat", _concat_shape, _concat_run, lambda attrs, dys, cache: concat.backward(dys[0], cache),
              attrs=checked({"axis": lambda raw: int(raw["axis"])}, "Concat"), role="concat"),
    _split_type(),
    onnx_type("Slice", _slice_shape, _slice_run,
              lambda attrs, dys, cache: [strided_slice.backward(dys[0], cache), None, None, None, None],
              attrs=checked({}, "Slice")),
    onnx_type("Gather", _gather_shape, lambda attrs, args: one_output(gather.forward(args[0], args[1], attrs["axis"])),
              lambda attrs, dys, cache: [gather.backward(dys[0], cache), None],
              attrs=checked({"axis": lambda raw: int(raw.get("axis", 0))}, "Gather")),
    onnx_type("Expand", _expand_shape, lambda attrs, args: one_output(expand.forward(args[0], ints(args[1]))),
              lambda attrs, dys, cache: [expand.backward(dys[0], cache), None], attrs=checked({}, "Expand")),
    onnx_type("Where", lambda attrs, ins: [Info(np.broadcast_shapes(*(i.shape for i in ins)))], _where_run,
              _where_gradient, attrs=checked({}, "Where")),
    onnx_type("Shape", _shape_infer, _shape_run, attrs=checked({"start": lambda raw: int(raw.get("start", 0)),
                                         "end": lambda raw: raw.get("end")}, "Shape")),
    onnx_type("Cast", same_as_first, _cast_run,
              lambda attrs, dys, cache: [dys[0] if cache == "float" else None],
              attrs=checked({"to": lambda raw: int(raw["to"]), "saturate": lambda raw: int(raw.get("saturate", 1))},
                            "Cast")),
    onnx_type("Range", _computed("Range"), _range_run, attrs=checked({}, "Range")),
    onnx_type("ConstantOfShape", _computed("ConstantOfShape"), _constant_of_shape_run,
              attrs=checked({"value": _tensor_value}, "ConstantOfShape")),
]
