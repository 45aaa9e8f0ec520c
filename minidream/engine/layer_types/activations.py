"""Elementwise layer types with no weights: ELU, TanH, Sigmoid, AbsVal, Power, BNLL — Caffe's rules, once.

Defaults from BVLC/caffe src/caffe/proto/caffe.proto; formulas in each op's docstring (minidream/engine/ops/).
"""
from minidream.engine.layer_types.base import LayerType, each_picture, f32, same_shape
from minidream.engine.ops import absval, bnll, elu, power, sigmoid, tanh


def _elementwise(name, op, normalize, keeps_output):
    """A one-in, one-out type whose op takes the normalized params as keyword arguments."""
    def forward(p, weights, inputs, ctx):
        y, cache = op.forward(inputs[0], **p)
        return [y], cache

    def backward(p, weights, dys, cache, param_grads):
        return [op.backward(dys[0], cache)], None

    return LayerType(name, normalize, same_shape, forward, backward, output_in_cache=keeps_output,
                     per_picture=each_picture)


def _no_params(raw, name):
    return {}


ELU = _elementwise("ELU", elu, lambda raw, name: {"alpha": f32(raw.get("alpha", 1.0))}, True)  # cache: x, y
TANH = _elementwise("TanH", tanh, _no_params, True)  # cache: y
SIGMOID = _elementwise("Sigmoid", sigmoid, _no_params, True)  # cache: y
ABSVAL = _elementwise("AbsVal", absval, _no_params, False)  # cache: x
BNLL = _elementwise("BNLL", bnll, _no_params, False)  # cache: x
# y = (shift + scale * x) ^ power, defaults power 1, scale 1, shift 0 (PowerParameter)
POWER = _elementwise("Power", power, lambda raw, name: {"power": f32(raw.get("power", 1.0)),
                                                        "scale": f32(raw.get("scale", 1.0)),
                                                        "shift": f32(raw.get("shift", 0.0))}, False)  # cache: x

TYPES = [ELU, TANH, SIGMOID, ABSVAL, POWER, BNLL]
