"""One small ONNX graph per operator and per attribute combination that changes the math, converted by load_onnx:
forward against onnxruntime (float32), input gradient against float64 centered differences, and the form each
node took (Caffe's layer type where the math is the same, else onnx.<Op>)."""
import numpy as np
import pytest

from tests.weights_tools.onnx_graphs import check_graph, types, weight
from weights_tools.onnx.writer import make_node as node

F = np.float32


def case(nodes, form, initializers=None, id=None, **options):
    """A graph of `nodes` from "x" to "y" whose specs' types must be `form`; options go to check_graph."""
    return pytest.param(nodes, form, initializers or {}, options, id=id)


CONV_W = weight(4, 3, 3, 3)
BIAS4 = weight(4, seed=3)

CONV = [
    case([node("Conv", ["x", "w", "b"], ["y"], pads=[1, 1, 1, 1])], ["Convolution"], {"w": CONV_W, "b": BIAS4},
         id="conv-symmetric-pads"),
    case([node("Conv", ["x", "w", "b"], ["y"], pads=[0, 1, 1, 0])], ["onnx.Pad", "Convolution"],
         {"w": CONV_W, "b": BIAS4}, id="conv-uneven-pads"),
    case([node("Conv", ["x", "w", "b"], ["y"], pads=[1, 1, 1, 1], strides=[2, 2])], ["Convolution"],
         {"w": CONV_W, "b": BIAS4}, id="conv-stride-2"),
    case([node("ConvTranspose", ["x", "w", "b"], ["y"], strides=[2, 2], pads=[1, 1, 1, 1])], ["Deconvolution"],
         {"w": weight(3, 4, 4, 4), "b": BIAS4}, id="conv-transpose-stride-2"),
    case([node("ConvTranspose", ["x", "w"], ["y"], group=3)], ["Deconvolution"], {"w": weight(3, 2, 3, 3)},
         id="conv-transpose-group-no-bias"),
    case([node("Conv", ["x", "w"], ["y"], group=3, pads=[1, 0, 1, 0])], ["Convolution"], {"w": weight(6, 1, 3, 2)},
         id="conv-group-no-bias"),
    case([node("Conv", ["x", "w", "b"], ["y"], dilations=[2, 2], pads=[1, 2, 1, 2])], ["Convolution"],
         {"w": CONV_W, "b": BIAS4}, shape=(1, 3, 7, 8), id="conv-dilation"),
    case([node("Conv", ["x", "w", "b"], ["y"], auto_pad="VALID")], ["Convolution"], {"w": CONV_W, "b": BIAS4},
         id="conv-auto-pad-valid"),
    case([node("Conv", ["x", "w"], ["y"], auto_pad="SAME_UPPER")], ["onnx.Pad", "Convolution"],
         {"w": weight(4, 3, 2, 3)}, id="conv-same-upper-even-kernel"),
    case([node("Conv", ["x", "w"], ["y"], auto_pad="SAME_LOWER")], ["onnx.Pad", "Convolution"],
         {"w": weight(4, 3, 2, 3)}, id="conv-same-lower-even-kernel"),
]

