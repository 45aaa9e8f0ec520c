"""Text reports for the `inspect` and `list` commands."""
import json
import os

import h5py
import numpy as np

from minidream.engine.graph import Graph
from minidream.formats import h5format
from weights_tools import cache
from weights_tools.convert import load_caffemodel


def _load(path, skip_unsupported=False):
    """(specs, blobs, meta) of a minidream .h5 or a .caffemodel, told apart by content, not by name: a file that
    is neither is read as a .caffemodel, whose reader names the format it looks like (weights_tools.foreign)."""
    if os.path.isfile(path) and not h5py.is_hdf5(path):
        return load_caffemodel(path, skip_unsupported=skip_unsupported)
    return h5format.load(path)


def _shape(shape):
    return "x".join(str(d) for d in shape[1:])


def inspect_file(path, skip_unsupported=False):
    """Layers, output shapes (at the nominal input size) and parameter counts, as text."""
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
    widths = [max(len(r[c]) for r in rows) for c in range(5)]
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
    lines.append("")
    for r in rows:
        lines.append("  " + "  ".join(v.rjust(widths[c]) if c in (0, 4) else v.ljust(widths[c])
                                      for c, v in enumerate(r)).rstrip())
    return "\n".join(lines)


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
