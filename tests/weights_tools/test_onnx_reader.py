"""weights_tools.onnx.read_onnx against the onnx package (the independent reference, used by the tests only): the
four real exports, every data type and attribute kind, external data, and every refusal with its message."""
import math
import os
import re

import numpy as np
import pytest

from minidream.errors import OnnxModelError
from weights_tools.__main__ import main
from weights_tools.onnx import read_onnx
from weights_tools.onnx.writer import external_tensor, make_graph, make_model, make_node, make_tensor

onnx = pytest.importorskip("onnx")
numpy_helper = pytest.importorskip("onnx.numpy_helper")

REAL = "/work/shared/real_onnx"
REAL_NAMES = ["squeezenet1_1", "shufflenet_v2_x0_5", "mobilenet_v3_small", "vit_tiny"]
real = pytest.mark.skipif(not os.path.isdir(REAL), reason="the real ONNX exports are not here")


def _reference_attribute(attribute):
    value = onnx.helper.get_attribute_value(attribute)
    if isinstance(value, onnx.TensorProto):
        return numpy_helper.to_array(value)
    if isinstance(value, bytes):
        return value.decode("utf-8")
    return list(value) if isinstance(value, (list, tuple)) or type(value).__name__.startswith("Repeated") else value


@real
@pytest.mark.parametrize("name", REAL_NAMES)
def test_real_exports_read_as_the_onnx_package_reads_them(name):
    path = f"{REAL}/{name}.onnx"
    model, reference = read_onnx(path), onnx.load(path)
    graph = reference.graph
    assert model.path == path and model.ir_version == reference.ir_version
    assert model.opsets == {o.domain: o.version for o in reference.opset_import}
    assert model.producer == f"{reference.producer_name} {reference.producer_version}"
    assert [(n.name, n.op_type, n.inputs, n.outputs) for n in model.nodes] == \
        [(n.name, n.op_type, list(n.input), list(n.output)) for n in graph.node]
    for node, ref in zip(model.nodes, graph.node):
        assert set(node.attributes) == {a.name for a in ref.attribute}
        for attribute in ref.attribute:
            got, want = node.attributes[attribute.name], _reference_attribute(attribute)
            if isinstance(want, np.ndarray):
                assert got.dtype == want.dtype and np.array_equal(got, want)
            else:
                assert got == pytest.approx(want) if isinstance(want, float) else got == want
    assert list(model.initializers) == [t.name for t in graph.initializer]
    for tensor in graph.initializer:
        want, got = numpy_helper.to_array(tensor), model.initializers[tensor.name]
        assert got.dtype == want.dtype and got.shape == want.shape and np.array_equal(got, want), tensor.name
    initializer_names = {t.name for t in graph.initializer}
    assert [v.name for v in model.inputs] == [v.name for v in graph.input if v.name not in initializer_names]
    assert [v.name for v in model.outputs] == [v.name for v in graph.output]
    assert model.inputs[0].shape == tuple(d.dim_value for d in graph.input[0].type.tensor_type.shape.dim)
    assert model.inputs[0].dtype == np.float32
    assert set(model.value_infos) == {v.name for v in graph.value_info}


@real
def test_inspect_lists_a_real_export(capsys):
    path = f"{REAL}/mobilenet_v3_small.onnx"
    assert main(["inspect", path]) == 0
    out = capsys.readouterr().out
    model = read_onnx(path)
    total = sum(a.size for a in model.initializers.values() if a.dtype.kind == "f")
    assert f"{len(model.nodes)} nodes, {total:,} parameters" in out
    assert "IR version 10, opset 20" in out and "input 'input': float32 1 x 3 x 224 x 224" in out
    assert re.search(r"\n\s+0  node_Conv_505\s+Conv\s+getitem\s+448\n", out), out


def _model(**attributes):
    """A one-node model: y = Identity(x) with the given attributes and one initializer w."""
    return make_model([make_node("Identity", ["x"], ["y"], name="n", **attributes)], [("x", (1, "N", None))],
                      [("y", None)], {"w": np.arange(6, dtype=np.float32).reshape(2, 3)})