ACTIVATIONS = [
    case([node("BatchNormalization", ["x", "s", "b", "m", "v"], ["y"], epsilon=1e-2)], ["BatchNorm", "Scale"],
         {"s": F([0.5, -2.0, 1.5]), "b": F([0.1, 0.2, -0.3]), "m": F([0.3, -0.2, 0.1]), "v": F([0.5, 2.0, 0.04])},
         id="batch-normalization"),
    case([node("Flatten", ["x"], ["f"]), node("BatchNormalization", ["f", "s", "b", "m", "v"], ["y"])],
         ["Flatten", "BatchNorm", "Scale"], {k: np.linspace(0.5, 1.5, 90).astype(F) for k in "sbmv"},
         id="batch-normalization-2d"),
    case([node("Relu", ["x"], ["y"])], ["ReLU"], id="relu"),
    case([node("LeakyRelu", ["x"], ["y"], alpha=0.3)], ["ReLU"], id="leaky-relu"),
    case([node("PRelu", ["x", "slope"], ["y"])], ["PReLU"], {"slope": F([0.1, -0.5, 2.0]).reshape(3, 1, 1)},
         id="prelu-per-channel"),
    case([node("PRelu", ["x", "slope"], ["y"])], ["PReLU"], {"slope": F([0.25])}, id="prelu-shared"),
    case([node("Sigmoid", ["x"], ["y"])], ["Sigmoid"], scale=6.0, id="sigmoid"),
    case([node("Tanh", ["x"], ["y"])], ["TanH"], scale=4.0, id="tanh"),
    case([node("Clip", ["x", "low", "high"], ["y"])], ["onnx.Clip"], {"low": F(-0.2), "high": F(0.3)},
         id="clip-bounds-as-inputs"),
    case([node("Clip", ["x", "", "high"], ["y"])], ["onnx.Clip"], {"high": F(0.1)}, id="clip-no-min"),
    case([node("HardSigmoid", ["x"], ["y"], alpha=0.3, beta=0.4)], ["onnx.HardSigmoid"], scale=8.0,
         id="hard-sigmoid"),
    case([node("HardSwish", ["x"], ["y"])], ["onnx.HardSwish"], scale=10.0, id="hard-swish"),
    case([node("Softplus", ["x"], ["y"])], ["onnx.Softplus"], scale=8.0, id="softplus"),
    case([node("Erf", ["x"], ["y"])], ["onnx.Erf"], scale=4.0, id="erf"),
    case([node("Gelu", ["x"], ["y"])], ["onnx.Gelu"], scale=6.0, opset=20, id="gelu"),
    case([node("Gelu", ["x"], ["y"], approximate="tanh")], ["onnx.Gelu"], scale=6.0, opset=20, id="gelu-tanh"),
    case([node("Sigmoid", ["x"], ["s"]), node("Sqrt", ["s"], ["y"])], ["Sigmoid", "onnx.Sqrt"], scale=4.0,
         id="sqrt"),
    case([node("Neg", ["x"], ["y"])], ["onnx.Neg"], id="neg"),
]

PER_CHANNEL = F([0.5, -1.5, 2.0]).reshape(3, 1, 1)
ARITHMETIC = [
    case([node(op, ["x", "c"], ["y"])], [f"onnx.{op}"], {"c": PER_CHANNEL}, id=f"{op.lower()}-broadcast-constant")
    for op in ("Add", "Sub", "Mul")
] + [
    case([node("Div", ["x", "c"], ["y"])], ["onnx.Div"], {"c": PER_CHANNEL}, id="div-by-constant"),
    case([node("Sigmoid", ["x"], ["s"]), node("Div", ["x", "s"], ["y"])], ["Sigmoid", "onnx.Div"], scale=3.0,
         id="div-same-shape"),
    case([node("Sigmoid", ["x"], ["s"]), node("Pow", ["s", "e"], ["y"])], ["Sigmoid", "onnx.Pow"],
         {"e": F([0.5, 1.0, 2.0, 3.0, 1.5, 2.5])}, scale=4.0, id="pow-broadcast-exponent"),
    case([node("Tanh", ["x"], ["t"]), node("Add", ["x", "t"], ["y"])], ["TanH", "Eltwise"], id="add-same-shape"),
    case([node("Tanh", ["x"], ["t"]), node("Mul", ["x", "t"], ["y"])], ["TanH", "Eltwise"], id="mul-same-shape"),
    case([node("Tanh", ["x"], ["t"]), node("Sub", ["x", "t"], ["y"])], ["TanH", "onnx.Sub"], id="sub-same-shape"),
    case([node("ReduceMean", ["x"], ["m"], axes=[1]), node("Add", ["x", "m"], ["y"])],
         ["onnx.ReduceMean", "onnx.Add"], id="add-two-tensors-broadcast"),
    case([node("Constant", [], ["c"], value=PER_CHANNEL), node("Mul", ["x", "c"], ["y"])], ["onnx.Mul"],
         id="constant-node"),
]

