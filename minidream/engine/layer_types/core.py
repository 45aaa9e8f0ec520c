"""The layer types of the BVLC reference nets (AlexNet, CaffeNet, GoogLeNet): Caffe's rules for each, once.

Rules from BVLC/caffe src/caffe/proto/caffe.proto (defaults) and src/caffe/layers/*_layer.cpp (shapes).
"""
import numpy as np

from minidream.engine.layer_types.base import (WHOLE_INPUT, LayerType, SpecError, check_axis, each_picture, enum,
                                               f32, kernel_window, pair, past_batch_axis, positive_int,
                                               same_shape)
from minidream.engine.ops import (avg_pool, concat, conv, dropout, im2col, inner_product, lrn, lrn_within_channel,
                                  max_pool, relu, softmax)
from minidream.engine.ops.axes import canonical_axis
from minidream.engine.ops.im2col import check_groups
from minidream.engine.ops.pool_shape import output_size as pool_output_size


# ---------------------------------------------------------------- Convolution
def conv_normalize(raw, name):
    check_axis(raw, "axis", name)
    num_output, group = positive_int(raw, "num_output", name), positive_int(raw, "group", name, 1)
    try:
        check_groups(num_output, group, "outputs (num_output)")
    except ValueError as exc:
        raise SpecError(f"layer {name!r}: {exc}") from None
    return {"num_output": num_output, "kernel_size": pair(raw, "kernel", name, None, "kernel_size"),
            "stride": pair(raw, "stride", name, 1), "pad": pair(raw, "pad", name, 0, allow_zero=True),
            "group": group, "bias_term": bool(raw.get("bias_term", True)),
            "dilation": pair(raw, "dilation", name, 1)}


def _conv_shapes(p, in_shapes):
    n, c, h, w = in_shapes[0]
    (kh, kw), (sh, sw), (ph, pw), (dh, dw) = p["kernel_size"], p["stride"], p["pad"], p["dilation"]
    kh, kw = (kh - 1) * dh + 1, (kw - 1) * dw + 1  # the dilated kernel's extent
    oh, ow = im2col.output_size(h, kh, sh, ph), im2col.output_size(w, kw, sw, pw)
    if oh < 1 or ow < 1:
        raise ValueError(f"its {kh}x{kw} kernel needs at least {kh - 2 * ph}x{kw - 2 * pw} pixels, gets {h}x{w}")
    return [(n, p["num_output"], oh, ow)]


