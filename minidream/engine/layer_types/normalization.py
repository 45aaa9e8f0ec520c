"""Layer types of the residual and mobile nets: BatchNorm, Scale, Bias, Eltwise, PReLU — Caffe's rules, once.

Rules from BVLC/caffe src/caffe/proto/caffe.proto (defaults) and src/caffe/layers/*_layer.cpp (shapes, blobs).
"""
from minidream.engine.layer_types.base import LayerType, SpecError, each_picture, enum, f32, past_batch_axis, same_shape
from minidream.engine.ops import batch_norm, bias, eltwise, prelu, scale


# ---------------------------------------------------------------- BatchNorm
def _bn_normalize(raw, name):
    # use_global_stats unset (None) means Caffe's phase rule: statistics from the blobs in the TEST phase (a
    # forward with train=False, minidream's default), from the batch in TRAIN (train=True, updating the blobs).
    use_global = raw.get("use_global_stats")
    return {"use_global_stats": None if use_global is None else bool(use_global),
            "moving_average_fraction": f32(raw.get("moving_average_fraction", 0.999)),
            "eps": f32(raw.get("eps", 1e-5))}


def _bn_params(p, in_shapes):
    c = in_shapes[0][1]
    return [(c,), (c,), (1,)]  # running mean SUM, running variance SUM, moving-average factor s


def _bn_forward(p, weights, inputs, ctx):
    use_global = (not ctx.train) if p["use_global_stats"] is None else p["use_global_stats"]
    y, cache = batch_norm.forward(inputs[0], *weights, eps=p["eps"], use_global_stats=use_global,
                                  moving_average_fraction=p["moving_average_fraction"])
    return [y], cache


def _bn_backward(p, weights, dys, cache, param_grads):
    # Caffe fixes lr_mult 0 on the three blobs (they are statistics, not learned): no gradients, so SGD skips them.
    return [batch_norm.backward(dys[0], cache)], None


BATCH_NORM = LayerType("BatchNorm", _bn_normalize, same_shape, _bn_forward, _bn_backward, param_shapes=_bn_params,
                       role="batch_norm", initial_values=(0.0, 0.0, 0.0),  # statistics: training fills them in
                       # the stored statistics, unless the layer is forced to batch statistics
                       per_channel_affine=lambda p, n_bottoms: p["use_global_stats"] is not False,
                       affine_terms=lambda p, weights: batch_norm.affine(*weights, eps=p["eps"]),
                       # dreams never train, so it reads the stored statistics unless forced to the batch's
                       per_picture=lambda p: p["use_global_stats"] is not False)


# ---------------------------------------------------------------- Scale and Bias (one- and two-bottom forms)
def _axes_normalize(default_bias_term):
    def normalize(raw, name):
        num_axes = int(raw.get("num_axes", 1))
        if num_axes < -1:
            raise SpecError(f"layer {name!r}: num_axes must be >= -1, got {num_axes}")
        p = {"axis": int(raw.get("axis", 1)), "num_axes": num_axes}
        if default_bias_term is not None:
            p["bias_term"] = bool(raw.get("bias_term", default_bias_term))
        return p
    return normalize


def _operand_shape(p, in_shapes):
    """The learned blob's shape: x's axes [axis, axis + num_axes), or bottom 1's shape in the two-bottom form."""
    if len(in_shapes) == 2:
        bias.broadcast_shape(in_shapes[0], in_shapes[1], p["axis"])  # ValueError if bottom 1 does not fit
        return tuple(in_shapes[1])
    return bias.param_shape(in_shapes[0], p["axis"], p["num_axes"])


def _scale_params(p, in_shapes):
    shape = _operand_shape(p, in_shapes)
    gamma = [] if len(in_shapes) == 2 else [shape]  # two bottoms: gamma is bottom 1, only the bias is a blob
    return gamma + ([shape] if p["bias_term"] else [])


def _scale_forward(p, weights, inputs, ctx):
    two = len(inputs) == 2
    gamma = inputs[1] if two else weights[0]
    b = (weights[0] if two else weights[1]) if p["bias_term"] else None
    y, cache = scale.forward(inputs[0], gamma, b, p["axis"])
    return [y], cache


