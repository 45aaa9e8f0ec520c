"""Seeded hostile model files for the reliability tests and benchmarks/reliability.py.

    caffemodel_case(rng) -> (kind, bytes)       a mutated .caffemodel (protowriter writes it)
    h5_case(rng, good, dst) -> kind             a mutated copy of the model file `good` written to dst

The mutations are what an attacker or a damaged download produces: byte flips and cuts, hostile parameter values
(0, -1, 2**32, 100000, NaN, inf), non-finite or huge weights, wrong blob shapes, NUL bytes in names, impossible
wiring; for .h5 files deleted or retyped attributes and datasets, transposed weights, hostile layer JSON,
external links, external raw storage and gzip bombs. Every case is a pure function of the Generator's state.
"""
import copy
import json

import numpy as np

from weights_tools import writer as pw
from tests.weights_tools.conftest import small_model

HOSTILE_INTS = (0, -1, 7, 100000, 2**31 - 1, 2**32, 10**12)
HOSTILE_FLOATS = (float("nan"), float("inf"), float("-inf"), 1e38, -1e38, 0.0)
PARAM_KEYS = ("num_output", "kernel_size", "pad", "stride", "group", "local_size", "alpha", "beta", "k", "axis",
              "dropout_ratio", "negative_slope")
FLOAT_KEYS = {"alpha", "beta", "k", "dropout_ratio", "negative_slope"}


def _model():
    specs, blobs, _ = small_model()
    return copy.deepcopy(specs), {k: [np.array(a) for a in v] for k, v in blobs.items()}


def _write(specs, blobs, rng, input_size=(13, 13)):
    form = int(rng.integers(3))
    if form == 0:
        return pw.deploy(specs, blobs, input_size=input_size)
    return pw.snapshot(specs, blobs, "V1" if form == 1 else "current", crop=input_size[0])


def caffemodel_case(rng):
    """(kind, bytes) of one mutated .caffemodel of the small test net (tests/weights_tools/conftest.py)."""
    specs, blobs = _model()
    kind = ("flip", "cut", "param", "param", "weights", "shape", "input", "name", "wiring")[int(rng.integers(9))]
    if kind in ("flip", "cut"):
        data = bytearray(_write(specs, blobs, rng))
        if kind == "cut":
            return kind, bytes(data[:int(rng.integers(len(data)))])
        for pos in rng.integers(0, len(data), size=int(rng.integers(1, 5))):
            data[pos] = int(rng.integers(256))
        return kind, bytes(data)
    if kind == "param":
        spec = specs[int(rng.integers(len(specs)))]
        keys = [k for k in PARAM_KEYS if k in spec["params"]] or ["axis"]
        key = keys[int(rng.integers(len(keys)))]
        if key in FLOAT_KEYS:
            value = HOSTILE_FLOATS[int(rng.integers(len(HOSTILE_FLOATS)))]
        else:
            value = HOSTILE_INTS[int(rng.integers(len(HOSTILE_INTS)))]
            value = [value, value] if isinstance(spec["params"].get(key), list) else value
        spec["params"][key] = value
    elif kind == "weights":
        name = sorted(blobs)[int(rng.integers(len(blobs)))]
        a = blobs[name][int(rng.integers(len(blobs[name])))]
        a.reshape(-1)[int(rng.integers(a.size))] = (float("nan"), float("inf"), -float("inf"), 3e38)[int(rng.integers(4))]
    elif kind == "shape":
        name = sorted(blobs)[int(rng.integers(len(blobs)))]
        k = int(rng.integers(len(blobs[name])))
        a = blobs[name][k]
        blobs[name][k] = a.T.copy() if a.ndim > 1 and rng.integers(2) else a.reshape(-1)[:max(a.size - 1, 0)]
    elif kind == "input":
        side = HOSTILE_INTS[int(rng.integers(len(HOSTILE_INTS)))]
        size = (max(side, 0) % (2**63), 13) if rng.integers(2) else (13, max(side, 0) % (2**63))
        return kind, pw.deploy(specs, blobs, input_size=size)
    elif kind == "name":
        spec = specs[int(rng.integers(len(specs)))]
        new = ("a\0b", "x" * 70000, "", "/", "..", "a/b/c")[int(rng.integers(6))]
        old, spec["name"] = spec["name"], new
        if old in blobs:
            blobs[new] = blobs.pop(old)
    else:
        spec = specs[int(rng.integers(1, len(specs)))]
        change = int(rng.integers(3))
        if change == 0:
            spec["bottoms"] = ["nowhere"]
        elif change == 1:
            spec["tops"] = spec["tops"] * 3
        else:
            spec["bottoms"] = spec["bottoms"] * 2
        return kind, pw.deploy(specs, blobs, input_size=(13, 13))  # no Split insertion for broken wiring
    return kind, _write(specs, blobs, rng)