LINEAR = [
    case([node("MatMul", ["x", "w"], ["y"])], ["onnx.MatMul"], {"w": weight(6, 4)}, id="matmul-4d-by-weight"),
    case([node("Flatten", ["x"], ["f"]), node("MatMul", ["f", "w"], ["y"])], ["Flatten", "onnx.MatMul"],
         {"w": weight(90, 4)}, id="matmul-2d"),
    case([node("Reshape", ["x", "s"], ["r"]), node("Transpose", ["r"], ["t"], perm=[0, 2, 1]),
          node("MatMul", ["r", "t"], ["y"])], ["onnx.Reshape", "onnx.Transpose", "onnx.MatMul"],
         {"s": np.array([3, 5, 6])}, id="matmul-batched-3d"),
    case([node("Flatten", ["x"], ["f"]), node("Gemm", ["f", "w", "b"], ["y"], transB=1)],
         ["Flatten", "InnerProduct"], {"w": weight(4, 90), "b": BIAS4}, id="gemm-classifier"),
    case([node("Flatten", ["x"], ["f"]), node("Gemm", ["f", "w"], ["y"])], ["Flatten", "InnerProduct"],
         {"w": weight(90, 4)}, id="gemm-classifier-untransposed"),
    case([node("Reshape", ["x", "s"], ["r"]), node("Gemm", ["r", "w", "c"], ["y"], transA=1, alpha=0.5, beta=2.0)],
         ["onnx.Reshape", "onnx.Gemm"], {"s": np.array([18, 5]), "w": weight(18, 4), "c": F([0.5])},
         id="gemm-trans-a-alpha-beta"),
    case([node("Flatten", ["x"], ["f"]), node("Gemm", ["f", "w", "c"], ["y"], transB=1)],
         ["Flatten", "onnx.Gemm"], {"w": weight(4, 90), "c": weight(1, 4)}, id="gemm-bias-2d"),
]

POOLING = [
    case([node("MaxPool", ["x"], ["y"], kernel_shape=[3, 3], strides=[2, 2], pads=[1, 1, 1, 1], ceil_mode=1)],
         ["Pooling"], shape=(1, 3, 7, 8), id="max-pool-caffe-ceil"),
    case([node("MaxPool", ["x"], ["y"], kernel_shape=[2, 2], strides=[2, 2], pads=[1, 1, 1, 1], ceil_mode=1)],
         ["Pooling"], shape=(1, 3, 6, 7), id="max-pool-caffe-ceil-window-in-padding"),
    case([node("MaxPool", ["x"], ["y"], kernel_shape=[3, 3], pads=[1, 1, 1, 1])], ["Pooling"],
         id="max-pool-caffe-stride-1"),
    case([node("MaxPool", ["x"], ["y"], kernel_shape=[2, 2], strides=[2, 2])], ["onnx.MaxPool"],
         shape=(1, 3, 7, 8), id="max-pool-floor"),
    case([node("MaxPool", ["x"], ["y"], kernel_shape=[3, 2], strides=[2, 1], pads=[0, 1, 1, 0], ceil_mode=1)],
         ["onnx.MaxPool"], shape=(1, 3, 8, 7), id="max-pool-uneven-pads"),
    case([node("MaxPool", ["x"], ["y"], kernel_shape=[1, 1], strides=[3, 2], ceil_mode=1)], ["onnx.MaxPool"],
         shape=(1, 3, 8, 7), id="max-pool-stride-over-kernel"),
    case([node("AveragePool", ["x"], ["y"], kernel_shape=[3, 3], strides=[2, 2], pads=[1, 1, 1, 1],
               count_include_pad=1, ceil_mode=1)], ["Pooling"], shape=(1, 3, 7, 8), id="average-pool-count-pad"),
    case([node("AveragePool", ["x"], ["y"], kernel_shape=[3, 3], strides=[2, 2], pads=[1, 1, 1, 1],
               count_include_pad=1, ceil_mode=1)], ["Pooling"], shape=(1, 3, 6, 6),
         id="average-pool-count-pad-last-window-past-the-padding"),
    case([node("AveragePool", ["x"], ["y"], kernel_shape=[3, 3], strides=[2, 2], pads=[1, 1, 1, 1])],
         ["onnx.AveragePool"], shape=(1, 3, 7, 8), id="average-pool-exclude-pad"),
    case([node("AveragePool", ["x"], ["y"], kernel_shape=[2, 3])], ["Pooling"], id="average-pool-caffe-no-pad"),
    case([node("GlobalAveragePool", ["x"], ["y"])], ["Pooling"], id="global-average-pool"),
    case([node("GlobalMaxPool", ["x"], ["y"])], ["Pooling"], id="global-max-pool"),
]

