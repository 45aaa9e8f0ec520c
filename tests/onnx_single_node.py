"""Run one ONNX node in onnxruntime: the reference the ops in minidream/engine/ops are checked against.

Tests only, and optional: each caller skips when `onnx` or `onnxruntime` is not installed.
"""
import numpy as np
import pytest

OPSET = 20  # Gelu appeared in opset 20
IR_VERSION = 9  # the IR that opset 20 needs; older than the onnx package's default, which runtimes may not read yet


def run_node(op_type, inputs, outputs=1, out_dtype=None, **attributes):
    """The outputs of a single `op_type` node: inputs is a list of NumPy arrays, None for an omitted optional
    input; the outputs have out_dtype (default: the first input's); attributes are the node's."""
    onnx = pytest.importorskip("onnx")
    onnxruntime = pytest.importorskip("onnxruntime")
    helper = onnx.helper
    while inputs and inputs[-1] is None:  # trailing optional inputs are left out (onnxruntime 1.32 crashes on
        inputs = inputs[:-1]  # LayerNormalization with an empty-named bias)
    names = ["" if a is None else f"in{k}" for k, a in enumerate(inputs)]
    graph_inputs = [
        helper.make_tensor_value_info(name, helper.np_dtype_to_tensor_dtype(a.dtype), a.shape)
        for name, a in zip(names, inputs) if a is not None
    ]
    output_names = [f"out{k}" for k in range(outputs)]
    out_type = helper.np_dtype_to_tensor_dtype(np.dtype(out_dtype or inputs[0].dtype))
    graph_outputs = [helper.make_tensor_value_info(name, out_type, None) for name in output_names]
    node = helper.make_node(op_type, names, output_names, **attributes)
    graph = helper.make_graph([node], op_type, graph_inputs, graph_outputs)
    model = helper.make_model(graph, opset_imports=[helper.make_opsetid("", OPSET)], ir_version=IR_VERSION)
    session = onnxruntime.InferenceSession(model.SerializeToString(), providers=["CPUExecutionProvider"])
    feed = {name: np.array(a, order="C") for name, a in zip(names, inputs) if a is not None}  # 0-d stays 0-d
    results = session.run(None, feed)
    return results[0] if outputs == 1 else results
