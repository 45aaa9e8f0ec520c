"""Files that are not a .caffemodel are named by the format they look like, with what to do, whatever their
extension; real .caffemodels of every form are never taken for one of them. An ONNX model is foreign to the Caffe
reader only: inspect routes it to the ONNX reader by content."""
import gzip
import io
import pickle
import re
import tarfile
import zipfile

import h5py
import numpy as np
import pytest

from minidream.models.loading import MINI_PATH
from tests.weights_tools.conftest import small_model
from weights_tools import CaffeModelError
from weights_tools import writer as pw
from weights_tools.__main__ import main
from weights_tools.convert import load_caffemodel
from weights_tools.foreign import looks_like, looks_like_onnx


def _onnx():
    """An ONNX ModelProto's opening: ir_version, producer, a graph holding a node, the opset."""
    node = pw.f_string(1, "x") + pw.f_string(2, "y") + pw.f_string(4, "Relu")
    return (pw.f_varint(1, 8) + pw.f_string(2, "pytorch") + pw.f_string(3, "2.1.0")
            + pw.f_bytes(7, pw.f_bytes(1, node) + pw.f_string(2, "main_graph")) + pw.f_bytes(8, pw.f_varint(2, 17)))


def _hdf5(userblock=0):
    buffer = io.BytesIO()
    with h5py.File(buffer, "w", userblock_size=userblock) as f:
        f["w"] = np.zeros(3, np.float32)
    return buffer.getvalue()


def _zip(names):
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        for name in names:
            archive.writestr(name, b"\0" * 100)
    return buffer.getvalue()


def _tar_gz(compress):
    buffer = io.BytesIO()
    with tarfile.open(fileobj=buffer, mode="w") as archive:
        info = tarfile.TarInfo("places205/model.caffemodel")
        info.size = 4
        archive.addfile(info, io.BytesIO(b"\0" * 4))
    return gzip.compress(buffer.getvalue()) if compress else buffer.getvalue()


def _npy():
    buffer = io.BytesIO()
    np.save(buffer, np.zeros(3, np.float32))
    return buffer.getvalue()


PROTOTXT = 'name: "GoogleNet"\nlayer {\n  name: "data"\n  type: "Input"\n  top: "data"\n}\n'
TF_NODE = pw.f_string(1, "input") + pw.f_string(2, "Placeholder") + pw.f_bytes(5, pw.f_string(1, "dtype"))

FOREIGN = {  # extension: (bytes, what it looks like, a word of what to do)
    ".h5": (_hdf5(), "an HDF5 file", "--model FILE"),
    "-userblock.h5": (_hdf5(userblock=1024), "an HDF5 file", "--model FILE"),
    ".pt": (_zip(["archive/data.pkl", "archive/data/0", "archive/version"]), "a PyTorch checkpoint (.pt/.pth)",
            "Caffe and ONNX models only"),
    "-legacy.pt": (pickle.dumps({"state_dict": {}}, protocol=2), "a Python pickle", "Caffe and ONNX models only"),
    ".zip": (_zip(["model.caffemodel"]), "a zip archive", "unpack it"),
    ".tar.gz": (_tar_gz(compress=True), "a gzip archive", "unpack it"),
    ".tar": (_tar_gz(compress=False), "a tar archive", "unpack it"),
    ".npy": (_npy(), "a NumPy array (.npy)", "Caffe and ONNX models only"),
    ".prototxt": (PROTOTXT.encode(), "a net's text definition (.prototxt)", "pass it as --prototxt"),
    ".html": (b"<!DOCTYPE html>\n<html><body>Sign in to continue</body></html>", "a web page (HTML)",
              "download it again"),
    "-lfs.caffemodel": (b"version https://git-lfs.github.com/spec/v1\noid sha256:0123\nsize 53533754\n",
                        "a Git LFS pointer", "git lfs pull"),
    ".txt": ("un fichier texte, pas un modèle\n".encode(), "a text file", "binary .caffemodel"),
    ".pb": (pw.f_bytes(1, TF_NODE) + pw.f_bytes(1, TF_NODE), "a TensorFlow graph (.pb)", "Caffe and ONNX models only"),
    "-saved.pb": (pw.f_varint(1, 1) + pw.f_bytes(2, pw.f_bytes(1, pw.f_string(4, "tensorflow"))),
                  "a TensorFlow SavedModel", "Caffe and ONNX models only"),
    ".tflite": (b"\x1c\0\0\0TFL3" + b"\0" * 40, "a TensorFlow Lite model", "Caffe and ONNX models only"),
    ".safetensors": (b'\x10\0\0\0\0\0\0\0{"__metadata__":{}}' + b"\0" * 8, "a safetensors file", "Caffe and ONNX models only"),
    "-legacy.binaryproto": (pw.blob(np.zeros((1, 3, 2, 2), np.float32)), "a mean image", "--mean-file"),
    "-shape.binaryproto": (pw.f_packed_floats(5, np.zeros(12)) + pw.f_bytes(7, pw.f_packed_varints(1, [3, 2, 2])),
                           "a mean image", "--mean-file"),
}


