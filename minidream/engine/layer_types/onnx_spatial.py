"""ONNX's spatial operators where Caffe's types cannot say them: MaxPool and AveragePool with ONNX's rounding and pads
per side, GlobalMaxPool of any rank, Pad, Resize.

Semantics from onnx/onnx docs/Operators.md (opsets 13..21); the ops (minidream/engine/ops/) state the formulas.
A pooling whose windows are Caffe's is written as Caffe's Pooling by the converter (weights_tools/onnx/forms.py).
"""
import numpy as np

from minidream.engine.backend import as_numpy
from minidream.engine.layer_types.base import WHOLE_INPUT, each_picture
from minidream.engine.layer_types.onnx_base import Info, checked, ints, one_output, onnx_type
from minidream.engine.ops import avg_pool, global_max_pool, max_pool, pad, resize
from minidream.engine.ops.pool_shape import output_hw


def _pool_fields(extra):
    fields = {"kernel_shape": lambda raw: ints(raw["kernel_shape"]), "strides": lambda raw: ints(raw.get(
        "strides", [1, 1])), "pads": lambda raw: ints(raw.get("pads", [0, 0, 0, 0])),
        "ceil_mode": lambda raw: int(raw.get("ceil_mode", 0)), "auto_pad": lambda raw: _auto_pad(raw)}
    fields.update(extra)
    return fields


def _auto_pad(raw):
    auto = raw.get("auto_pad", "NOTSET")
    auto = auto.decode() if isinstance(auto, bytes) else str(auto)
    if auto not in ("NOTSET", "VALID", ""):
        raise ValueError(f"auto_pad {auto} pads by the input's size; re-export the model with explicit pads")
    return auto


def _geometry(attrs):
    """(kernel, stride, pad per axis as (begin, end), rounding) of an ONNX pooling."""
    pads = attrs["pads"] if attrs["auto_pad"] in ("NOTSET", "") else [0, 0, 0, 0]
    return (tuple(attrs["kernel_shape"]), tuple(attrs["strides"]), ((pads[0], pads[2]), (pads[1], pads[3])),
            "ceil" if attrs["ceil_mode"] else "floor")


def _window(attrs):
    """(largest kernel side, largest stride, largest pad before the first pixel): LayerType.window."""
    kernel, stride, pads, _ = _geometry(attrs)
    return max(kernel), max(stride), max(begin for begin, _ in pads)


def _pool_type(op_type, op, extra, keywords):
    """keywords(attrs) -> the op's own keyword arguments (max pool: dilation; average: count_include_pad)."""
    def run(attrs, args):
        kernel, stride, pads, rounding = _geometry(attrs)
        y, cache = op.forward(args[0], kernel, stride, pads, rounding, **keywords(attrs))
        return [y], cache

    def infer(attrs, ins):
        kernel, stride, pads, rounding = _geometry(attrs)
        dilation = tuple(attrs.get("dilations", (1, 1)))
        return [Info(ins[0].shape[:2] + tuple(output_hw(ins[0].shape, kernel, stride, pads, rounding, dilation)))]

    return onnx_type(op_type, infer, run, lambda attrs, dys, cache: [op.backward(dys[0], cache)],
                     attrs=checked(_pool_fields(extra), op_type), keeps_output=False, role="pooling",
                     window=lambda p: _window(p["attrs"]), per_picture=each_picture)


def _full_pads(pads, axes, rank):
    """ONNX's pads [begins..., ends...] over all axes; from opset 18 they may list the given axes only."""
    pads = [int(p) for p in np.asarray(pads).reshape(-1)]
    if axes is None:
        return pads
    axes, full = [int(a) % rank for a in np.asarray(axes).reshape(-1)], [0] * (2 * rank)
    for k, axis in enumerate(axes):
        full[axis], full[rank + axis] = pads[k], pads[len(axes) + k]
    return full


def _pad_run(attrs, args):
    value = 0.0 if len(args) < 3 or args[2] is None else float(as_numpy(args[2]).item())
    pads = _full_pads(args[1], args[3] if len(args) > 3 else None, np.ndim(args[0]))
    y, cache = pad.forward(args[0], pads, attrs["mode"], value)
    return [y], cache


