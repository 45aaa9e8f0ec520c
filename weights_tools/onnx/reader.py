"""Read an .onnx file (a serialized onnx.ModelProto) with weights_tools' own wire reader: no onnx, no protobuf.

    model = read_onnx("squeezenet1_1.onnx")
    model.nodes[0]            Node(name='/features/features.0/Conv', op_type='Conv', domain='', inputs=[...], ...)
    model.initializers[name]  np.ndarray (read-only views into the file's bytes for raw data)

What minidream reads, and refuses with one OnnxModelError naming the file, the problem and the fix: IR version 3
and up; the default domain at opsets MIN_OPSET..MAX_OPSET (other domains may be imported, but a node of one is
refused); no control flow (an If/Loop/Scan body is a graph attribute); no sparse initializers; tensors as
weights_tools.onnx.tensors reads them, external data included (confined to the model's folder). Names follow
minidream's name rule (minidream/io/limits.py). Memory: the file's bytes, the external data read, and the few
arrays converted (float16 widened, typed fields gathered).
"""
import os
import stat
from typing import NamedTuple

from minidream.errors import OnnxModelError
from minidream.io import limits
from weights_tools import wire
from weights_tools.foreign import looks_like, looks_like_onnx
from weights_tools.onnx import schema
from weights_tools.onnx.tensors import DAMAGED, ExternalData, dtype_of, tensor_array

MIN_OPSET, MAX_OPSET = 13, 21
DEFAULT_DOMAINS = ("", "ai.onnx")
MAX_ATTRIBUTE_VALUES = 4096  # a FLOATS or STRINGS attribute is a handful of scales or names
LISTS = {schema.FLOATS: "floats", schema.INTS: "ints", schema.STRINGS: "strings", schema.TENSORS: "tensors"}
RE_EXPORT = "re-export with torch.onnx.export(..., opset_version=17)"


class ValueInfo(NamedTuple):
    name: str
    dtype: object  # np.dtype, or None when the file does not say (or it is not a tensor)
    shape: tuple  # of int, str (a symbolic dim_param) or None (unknown dim); None when the rank is unknown


class Node(NamedTuple):
    name: str
    op_type: str
    domain: str
    inputs: list  # '' for an omitted optional input
    outputs: list
    attributes: dict  # name -> float, int, str (bytes when not UTF-8), ndarray, or a list of one of them


class OnnxModel(NamedTuple):
    ir_version: int
    opsets: dict  # domain ('' for the default one) -> version
    producer: str  # "pytorch 2.1.0"
    graph_name: str
    nodes: list
    initializers: dict  # name -> ndarray
    inputs: list  # ValueInfo of the graph inputs that are not initializers
    outputs: list
    value_infos: dict  # name -> ValueInfo (the graph's value_info: intermediate tensors' types)
    metadata: dict
    path: str  # '' when read from bytes


def read_onnx(source):
    """The OnnxModel of an .onnx file (a path, or its bytes: then external data cannot be found).

    Raises FileNotFoundError for a missing path and OnnxModelError, naming the file, for everything else."""
    from_file = isinstance(source, (str, os.PathLike))
    path = os.fspath(source) if from_file else ""
    try:
        buf = _read_file(path) if from_file else source
        with wire.raising(OnnxModelError):
            return _model(buf, ExternalData(os.path.dirname(os.path.abspath(path))) if from_file else None, path)
    except OnnxModelError as exc:
        raise OnnxModelError(f"{path}: {exc}" if from_file else str(exc)) from None


def _read_file(path):
    try:
        status = os.stat(path)
        if not stat.S_ISREG(status.st_mode):
            raise OnnxModelError("not a regular file (a folder, FIFO or device)")
        with open(path, "rb") as f:
            return f.read()
    except FileNotFoundError:
        raise
    except OSError as exc:
        raise OnnxModelError(f"cannot read it: {exc.strerror or exc}") from None


def _model(buf, external, path):
    if not len(buf):
        raise OnnxModelError("empty file: an ONNX model holds at least a graph")
    if not looks_like_onnx(buf):
        other = looks_like(buf)
        raise OnnxModelError(f"this looks like {other[0]}, not an ONNX model" if other else
                             "not an ONNX model (a ModelProto starts with its ir_version); " + DAMAGED)
    model = wire.decode(buf, schema.MODEL)
    opsets = _opsets(model)
    graph = model.get("graph")
    if graph is None:
        raise OnnxModelError("the model has no graph; " + DAMAGED)
    if graph.get("sparse_initializer"):
        raise OnnxModelError("the graph has sparse initializers, which minidream does not read; export it dense")
    initializers = {}
    for k, tensor in enumerate(graph.get("initializer", [])):
        name = _name(tensor.get("name", ""), f"initializer #{k}")
        if name in initializers:
            raise OnnxModelError(f"two initializers are named {name!r}; " + DAMAGED)
        initializers[name] = tensor_array(tensor, f"initializer {name!r}", external)
    nodes = [_node(node, k, external) for k, node in enumerate(graph.get("node", []))]
    inputs = [_value_info(v, "graph input") for v in graph.get("input", [])]
    producer = " ".join(filter(None, (model.get("producer_name"), model.get("producer_version"))))
    return OnnxModel(model.get("ir_version", 0), opsets, producer, graph.get("name", ""), nodes, initializers,
                     [v for v in inputs if v.name not in initializers],
                     [_value_info(v, "graph output") for v in graph.get("output", [])],
                     {v.name: v for v in (_value_info(v, "value_info") for v in graph.get("value_info", []))},
                     {e.get("key", ""): e.get("value", "") for e in model.get("metadata_props", [])}, path)


