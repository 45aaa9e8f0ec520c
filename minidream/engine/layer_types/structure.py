"""Layer types that move data around: Flatten, Reshape, Slice, Crop, and Deconvolution — Caffe's rules, once.

Rules from BVLC/caffe src/caffe/proto/caffe.proto (defaults) and src/caffe/layers/*_layer.cpp (shapes). Flatten,
Reshape, Slice and Crop return views of their input, so their outputs count as kept (output_in_cache): an
in-place ReLU after them would overwrite their producer's output.
"""
from minidream.engine.layer_types.base import LayerType, SpecError, each_picture, past_batch_axis
from minidream.engine.layer_types.core import conv_normalize, weighted_backward
from minidream.engine.ops import crop, deconvolution, flatten, reshape
from minidream.engine.ops import slice as slice_op
from minidream.engine.ops.im2col import check_groups


def _no_weights(op):
    def backward(p, weights, dys, cache, param_grads):
        dx = op.backward(dys if len(dys) > 1 else dys[0], cache)
        return (list(dx) if isinstance(dx, (list, tuple)) else [dx]), None
    return backward


# ---------------------------------------------------------------- Flatten
def _flatten_forward(p, weights, inputs, ctx):
    y, cache = flatten.forward(inputs[0], p["axis"], p["end_axis"])
    return [y], cache


FLATTEN = LayerType("Flatten", lambda raw, name: {"axis": int(raw.get("axis", 1)),
                                                  "end_axis": int(raw.get("end_axis", -1))},
                    lambda p, s: [flatten.output_shape(s[0], p["axis"], p["end_axis"])], _flatten_forward,
                    _no_weights(flatten), classifier_part=True, role="flatten", per_picture=past_batch_axis)


# ---------------------------------------------------------------- Reshape
def _reshape_normalize(raw, name):
    shape = raw.get("shape", {})
    dims = shape.get("dim", []) if isinstance(shape, dict) else shape  # a BlobShape, or the .h5's plain list
    return {"shape": [int(d) for d in dims], "axis": int(raw.get("axis", 0)), "num_axes": int(raw.get("num_axes", -1))}


def _reshape_forward(p, weights, inputs, ctx):
    y, cache = reshape.forward(inputs[0], p["shape"], p["axis"], p["num_axes"])
    return [y], cache


RESHAPE = LayerType("Reshape", _reshape_normalize,
                    lambda p, s: [reshape.output_shape(s[0], p["shape"], p["axis"], p["num_axes"])],
                    _reshape_forward, _no_weights(reshape))


# ---------------------------------------------------------------- Slice (several tops)
def _slice_normalize(raw, name):
    # Caffe: axis wins over the deprecated slice_dim (a non-negative axis); default axis 1. num_tops is the
    # spec's top count (minidream.engine.graph.normalized puts it in): with slice_point there must be one more top.
    axis = raw["axis"] if "axis" in raw else raw.get("slice_dim", 1)
    points, num_tops = [int(v) for v in raw.get("slice_point", [])], int(raw.get("num_tops", 1))
    if points and len(points) + 1 != num_tops:
        raise SpecError(f"layer {name!r}: {len(points)} slice points make {len(points) + 1} outputs, "
                        f"but the layer has {num_tops} tops")
    return {"axis": int(axis), "slice_point": points, "num_tops": num_tops}


def _slice_forward(p, weights, inputs, ctx):
    return slice_op.forward(inputs[0], p["num_tops"], p["axis"], p["slice_point"])


SLICE = LayerType("Slice", _slice_normalize,
                  lambda p, s: slice_op.output_shape(s[0], p["num_tops"], p["axis"], p["slice_point"]),
                  _slice_forward, _no_weights(slice_op), tops=(1, None))


# ---------------------------------------------------------------- Crop (bottom 1 gives the size)
def _crop_forward(p, weights, inputs, ctx):
    y, cache = crop.forward(inputs[0], inputs[1], p["axis"], p["offset"])
    return [y], cache


CROP = LayerType("Crop", lambda raw, name: {"axis": int(raw.get("axis", 2)),
                                            "offset": [int(v) for v in raw.get("offset", [])]},
                 lambda p, s: [crop.output_shape(s[0], s[1], p["axis"], p["offset"])], _crop_forward,
                 _no_weights(crop), bottoms=(2, 2))


# ---------------------------------------------------------------- Deconvolution
def _deconv_weight_shape(p, in_shapes):
    """Caffe's deconvolution weights: (C_in, C_out/G, KH, KW) — input channels first (deconv_layer.cpp)."""
    channels = in_shapes[0][1]
    check_groups(channels, p["group"], "input channels")
    return (channels, p["num_output"] // p["group"], *p["kernel_size"])


def _deconv_params(p, in_shapes):
    w = _deconv_weight_shape(p, in_shapes)
    return [w, (p["num_output"],)] if p["bias_term"] else [w]


def _deconv_forward(p, weights, inputs, ctx):
    b = weights[1] if p["bias_term"] else None
    y, cache = deconvolution.forward(inputs[0], weights[0], b, p["stride"], p["pad"], p["group"])
    return [y], cache


def _deconv_normalize(raw, name):
    p = conv_normalize(raw, name)
    if p.pop("dilation") != [1, 1]:
        raise SpecError(f"layer {name!r}: a dilated Deconvolution is not supported by minidream")
    return p


DECONVOLUTION = LayerType(
    "Deconvolution", _deconv_normalize,
    lambda p, s: [deconvolution.output_shape(s[0], _deconv_weight_shape(p, s), p["stride"], p["pad"], p["group"])],
    _deconv_forward, weighted_backward(deconvolution), param_shapes=_deconv_params, output_in_cache=False,
    role="deconvolution", per_picture=each_picture)

TYPES = [FLATTEN, RESHAPE, SLICE, CROP, DECONVOLUTION]
