"""The minidream HDF5 model format: one file holds a graph, its weights and metadata.

Written by ``Net.save``, ``weights_tools convert`` and training checkpoints; read by
``load_model``. Readable with plain h5py; the layout is documented in docs/format.md.

    /                      attrs: format="minidream-net", format_version=2, name,
                                  input_height, input_width, input_channels, input_blob,
                                  channel_order ("BGR"), mean_bgr (float32[3]), source_file,
                                  source_sha1, minidream_version, extra (JSON object),
                                  weights_sha256 (hex SHA-256 of the weights, see weights_digest)
    /graph                 UTF-8 string: JSON list of the layer specs in graph order
                           ({name, type, bottoms, tops, params})
    /weights/00012/blob_0  float32 weights of layer 12 (zero-padded graph index), Caffe blob order;
                           only layers with weights have a group
    /class_names           optional: UTF-8 strings, one per class

Version 1 files (one /layers/<index> group per layer, the spec in its attributes, no checksum)
are still read. Version 2 keeps the graph in one dataset: one HDF5 group per layer made saving
and loading a 30,000-layer net take seconds each.

``load`` trusts nothing (minidream/formats/h5checks.py): links and storage stay inside the file, every
attribute is known and well-typed, the graph is valid and within minidream/io/limits.py's bounds,
every weight dataset has exactly the shape the graph needs (checked before it is read, so a
compressed dataset cannot expand beyond it), values are finite and the checksum matches.
Every failure is a ModelFileError naming the file and the field.
"""
import json
import os

import h5py
import numpy as np

from minidream import __version__
from minidream.errors import ModelFileError
from minidream.formats import h5checks
from minidream.io.files import atomic_path, check_writable

FORMAT = "minidream-net"
FORMAT_VERSION = 2
EXTENSIONS = (".h5", ".hdf5")

__all__ = ["ModelFileError", "check_destination", "load", "save"]


def check_destination(path):
    """Fail now (OSError or ValueError, one line) if a model file cannot be written at path (its folder is made)."""
    path = os.fspath(path)
    if os.path.splitext(path)[1].lower() in EXTENSIONS:
        os.makedirs(os.path.dirname(os.path.abspath(path)), exist_ok=True)
    return check_writable(path, EXTENSIONS, what="model file")


def save(path, specs, blobs, meta):
    """Write a model atomically (temp file in the same folder, then rename).

    specs: list of dicts {name, type, bottoms, tops, params}; blobs: {layer name:
    [arrays]}; meta: dict with input_size (H, W), mean_bgr, channel_order and the
    optional name, source_file, source_sha1, class_names, extra.
    """
    path = os.fspath(path)
    os.makedirs(os.path.dirname(os.path.abspath(path)), exist_ok=True)
    arrays = [[np.ascontiguousarray(b, np.float32) for b in blobs.get(spec["name"], [])] for spec in specs]
    with atomic_path(path) as tmp, h5py.File(tmp, "w") as f:
        f.attrs["format"] = FORMAT
        f.attrs["format_version"] = FORMAT_VERSION
        f.attrs["name"] = str(meta.get("name", ""))
        height, width = meta.get("input_size", (224, 224))
        f.attrs["input_height"] = int(height)
        f.attrs["input_width"] = int(width)
        f.attrs["input_channels"] = int(meta.get("input_channels", 3))
        f.attrs["input_blob"] = str(meta.get("input_blob", "data"))
        f.attrs["channel_order"] = str(meta.get("channel_order", "BGR"))
        f.attrs["mean_bgr"] = np.asarray(meta.get("mean_bgr", (0.0, 0.0, 0.0)), np.float32)
        f.attrs["source_file"] = str(meta.get("source_file", ""))
        f.attrs["source_sha1"] = str(meta.get("source_sha1", ""))
        f.attrs["minidream_version"] = __version__
        f.attrs["extra"] = json.dumps(meta.get("extra", {}))
        f.attrs["weights_sha256"] = h5checks.weights_digest(specs, arrays)
        graph = [{k: spec[k] for k in ("name", "type", "bottoms", "tops")} for spec in specs]
        for entry, spec in zip(graph, specs):
            entry["params"] = spec.get("params", {})
        f.create_dataset("graph", data=json.dumps(graph), dtype=h5py.string_dtype("utf-8"))
        weights = f.create_group("weights")
        for i, layer_arrays in enumerate(arrays):
            if layer_arrays:
                g = weights.create_group(f"{i:05d}")
                for j, blob in enumerate(layer_arrays):
                    g.create_dataset(f"blob_{j}", data=blob)
        names = meta.get("class_names")
        if names:
            f.create_dataset("class_names", data=[n.encode("utf-8") for n in names],
                             dtype=h5py.string_dtype("utf-8"))


def load(path):
    """Read a model file; returns (specs, blobs, meta) as ``save`` takes them. ModelFileError for any problem."""
    path = os.fspath(path)
    if not os.path.exists(path):
        raise ModelFileError(f"model file not found: {path}")
    try:
        f = h5py.File(path, "r")
    except OSError as exc:
        raise ModelFileError(
            f"{path} is not an HDF5 file ({exc}); convert a .caffemodel with "
            "`python -m weights_tools convert SRC.caffemodel DST.h5`"
        ) from None
    try:
        with f:
            if f.attrs.get("format") != FORMAT:
                raise ModelFileError(
                    f"{path} is HDF5 but not a minidream model (no format={FORMAT!r} attribute); "
                    "write models with Net.save or `python -m weights_tools convert`"
                )
            return h5checks.read_checked(f, FORMAT_VERSION)
    except ModelFileError as exc:
        text = str(exc)
        raise ModelFileError(text if text.startswith(path) else f"{path}: {text}") from None
    except (OSError, RuntimeError, KeyError, ValueError, TypeError, ArithmeticError) as exc:
        # h5py's errors for damaged internals (bad B-tree, bad heap, truncated chunks) surface here.
        raise ModelFileError(f"{path} is a damaged model file ({type(exc).__name__}: {' '.join(str(exc).split())}); "
                             "fetch or convert it again") from None


def layer_count(f):
    """How many layers an open model file holds (either version), for listings."""
    if "graph" in f:
        return len(json.loads(f["graph"][()]))
    return len(f["layers"])