def _pad_infer(attrs, ins):
    if ins[1].value is None or (len(ins) > 3 and ins[3] is not None and ins[3].value is None):
        raise ValueError("Pad's pads are computed from the image's values; minidream needs them from shapes")
    rank = len(ins[0].shape)
    pads = _full_pads(ins[1].value, ins[3].value if len(ins) > 3 and ins[3] is not None else None, rank)
    return [Info(tuple(n + pads[d] + pads[rank + d] for d, n in enumerate(ins[0].shape)))]


def _resize_size(attrs, x_shape, scales, sizes):
    """(OH, OW): from sizes, else from scales (floor(size * scale)); only the last two axes may change."""
    if sizes is not None and np.size(sizes):
        out = [int(s) for s in np.asarray(sizes)]
    else:
        out = [int(np.floor(n * float(s))) for n, s in zip(x_shape, np.asarray(as_numpy(scales)).reshape(-1))]
    if list(out[:2]) != list(x_shape[:2]):
        raise ValueError(f"Resize to {out} changes more than the last two axes of {tuple(x_shape)}")
    return tuple(out[2:])


def _resize_run(attrs, args):
    scales = args[2] if len(args) > 2 else None
    sizes = args[3] if len(args) > 3 else None
    given = (None, None) if sizes is not None and np.size(sizes) else tuple(float(s) for s in np.asarray(
        as_numpy(scales)).reshape(-1)[2:])  # the coordinates follow the scales given, not the sizes' ratio
    y, cache = resize.forward(args[0], _resize_size(attrs, args[0].shape, scales, sizes), attrs["mode"],
                              attrs["coordinate_transformation_mode"], attrs["nearest_mode"], given)
    return [y], cache


def _resize_infer(attrs, ins):
    scales = ins[2] if len(ins) > 2 else None
    sizes = ins[3] if len(ins) > 3 else None
    known = [None if i is None else i.value for i in (scales, sizes)]
    if all(v is None for v in known):
        raise ValueError("Resize's scales or sizes are computed from the image's values; minidream needs them known")
    return [Info(ins[0].shape[:2] + _resize_size(attrs, ins[0].shape, *known))]


def _text(name, default):
    def read(raw):
        value = raw.get(name, default)
        return value.decode() if isinstance(value, bytes) else str(value)
    return read


TYPES = [
    _pool_type("MaxPool", max_pool, {"dilations": lambda raw: ints(raw.get("dilations", [1, 1])),
                                     "storage_order": lambda raw: int(raw.get("storage_order", 0))},
               lambda attrs: {"dilation": tuple(attrs["dilations"])}),
    _pool_type("AveragePool", avg_pool, {"count_include_pad": lambda raw: bool(raw.get("count_include_pad", 0))},
               lambda attrs: {"count_include_pad": attrs["count_include_pad"]}),
    onnx_type("GlobalMaxPool", lambda attrs, ins: [Info(ins[0].shape[:2] + (1,) * (len(ins[0].shape) - 2))],
              lambda attrs, args: one_output(global_max_pool.forward(args[0])),
              lambda attrs, dys, cache: [global_max_pool.backward(dys[0], cache)], attrs=checked({}, "GlobalMaxPool"),
              keeps_output=False, window=lambda p: WHOLE_INPUT, per_picture=each_picture),
    onnx_type("Pad", _pad_infer, _pad_run, lambda attrs, dys, cache: [pad.backward(dys[0], cache), None, None, None],
              attrs=checked({"mode": _text("mode", "constant")}, "Pad"), keeps_output=False),
    onnx_type("Resize", _resize_infer, _resize_run,
              lambda attrs, dys, cache: [resize.backward(dys[0], cache), None, None, None],
              attrs=checked({"mode": _text("mode", "nearest"),
                             "coordinate_transformation_mode": _text("coordinate_transformation_mode", "half_pixel"),
                             "nearest_mode": _text("nearest_mode", "round_prefer_floor"),
                             "cubic_coeff_a": lambda raw: float(raw.get("cubic_coeff_a", -0.75)),
                             "exclude_outside": lambda raw: int(raw.get("exclude_outside", 0)),
                             "extrapolation_value": lambda raw: float(raw.get("extrapolation_value", 0.0))},
                            "Resize"), keeps_output=False),
]
