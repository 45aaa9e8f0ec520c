"""Reading a minidream model file without trusting it (the checks behind h5format.load).

Before a weight is read: every link in the file is a plain link inside it (no external or soft links), no
dataset has external raw storage or is virtual (both pull bytes from other files), every attribute is one the
format defines with the type it defines, the graph is valid (minidream.engine.graph) and within minidream/io/limits.py's
bounds at the declared input, and every weight dataset the graph needs is there, float32, with exactly the shape
the graph gives it (so a compressed dataset never expands beyond the size the graph allows), and nothing else is.
After: every weight and float parameter is finite, and the weights' SHA-256 matches the one written at save time
(format version 2), so bit rot and edits are caught.
"""
import hashlib
import json
import math

import h5py
import numpy as np

from minidream.engine.graph import Graph
from minidream.errors import ModelFileError
from minidream.io import limits

# attribute: (kind, required); kinds: "str", "int", "mean", "json"
ROOT_ATTRS = {
    "format": ("str", True), "format_version": ("int", True), "name": ("str", False),
    "input_height": ("int", True), "input_width": ("int", True), "input_channels": ("int", False),
    "input_blob": ("str", False), "channel_order": ("str", False), "mean_bgr": ("mean", True),
    "source_file": ("str", False), "source_sha1": ("str", False), "minidream_version": ("str", False),
    "extra": ("json", False), "weights_sha256": ("str", False),
}
V1_LAYER_ATTRS = {"name": "str", "type": "str", "bottoms": "json", "tops": "json", "params": "json"}
MAX_CLASSES = 1 << 20


def weights_digest(specs, arrays):
    """Hex SHA-256 of the weights: per layer its name, then each blob's shape and float32 bytes, in graph order."""
    digest = hashlib.sha256()
    for spec, layer_arrays in zip(specs, arrays):
        if len(layer_arrays):
            digest.update(spec["name"].encode("utf-8", "surrogatepass") + b"\0")
            for a in layer_arrays:
                a = np.ascontiguousarray(a, np.float32)
                digest.update(repr(tuple(a.shape)).encode() + memoryview(a).cast("B"))
    return digest.hexdigest()


def _child(group, key, where):
    """group[key] after checking the link is a hard link inside this file (KeyError-free: None when absent)."""
    link = group.get(key, getlink=True)
    if link is None:
        return None
    if not isinstance(link, h5py.HardLink):
        raise ModelFileError(f"{where} is a {type(link).__name__} to another place; model files must be "
                             "self-contained (rewrite it with Net.save)")
    return group[key]


def _attr(obj, key, kind, where):
    value = obj.attrs[key]
    if kind in ("str", "json"):
        if isinstance(value, bytes):
            try:
                value = value.decode("utf-8")
            except UnicodeDecodeError:
                raise ModelFileError(f"attribute {where} is not UTF-8 text") from None
        if not isinstance(value, str):
            raise ModelFileError(f"attribute {where} should be text, not {value!r:.60}")
        if kind == "json":
            try:
                return json.loads(value)
            except ValueError as exc:
                raise ModelFileError(f"attribute {where} is not JSON ({exc})") from None
        return value
    if kind == "int":
        if not (isinstance(value, (int, np.integer)) and not isinstance(value, (bool, np.bool_))):
            raise ModelFileError(f"attribute {where} should be an integer, not {value!r:.60}")
        return int(value)
    array = np.asarray(value)
    if array.ndim != 1 or not 1 <= array.size <= limits.MAX_CHANNELS or array.dtype.kind != "f" \
            or not np.isfinite(array).all() or np.abs(array).max() > limits.MAX_ABS_VALUE:
        raise ModelFileError(f"attribute {where} should be finite numbers, one per input channel, not {value!r:.60}")
    return [float(v) for v in array]


