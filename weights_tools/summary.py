"""Text reports for the `inspect` and `list` commands."""
import json
import math
import os

import h5py
import numpy as np

from minidream.engine.graph import Graph
from minidream.formats import h5format
from weights_tools import cache
from weights_tools.convert import load_caffemodel
from weights_tools.foreign import HEAD, looks_like_onnx
from weights_tools.onnx import read_onnx


def _load(path, skip_unsupported=False):
    """(specs, blobs, meta) of a minidream .h5 or a .caffemodel, told apart by content, not by name: a file that
    is neither is read as a .caffemodel, whose reader names the format it looks like (weights_tools.foreign)."""
    if os.path.isfile(path) and not h5py.is_hdf5(path):
        return load_caffemodel(path, skip_unsupported=skip_unsupported)
    return h5format.load(path)


def _shape(shape):
    return "x".join(str(d) for d in shape[1:])


def _table(rows):
    """Rows of five text columns, aligned (the first and last, numbers, to the right), indented two spaces."""
    widths = [max(len(r[c]) for r in rows) for c in range(5)]
    return ["  " + "  ".join(v.rjust(widths[c]) if c in (0, 4) else v.ljust(widths[c])
                             for c, v in enumerate(r)).rstrip() for r in rows]


def _is_onnx(path):
    try:
        with open(path, "rb") as f:
            return looks_like_onnx(f.read(HEAD))
    except OSError:  # the reader that opens it says why
        return False


def inspect_file(path, skip_unsupported=False):
    """Layers (nodes), output shapes (at the nominal input size) and parameter counts of a .caffemodel, .h5 or
    .onnx file, told apart by content, as text."""
    if os.path.isfile(path) and _is_onnx(path):
        return inspect_onnx(path)
    specs, blobs, meta = _load(path, skip_unsupported)
    graph = Graph(specs, meta.get("input_blob", "data"), meta.get("input_channels", 3))
    shapes = graph.output_shapes(meta["input_size"])  # shape arithmetic only
    h, w = meta["input_size"]
    rows = [("#", "layer", "type", "output (C x H x W)", "params")]
    total = 0
    for i, spec in enumerate(specs):
        count = sum(int(np.prod(a.shape)) for a in blobs.get(spec["name"], []))
        total += count
        # a several-top layer (Slice) is listed with each top's shape
        out = shapes[spec["name"]] if len(spec["tops"]) == 1 else None
        shape = _shape(out) if out else ", ".join(f"{top} {_shape(shapes[top])}" for top in spec["tops"])
        rows.append((str(i), spec["name"], spec["type"], shape, f"{count:,}" if count else ""))
    lines = [f"{path}", f"  model {meta.get('name') or '(unnamed)'}: {len(specs)} layers, {total:,} parameters "
             f"({total * 4 / 1e6:.1f} MB float32)",
             f"  input {meta.get('input_blob', 'data')!r}: {graph.input_channels} x {h} x {w}, channel order "
             f"{meta.get('channel_order', 'BGR')}, mean (B, G, R) {[round(m, 3) for m in meta['mean_bgr']]}"]
    if meta.get("source_file"):
        lines.append(f"  source {meta['source_file']} (SHA1 {meta.get('source_sha1') or 'unknown'})")
    names = meta.get("class_names") or []
    if names:
        lines.append(f"  {len(names)} class names ({names[0]} ... {names[-1]})")
    extra = meta.get("extra", {})
    for key, label in (("dropped_layers", "dropped (training only)"), ("skipped_layers", "skipped (unsupported)"),
                       ("added_layers", "added")):
        if extra.get(key):
            lines.append(f"  {label}: {', '.join(extra[key])}")
    return "\n".join(lines + [""] + _table(rows))


def _tensor(info):
    """A graph input or output: name, dtype and shape (a symbolic dim by its name, an unknown one as ?)."""
    shape = "shape unknown" if info.shape is None else \
        " x ".join("?" if d is None else str(d) for d in info.shape) or "scalar"
    return f"{info.name!r}: {info.dtype or 'type unknown'} {shape}"


def inspect_onnx(path):
    """Producer, opsets, inputs and outputs, then node by node: index, name, op_type, outputs and the parameter
    count of its float initializers (each counted at the first node that uses it; integer ones, such as shapes and
    axes, are not parameters), as text."""
    model = read_onnx(path)
    weights = {name: math.prod(a.shape) for name, a in model.initializers.items() if a.dtype.kind == "f"}
    counted, total = set(), sum(weights.values())
    rows = [("#", "node", "op_type", "outputs", "params")]
    for i, node in enumerate(model.nodes):
        used = {v for v in node.inputs if v in weights} - counted
        counted |= used
        count = sum(weights[v] for v in used)
        rows.append((str(i), node.name or "-", node.op_type, ", ".join(v or "-" for v in node.outputs),
                     f"{count:,}" if count else ""))
    others = ", ".join(f"{d} {v}" for d, v in sorted(model.opsets.items()) if d)
    lines = [path, f"  model {model.graph_name or '(unnamed)'}: {len(model.nodes)} nodes, {total:,} parameters "
             f"({total * 4 / 1e6:.1f} MB float32)",
             f"  producer {model.producer or 'unknown'}, IR version {model.ir_version}, opset {model.opsets['']}"
             + (f" (and {others})" if others else "")]
    lines += [f"  input {_tensor(v)}" for v in model.inputs] + [f"  output {_tensor(v)}" for v in model.outputs]
    return "\n".join(lines + [""] + _table(rows))


def _h5_summary(path):
    try:
        with h5py.File(path, "r") as f:
            extra = json.loads(f.attrs.get("extra", "{}"))
            return (f"{f.attrs.get('name', '')} {int(f.attrs['input_height'])}x{int(f.attrs['input_width'])}, "
                    f"{h5format.layer_count(f)} layers, from {f.attrs.get('source_file', '') or '?'}"
                    + (f" ({extra['caffe_format']})" if extra.get("caffe_format") else ""))
    except (OSError, KeyError, ValueError, RuntimeError) as exc:
        return f"unreadable: {exc}"


def list_cache():
    """What is in the cache, one line per file, as text."""
    entries = cache.entries()
    lines = [f"cache: {cache.home()}"]
    if not entries:
        lines.append("  (empty) - get a model with `python -m weights_tools fetch googlenet`")
    for kind, path in entries:
        size = f"{path.stat().st_size / 1e6:8.1f} MB"
        what = _h5_summary(path) if path.suffix == ".h5" else ("incomplete download" if path.suffix == ".part"
                                                                else "download")
        label = path.stem if kind == "model" else path.name
        lines.append(f"  {kind:9s} {label:44s} {size}  {what}")
    return "\n".join(lines)