def test_attributes_of_every_kind_as_python_values():
    tensor = np.arange(4, dtype=np.int64)
    data = _model(f=0.5, i=-3, s="same", t=tensor, fs=[1.5, -2.0], is_=[1, -2, 3], ss=["a", "b"],
                  ts=[tensor, np.ones(2, np.float32)], raw=b"\xff\xfe", empty=[])
    node = read_onnx(data).nodes[0]
    values = node.attributes
    assert (values["f"], values["i"], values["s"], values["fs"], values["is_"], values["ss"]) == \
        (0.5, -3, "same", [1.5, -2.0], [1, -2, 3], ["a", "b"])
    assert values["raw"] == b"\xff\xfe" and values["empty"] == []  # not UTF-8: the bytes
    assert np.array_equal(values["t"], tensor) and values["t"].dtype == np.int64
    assert [a.dtype for a in values["ts"]] == [np.int64, np.float32]
    assert node == node._replace(name="n", op_type="Identity", domain="", inputs=["x"], outputs=["y"])


def test_inputs_shapes_dtypes_and_metadata():
    data = make_model([make_node("Relu", ["x"], ["y"]), make_node("Clip", ["y", "", "hi"], ["z"])],
                      [("x", ("batch", 3, None), np.float16), ("w", (2,))], [("z", None)],
                      {"w": np.ones(2, np.float32), "hi": np.float32(6.0)}, opset={"": 13, "ai.onnx.ml": 3},
                      metadata={"author": "tests"})
    model = read_onnx(data)
    assert model.inputs == [model.inputs[0]._replace(name="x", dtype=np.float16, shape=("batch", 3, None))]
    assert model.outputs[0].shape is None and model.opsets == {"": 13, "ai.onnx.ml": 3}
    assert model.nodes[1].inputs == ["y", "", "hi"] and model.initializers["hi"].shape == ()
    assert model.metadata == {"author": "tests"} and model.graph_name == "main_graph" and model.path == ""


DTYPES = [np.float32, np.float64, np.float16, np.int64, np.int32, np.int16, np.int8, np.uint8, np.uint16,
          np.uint32, np.uint64, np.bool_]


@pytest.mark.parametrize("typed", [False, True])
@pytest.mark.parametrize("dtype", DTYPES)
def test_data_types_raw_and_typed_as_the_onnx_package_reads_them(dtype, typed):
    values = (np.random.default_rng(0).standard_normal((3, 4)) * 50).astype(dtype)
    tensor = make_tensor(values, "w", typed=typed)
    reference = onnx.TensorProto()
    reference.ParseFromString(tensor)
    want = numpy_helper.to_array(reference)
    got = read_onnx(make_model([make_node("Identity", ["w"], ["y"])], [], [("y", None)], {"w": tensor}))
    got = got.initializers["w"]
    assert got.shape == (3, 4)
    if dtype == np.float16:  # widened: minidream computes in float32
        assert got.dtype == np.float32 and np.array_equal(got, want.astype(np.float32))
    else:
        assert got.dtype == want.dtype and np.array_equal(got, want)


def test_external_data_as_pytorch_writes_it(tmp_path):
    rng = np.random.default_rng(1)
    weights = {"w": rng.standard_normal((16, 3, 3, 3)).astype(np.float32), "b": np.zeros(8, np.float32),
               "big": rng.standard_normal(600).astype(np.float64)}
    model, data = make_model([make_node("Conv", ["x", "w", "b"], ["y"])], [("x", (1, 3, 5, 5))], [("y", None)],
                             weights, external_data="m.onnx.data")
    (tmp_path / "m.onnx").write_bytes(model)
    (tmp_path / "m.onnx.data").write_bytes(data)
    got = read_onnx(tmp_path / "m.onnx").initializers
    stored = onnx.load(str(tmp_path / "m.onnx"), load_external_data=False).graph.initializer
    assert [t.data_location for t in stored] == [1, 0, 1]
    reference = onnx.load(str(tmp_path / "m.onnx"))
    for tensor in reference.graph.initializer:
        assert np.array_equal(got[tensor.name], numpy_helper.to_array(tensor))
        assert got[tensor.name].dtype == weights[tensor.name].dtype


