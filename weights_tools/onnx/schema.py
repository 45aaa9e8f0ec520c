"""The parts of onnx.proto that minidream reads, as weights_tools.wire schemas: {field number: (name, kind)}.

Checked against onnx/onnx.proto as onnx 1.23 ships it; the numbers have not changed since IR version 3.

Field numbers are the .proto's. What is left out is skipped by its wire type, as protobuf skips unknown fields:
training_info, functions (a node calling one is in another domain, and refused), quantization annotations,
per-node device configuration, sparse tensors' contents, and the TypeProto kinds other than tensors (sequence,
map, optional). Three fields are kept as undecoded bytes on purpose: doc strings (comments: a damaged one does not
refuse the model), a TensorProto's raw_data (a view into the file, no copy) and subgraphs (an If/Loop/Scan body
is refused by name, never decoded, so a graph nested a thousand deep costs nothing).
"""
STRING_ENTRY = {1: ("key", "string"), 2: ("value", "string")}  # StringStringEntryProto
OPERATOR_SET = {1: ("domain", "string"), 2: ("version", "int")}  # OperatorSetIdProto

SEGMENT = {1: ("begin", "int"), 2: ("end", "int")}  # TensorProto.Segment
TENSOR = {  # TensorProto
    1: ("dims", "ints"),
    2: ("data_type", "int"),
    3: ("segment", SEGMENT),
    4: ("float_data", "floats"),
    5: ("int32_data", "varints"),  # also int8/uint8/int16/uint16/bool, and float16's bits
    6: ("string_data", "repeated bytes"),
    7: ("int64_data", "varints"),
    8: ("name", "string"),
    9: ("raw_data", "bytes"),
    10: ("double_data", "doubles"),
    11: ("uint64_data", "varints"),  # also uint32
    12: ("doc_string", "bytes"),
    13: ("external_data", [STRING_ENTRY]),
    14: ("data_location", "int"),
}

DIMENSION = {1: ("dim_value", "int"), 2: ("dim_param", "string")}  # TensorShapeProto.Dimension
TENSOR_TYPE = {1: ("elem_type", "int"), 2: ("shape", {1: ("dim", [DIMENSION])})}  # TypeProto.Tensor
TYPE = {1: ("tensor_type", TENSOR_TYPE)}  # TypeProto
VALUE_INFO = {1: ("name", "string"), 2: ("type", TYPE)}  # ValueInfoProto

ATTRIBUTE = {  # AttributeProto
    1: ("name", "string"),
    2: ("f", "float"),
    3: ("i", "int"),
    4: ("s", "bytes"),
    5: ("t", TENSOR),
    6: ("g", "bytes"),
    7: ("floats", "floats"),
    8: ("ints", "ints"),
    9: ("strings", "repeated bytes"),
    10: ("tensors", [TENSOR]),
    11: ("graphs", "repeated bytes"),
    13: ("doc_string", "bytes"),
    20: ("type", "int"),
    21: ("ref_attr_name", "string"),
}
# AttributeProto.AttributeType
FLOAT, INT, STRING, TENSOR_ATTRIBUTE, GRAPH, FLOATS, INTS, STRINGS, TENSORS, GRAPHS = range(1, 11)

NODE = {  # NodeProto
    1: ("input", "strings"),
    2: ("output", "strings"),
    3: ("name", "string"),
    4: ("op_type", "string"),
    5: ("attribute", [ATTRIBUTE]),
    6: ("doc_string", "bytes"),
    7: ("domain", "string"),
}

GRAPH_PROTO = {  # GraphProto
    1: ("node", [NODE]),
    2: ("name", "string"),
    5: ("initializer", [TENSOR]),
    10: ("doc_string", "bytes"),
    11: ("input", [VALUE_INFO]),
    12: ("output", [VALUE_INFO]),
    13: ("value_info", [VALUE_INFO]),
    15: ("sparse_initializer", "repeated bytes"),  # refused when present
}

MODEL = {  # ModelProto
    1: ("ir_version", "int"),
    2: ("producer_name", "string"),
    3: ("producer_version", "string"),
    4: ("domain", "string"),
    5: ("model_version", "int"),
    6: ("doc_string", "bytes"),
    7: ("graph", GRAPH_PROTO),
    8: ("opset_import", [OPERATOR_SET]),
    14: ("metadata_props", [STRING_ENTRY]),
}
