"""The minidream HDF5 model format: one file holds a graph, its weights and metadata.

Written by ``Net.save``, ``weights_tools convert`` and training checkpoints; read by
``load_model``. Readable with plain h5py; the layout is documented in docs/format.md.

    /                      attrs: format="minidream-net", format_version=1, name,
                                  input_height, input_width, input_channels, input_blob,
                                  channel_order ("BGR"),
                                  mean_bgr (float32[3]), source_file, source_sha1,
                                  minidream_version, extra (JSON object)
    /layers/00000 ...      one group per layer in graph order, zero-padded index;
                           attrs: name, type, bottoms (JSON list), tops (JSON list),
                                  params (JSON object)
                           datasets: blob_0, blob_1, ... (float32, Caffe blob order)
    /class_names           optional: UTF-8 strings, one per class
"""
import json
import os

import h5py
import numpy as np

from minidream import __version__
from minidream.files import atomic_path

FORMAT = "minidream-net"
FORMAT_VERSION = 1


class ModelFileError(ValueError):
    """A model file that is missing, not HDF5, or not in the minidream format."""


def save(path, specs, blobs, meta):
    """Write a model atomically (temp file in the same folder, then rename).

    specs: list of dicts {name, type, bottoms, tops, params}; blobs: {layer name:
    [arrays]}; meta: dict with input_size (H, W), mean_bgr, channel_order and the
    optional name, source_file, source_sha1, class_names, extra.
    """
    path = os.fspath(path)
    os.makedirs(os.path.dirname(os.path.abspath(path)), exist_ok=True)
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
        layers = f.create_group("layers")
        for i, spec in enumerate(specs):
            g = layers.create_group(f"{i:05d}")
            g.attrs["name"] = spec["name"]
            g.attrs["type"] = spec["type"]
            g.attrs["bottoms"] = json.dumps(list(spec["bottoms"]))
            g.attrs["tops"] = json.dumps(list(spec["tops"]))
            g.attrs["params"] = json.dumps(spec.get("params", {}))
            for j, blob in enumerate(blobs.get(spec["name"], [])):
                g.create_dataset(f"blob_{j}", data=np.asarray(blob, np.float32))
        names = meta.get("class_names")
        if names:
            f.create_dataset("class_names", data=[n.encode("utf-8") for n in names],
                             dtype=h5py.string_dtype("utf-8"))


def load(path):
    """Read a model file; returns (specs, blobs, meta) as ``save`` takes them."""
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
    with f:
        if f.attrs.get("format") != FORMAT:
            raise ModelFileError(
                f"{path} is HDF5 but not a minidream model (no format={FORMAT!r} attribute); "
                "write models with Net.save or `python -m weights_tools convert`"
            )
        version = int(f.attrs["format_version"])
        if version > FORMAT_VERSION:
            raise ModelFileError(
                f"{path} uses format version {version}, newer than this minidream reads "
                f"({FORMAT_VERSION}); upgrade minidream"
            )
        try:
            specs, blobs = [], {}
            for key in sorted(f["layers"].keys()):
                g = f["layers"][key]
                spec = {
                    "name": str(g.attrs["name"]),
                    "type": str(g.attrs["type"]),
                    "bottoms": json.loads(g.attrs["bottoms"]),
                    "tops": json.loads(g.attrs["tops"]),
                    "params": json.loads(g.attrs["params"]),
                }
                specs.append(spec)
                count = len([k for k in g.keys() if k.startswith("blob_")])
                if count:
                    blobs[spec["name"]] = [np.asarray(g[f"blob_{j}"], np.float32) for j in range(count)]
            meta = {
                "name": str(f.attrs.get("name", "")),
                "input_size": (int(f.attrs["input_height"]), int(f.attrs["input_width"])),
                "input_channels": int(f.attrs.get("input_channels", 3)),
                "input_blob": str(f.attrs.get("input_blob", "data")),
                "channel_order": str(f.attrs.get("channel_order", "BGR")),
                "mean_bgr": [float(v) for v in f.attrs["mean_bgr"]],
                "source_file": str(f.attrs.get("source_file", "")),
                "source_sha1": str(f.attrs.get("source_sha1", "")),
                "extra": json.loads(f.attrs.get("extra", "{}")),
            }
            if "class_names" in f:
                meta["class_names"] = [
                    n.decode("utf-8") if isinstance(n, bytes) else str(n) for n in f["class_names"][()]
                ]
        except (KeyError, ValueError) as exc:
            raise ModelFileError(f"{path} is a damaged minidream model file: {exc}") from None
    return specs, blobs, meta