def _attrs(obj, known, where):
    unknown = sorted(set(obj.attrs) - set(known))
    if unknown:
        raise ModelFileError(f"{where} has unknown attribute {unknown[0]!r} (this minidream reads only the format's "
                             "own attributes; put extra data in the `extra` JSON)")
    out = {}
    for key, spec in known.items():
        kind, required = spec if isinstance(spec, tuple) else (spec, True)
        if key in obj.attrs:
            out[key] = _attr(obj, key, kind, f"{where}{key}")
        elif required:
            raise ModelFileError(f"the required attribute {where}{key} is missing")
    return out


def _dataset(group, key, shape, where):
    """The float32 array group[key], after checking it has exactly `shape` and its bytes are in this file."""
    ds = _child(group, key, where)
    if ds is None:
        raise ModelFileError(f"{where} is missing (the graph needs a {'x'.join(map(str, shape))} float32 array)")
    if not isinstance(ds, h5py.Dataset):
        raise ModelFileError(f"{where} is not a dataset")
    if ds.external or ds.is_virtual:
        raise ModelFileError(f"{where} keeps its data in another file; model files must be self-contained")
    if ds.dtype != np.float32 or tuple(ds.shape) != tuple(shape):
        raise ModelFileError(f"{where} is {ds.dtype} {tuple(ds.shape)}, the graph needs float32 {tuple(shape)}")
    return np.asarray(ds[()], np.float32)


def _specs_v2(f):
    ds = _child(f, "graph", "/graph")
    if not isinstance(ds, h5py.Dataset) or ds.shape != () or ds.dtype.kind != "O":
        raise ModelFileError("/graph is missing or is not one JSON string")
    text = ds[()]
    try:
        return json.loads(text.decode("utf-8") if isinstance(text, bytes) else text)
    except ValueError as exc:
        raise ModelFileError(f"/graph is not JSON ({exc})") from None


def _specs_v1(f):
    layers = _child(f, "layers", "/layers")
    if layers is None:
        raise ModelFileError("/layers is missing")
    keys = sorted(layers.keys())
    specs = []
    for key in keys:
        g = _child(layers, key, f"/layers/{key}")
        a = _attrs(g, V1_LAYER_ATTRS, f"/layers/{key}/")
        specs.append({k: a[k] for k in V1_LAYER_ATTRS})
    return specs, keys


def _check_specs(specs):
    if not isinstance(specs, list) or not specs:
        raise ModelFileError("the graph is not a non-empty list of layers")
    for i, spec in enumerate(specs):
        if not (isinstance(spec, dict) and isinstance(spec.get("name"), str) and isinstance(spec.get("type"), str)
                and isinstance(spec.get("params"), dict) and all(
                    isinstance(spec.get(k), list) and all(isinstance(b, str) for b in spec[k])
                    for k in ("bottoms", "tops"))):
            raise ModelFileError(f"layer #{i} is not {{name, type, bottoms: [names], tops: [names], params: {{}}}}")
        problem, about_a_name = limits.spec_problem(spec)
        if problem:
            raise ModelFileError(f"layer #{i}: {problem}" if about_a_name else f"layer {spec['name']!r}: {problem}")


