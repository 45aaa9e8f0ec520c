"""A small ONNX writer for the tests: ModelProto bytes from nodes, graph inputs and outputs, and initializers.

    node = make_node("Conv", ["x", "w", "b"], ["y"], kernel_shape=[3, 3], pads=[1, 1, 1, 1])
    data = make_model([node], inputs=[("x", (1, 3, 8, 8))], outputs=[("y", None)], initializers={"w": w, "b": b})
    data, weights = make_model(..., external_data="model.onnx.data")  # initializers of 1 KiB and up go there

It writes what exporters write (fields in number order, tensors as little-endian raw_data, proto2's unpacked
attribute lists), on weights_tools.writer's wire primitives and with field numbers of its own, taken from
onnx.proto apart from the reader's schema, so the tests check the one against the other and both against the onnx
package. Attribute types follow the Python value: int (and bool) INT, float FLOAT, str or bytes STRING, ndarray
TENSOR, a Subgraph (make_graph) GRAPH, and a list of one of them the list type (an empty list is INTS).
"""
import numpy as np

from weights_tools import writer as pw

DATA_TYPES = {np.dtype(t): code for t, code in (
    (np.float32, 1), (np.uint8, 2), (np.int8, 3), (np.uint16, 4), (np.int16, 5), (np.int32, 6), (np.int64, 7),
    (np.bool_, 9), (np.float16, 10), (np.float64, 11), (np.uint32, 12), (np.uint64, 13))}
FLOAT, INT, STRING, TENSOR, GRAPH, FLOATS, INTS, STRINGS, TENSORS, GRAPHS = range(1, 11)
TYPED_FIELDS = {1: 4, 7: 7, 11: 10, 12: 11, 13: 11}  # data type -> its typed field (int32_data, 5, for the rest)
EXTERNAL_MIN_BYTES = 1024


class Subgraph(bytes):
    """A GraphProto's bytes, as an attribute value (an If branch or a Loop body)."""


def make_tensor(array, name="", typed=False):
    """TensorProto bytes of ``array``: its bytes as raw_data, or (typed) the typed field onnx.proto gives its
    data type (float_data, double_data, int64_data, uint64_data, or int32_data for the rest, float16 as bits)."""
    array = np.asarray(array)
    code = DATA_TYPES[array.dtype]
    flat = array.reshape(-1)
    field = TYPED_FIELDS.get(code, 5) if typed else 9
    if field == 9:
        payload = pw.f_bytes(9, flat.astype(array.dtype.newbyteorder("<")).tobytes())
    elif field in (4, 10):
        payload = pw.f_packed_floats(field, flat, "<f4" if field == 4 else "<f8")
    else:
        payload = pw.f_packed_varints(field, (flat.view(np.uint16) if code == 10 else flat).tolist())
    fields = sorted([(field, payload), (8, pw.f_string(8, name) if name else b"")])  # in field-number order
    return b"".join(pw.f_varint(1, d) for d in array.shape) + pw.f_varint(2, code) + b"".join(f for _, f in fields)


def external_tensor(array, name, location, offset, length=None):
    """TensorProto bytes of a tensor whose data is the ``array.nbytes`` bytes at ``offset`` of file ``location``
    (length: the length entry written, array.nbytes unless a test says otherwise)."""
    array = np.asarray(array)
    entries = [("location", location), ("offset", str(offset)), ("length", str(array.nbytes if length is None
                                                                                  else length))]
    return (b"".join(pw.f_varint(1, d) for d in array.shape) + pw.f_varint(2, DATA_TYPES[array.dtype])
            + pw.f_string(8, name) + b"".join(pw.f_bytes(13, pw.f_string(1, k) + pw.f_string(2, v))
                                              for k, v in entries) + pw.f_varint(14, 1))


def make_node(op_type, inputs, outputs, name=None, domain="", **attributes):
    """NodeProto bytes; an input '' is an omitted optional input."""
    return (b"".join(pw.f_string(1, v) for v in inputs) + b"".join(pw.f_string(2, v) for v in outputs)
            + (pw.f_string(3, name) if name else b"") + pw.f_string(4, op_type)
            + b"".join(pw.f_bytes(5, _attribute(k, v)) for k, v in attributes.items())
            + (pw.f_string(7, domain) if domain else b""))


