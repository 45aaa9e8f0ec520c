"""Scale (Caffe "Scale"): multiply by a learned scale, or by a second input, broadcast from `axis` on; with
bias_term, also add a bias of the same shape (Caffe runs an internal Bias layer for it).

Shapes (src/caffe/layers/scale_layer.cpp, caffe.proto ScaleParameter):
    x, y (d0, ..., d_{n-1});  gamma.shape == x.shape[axis:axis + k] with k = gamma.ndim (default axis 1:
    gamma (C,) per channel, as after BatchNorm in ResNet); a 0-d gamma is a scalar and `axis` is ignored.
    One-bottom form: gamma is blob 0, of shape param_shape(x.shape, axis, num_axes) (num_axes default 1), the bias
    (bias_term) is blob 1 of the same shape. Two-bottom form: gamma is bottom[1] (num_axes = bottom[1]'s axes)
    and the bias, if any, is the layer's blob 0 of gamma's shape. forward/backward serve both forms.
Formula:  y = x * gamma[broadcast] (+ bias[broadcast])
Backward: dx = dy * gamma,  dgamma = sum over the axes outside [axis, axis + k) of dy * x,  dbias = that sum of dy.
          In the two-bottom form dgamma is the gradient of bottom[1].
Cache: (x, gamma, canonical axis, whether there is a bias).
"""
import numpy as np

from minidream.engine.ops import bias as bias_op

param_shape = bias_op.param_shape  # the same rule gives the learned scale blob's shape


def forward(x, gamma, bias=None, axis=1):
    axis, shape = bias_op.broadcast_shape(x.shape, gamma.shape, axis)
    y = x * gamma.reshape(shape)
    if bias is not None:
        if bias.shape != gamma.shape:
            raise ValueError(f"Scale's bias has shape {bias.shape} but its scale has {gamma.shape}; they must match")
        y += bias.reshape(shape)
    return y, (x, gamma, axis, bias is not None)


def backward(dy, cache):
    """Returns (dx, dgamma, dbias); dbias is None without a bias."""
    x, gamma, axis, has_bias = cache
    _, shape = bias_op.broadcast_shape(x.shape, gamma.shape, axis)
    dx = dy * gamma.reshape(shape)
    dgamma = bias_op.reduce_to(dy * x, gamma.shape, axis)
    dbias = bias_op.reduce_to(dy, gamma.shape, axis) if has_bias else None
    return dx, dgamma, dbias


def forward_naive(x, gamma, bias=None, axis=1):
    axis, _ = bias_op.broadcast_shape(x.shape, gamma.shape, axis)
    k = gamma.ndim
    y = np.empty_like(x)
    for i in np.ndindex(x.shape):
        p = i[axis:axis + k]
        y[i] = x[i] * gamma[p] + (bias[p] if bias is not None else 0)
    return y, (x, gamma, axis, bias is not None)


def backward_naive(dy, cache):
    x, gamma, axis, has_bias = cache
    k = gamma.ndim
    dx = np.empty_like(dy)
    dgamma, dbias = np.zeros_like(gamma), np.zeros_like(gamma)
    for i in np.ndindex(dy.shape):
        p = i[axis:axis + k]
        dx[i] = dy[i] * gamma[p]
        dgamma[p] += dy[i] * x[i]
        dbias[p] += dy[i]
    return dx, dgamma, dbias if has_bias else None
