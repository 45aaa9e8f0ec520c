"""Small ONNX graphs, written with weights_tools.onnx.writer, converted and checked against independent references:
onnxruntime's forward (float32) and float64 centered differences of the converted Net's own function.

Inputs are a shuffled arange moved off 0 by a quarter step (no ties for max-pool, no ReLU/Clip kink within the
finite-difference step), scaled so that piecewise activations see every piece.
"""
import numpy as np
import pytest

from minidream.engine.net import Net
from tests.gradcheck import numerical_gradient, rel_error, tie_free
from weights_tools.onnx.convert import load_onnx
from weights_tools.onnx.writer import make_model

onnxruntime = pytest.importorskip("onnxruntime")

FORWARD_TOLERANCE = 1e-5  # float32 against onnxruntime, relative to the output's largest value
GRADIENT_TOLERANCE = 1e-6  # float64 backward against float64 centered differences


def image(shape, scale=1.0, seed=0):
    values = tie_free(shape, np.random.default_rng(seed)) + 0.25 / int(np.prod(shape))
    return (values * scale).astype(np.float32)


def model_bytes(nodes, shape, initializers=None, opset=17, output="y"):
    """A model of one image input "x" of `shape` (ints, or dim names for a dynamic size) and one output."""
    return make_model(nodes, inputs=[("x", shape)], outputs=[(output, None)], initializers=initializers,
                      opset=opset, ir_version=9 if opset > 18 else 8)


def onnxruntime_output(data, x):
    options = onnxruntime.SessionOptions()
    options.graph_optimization_level = onnxruntime.GraphOptimizationLevel.ORT_DISABLE_ALL
    session = onnxruntime.InferenceSession(data, options, providers=["CPUExecutionProvider"])
    return session.run(None, {"x": x})[0]


def convert(tmp_path, data):
    path = tmp_path / "model.onnx"
    path.write_bytes(data)
    return load_onnx(path, quiet=True)


def max_rel(got, want):
    return float(np.abs(got - want).max() / max(float(np.abs(want).max()), 1e-30))


def check_graph(tmp_path, nodes, initializers=None, shape=(1, 3, 5, 6), opset=17, scale=1.0, output="y"):
    """Convert the graph, compare its forward with onnxruntime's and its input gradient with finite differences;
    returns the converted specs (so that a test can also check which form a node took)."""
    data = model_bytes(nodes, shape, initializers, opset, output)
    x = image(shape, scale)
    want = onnxruntime_output(data, x)
    specs, blobs, meta = convert(tmp_path, data)
    got = Net(specs, blobs, meta).forward(x, end=output)
    assert got.shape == want.shape and max_rel(got, want) <= FORWARD_TOLERANCE, max_rel(got, want)
    net = Net(specs, blobs, meta, dtype=np.float64)
    x64, dy = x.astype(np.float64), np.random.default_rng(1).standard_normal(want.shape)
    net.forward(x64, end=output)
    dx = net.backward(dy)
    numerical = numerical_gradient(lambda v: net.forward(v, end=output).copy(), x64.copy(), dy)
    assert np.abs(numerical).max() > 0 and rel_error(dx, numerical) <= GRADIENT_TOLERANCE, rel_error(dx, numerical)
    return specs


def types(specs):
    return [s["type"] for s in specs]


def weight(*shape, seed=2):
    return (np.random.default_rng(seed).standard_normal(shape) / np.sqrt(shape[-1])).astype(np.float32)