@pytest.mark.parametrize("suffix", list(FOREIGN))
@pytest.mark.parametrize("named", [".caffemodel", "own"])
def test_convert_names_the_format_by_content_and_what_to_do(suffix, named, tmp_path, capsys):
    data, what, fix = FOREIGN[suffix]
    src = tmp_path / ("model" + (suffix if named == "own" else named))
    src.write_bytes(data)
    assert main(["convert", str(src), str(tmp_path / "out.h5")]) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1
    assert err.startswith(f"error: {src}: this looks like ")
    assert re.search(f"looks like {re.escape(what)}.*, not a .caffemodel: .*{re.escape(fix)}", err), err
    assert not (tmp_path / "out.h5").exists()


@pytest.mark.parametrize("suffix", [".pt", ".prototxt", ".pb", "-saved.pb", "-legacy.binaryproto"])
def test_inspect_names_the_format_too(suffix, tmp_path, capsys):
    data, what, fix = FOREIGN[suffix]
    src = tmp_path / f"model{suffix}"
    src.write_bytes(data)
    assert main(["inspect", str(src)]) == 2
    assert re.search(f"this looks like {re.escape(what)}.*, not a .caffemodel: ", capsys.readouterr().err)


def test_inspect_tells_a_minidream_model_by_content_whatever_its_name(tmp_path, capsys):
    renamed = tmp_path / "mini.caffemodel"
    renamed.write_bytes(MINI_PATH.read_bytes())
    assert main(["inspect", str(renamed)]) == 0
    assert "model mini" in capsys.readouterr().out


def test_from_python_it_is_a_caffemodelerror():
    with pytest.raises(CaffeModelError, match="this looks like an ONNX model, not a .caffemodel: .*read_onnx"):
        load_caffemodel(_onnx())


@pytest.mark.parametrize("name", ["model.onnx", "model.caffemodel", "model"])
def test_inspect_lists_an_onnx_model_whatever_its_name(name, tmp_path, capsys):
    src = tmp_path / name
    src.write_bytes(_onnx())
    assert main(["inspect", str(src)]) == 0
    out = capsys.readouterr().out
    assert "model main_graph: 1 nodes" in out and "producer pytorch 2.1.0, IR version 8, opset 17" in out
    assert re.search(r"0  -\s+Relu\s+y", out), out


def test_only_onnx_models_look_like_onnx():
    assert looks_like_onnx(_onnx())
    assert not any(looks_like_onnx(data) for data, _, _ in FOREIGN.values())


@pytest.mark.parametrize("name_length", [0, 9, 10, 13, 32, 34, 123, 126, 127, 200])
@pytest.mark.parametrize("form", ["V1", "current", "deploy"])
def test_real_caffemodels_are_never_taken_for_another_format(form, name_length):
    specs, blobs, _ = small_model()
    name = "n" * name_length  # a name length is a byte of the file: tab, line feed, return, printable ones
    data = (pw.deploy(specs, blobs, input_size=(13, 13), name=name) if form == "deploy"
            else pw.snapshot(specs, blobs, form, name=name, crop=13))
    assert looks_like(data) is None and not looks_like_onnx(data)
    load_caffemodel(data)