def _opsets(model):
    """{domain: version}, after checking the IR version and the default domain's opset."""
    ir_version = model.get("ir_version", 0)
    if ir_version < 3:
        raise OnnxModelError(f"IR version {ir_version} is older than minidream reads (3 and up); {RE_EXPORT}")
    opsets = {}
    for entry in model.get("opset_import", []):
        domain = entry.get("domain", "")
        domain = "" if domain in DEFAULT_DOMAINS else domain
        if domain in opsets:
            raise OnnxModelError(f"the opset of domain {domain or 'ai.onnx'!r} is imported twice; " + DAMAGED)
        opsets[domain] = entry.get("version", 0)
    version = opsets.get("")
    if version is None:
        raise OnnxModelError(f"the model imports no opset of the default domain (ai.onnx); {RE_EXPORT}")
    if not MIN_OPSET <= version <= MAX_OPSET:
        age = "older" if version < MIN_OPSET else "newer"
        raise OnnxModelError(f"opset {version} is {age} than minidream reads ({MIN_OPSET}..{MAX_OPSET}); {RE_EXPORT}")
    return opsets


def _name(name, what):
    problem = limits.name_problem(name) or (None if name else "name is empty")
    if problem:
        raise OnnxModelError(f"{what}'s {problem}; " + DAMAGED)
    return name


def _node(node, k, external):
    op_type, name = node.get("op_type", ""), node.get("name", "")
    what = f"node #{k} {name!r} ({op_type or 'no op_type'})"
    if not op_type:
        raise OnnxModelError(f"{what} has no op_type; " + DAMAGED)
    domain = node.get("domain", "")
    if domain not in DEFAULT_DOMAINS:
        raise OnnxModelError(f"{what} is an operator of domain {domain!r}, which minidream does not implement (only "
                             "the default domain, ai.onnx); export the model without custom operators")
    problem = limits.name_problem(name) or limits.name_problem(op_type)
    if problem:
        raise OnnxModelError(f"node #{k}'s {problem}; " + DAMAGED)
    inputs = [_name(v, f"{what}'s input") if v else "" for v in node.get("input", [])]
    outputs = [_name(v, f"{what}'s output") if v else "" for v in node.get("output", [])]
    attributes = {}
    for attribute in node.get("attribute", []):
        key = _name(attribute.get("name", ""), f"an attribute of {what}")
        if key in attributes:
            raise OnnxModelError(f"{what} has two attributes named {key!r}; " + DAMAGED)
        attributes[key] = _attribute_value(attribute, f"{what}'s attribute {key!r}", external)
    return Node(name, op_type, "", inputs, outputs, attributes)


def _attribute_value(attribute, what, external):
    """An AttributeProto's value as Python (see Node), by its declared type."""
    kind = attribute.get("type", 0)
    if kind in (schema.GRAPH, schema.GRAPHS):
        raise OnnxModelError(f"{what} is a subgraph: control flow (If, Loop, Scan) is not supported; export the "
                             "model without data-dependent branches or loops")
    if attribute.get("ref_attr_name"):
        raise OnnxModelError(f"{what} refers to a function's attribute, which only a function body may; "
                             + DAMAGED)
    if kind == schema.FLOAT:
        return float(attribute.get("f", 0.0))
    if kind == schema.INT:
        return attribute.get("i", 0)
    if kind == schema.STRING:
        return _text(attribute.get("s", b""))
    if kind == schema.TENSOR_ATTRIBUTE:
        return tensor_array(attribute.get("t", {}), what, external)
    if kind not in LISTS:
        raise OnnxModelError(f"{what} has attribute type {kind}, which minidream does not read (it reads floats, "
                             "ints, strings and tensors, one or a list); " + DAMAGED)
    values = attribute.get(LISTS[kind], [])
    if len(values) > MAX_ATTRIBUTE_VALUES:
        raise OnnxModelError(f"{what} holds {len(values):,} values, more than {MAX_ATTRIBUTE_VALUES:,}; "
                             + DAMAGED)
    if kind == schema.FLOATS:
        return [float(v) for v in values]
    if kind == schema.STRINGS:
        return [_text(v) for v in values]
    if kind == schema.TENSORS:
        return [tensor_array(t, f"{what}[{i}]", external) for i, t in enumerate(values)]
    return list(values)


def _text(data):
    """An attribute's bytes as text (ONNX says UTF-8), or the bytes themselves when they are not."""
    try:
        return bytes(data).decode("utf-8")
    except UnicodeDecodeError:
        return bytes(data)


def _value_info(info, what):
    name = _name(info.get("name", ""), what)
    tensor_type = info.get("type", {}).get("tensor_type")
    if tensor_type is None:
        return ValueInfo(name, None, None)
    shape = tensor_type.get("shape")
    dims = None if shape is None else shape.get("dim", [])
    if dims is not None and len(dims) > wire.MAX_INTS:
        raise OnnxModelError(f"{what} {name!r} has {len(dims)} dimensions, more than {wire.MAX_INTS}; "
                             + DAMAGED)
    if any(d.get("dim_value", 0) < 0 for d in dims or []):
        raise OnnxModelError(f"{what} {name!r} has a negative dimension; " + DAMAGED)
    return ValueInfo(name, dtype_of(tensor_type.get("elem_type", 0)),
                     None if dims is None else tuple(_dim(d) for d in dims))


def _dim(dim):
    """A dimension: its value, its symbolic name (dim_param, 'batch'), or None when it has neither."""
    if "dim_value" in dim:
        return dim["dim_value"]
    return dim.get("dim_param") or None