def _attribute(name, value):
    out = pw.f_string(1, name)
    if isinstance(value, (list, tuple)):
        kind = _list_kind(value)
        if kind == FLOATS:
            out += pw.f_unpacked(7, value)
        elif kind == INTS:
            out += b"".join(pw.f_varint(8, v) for v in value)
        else:
            field, encode = {STRINGS: (9, _text), TENSORS: (10, make_tensor), GRAPHS: (11, bytes)}[kind]
            out += b"".join(pw.f_bytes(field, encode(v)) for v in value)
    elif isinstance(value, Subgraph):
        kind, out = GRAPH, out + pw.f_bytes(6, value)
    elif isinstance(value, (bool, int, np.integer)):
        kind, out = INT, out + pw.f_varint(3, int(value))
    elif isinstance(value, (float, np.floating)):
        kind, out = FLOAT, out + pw.f_float(2, value)
    elif isinstance(value, (str, bytes)):
        kind, out = STRING, out + pw.f_bytes(4, _text(value))
    else:
        kind, out = TENSOR, out + pw.f_bytes(5, make_tensor(value))
    return out + pw.f_varint(20, kind)


def _list_kind(values):
    if all(isinstance(v, (bool, int, np.integer)) for v in values):
        return INTS
    for kind, types in ((GRAPHS, Subgraph), (FLOATS, (float, int, np.number)), (STRINGS, (str, bytes))):
        if all(isinstance(v, types) for v in values):
            return kind
    return TENSORS


def _text(value):
    return value.encode("utf-8") if isinstance(value, str) else bytes(value)


def _value_info(name, shape, dtype=np.float32):
    """ValueInfoProto bytes: a tensor of dtype and shape (ints, dim_param strings, None for an unknown dim), or
    of unknown rank when shape is None."""
    tensor_type = pw.f_varint(1, DATA_TYPES[np.dtype(dtype)])
    if shape is not None:
        dims = [pw.f_varint(1, d) if isinstance(d, int) else pw.f_string(2, d) if d else b"" for d in shape]
        tensor_type += pw.f_bytes(2, b"".join(pw.f_bytes(1, d) for d in dims))
    return pw.f_string(1, name) + pw.f_bytes(2, pw.f_bytes(1, tensor_type))


def make_graph(nodes, inputs=(), outputs=(), initializers=(), name="main_graph"):
    """GraphProto bytes (a Subgraph, usable as an attribute value): inputs and outputs as (name, shape[, dtype]),
    initializers as TensorProto bytes."""
    return Subgraph(b"".join(pw.f_bytes(1, n) for n in nodes) + pw.f_string(2, name)
                    + b"".join(pw.f_bytes(5, t) for t in initializers)
                    + b"".join(pw.f_bytes(11, _value_info(*v)) for v in inputs)
                    + b"".join(pw.f_bytes(12, _value_info(*v)) for v in outputs))


def make_model(nodes, inputs, outputs, initializers=None, opset=17, external_data=None, ir_version=8,
               metadata=None):
    """ModelProto bytes of a graph of ``nodes`` (make_node's bytes).

    inputs, outputs: [(name, shape) or (name, shape, dtype)]; initializers: {name: array, or TensorProto bytes
    written as they are (make_tensor(..., typed=True))}; opset: the default domain's version, or {domain: version};
    external_data: a file name: initializers of EXTERNAL_MIN_BYTES and more are written there, one after the other,
    and (model bytes, data bytes) returned; metadata: {key: value}. A shape None is an unknown rank, which
    onnxruntime accepts and onnx.checker does not on a graph's inputs and outputs (give symbolic dims there)."""
    tensors, data = [], bytearray()
    for name, array in (initializers or {}).items():
        if isinstance(array, bytes):
            tensors.append(array)
        elif external_data and np.asarray(array).nbytes >= EXTERNAL_MIN_BYTES:
            tensors.append(external_tensor(array, name, external_data, len(data)))
            data += np.ascontiguousarray(array, np.asarray(array).dtype.newbyteorder("<")).tobytes()
        else:
            tensors.append(make_tensor(array, name))
    opsets = opset if isinstance(opset, dict) else {"": opset}
    model = (pw.f_varint(1, ir_version) + pw.f_string(2, "weights_tools.onnx.writer") + pw.f_string(3, "1")
             + pw.f_bytes(7, make_graph(nodes, inputs, outputs, tensors))
             + b"".join(pw.f_bytes(8, (pw.f_string(1, d) if d else b"") + pw.f_varint(2, v)) for d, v in opsets.items())
             + b"".join(pw.f_bytes(14, pw.f_string(1, k) + pw.f_string(2, v)) for k, v in (metadata or {}).items()))
    return (model, bytes(data)) if external_data else model