def _scale_backward(p, weights, dys, cache, param_grads):
    dx, dgamma, dbias = scale.backward(dys[0], cache)
    tail = [dbias] if p["bias_term"] else []
    if len(weights) == len(tail):  # two-bottom form: dgamma belongs to bottom 1
        return [dx, dgamma], (tail if param_grads else None)
    return [dx], ([dgamma] + tail if param_grads else None)


SCALE = LayerType("Scale", _axes_normalize(False), same_shape, _scale_forward, _scale_backward,
                  param_shapes=_scale_params, bottoms=(1, 2), output_in_cache=False, role="scale",
                  initial_values=(1.0, 0.0),  # Caffe's filler defaults: gamma 1, beta 0
                  # a learned per-channel gamma (one bottom, on the channel axis alone)
                  per_channel_affine=lambda p, n_bottoms: (n_bottoms == 1 and p["axis"] in (1, -3)
                                                           and p["num_axes"] == 1),
                  affine_terms=lambda p, weights: (weights[0], weights[1] if len(weights) > 1 else 0.0),
                  per_picture=past_batch_axis)


def _bias_forward(p, weights, inputs, ctx):
    y, cache = bias.forward(inputs[0], inputs[1] if len(inputs) == 2 else weights[0], p["axis"])
    return [y], cache


def _bias_backward(p, weights, dys, cache, param_grads):
    dx, db = bias.backward(dys[0], cache)
    if not weights:
        return [dx, db], None
    return [dx], ([db] if param_grads else None)


BIAS = LayerType("Bias", _axes_normalize(None), same_shape, _bias_forward, _bias_backward,
                 param_shapes=lambda p, s: [] if len(s) == 2 else [_operand_shape(p, s)], bottoms=(1, 2),
                 output_in_cache=False, per_picture=past_batch_axis)


# ---------------------------------------------------------------- Eltwise
def _eltwise_normalize(raw, name):
    operation = enum(raw, "operation", ("PROD", "SUM", "MAX"), "SUM", name)  # caffe.proto numbers PROD=0 SUM=1
    coeffs = [f32(c) for c in raw.get("coeff", [])]
    if coeffs and operation != "SUM":
        raise SpecError(f"layer {name!r}: Eltwise takes coefficients only for SUM, not {operation}")
    return {"operation": operation, "coeff": coeffs, "stable_prod_grad": bool(raw.get("stable_prod_grad", True))}


def _eltwise_shapes(p, in_shapes):
    if any(tuple(s) != tuple(in_shapes[0]) for s in in_shapes):
        raise ValueError(f"Eltwise inputs must share one shape, got {[tuple(s) for s in in_shapes]}")
    if p["coeff"] and len(p["coeff"]) != len(in_shapes):
        raise ValueError(f"Eltwise has {len(p['coeff'])} coefficients for {len(in_shapes)} inputs (one per input)")
    return [tuple(in_shapes[0])]


def _eltwise_forward(p, weights, inputs, ctx):
    y, cache = eltwise.forward(list(inputs), p["operation"], p["coeff"] or None, p["stable_prod_grad"])
    return [y], cache


ELTWISE = LayerType("Eltwise", _eltwise_normalize, _eltwise_shapes, _eltwise_forward,
                    lambda p, weights, dys, cache, param_grads: (eltwise.backward(dys[0], cache), None),
                    bottoms=(2, None), output_in_cache=lambda p: p["operation"] == "PROD",  # PROD's cache has y
                    per_picture=each_picture)


# ---------------------------------------------------------------- PReLU
def _prelu_params(p, in_shapes):
    # Caffe: one slope per channel, or with channel_shared a single slope (stored as a 0-d blob, count 1).
    return [(1,) if p["channel_shared"] else (in_shapes[0][1],)]


def _prelu_forward(p, weights, inputs, ctx):
    y, cache = prelu.forward(inputs[0], weights[0], p["channel_shared"])
    return [y], cache


def _prelu_backward(p, weights, dys, cache, param_grads):
    dx, dslope = prelu.backward(dys[0], cache)
    return [dx], ([dslope] if param_grads else None)


PRELU = LayerType("PReLU", lambda raw, name: {"channel_shared": bool(raw.get("channel_shared", False))},
                  same_shape, _prelu_forward, _prelu_backward, param_shapes=_prelu_params, output_in_cache=False,
                  per_picture=each_picture)

TYPES = [BATCH_NORM, SCALE, BIAS, ELTWISE, PRELU]