def _external(tmp_path, location="m.onnx.data", offset=0, length=None):
    """m.onnx, whose one initializer (100 float32) is external: at location, offset and length as given, beside
    m.onnx.data (400 bytes of ones)."""
    tensor = external_tensor(np.ones(100, np.float32), "w", location, offset, length)
    (tmp_path / "m.onnx").write_bytes(make_model([make_node("Relu", ["w"], ["y"])], [], [("y", None)], {"w": tensor}))
    (tmp_path / "m.onnx.data").write_bytes(np.ones(100, np.float32).tobytes())
    return tmp_path / "m.onnx"


def test_external_data_refusals(tmp_path):
    outside = tmp_path.parent / f"{tmp_path.name}-secret.data"
    outside.write_bytes(b"\0" * 400)
    (tmp_path / "link.data").symlink_to(outside)
    os.mkfifo(tmp_path / "pipe.data")
    (tmp_path / "sub").mkdir()
    (tmp_path / "sub" / "ok.data").write_bytes(np.full(100, 2, np.float32).tobytes())
    cases = {
        f"../{outside.name}": "leads outside the model's folder",
        str(outside): "is an absolute path",
        "link.data": "leads outside the model's folder",
        "pipe.data": "is not a regular file",
        "sub": "is not a regular file",
        "gone.data": "external data file 'gone.data' is missing",
        "": "names no usable file",
    }
    for location, message in cases.items():
        with pytest.raises(OnnxModelError, match=f"^{re.escape(str(tmp_path))}/m.onnx: initializer 'w': .*"
                                                 f"{re.escape(message)}|{re.escape(message)}"):
            read_onnx(_external(tmp_path, location))
    assert np.array_equal(read_onnx(_external(tmp_path, "sub/ok.data")).initializers["w"], np.full(100, 2))
    assert np.array_equal(read_onnx(_external(tmp_path, "sub/../m.onnx.data")).initializers["w"], np.ones(100))
    for kwargs, message in [({"offset": 8}, "runs past the end of 'm.onnx.data' (400 bytes)"),
                            ({"length": 396}, "is 396 bytes long, not the 400 bytes of its values"),
                            ({"length": "-4"}, "length '-4' is not a byte count")]:
        with pytest.raises(OnnxModelError, match=re.escape(message)):
            read_onnx(_external(tmp_path, **kwargs))
    with pytest.raises(OnnxModelError, match="stored in an external data file: read the model from its path"):
        read_onnx(_external(tmp_path).read_bytes())


def test_overlapping_external_ranges_are_refused(tmp_path):
    a = np.ones(100, np.float32)
    tensors = {k: external_tensor(a, k, "m.onnx.data", 0) for k in ("w1", "w2")}
    (tmp_path / "m.onnx").write_bytes(make_model([make_node("Add", ["w1", "w2"], ["y"])], [], [("y", None)], tensors))
    (tmp_path / "m.onnx.data").write_bytes(a.tobytes())
    with pytest.raises(OnnxModelError, match="initializer 'w2': the tensors' external data ranges overlap"):
        read_onnx(tmp_path / "m.onnx")


def _with_tensor(tensor):
    return make_model([make_node("Relu", ["w"], ["y"])], [], [("y", None)], {"w": tensor})


@pytest.mark.parametrize("bad, message", [
    (np.float32([1, np.nan]), "initializer 'w' holds nan at index 1; the file is damaged"),
    (np.float64([np.inf]), "initializer 'w' holds inf at index 0"),
    (np.float16([0, 0, -np.inf]), "initializer 'w' holds -inf at index 2"),
])
def test_non_finite_weights_are_refused(bad, message):
    with pytest.raises(OnnxModelError, match=re.escape(message)):
        read_onnx(_with_tensor(make_tensor(bad, "w")))
    with pytest.raises(OnnxModelError, match="attribute 'value' holds"):
        read_onnx(make_model([make_node("Constant", [], ["y"], value=bad)], [], [("y", None)]))


def _tensor_bytes(dims, data_type=1, raw=b"", extra=b""):
    from weights_tools import writer as pw

    return (b"".join(pw.f_varint(1, d) for d in dims) + pw.f_varint(2, data_type) + extra + pw.f_string(8, "w")
            + pw.f_bytes(9, raw))


