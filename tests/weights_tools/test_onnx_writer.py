"""weights_tools.onnx.writer against the onnx package and onnxruntime (tests only): what it writes is a valid
model that onnxruntime runs, and reads back through read_onnx as written."""
import numpy as np
import pytest

from weights_tools.onnx import read_onnx
from weights_tools.onnx.writer import make_model, make_node

onnx = pytest.importorskip("onnx")
ort = pytest.importorskip("onnxruntime")
numpy_helper = pytest.importorskip("onnx.numpy_helper")

RNG = np.random.default_rng(5)
WEIGHTS = {"w": RNG.standard_normal((6, 4)).astype(np.float32), "b": RNG.standard_normal(6).astype(np.float32),
           "k": RNG.standard_normal((16, 3, 3, 3)).astype(np.float32)}


def _mlp(**kwargs):
    """y = LeakyRelu(x @ w.T + b, alpha 0.25) beside a strided, padded Conv of image z."""
    nodes = [make_node("Gemm", ["x", "w", "b"], ["g"], name="fc", transB=1, alpha=1.0),
             make_node("LeakyRelu", ["g"], ["y"], name="act", alpha=0.25),
             make_node("Conv", ["z", "k", ""], ["c"], name="conv", kernel_shape=[3, 3], pads=[1, 1, 1, 1],
                       strides=[2, 2], auto_pad="NOTSET")]
    return make_model(nodes, [("x", ("N", 4)), ("z", (1, 3, 7, 7))], [("y", ("N", 6)), ("c", (1, 16, 4, 4))],
                      WEIGHTS, **kwargs)


def test_the_onnx_checker_accepts_what_it_writes():
    model = onnx.load_from_string(_mlp())
    onnx.checker.check_model(model, full_check=True)
    assert [n.op_type for n in model.graph.node] == ["Gemm", "LeakyRelu", "Conv"]
    assert onnx.helper.get_attribute_value(model.graph.node[2].attribute[0]) == [3, 3]
    assert model.graph.node[2].attribute[3].s == b"NOTSET"


def test_onnxruntime_runs_it_and_computes_what_numpy_does():
    x = RNG.standard_normal((5, 4)).astype(np.float32)
    z = RNG.standard_normal((1, 3, 7, 7)).astype(np.float32)
    y, c = ort.InferenceSession(_mlp(), providers=["CPUExecutionProvider"]).run(["y", "c"], {"x": x, "z": z})
    g = x @ WEIGHTS["w"].T + WEIGHTS["b"]
    np.testing.assert_allclose(y, np.where(g > 0, g, 0.25 * g), rtol=1e-5, atol=1e-6)
    padded = np.pad(z, ((0, 0), (0, 0), (1, 1), (1, 1)))
    want = np.array([[[[np.sum(padded[0, :, 2 * i:2 * i + 3, 2 * j:2 * j + 3] * WEIGHTS["k"][f])
                        for j in range(4)] for i in range(4)] for f in range(16)]])
    np.testing.assert_allclose(c, want, rtol=1e-5, atol=1e-5)


def test_external_data_loads_in_the_onnx_package_and_runs_in_onnxruntime(tmp_path):
    model, data = _mlp(external_data="mlp.onnx.data")
    assert len(data) == WEIGHTS["k"].nbytes  # the one initializer of EXTERNAL_MIN_BYTES and more
    (tmp_path / "mlp.onnx").write_bytes(model)
    (tmp_path / "mlp.onnx.data").write_bytes(data)
    loaded = onnx.load(str(tmp_path / "mlp.onnx"))
    for tensor in loaded.graph.initializer:
        np.testing.assert_array_equal(numpy_helper.to_array(tensor), WEIGHTS[tensor.name])
    session = ort.InferenceSession(str(tmp_path / "mlp.onnx"), providers=["CPUExecutionProvider"])
    x = np.ones((1, 4), np.float32)
    assert session.run(["y"], {"x": x, "z": np.zeros((1, 3, 7, 7), np.float32)})[0].shape == (1, 6)


def test_round_trip_through_read_onnx():
    model = read_onnx(_mlp(opset=21))
    assert [(n.name, n.op_type, n.inputs, n.outputs) for n in model.nodes] == [
        ("fc", "Gemm", ["x", "w", "b"], ["g"]), ("act", "LeakyRelu", ["g"], ["y"]),
        ("conv", "Conv", ["z", "k", ""], ["c"])]
    assert model.nodes[2].attributes == {"kernel_shape": [3, 3], "pads": [1, 1, 1, 1], "strides": [2, 2],
                                         "auto_pad": "NOTSET"}
    assert model.nodes[0].attributes == {"transB": 1, "alpha": 1.0}
    for name, array in WEIGHTS.items():
        np.testing.assert_array_equal(model.initializers[name], array)
    assert [(v.name, v.shape) for v in model.inputs] == [("x", ("N", 4)), ("z", (1, 3, 7, 7))]
    assert model.opsets == {"": 21} and model.producer == "weights_tools.onnx.writer 1"
