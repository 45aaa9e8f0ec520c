"""Convert a .caffemodel into a minidream HDF5 model file (minidream/h5format.py, docs/format.md).

    convert("bvlc_googlenet.caffemodel", "googlenet.h5")

The file is written atomically by h5format.save (temp file + rename), so an interrupted
conversion leaves nothing behind. Metadata recorded: the source file's name and SHA1,
the input size and channels (from the snapshot's crop_size or declared input shape, else
the known architecture's, else the size at which the classifier's weights fit), the BGR
mean (the snapshot's mean_value, else the architecture's), channel order BGR, and
ImageNet's class names when the classifier has 1000 outputs.
"""
import hashlib
import os
from pathlib import Path

from minidream import h5format
from minidream.architectures import ARCHITECTURES, IMAGENET_MEAN_BGR, architecture
from weights_tools.caffemodel import read_bytes, read_net
from weights_tools.checks import check_converted, check_declared
from weights_tools.errors import CaffeModelError
from weights_tools.graph import candidate_sizes, fit_weights

CLASS_FILE = Path(__file__).parent / "data" / "synset_words.txt"


def imagenet_classes():
    """(WordNet ids, names) of the 1000 ILSVRC-2012 classes in Caffe's order (data/README.md)."""
    wnids, names = [], []
    for line in CLASS_FILE.read_text(encoding="utf-8").splitlines():
        wnid, _, lemmas = line.partition(" ")
        wnids.append(wnid)
        names.append(lemmas)
    return wnids, names


def known_architecture(specs):
    """(name, meta) of the built-in architecture whose layers this net has, or (None, {})."""
    by_name = {s["name"]: s for s in specs}
    best, best_count = (None, {}), 0
    for arch in sorted(ARCHITECTURES):
        arch_specs, arch_meta = architecture(arch)
        count = 0
        for spec in arch_specs:
            mine = by_name.get(spec["name"])
            if spec["type"] == "Softmax" and mine is None:
                continue
            if mine is None or mine["type"] != spec["type"] or \
                    mine["params"].get("num_output") != spec["params"].get("num_output"):
                count = 0
                break
            count += 1
        if count > best_count:
            best, best_count = (arch, arch_meta), count
    return best


def build_meta(graph, info, arch_meta=None, arch=None, source_file="", source_sha1=""):
    """The minidream metadata for a parsed .caffemodel (see the module doc)."""
    arch_meta = arch_meta or {}
    extra = dict(arch_meta.get("extra", {}))
    extra.update({"caffe_net_name": info["name"], "caffe_format": info["generation"],
                  "dropped_layers": info["dropped"], "skipped_layers": info["skipped"],
                  "added_layers": info["added"], "folded_splits": info["folded_splits"]})
    if info["scale"] != 1.0:
        extra["input_scale"] = info["scale"]
    meta = {"name": arch or info["name"] or Path(source_file).stem, "channel_order": "BGR",
            "mean_bgr": info["mean_bgr"] or arch_meta.get("mean_bgr") or list(IMAGENET_MEAN_BGR),
            "source_file": source_file, "source_sha1": source_sha1, "input_blob": info["input_blob"],
            "input_size": tuple(info["input_size"]), "input_channels": graph.input_channels, "extra": extra}
    try:
        classes = graph.classifier_head().classes
    except ValueError:  # no fully connected classifier
        classes = None
    if classes == 1000:
        wnids, meta["class_names"] = imagenet_classes()
        extra["class_wnids"] = wnids
    return meta


def file_sha1(path):
    """Hex SHA1 of a file, read in 1 MiB pieces."""
    digest = hashlib.sha1()
    with open(path, "rb") as f:
        for piece in iter(lambda: f.read(1 << 20), b""):
            digest.update(piece)
    return digest.hexdigest()


def load_caffemodel(src, skip_unsupported=False):
    """(specs, blobs, meta) of a .caffemodel (a path, or its bytes), metadata included (blobs are read-only views)."""
    from_file = isinstance(src, (str, os.PathLike))
    buf = read_bytes(src) if from_file else src
    try:
        graph, raw, info = read_net(buf, skip_unsupported)
        check_declared(graph, info)
        arch, arch_meta = known_architecture(graph.specs)
        # The classifier pins the size only up to a pooling stride: a declared size, else the architecture's, first.
        sizes = candidate_sizes(info["input_size"]) if info["input_size"] else \
            (candidate_sizes(arch_meta["input_size"]) if arch else []) + candidate_sizes()
        info["input_size"], blobs = fit_weights(graph, raw, info, sizes)
        meta = build_meta(graph, info, arch_meta, arch, os.path.basename(os.fspath(src)) if from_file else "",
                          hashlib.sha1(buf).hexdigest())
        check_converted(graph, blobs, meta)
    except (ValueError, LookupError, ArithmeticError, TypeError, RecursionError) as exc:
        # CaffeModelError, and the boundary's safety net: any other failure here is still this file's fault.
        exc = exc if isinstance(exc, CaffeModelError) else f"cannot convert it ({type(exc).__name__}: {exc})"
        raise CaffeModelError(f"{os.fspath(src)}: {exc}" if from_file else str(exc)) from None
    return graph.specs, blobs, meta


def convert(src, dst, skip_unsupported=False):
    """Convert the .caffemodel ``src`` into the minidream model file ``dst``; returns its meta."""
    h5format.check_destination(dst)  # an unwritable folder or a wrong extension fails before the work
    specs, blobs, meta = load_caffemodel(src, skip_unsupported=skip_unsupported)
    h5format.save(dst, specs, blobs, meta)
    return meta
