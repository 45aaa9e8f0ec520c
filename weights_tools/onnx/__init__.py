"""ONNX models for minidream, read with weights_tools' own protobuf wire reader (no onnx or protobuf package).

reader.py reads a ModelProto into an OnnxModel (nodes, attributes, initializers, value infos, opsets), tensors.py
its tensors (raw, typed or external data), listing.py prints it for `python -m weights_tools inspect`, and
writer.py writes small models for the tests.
"""
from weights_tools.onnx.reader import Node, OnnxModel, ValueInfo, read_onnx

__all__ = ["Node", "OnnxModel", "ValueInfo", "read_onnx"]