REDUCTIONS = [
    case([node("ReduceMean", ["x"], ["y"], axes=[1, 2])], ["onnx.ReduceMean"], id="reduce-mean-axes-attribute"),
    case([node("ReduceMax", ["x"], ["y"], axes=[1], keepdims=0)], ["onnx.ReduceMax"], id="reduce-max-axes-attribute"),
    case([node("ReduceSum", ["x", "a"], ["y"])], ["onnx.ReduceSum"], {"a": np.array([-1])}, id="reduce-sum-axes-input"),
    case([node("ReduceMean", ["x", "a"], ["y"], keepdims=0)], ["onnx.ReduceMean"], {"a": np.array([1, 3])},
         opset=18, id="reduce-mean-axes-input-opset-18"),
    case([node("ReduceMax", ["x", "a"], ["y"])], ["onnx.ReduceMax"], {"a": np.array([2])}, opset=18,
         id="reduce-max-axes-input-opset-18"),
    case([node("ReduceSum", ["x"], ["y"])], ["onnx.ReduceSum"], id="reduce-sum-all-axes"),
    case([node("Softmax", ["x"], ["y"], axis=1)], ["Softmax"], scale=4.0, id="softmax-axis-1"),
    case([node("Softmax", ["x"], ["y"])], ["Softmax"], scale=4.0, id="softmax-last-axis"),
    case([node("Softmax", ["x"], ["y"], axis=2)], ["Softmax"], scale=4.0, id="softmax-axis-2"),
    case([node("LogSoftmax", ["x"], ["y"], axis=1)], ["onnx.LogSoftmax"], scale=4.0, id="log-softmax"),
    case([node("LayerNormalization", ["x", "s", "b"], ["y"], epsilon=1e-2)], ["onnx.LayerNormalization"],
         {"s": weight(6), "b": weight(6, seed=4)}, scale=3.0, id="layer-norm-last-axis"),
    case([node("LayerNormalization", ["x", "s"], ["y"], axis=1)], ["onnx.LayerNormalization"],
         {"s": weight(3, 5, 6)}, id="layer-norm-axis-1-no-bias"),
]