def read_checked(f, max_version):
    """(specs, blobs, meta) of an open minidream model file, every check of the module doc passed."""
    root = _attrs(f, ROOT_ATTRS, "/")
    version = root["format_version"]
    if version > max_version or version < 1:
        raise ModelFileError(f"format version {version} is not one this minidream reads (1..{max_version}); "
                             "upgrade minidream")
    allowed = {"graph", "weights", "class_names"} if version >= 2 else {"layers", "class_names"}
    unknown = sorted(set(f.keys()) - allowed)
    if unknown:
        raise ModelFileError(f"unknown entry /{unknown[0]} in a version {version} file")
    specs, v1_keys = (_specs_v2(f), None) if version >= 2 else _specs_v1(f)
    _check_specs(specs)
    meta = {"name": root.get("name", ""), "input_size": (root["input_height"], root["input_width"]),
            "input_channels": root.get("input_channels", 3), "input_blob": root.get("input_blob", "data"),
            "channel_order": root.get("channel_order", "BGR"), "mean_bgr": root["mean_bgr"],
            "source_file": root.get("source_file", ""), "source_sha1": root.get("source_sha1", ""),
            "extra": root.get("extra", {})}
    if not isinstance(meta["extra"], dict):
        raise ModelFileError("attribute /extra is not a JSON object")
    scale = meta["extra"].get("input_scale", 1.0)
    scales = scale if isinstance(scale, list) and len(scale) == meta["input_channels"] else [scale]
    if not all(isinstance(s, (int, float)) and math.isfinite(s) and s != 0 for s in scales):
        raise ModelFileError(f"extra.input_scale {scale!r} is not a finite non-zero number (or one per channel)")
    problem = (limits.input_problem(meta["input_size"], meta["input_channels"])
               or limits.name_problem(meta["input_blob"]))
    if problem:
        raise ModelFileError(problem)
    if len(meta["mean_bgr"]) != meta["input_channels"]:
        raise ModelFileError(f"attribute /mean_bgr has {len(meta['mean_bgr'])} values for {meta['input_channels']} "
                             "input channels (one per channel)")
    try:
        graph = Graph(specs, meta["input_blob"], meta["input_channels"])
        problem = limits.shape_problem(graph, meta["input_size"])
        shapes = {} if problem else graph.param_shapes(meta["input_size"])
    except (ValueError, LookupError, ArithmeticError, TypeError) as exc:
        raise ModelFileError(f"its graph is invalid: {exc}") from None
    if problem:
        raise ModelFileError(f"its graph is invalid: {problem}")
    blobs = _read_weights(f, graph, shapes, v1_keys)
    found = limits.weights_problem(graph.specs, blobs)
    if found:
        raise ModelFileError(f"layer {found[0]!r}: {found[1]}; the file is damaged: fetch or convert it again")
    if "weights_sha256" in root or version >= 2:
        digest = weights_digest(specs, [blobs.get(spec["name"], []) for spec in specs])
        if root.get("weights_sha256") != digest:
            raise ModelFileError("the weights do not match the checksum written with them (the file was damaged "
                                 "or edited after saving): fetch or convert it again")
    if "class_names" in f:
        meta["class_names"] = _class_names(f)
    return specs, blobs, meta


def _read_weights(f, graph, shapes, v1_keys):
    """{layer: [arrays]} with exactly the datasets `shapes` asks for (v1_keys: the /layers group names)."""
    blobs = {}
    if v1_keys is None:
        weights = _child(f, "weights", "/weights")
        present = set(weights.keys()) if weights is not None else set()
        wanted = {f"{graph.index[name]:05d}": name for name in shapes}
        if present - set(wanted):
            extra = sorted(present - set(wanted))[0]
            raise ModelFileError(f"/weights/{extra} holds weights for a layer that has none")
    for name, want in shapes.items():
        i = graph.index[name]
        where = f"/weights/{i:05d}" if v1_keys is None else f"/layers/{v1_keys[i]}"
        group = _child(f, where.lstrip("/"), where)
        if group is None:
            raise ModelFileError(f"{where} (layer {name!r}) is missing its weights")
        keys = set(group.keys())
        expected = {f"blob_{j}" for j in range(len(want))}
        if keys - expected:
            raise ModelFileError(f"{where}/{sorted(keys - expected)[0]}: layer {name!r} has {len(want)} weight blobs")
        blobs[name] = [_dataset(group, f"blob_{j}", s, f"{where}/blob_{j} (layer {name!r})")
                       for j, s in enumerate(want)]
    if v1_keys is not None:
        for i, key in enumerate(v1_keys):
            if graph.names[i] not in shapes and set(f["layers"][key].keys()):
                raise ModelFileError(f"/layers/{key} (layer {graph.names[i]!r}) holds weights, but its type has none")
    return blobs


def _class_names(f):
    ds = _child(f, "class_names", "/class_names")
    if not isinstance(ds, h5py.Dataset) or ds.ndim != 1 or ds.dtype.kind not in "OS" or ds.shape[0] > MAX_CLASSES:
        raise ModelFileError("/class_names is not a list of strings")
    names = [n.decode("utf-8") if isinstance(n, bytes) else str(n) for n in ds[()]]
    return names