@pytest.mark.parametrize("tensor, message", [
    (_tensor_bytes([2, 3], raw=b"\0" * 20), "holds 20 bytes of raw_data for dims [2, 3] (6 values of 4 bytes)"),
    (_tensor_bytes([-1, 4]), "has dims [-1, 4]: negative"),
    (_tensor_bytes([1 << 20, 1 << 20, 1 << 20]), "more than 2,147,483,648 values"),
    (_tensor_bytes([2], data_type=16, raw=b"\0" * 4), "data type 16 (BFLOAT16), which minidream does not read"),
    (_tensor_bytes([2], data_type=8), "data type 8 (STRING)"),
    (_tensor_bytes([1], raw=b"\0" * 4, extra=b"\x1a\x04\x08\x00\x10\x01"), "is one segment of a tensor"),
])
def test_bad_tensors_are_refused_before_allocation(tensor, message):
    with pytest.raises(OnnxModelError, match=re.escape(message)):
        read_onnx(_with_tensor(tensor))


def _relu(**kwargs):
    return make_model([make_node("Relu", ["x"], ["y"], name="r")], [("x", (1,))], [("y", (1,))], **kwargs)


@pytest.mark.parametrize("data, message", [
    (_relu(opset=11), "opset 11 is older than minidream reads (13..21); re-export with "
                      "torch.onnx.export(..., opset_version=17)"),
    (_relu(opset=22), "opset 22 is newer than minidream reads (13..21)"),
    (_relu(opset={"com.microsoft": 1}), "imports no opset of the default domain"),
    (_relu(ir_version=2), "IR version 2 is older than minidream reads"),
    (make_model([make_node("FusedConv", ["x"], ["y"], name="f", domain="com.microsoft")], [("x", (1,))],
                [("y", (1,))], opset={"": 17, "com.microsoft": 1}),
     "node #0 'f' (FusedConv) is an operator of domain 'com.microsoft', which minidream does not implement"),
    (make_model([make_node("If", ["c"], ["y"], name="branch", then_branch=make_graph([]),
                           else_branch=make_graph([]))], [("c", ())], [("y", None)]),
     "node #0 'branch' (If)'s attribute 'then_branch' is a subgraph: control flow (If, Loop, Scan) is not "
     "supported"),
    (make_model([make_node("Loop", ["n"], ["y"], bodies=[make_graph([])])], [("n", ())], [("y", None)]),
     "control flow (If, Loop, Scan) is not supported"),
    (make_model([make_node("Relu", ["x"], ["y"], name="a\0b")], [("x", (1,))], [("y", (1,))]),
     "node #0's name 'a\\x00b' contains a NUL byte"),
    (make_model([make_node("Relu", ["x"], ["y"])], [("x", (1,))], [("y", (1,))], {"": np.ones(1, np.float32)}),
     "initializer #0's name is empty"),
    (make_model([make_node("Relu", ["x"], ["y"])], [("x", (1,))], [("y", (1,))],
                {"w": make_tensor(np.ones(1, np.float32), "w"), "v": make_tensor(np.ones(1, np.float32), "w")}),
     "two initializers are named 'w'"),
    (b"", "empty file"),
    (_relu()[:-9], "truncated"),
    (b"\x0a\x03net" + b"\xa2\x06\x00", "not an ONNX model"),
    (b"\x89HDF\r\n\x1a\n" + b"\0" * 100, "this looks like an HDF5 file, not an ONNX model"),
])
def test_refusals_name_the_problem_and_the_fix(data, message, tmp_path):
    path = tmp_path / "model.onnx"
    path.write_bytes(data)
    with pytest.raises(OnnxModelError, match=f"^{re.escape(str(path))}: .*{re.escape(message)}"):
        read_onnx(path)


def test_missing_files_folders_and_fifos(tmp_path):
    with pytest.raises(FileNotFoundError):
        read_onnx(tmp_path / "none.onnx")
    with pytest.raises(OnnxModelError, match="not a regular file"):
        read_onnx(tmp_path)
    os.mkfifo(tmp_path / "pipe.onnx")
    with pytest.raises(OnnxModelError, match="not a regular file"):
        read_onnx(tmp_path / "pipe.onnx")


def test_a_damaged_doc_string_does_not_refuse_the_model():
    from weights_tools import writer as pw

    model = read_onnx(_relu() + pw.f_bytes(6, b"\xff\xfe not text"))
    assert [n.op_type for n in model.nodes] == ["Relu"]
    assert math.prod(model.inputs[0].shape) == 1