PLUMBING = [
    case([node("Flatten", ["x"], ["y"])], ["Flatten"], id="flatten-axis-1"),
    case([node("Flatten", ["x"], ["y"], axis=2)], ["onnx.Flatten"], id="flatten-axis-2"),
    case([node("Reshape", ["x", "s"], ["y"])], ["onnx.Reshape"], {"s": np.array([0, -1, 6])},
         id="reshape-0-and-minus-1"),
    case([node("Transpose", ["x"], ["y"], perm=[0, 2, 3, 1])], ["onnx.Transpose"], id="transpose"),
    case([node("Unsqueeze", ["x", "a"], ["u"]), node("Tanh", ["u"], ["t"]), node("Squeeze", ["t", "a"], ["y"])],
         ["onnx.Unsqueeze", "TanH", "onnx.Squeeze"], {"a": np.array([2])}, id="unsqueeze-squeeze"),
    case([node("Tanh", ["x"], ["t"]), node("Concat", ["t", "x", "t"], ["y"], axis=1)], ["TanH", "Concat"],
         id="concat-network-tensors"),
    case([node("Concat", ["x", "c"], ["y"], axis=-1)], ["onnx.Concat"], {"c": weight(1, 3, 5, 2)},
         id="concat-with-constant"),
    case([node("Split", ["x", "sizes"], ["a", "b"], axis=1), node("Add", ["b", "a"], ["y"])],
         ["onnx.Split", "onnx.Add"], {"sizes": np.array([1, 2])}, id="split-sizes-input"),
    case([node("Split", ["x"], ["a", "b", "c"], axis=1, num_outputs=3), node("Concat", ["c", "a", "b"], ["y"], axis=1)],
         ["onnx.Split", "Concat"], opset=18, id="split-num-outputs-opset-18"),
    case([node("Slice", ["x", "starts", "ends", "axes", "steps"], ["y"])], ["onnx.Slice"],
         {"starts": np.array([1, -1]), "ends": np.array([-1, -100]), "axes": np.array([3, 2]),
          "steps": np.array([2, -2])}, id="slice-steps-and-reversal"),
    case([node("Slice", ["x", "starts", "ends"], ["y"])], ["onnx.Slice"],
         {"starts": np.array([0, 1, 2]), "ends": np.array([1, 3, 4])}, id="slice-leading-axes"),
    case([node("Gather", ["x", "i"], ["y"], axis=1)], ["onnx.Gather"], {"i": np.array([2, 0])}, id="gather-channels"),
    case([node("Gather", ["x", "i"], ["y"], axis=-1)], ["onnx.Gather"], {"i": np.array([[1, 1], [0, -1]])},
         id="gather-repeated-indices"),
    case([node("ReduceMean", ["x"], ["m"], axes=[3]), node("Expand", ["m", "s"], ["y"])],
         ["onnx.ReduceMean", "onnx.Expand"], {"s": np.array([2, 1, 1, 4])}, id="expand"),
    case([node("Pad", ["x", "p", "v"], ["y"])], ["onnx.Pad"], {"p": np.array([0, 0, 1, 2, 0, 0, 2, 1]),
                                                              "v": F(0.5)}, id="pad-constant"),
    case([node("Pad", ["x", "p"], ["y"], mode="reflect")], ["onnx.Pad"], {"p": np.array([0, 0, 1, 2, 0, 0, 2, 1])},
         id="pad-reflect"),
    case([node("Pad", ["x", "p"], ["y"], mode="edge")], ["onnx.Pad"], {"p": np.array([0, 0, 1, 2, 0, 0, 2, 1])},
         id="pad-edge"),
    case([node("Resize", ["x", "", "", "sizes"], ["y"], mode="nearest")], ["onnx.Resize"],
         {"sizes": np.array([1, 3, 10, 9])}, id="resize-nearest-sizes"),
    case([node("Resize", ["x", "", "scales"], ["y"], mode="nearest")], ["onnx.Resize"],
         {"scales": F([1, 1, 2, 2])}, id="resize-nearest-scales"),
    case([node("Resize", ["x", "", "scales"], ["y"], mode="linear")], ["onnx.Resize"],
         {"scales": F([1, 1, 2, 1.5])}, id="resize-linear-scales"),
    case([node("Resize", ["x", "", "scales"], ["y"], mode="linear")], ["onnx.Resize"],
         {"scales": F([1, 1, 1.5, 0.6])}, id="resize-linear-scales-not-the-size-ratio"),
    case([node("Resize", ["x", "", "scales"], ["y"], mode="nearest", coordinate_transformation_mode="asymmetric",
               nearest_mode="floor")], ["onnx.Resize"], {"scales": F([1, 1, 1.5, 0.6])},
         id="resize-nearest-asymmetric-scales-not-the-size-ratio"),
    case([node("Resize", ["x", "", "", "sizes"], ["y"], mode="linear", coordinate_transformation_mode="align_corners")],
         ["onnx.Resize"], {"sizes": np.array([1, 3, 8, 4])}, id="resize-linear-sizes-align-corners"),
    case([node("Identity", ["x"], ["i"]), node("Relu", ["i"], ["r"]), node("Dropout", ["r"], ["d"]),
          node("Tanh", ["d"], ["y"])], ["ReLU", "TanH"], id="identity-and-dropout-vanish"),
]


@pytest.mark.parametrize("nodes, form, initializers, options",
                         CONV + ACTIVATIONS + ARITHMETIC + LINEAR + POOLING + REDUCTIONS + PLUMBING)
def test_graph_matches_onnxruntime_and_finite_differences(tmp_path, nodes, form, initializers, options):
    specs = check_graph(tmp_path, nodes, initializers, **options)
    assert types(specs) == form