def _conv_params(p, in_shapes):
    channels = in_shapes[0][1]
    check_groups(channels, p["group"], "input channels")
    w = (p["num_output"], channels // p["group"], *p["kernel_size"])
    return [w, (p["num_output"],)] if p["bias_term"] else [w]


def _conv_forward(p, weights, inputs, ctx):
    b = weights[1] if p["bias_term"] else None
    y, cache = conv.forward(inputs[0], weights[0], b, p["stride"], p["pad"], p["group"], p["dilation"])
    return [y], cache


def weighted_backward(op):
    def backward(p, weights, dys, cache, param_grads):
        dx, dw, db = op.backward(dys[0], cache, weight_grads=param_grads)
        return [dx], ([dw] + ([db] if p["bias_term"] else []) if param_grads else None)
    return backward


CONVOLUTION = LayerType("Convolution", conv_normalize, _conv_shapes, _conv_forward, weighted_backward(conv),
                        param_shapes=_conv_params, output_in_cache=False, role="convolution", per_picture=each_picture,
                        window=lambda p: ((max(p["kernel_size"]) - 1) * max(p["dilation"]) + 1, max(p["stride"]),
                                                         max(p["pad"])))


# ---------------------------------------------------------------- Pooling (MAX, AVE)
def _pool_normalize(raw, name):
    method = enum(raw, "pool", ("MAX", "AVE", "STOCHASTIC"), "MAX", name)
    if method == "STOCHASTIC":
        raise SpecError(f"layer {name!r}: STOCHASTIC pooling is not supported by minidream (MAX, AVE)")
    global_pooling = bool(raw.get("global_pooling", False))
    # Global pooling takes its window from the input; Caffe ignores any kernel given.
    kernel = [0, 0] if global_pooling else pair(raw, "kernel", name, None, "kernel_size")
    p = {"pool": method, "kernel_size": kernel, "stride": pair(raw, "stride", name, 1),
         "pad": pair(raw, "pad", name, 0, allow_zero=True), "global_pooling": global_pooling}
    if not global_pooling and any(pad >= k for pad, k in zip(p["pad"], kernel)):
        raise SpecError(f"layer {name!r}: pad {p['pad']} must be smaller than the kernel {kernel} (Caffe's rule)")
    return p


def pool_geometry(p, x_shape):
    """(kernel, stride, pad) of a Pooling layer over an input shape (global pooling: the whole map)."""
    if p["global_pooling"]:
        return tuple(x_shape[2:]), (1, 1), (0, 0)
    return tuple(p["kernel_size"]), tuple(p["stride"]), tuple(p["pad"])


def _pool_shapes(p, in_shapes):
    n, c, h, w = in_shapes[0]
    (kh, kw), (sh, sw), (ph, pw) = pool_geometry(p, in_shapes[0])
    return [(n, c, pool_output_size(h, kh, sh, ph), pool_output_size(w, kw, sw, pw))]


def _pool_op(p):
    return max_pool if p["pool"] == "MAX" else avg_pool


def _pool_forward(p, weights, inputs, ctx):
    y, cache = _pool_op(p).forward(inputs[0], *pool_geometry(p, inputs[0].shape))
    return [y], cache


def _pool_backward(p, weights, dys, cache, param_grads):
    return [_pool_op(p).backward(dys[0], cache)], None


POOLING = LayerType("Pooling", _pool_normalize, _pool_shapes, _pool_forward, _pool_backward, output_in_cache=False,
                    role="pooling", window=lambda p: WHOLE_INPUT if p["global_pooling"] else kernel_window(p),
                    per_picture=each_picture)


# ---------------------------------------------------------------- LRN
def _lrn_normalize(raw, name):
    size = int(raw.get("local_size", 5))
    if size <= 0 or size % 2 == 0:
        raise SpecError(f"layer {name!r}: LRN local_size must be odd and positive, got {size}")
    region = enum(raw, "norm_region", ("ACROSS_CHANNELS", "WITHIN_CHANNEL"), "ACROSS_CHANNELS", name)
    return {"local_size": size, "alpha": f32(raw.get("alpha", 1.0)), "beta": f32(raw.get("beta", 0.75)),
            "k": f32(raw.get("k", 1.0)), "norm_region": region}


def _lrn_forward(p, weights, inputs, ctx):
    if p["norm_region"] == "WITHIN_CHANNEL":  # Caffe's composition ignores k (its Power shift is the constant 1)
        y, cache = lrn_within_channel.forward(inputs[0], p["local_size"], p["alpha"], p["beta"])
    else:
        y, cache = lrn.forward(inputs[0], p["local_size"], p["alpha"], p["beta"], p["k"])
    return [y], cache


def _lrn_backward(p, weights, dys, cache, param_grads):
    op = lrn_within_channel if p["norm_region"] == "WITHIN_CHANNEL" else lrn
    return [op.backward(dys[0], cache)], None


LRN = LayerType("LRN", _lrn_normalize, same_shape, _lrn_forward, _lrn_backward, per_picture=each_picture)


# ---------------------------------------------------------------- InnerProduct
def _ip_normalize(raw, name):
    check_axis(raw, "axis", name)
    return {"num_output": positive_int(raw, "num_output", name), "bias_term": bool(raw.get("bias_term", True))}


def _ip_params(p, in_shapes):
    w = (p["num_output"], int(np.prod(in_shapes[0][1:])))
    return [w, (p["num_output"],)] if p["bias_term"] else [w]


def _ip_forward(p, weights, inputs, ctx):
    y, cache = inner_product.forward(inputs[0], weights[0], weights[1] if p["bias_term"] else None)
    return [y], cache


INNER_PRODUCT = LayerType("InnerProduct", _ip_normalize, lambda p, s: [(s[0][0], p["num_output"])], _ip_forward,
                          weighted_backward(inner_product), param_shapes=_ip_params, output_in_cache=False,
                          classifier_part=True, role="fully_connected", window=lambda p: WHOLE_INPUT,
                          per_picture=each_picture)


# ---------------------------------------------------------------- ReLU, Dropout, Concat, Softmax
def _relu_forward(p, weights, inputs, ctx):
    y, cache = relu.forward(inputs[0], p["negative_slope"], out=inputs[0] if ctx.in_place else None)
    return [y], cache


RELU = LayerType("ReLU", lambda raw, name: {"negative_slope": f32(raw.get("negative_slope", 0.0))}, same_shape,
                 _relu_forward, lambda p, weights, dys, cache, param_grads: ([relu.backward(dys[0], cache)], None),
                 runs_in_place=True, classifier_part=True, per_picture=each_picture)


def _dropout_normalize(raw, name):
    ratio = f32(raw.get("dropout_ratio", 0.5))
    if not 0.0 <= ratio < 1.0:
        raise SpecError(f"layer {name!r}: dropout_ratio {ratio} outside [0, 1)")
    return {"dropout_ratio": ratio}


def _dropout_forward(p, weights, inputs, ctx):
    y, cache = dropout.forward(inputs[0], p["dropout_ratio"], ctx.train, ctx.rng)
    return [y], cache


DROPOUT = LayerType("Dropout", _dropout_normalize, same_shape, _dropout_forward,
                    lambda p, weights, dys, cache, param_grads: ([dropout.backward(dys[0], cache)], None),
                    classifier_part=True, role="dropout", per_picture=each_picture)


def _concat_shapes(p, in_shapes):
    axis = p["axis"]
    if any(len(s) != len(in_shapes[0]) or s[:axis] + s[axis + 1:] != in_shapes[0][:axis] + in_shapes[0][axis + 1:]
           for s in in_shapes):
        raise ValueError(f"its inputs differ outside axis {axis}: {[tuple(s) for s in in_shapes]}")
    out = list(in_shapes[0])
    out[axis] = sum(s[axis] for s in in_shapes)
    return [tuple(out)]


def _concat_forward(p, weights, inputs, ctx):
    y, cache = concat.forward(inputs, p["axis"])
    return [y], cache


def _concat_normalize(raw, name):
    return {"axis": int(raw["axis"] if "axis" in raw else raw.get("concat_dim", 1))}


CONCAT = LayerType("Concat", _concat_normalize, _concat_shapes, _concat_forward,
                   lambda p, weights, dys, cache, param_grads: (concat.backward(dys[0], cache), None),
                   bottoms=(1, None), output_in_cache=False, role="concat",
                   per_picture=past_batch_axis)


def _softmax_forward(p, weights, inputs, ctx):
    y, cache = softmax.forward(inputs[0], p["axis"])
    return [y], cache


def _softmax_shapes(p, in_shapes):
    canonical_axis(p["axis"], len(in_shapes[0]))  # Caffe refuses an axis outside the blob at setup
    return [tuple(in_shapes[0])]


SOFTMAX = LayerType("Softmax", lambda raw, name: {"axis": int(raw.get("axis", 1))}, _softmax_shapes, _softmax_forward,
                    lambda p, weights, dys, cache, param_grads: ([softmax.backward(dys[0], cache)], None),
                    classifier_part=True, role="softmax", per_picture=past_batch_axis)

TYPES = [CONVOLUTION, POOLING, LRN, INNER_PRODUCT, RELU, DROPOUT, CONCAT, SOFTMAX]