# ---------------------------------------------------------------- .h5
ROOT_ATTRS = ("format", "format_version", "name", "input_height", "input_width", "input_channels", "input_blob",
              "channel_order", "mean_bgr", "extra")
HOSTILE_ATTRS = (0, -1, 2**40, float("nan"), float("inf"), "x", "", b"\xff\xfe", np.zeros(0), np.ones((2, 2)))
HOSTILE_PARAMS = {"stride": [0, 0], "group": 0, "kernel_size": [0, 0], "pad": [2**40, 2**40], "num_output": -1,
                  "axis": 7, "local_size": 0, "alpha": float("nan"), "pool": "MEDIAN", "dropout_ratio": 2.0}


def h5_case(rng, good, dst):
    """Write a mutated copy of the model file `good` to dst; returns the mutation's kind."""
    import h5py

    data = open(good, "rb").read()
    kind = ("flip", "cut", "attr", "drop_attr", "params", "json", "drop_blob", "transpose", "retype", "nan",
            "extlink", "external", "bomb", "extra_blob")[int(rng.integers(14))]
    if kind in ("flip", "cut"):
        if kind == "cut":
            data = data[:int(rng.integers(len(data)))]
        else:
            data = bytearray(data)
            for pos in rng.integers(0, len(data), size=int(rng.integers(1, 9))):
                data[pos] = int(rng.integers(256))
        with open(dst, "wb") as f:
            f.write(bytes(data))
        return kind
    with open(dst, "wb") as f:
        f.write(data)
    with h5py.File(dst, "r+") as f:
        v2 = "graph" in f
        specs = json.loads(f["graph"][()]) if v2 else None
        container = f["weights"] if v2 else f["layers"]
        groups = [container[k] for k in sorted(container)]
        with_blobs = [g for g in groups if "blob_0" in g]
        w = with_blobs[int(rng.integers(len(with_blobs)))]
        g = groups[int(rng.integers(len(groups)))]
        layer = int(rng.integers(len(specs))) if v2 else None
        if kind == "attr":
            f.attrs[ROOT_ATTRS[int(rng.integers(len(ROOT_ATTRS)))]] = HOSTILE_ATTRS[int(rng.integers(len(HOSTILE_ATTRS)))]
        elif kind == "drop_attr":
            target = f if rng.integers(2) or v2 else g
            names = list(target.attrs)
            del target.attrs[names[int(rng.integers(len(names)))]]
        elif kind == "params":
            key = sorted(HOSTILE_PARAMS)[int(rng.integers(len(HOSTILE_PARAMS)))]
            if v2:
                specs[layer]["params"][key] = HOSTILE_PARAMS[key]
            else:
                params = json.loads(g.attrs["params"])
                params[key] = HOSTILE_PARAMS[key]
                g.attrs["params"] = json.dumps(params)
        elif kind == "json":
            field = ("params", "bottoms", "tops")[int(rng.integers(3))]
            text = ("{", "[1, 2]", "null", '"x"', "[[]]")[int(rng.integers(5))]
            if v2:
                specs = text if rng.integers(2) else specs
                if not isinstance(specs, str):
                    specs[layer][field] = text
            else:
                g.attrs[field] = text
        elif kind == "drop_blob":
            del w[sorted(k for k in w if k.startswith("blob_"))[-1]]
        elif kind in ("transpose", "retype", "nan", "extra_blob"):
            name = "blob_0"
            a = np.asarray(w[name])
            del w[name]
            if kind == "transpose":
                a = a.T if a.ndim > 1 else a[:-1]
            elif kind == "retype":
                a = (a.astype(np.float64), a.astype(np.int64), np.array([b"x"] * a.size))[int(rng.integers(3))]
            elif kind == "nan":
                a = a.copy()
                a.reshape(-1)[int(rng.integers(a.size))] = (np.nan, np.inf, -np.inf)[int(rng.integers(3))]
            w.create_dataset(name, data=a)
            if kind == "extra_blob":
                w.create_dataset("blob_9", data=a)
        elif kind == "extlink":
            key = w.name.rsplit("/", 1)[-1]
            del container[key]
            container[key] = h5py.ExternalLink(good, container.name + "/" + key)
        elif kind == "external":
            shape = np.asarray(w["blob_0"]).shape
            del w["blob_0"]
            w.create_dataset("blob_0", shape=shape, dtype="f4", external=[("/etc/hostname", 0, h5py.h5f.UNLIMITED)])
        elif kind == "bomb":
            del w["blob_0"]
            w.create_dataset("blob_0", shape=(64, 1024, 1024), dtype="f4", compression="gzip", chunks=(1, 1024, 1024),
                             fillvalue=0.0)
            w["blob_0"][0] = 0.0
        if v2:
            del f["graph"]
            f.create_dataset("graph", data=specs if isinstance(specs, str) else json.dumps(specs),
                             dtype=h5py.string_dtype("utf-8"))
    return kind
