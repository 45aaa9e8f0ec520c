"""ONNX nodes that are exactly a Caffe layer type, written as that type (see nodes.py for why).

Each handler takes (builder, node) and returns True when it wrote the node as Caffe specs, False to leave it to
the "onnx.<Op>" form. Geometry rules compared: ONNX (onnx/onnx docs/Operators.md) against Caffe's
(minidream/engine/ops/pool_shape.py, the Convolution and Pooling layer types).
"""
import numpy as np

from minidream.errors import OnnxModelError


def _refuse(node, why):
    raise OnnxModelError(f"node {node.name or node.outputs[0]!r} ({node.op_type}): {why}")


def _weight(b, node, k, what):
    if len(node.inputs) <= k or node.inputs[k] == "":
        return None
    if not b.is_constant(node.inputs[k]):
        _refuse(node, f"its {what} is computed while the model runs; minidream needs it stored in the file")
    return b.constant(node.inputs[k])


def _pads(node, spatial, kernel, strides, dilations):
    """(begin, end) pads per spatial axis, auto_pad resolved where it does not depend on the input size."""
    attrs = node.attributes
    auto = attrs.get("auto_pad", "NOTSET")
    auto = auto.decode() if isinstance(auto, bytes) else auto
    if auto in ("NOTSET", ""):
        pads = list(attrs.get("pads", [0] * 2 * spatial))
        return pads[:spatial], pads[spatial:]
    if auto == "VALID":
        return [0] * spatial, [0] * spatial
    if any(s != 1 for s in strides):
        _refuse(node, f"auto_pad {auto} with strides {list(strides)} pads by the input's size; re-export it with "
                      "explicit pads (tf2onnx and torch.onnx write them)")
    total = [(k - 1) * d for k, d in zip(kernel, dilations)]
    small = [t // 2 for t in total]
    big = [t - s for t, s in zip(total, small)]
    return (big, small) if auto == "SAME_LOWER" else (small, big)


def conv(b, node):
    w = _weight(b, node, 1, "weight")
    if w is None or w.ndim != 4:
        _refuse(node, "only 2-D convolutions (4-D weights) are supported")
    attrs = node.attributes
    strides, dilations = list(attrs.get("strides", [1, 1])), list(attrs.get("dilations", [1, 1]))
    begin, end = _pads(node, 2, w.shape[2:], strides, dilations)
    x = node.inputs[0]
    if begin != end:  # Caffe pads symmetrically: pad first, explicitly
        x = _explicit_pad(b, node, x, begin, end)
        begin = [0, 0]
    bias = _weight(b, node, 2, "bias")
    params = {"num_output": int(w.shape[0]), "kernel_size": list(w.shape[2:]), "stride": strides, "pad": begin,
              "group": int(attrs.get("group", 1)), "bias_term": bias is not None, "dilation": dilations}
    b.add(node, "Convolution", [x], node.outputs, params, [w] + ([bias] if bias is not None else []))
    return True


def conv_transpose(b, node):
    """ConvTranspose as Caffe's Deconvolution (weights (C_in, C_out/G, KH, KW) alike), where their output sizes agree:
    symmetric pads, no output_padding or output_shape, no dilation."""
    w = _weight(b, node, 1, "weight")
    attrs = node.attributes
    strides, dilations = list(attrs.get("strides", [1, 1])), list(attrs.get("dilations", [1, 1]))
    if w is None or w.ndim != 4:
        _refuse(node, "only 2-D transposed convolutions (4-D weights) are supported")
    begin, end = _pads(node, 2, w.shape[2:], strides, dilations)
    if begin != end or dilations != [1, 1] or any(attrs.get("output_padding", [0, 0])) or "output_shape" in attrs:
        _refuse(node, "only symmetric pads without output_padding, output_shape or dilation are supported (Caffe's "
                      "Deconvolution); re-export with padding=k//2-style symmetric pads")
    bias, group = _weight(b, node, 2, "bias"), int(attrs.get("group", 1))
    params = {"num_output": int(w.shape[1]) * group, "kernel_size": list(w.shape[2:]), "stride": strides,
              "pad": begin, "group": group, "bias_term": bias is not None}
    b.add(node, "Deconvolution", [node.inputs[0]], node.outputs, params, [w] + ([bias] if bias is not None else []))
    return True


def _explicit_pad(b, node, x, begin, end):
    """An ONNX Pad of x (N, C, H, W) by begin/end rows and columns, before a convolution that pads unevenly."""
    pads = [0, 0] + list(begin) + [0, 0] + list(end)
    top = f"{node.outputs[0]}/pad"
    b.add(node, "onnx.Pad", [x], [top], {"args": [["bottom", 0], ["const", pads]], "attrs": {"mode": "constant"},
                                         "weight_shapes": []}, alias=False)
    return top


def batch_norm(b, node):
    scale, bias, mean, var = (_weight(b, node, k, what) for k, what in
                              ((1, "scale"), (2, "bias"), (3, "mean"), (4, "variance")))
    if node.attributes.get("training_mode", 0):
        _refuse(node, "training_mode=1: export the model in eval mode (model.eval())")
    out = node.outputs[0]
    stats = f"{out}/stats"
    b.add(node, "BatchNorm", [node.inputs[0]], [stats],
          {"use_global_stats": True, "eps": float(node.attributes.get("epsilon", 1e-5))},
          [mean, var, np.ones(1, np.float32)], alias=False)
    b.add(node, "Scale", [stats], [out], {"axis": 1, "num_axes": 1, "bias_term": True}, [scale, bias])
    return True


def relu(b, node):
    slope = float(node.attributes.get("alpha", 0.01)) if node.op_type == "LeakyRelu" else 0.0
    b.add(node, "ReLU", [node.inputs[0]], node.outputs, {"negative_slope": slope})
    return True


def activation(caffe_type):
    def handler(b, node):
        b.add(node, caffe_type, [node.inputs[0]], node.outputs, {})
        return True
    return handler


def prelu(b, node):
    """PRelu with one slope, or one per channel: a slope (C, 1, 1) as PyTorch writes it. ONNX aligns the slope's
    shape with x's last axes, so a slope (C,) is per column, not per channel: refused, as any other layout."""
    slope, shape = _weight(b, node, 1, "slope"), b.shape(node.inputs[0])
    aligned = (1,) * (len(shape) - slope.ndim) + slope.shape
    if slope.size != 1 and (len(shape) < 2 or aligned != (1, shape[1]) + (1,) * (len(shape) - 2)):
        _refuse(node, f"its slope of shape {slope.shape} varies along other axes of its input {shape} than the "
                      "channels; minidream's PReLU has one slope, or one per channel (C, 1, 1)")
    b.add(node, "PReLU", [node.inputs[0]], node.outputs, {"channel_shared": slope.size == 1}, [slope.reshape(-1)])
    return True


def pool(b, node):
    """MaxPool / AveragePool with Caffe's geometry at every input size (see caffe_geometry), as Caffe's Pooling."""
    attrs, x = node.attributes, node.inputs[0]
    if len(b.shape(x)) != 4 or list(attrs.get("dilations", [1, 1])) != [1, 1]:
        return False
    kernel, strides = list(attrs["kernel_shape"]), list(attrs.get("strides", [1, 1]))
    begin, end = _pads(node, 2, kernel, strides, [1, 1])
    average = node.op_type == "AveragePool"
    if not caffe_geometry(kernel, strides, begin, end, bool(attrs.get("ceil_mode", 0)),
                          average and not attrs.get("count_include_pad", 0)):
        return False
    b.add(node, "Pooling", [x], node.outputs[:1], {"pool": "AVE" if average else "MAX", "kernel_size": kernel,
                                                   "stride": strides, "pad": begin, "global_pooling": False})
    return True


def caffe_geometry(kernel, strides, begin, end, ceil_mode, excludes_pad):
    """Whether ONNX's pooling windows and divisors equal Caffe's at every input size: symmetric pads; the same
    output size (ceil mode, or stride 1 where floor and ceil agree; ONNX drops a last window starting past the
    input and left padding, Caffe does so only when padded — the same unless the stride exceeds the kernel); for
    averages counting only real pixels, no padding (Caffe's divisor counts the padding)."""
    if begin != end or (excludes_pad and any(begin)):
        return False
    if not ceil_mode and any(s != 1 for s in strides):
        return False
    return all(p > 0 or s <= k for p, s, k in zip(begin, strides, kernel))


def global_pool(b, node):
    if len(b.shape(node.inputs[0])) != 4:
        return False
    kind = "AVE" if node.op_type == "GlobalAveragePool" else "MAX"
    b.add(node, "Pooling", [node.inputs[0]], node.outputs, {"pool": kind, "kernel_size": [1, 1], "stride": [1, 1],
                                                            "pad": [0, 0], "global_pooling": True})
    return True


def gemm(b, node):
    """A classifier's Gemm (x (N, K) @ W^T + b, W stored) as InnerProduct: the dream's class objectives and the
    classifier head read it."""
    attrs = node.attributes
    if (attrs.get("transA", 0) or float(attrs.get("alpha", 1.0)) != 1.0 or float(attrs.get("beta", 1.0)) != 1.0
            or b.is_constant(node.inputs[0]) or len(b.shape(node.inputs[0])) != 2 or not b.is_constant(node.inputs[1])):
        return False
    w = b.constant(node.inputs[1])
    w = w if attrs.get("transB", 0) else w.T
    bias = _weight(b, node, 2, "bias")
    if bias is not None and bias.shape != (w.shape[0],):
        return False
    b.add(node, "InnerProduct", [node.inputs[0]], node.outputs, {"num_output": int(w.shape[0]),
                                                                  "bias_term": bias is not None},
          [w] + ([bias] if bias is not None else []))
    return True


def flatten(b, node):
    if int(node.attributes.get("axis", 1)) != 1 or len(b.shape(node.inputs[0])) < 2:
        return False
    b.add(node, "Flatten", [node.inputs[0]], node.outputs, {"axis": 1, "end_axis": -1})
    return True


def concat(b, node):
    if any(b.is_constant(x) or b.tensor(x) in b.values for x in node.inputs):
        return False  # constants or shape arithmetic: the onnx form computes those
    axis = int(node.attributes["axis"]) % len(b.shape(node.inputs[0]))
    b.add(node, "Concat", list(node.inputs), node.outputs, {"axis": axis})
    return True


def softmax(b, node):
    if b.tensor(node.inputs[0]) in b.values:
        return False
    b.add(node, "Softmax", [node.inputs[0]], node.outputs, {"axis": int(node.attributes.get("axis", -1))})
    return True


def eltwise(b, node):
    """Add / Mul of two network tensors of one shape (residual sums): Caffe's Eltwise."""
    a, c = node.inputs
    if b.is_constant(a) or b.is_constant(c) or b.tensor(a) in b.values or b.shape(a) != b.shape(c):
        return False
    b.add(node, "Eltwise", [a, c], node.outputs, {"operation": "SUM" if node.op_type == "Add" else "PROD"})
    return True


def spatial_mean(b, node):
    """ReduceMean / ReduceMax over the two spatial axes of a 4-D map, kept (the dynamo exporter's global pooling):
    Caffe's global Pooling, which a classifier head slides over larger maps."""
    x = node.inputs[0]
    if len(b.shape(x)) != 4 or not node.attributes.get("keepdims", 1):
        return False
    axes = node.attributes.get("axes")
    if axes is None and len(node.inputs) > 1 and node.inputs[1] and b.is_constant(node.inputs[1]):
        axes = b.constant(node.inputs[1]).reshape(-1).tolist()
    if axes is None or sorted(int(a) % 4 for a in axes) != [2, 3]:
        return False
    kind = "AVE" if node.op_type == "ReduceMean" else "MAX"
    b.add(node, "Pooling", [x], node.outputs, {"pool": kind, "kernel_size": [1, 1], "stride": [1, 1], "pad": [0, 0],
                                               "global_pooling": True})
    return True


def pooled_to_vector(b, node):
    """A Reshape of a pooled map (N, C, 1, 1) to (N, C) (a view, before the classifier) as Caffe's Flatten, which
    holds for any batch and which a classifier head passes over."""
    x, target = node.inputs[0], node.inputs[1]
    shape = b.shape(x)
    if len(shape) != 4 or shape[2:] != (1, 1) or not b.is_constant(target):
        return False
    dims = b.constant(target).reshape(-1).tolist()
    if len(dims) != 2 or dims[1] not in (shape[1], -1) or dims[0] not in (shape[0], -1, 0):
        return False
    b.add(node, "Flatten", [x], node.outputs, {"axis": 1, "end_axis": -1})
    return True


HANDLERS = {"Conv": conv, "ConvTranspose": conv_transpose, "BatchNormalization": batch_norm, "Relu": relu,
            "LeakyRelu": relu, "Sigmoid": activation("Sigmoid"), "Tanh": activation("TanH"), "PRelu": prelu, "MaxPool": pool,
            "AveragePool": pool, "GlobalAveragePool": global_pool, "GlobalMaxPool": global_pool, "Gemm": gemm,
            "Flatten": flatten, "Concat": concat, "Softmax": softmax, "Add": eltwise, "Mul": eltwise,
            "ReduceMean": spatial_mean, "ReduceMax": spatial_mean, "Reshape": pooled_to_vector}
