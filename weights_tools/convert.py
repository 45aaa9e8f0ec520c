"""Convert a .caffemodel into a minidream HDF5 model file (minidream/h5format.py, docs/format.md).

    convert("bvlc_googlenet.caffemodel", "googlenet.h5")

The file is written atomically by h5format.save (temp file + rename), so an interrupted
conversion leaves nothing behind. Metadata recorded: the source file's name and SHA1,
the input size (from the snapshot's crop_size or declared input shape, else the known
architecture's), the BGR mean (the snapshot's mean_value, else the architecture's),
channel order BGR, and ImageNet's class names when the classifier has 1000 outputs.
"""
import hashlib
import os
from pathlib import Path

from minidream import h5format
from minidream.models import ARCHITECTURES, IMAGENET_MEAN_BGR, architecture
from weights_tools.caffemodel import read_bytes, read_caffemodel
from weights_tools.errors import CaffeModelError

CLASS_FILE = Path(__file__).parent / "data" / "synset_words.txt"
# Input sizes tried when a file declares none and matches no known architecture: the
# classifier's weight count pins the size down (to within a pooling stride), so the
# common sizes are tried first, then every size up to 512.
COMMON_SIZES = (224, 227, 231, 256, 299, 64, 32, 28)
MAX_SEARCHED_SIZE = 512


def imagenet_classes():
    """(WordNet ids, names) of the 1000 ILSVRC-2012 classes in Caffe's order (data/README.md)."""
    wnids, names = [], []
    for line in CLASS_FILE.read_text(encoding="utf-8").splitlines():
        wnid, _, lemmas = line.partition(" ")
        wnids.append(wnid)
        names.append(lemmas)
    return wnids, names


def _known_architecture(specs):
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


def _classifier_outputs(specs):
    """Output count of the layer behind the net's final output (looking through Softmax etc.)."""
    i = len(specs) - 1
    while specs[i]["type"] in ("Softmax", "Dropout", "ReLU"):
        blob = specs[i]["bottoms"][0]
        writers = [j for j in range(i) if blob in specs[j]["tops"]]
        if not writers:
            return None
        i = writers[-1]
    return specs[i]["params"].get("num_output")


def _net_fits(specs, blobs, meta):
    """None if these weights fit the graph at meta's input size, else the first mismatch."""
    from minidream.net import Net

    try:
        net = Net(specs, meta=meta)  # zero weights: np.zeros pages are not touched, so this is cheap
    except ValueError as exc:
        return str(exc)
    for name, arrays in blobs.items():
        for i, (given, expected) in enumerate(zip(arrays, net.params[name])):
            if given.shape != expected.shape:
                return f"layer {name!r} blob {i} has shape {given.shape}, the graph needs {expected.shape}"
    return None


def build_meta(specs, blobs, info, source_file="", source_sha1=""):
    """The minidream metadata for a parsed .caffemodel (see the module doc)."""
    arch, arch_meta = _known_architecture(specs)
    extra = dict(arch_meta.get("extra", {}))
    extra.update({"caffe_net_name": info["name"], "caffe_format": info["generation"],
                  "dropped_layers": info["dropped"], "skipped_layers": info["skipped"],
                  "added_layers": info["added"], "folded_splits": info["folded_splits"]})
    if info["scale"] != 1.0:
        extra["input_scale"] = info["scale"]
    meta = {"name": arch or info["name"] or Path(source_file).stem, "channel_order": "BGR",
            "mean_bgr": info["mean_bgr"] or arch_meta.get("mean_bgr") or list(IMAGENET_MEAN_BGR),
            "source_file": source_file, "source_sha1": source_sha1, "input_blob": info["input_blob"],
            "extra": extra}
    sizes = [info["input_size"] or arch_meta.get("input_size")]
    sizes = [tuple(sizes[0])] if sizes[0] else [(s, s) for s in COMMON_SIZES + tuple(
        s for s in range(1, MAX_SEARCHED_SIZE + 1) if s not in COMMON_SIZES)]
    problem = None
    for size in sizes:
        meta["input_size"] = size
        problem = _net_fits(specs, blobs, meta)
        if problem is None:
            break
    if problem is not None:
        tried = f"the {sizes[0][0]}x{sizes[0][1]} input" if len(sizes) == 1 else "any common input size"
        raise CaffeModelError(f"the weights do not fit the graph at {tried}: {problem}")
    if _classifier_outputs(specs) == 1000:
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
    """(specs, blobs, meta) of a .caffemodel, metadata included (blobs are read-only views)."""
    buf = read_bytes(src)
    try:
        specs, blobs, info = read_caffemodel(buf, skip_unsupported=skip_unsupported)
        meta = build_meta(specs, blobs, info, os.path.basename(os.fspath(src)), hashlib.sha1(buf).hexdigest())
    except CaffeModelError as exc:
        raise CaffeModelError(f"{os.fspath(src)}: {exc}") from None
    return specs, blobs, meta


def convert(src, dst, skip_unsupported=False):
    """Convert the .caffemodel ``src`` into the minidream model file ``dst``; returns its meta."""
    specs, blobs, meta = load_caffemodel(src, skip_unsupported=skip_unsupported)
    h5format.save(dst, specs, blobs, meta)
    return meta
