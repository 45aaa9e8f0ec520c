"""Convert a .caffemodel into a minidream HDF5 model file (minidream/formats/h5format.py, docs/format.md).

    convert("bvlc_googlenet.caffemodel", "googlenet.h5")
    convert("ResNet-50-model.caffemodel", "resnet50.h5",
            options=Options(prototxt="ResNet-50-deploy.prototxt", mean_file="ResNet_mean.binaryproto"))

The file is written atomically by h5format.save (temp file + rename), so an interrupted
conversion leaves nothing behind. The graph is the one stored in the .caffemodel, or a
deploy prototxt's with the weights matched by layer name. Metadata recorded: the source
file's name and SHA1; the input size and channels (the options, else the declared input
shape or crop_size, else the known architecture's, else the size at which the classifier's
weights fit); the per-channel mean in the network's channel order, the data-layer scale and
the channel order (the options, else the file's transform_param, else the architecture's);
class names (--classes, else ImageNet's when the classifier has 1000 outputs). Whatever
none of these says is assumed, and listed in extra["assumed"] (input_meta).
"""
import hashlib
import os
from pathlib import Path
from typing import NamedTuple, Optional, Sequence, Tuple

from minidream.architectures.builtin import ARCHITECTURES, IMAGENET_MEAN_BGR, architecture
from minidream.errors import CaffeModelError
from minidream.formats import h5format
from weights_tools.caffemodel import read_bytes, read_net
from weights_tools.checks import check_converted, check_declared
from weights_tools.graph import candidate_sizes, fit_weights
from weights_tools.meanfile import read_mean_file
from weights_tools.zoo import read_class_list

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


class Options(NamedTuple):
    """What the user states about a model (CLI options of `convert`); None: take it from the file."""

    prototxt: object = None  # deploy net (path or text): the graph, weights matched by layer name
    mean_file: object = None  # mean.binaryproto: its per-channel mean
    mean: Optional[Sequence[float]] = None  # per-channel mean in the network's channel order
    scale: Optional[float] = None  # Caffe's transform_param.scale
    channel_order: Optional[str] = None  # "BGR" | "RGB"
    input_size: Optional[Tuple[int, int]] = None  # (H, W)
    class_file: object = None  # class names, one per output (zoo.read_class_list)


def per_channel(values, channels, where, error=CaffeModelError):
    """Values (a mean, a std) as one per input channel: one value applies to every channel (Caffe's mean_value);
    `error` names the boundary's error type."""
    values = [float(v) for v in values]
    if len(values) == 1:
        return values * channels
    if len(values) != channels:
        raise error(f"{where} gives {len(values)} values for a {channels}-channel input")
    return values


def input_meta(graph, info, options, arch_meta):
    """(meta fields, assumed {key: what was assumed and why}): options first, then the file, then the known
    architecture; what none of them says is assumed and reported, never silent."""
    found, channels, assumed = info["input"], graph.input_channels, {}
    if options.mean is not None:
        mean = per_channel(options.mean, channels, "--mean")
    elif options.mean_file is not None:
        mean = per_channel(read_mean_file(options.mean_file)[1], channels, f"mean file {options.mean_file}")
    elif found["mean"] is not None and not found["mean_file"]:
        mean = per_channel(found["mean"] or [0.0], channels, "the data layer")  # no mean_value: Caffe subtracts 0
    elif arch_meta.get("mean_bgr"):
        mean = list(arch_meta["mean_bgr"])
    else:
        mean = list(IMAGENET_MEAN_BGR) if channels == 3 else [0.0] * channels
        why = (f"the net was trained with the mean file {found['mean_file']!r}, which is not in the .caffemodel"
               if found["mean_file"] else "the file states no mean")
        assumed["mean"] = f"{mean} ({why}; give --mean-file or --mean)"
    if options.scale is not None:
        scale = float(options.scale)
    elif found["scale"] is not None:
        scale = found["scale"]
    else:
        scale = float((arch_meta.get("extra") or {}).get("input_scale", 1.0))
        if not arch_meta:
            assumed["scale"] = "1 (the file states no data-layer scale; give --scale)"
    if options.channel_order is not None:
        order = options.channel_order.upper()
    elif arch_meta.get("channel_order"):
        order = arch_meta["channel_order"]
    else:
        order = "BGR"
        if channels == 3:
            assumed["channel_order"] = "BGR (Caffe's image tools load BGR; give --channel-order RGB if the " \
                                       "net was trained on RGB data, as the CIFAR-10 examples were)"
    if order not in ("BGR", "RGB"):
        raise CaffeModelError(f"channel order {order!r}: use BGR or RGB")
    return {"mean_bgr": mean, "channel_order": order, "input_scale": scale}, assumed


def _class_names(graph, options, extra, assumed):
    try:
        classes = graph.classifier_head().classes
    except ValueError:  # no fully connected classifier
        classes = None
    if options.class_file is not None:
        names = read_class_list(options.class_file)
        if classes is not None and len(names) != classes:
            raise CaffeModelError(f"the class list {options.class_file} names {len(names)} classes, "
                                  f"the classifier has {classes} outputs")
        return names
    if classes == 1000:
        wnids, names = imagenet_classes()
        extra["class_wnids"] = wnids
        assumed["class_names"] = "ImageNet's 1000 (the classifier has 1000 outputs; give --classes otherwise)"
        return names
    return None


def build_meta(graph, info, arch_meta=None, arch=None, source_file="", source_sha1="", options=Options()):
    """The minidream metadata for a parsed .caffemodel (see the module doc); extra["assumed"] says what the
    file could not say."""
    arch_meta = arch_meta or {}
    extra = dict(arch_meta.get("extra", {}))
    extra.update({"caffe_net_name": info["name"], "caffe_format": info["generation"],
                  "dropped_layers": info["dropped"], "skipped_layers": info["skipped"],
                  "added_layers": info["added"], "folded_splits": info["folded_splits"],
                  "dropped_why": info["dropped_why"]})
    fields, assumed = input_meta(graph, info, options, arch_meta)
    scale = fields.pop("input_scale")
    extra.pop("input_scale", None)
    if scale != 1.0:
        extra["input_scale"] = scale
    if info.get("size_inferred"):
        assumed["input_size"] = f"{info['input_size'][0]}x{info['input_size'][1]} (the file declares none; the " \
                                "weights fit it; give --input-size)"
    meta = {"name": arch or info["name"] or Path(source_file).stem, **fields,
            "source_file": source_file, "source_sha1": source_sha1, "input_blob": info["input_blob"],
            "input_size": tuple(info["input_size"]), "input_channels": graph.input_channels, "extra": extra}
    names = _class_names(graph, options, extra, assumed)
    if names is not None:
        meta["class_names"] = names
    if assumed:
        extra["assumed"] = assumed
    return meta


def file_sha1(path):
    """Hex SHA1 of a file, read in 1 MiB pieces."""
    digest = hashlib.sha1()
    with open(path, "rb") as f:
        for piece in iter(lambda: f.read(1 << 20), b""):
            digest.update(piece)
    return digest.hexdigest()


def load_caffemodel(src, skip_unsupported=False, options=Options()):
    """(specs, blobs, meta) of a .caffemodel (a path, or its bytes), metadata included (blobs are read-only views)."""
    from_file = isinstance(src, (str, os.PathLike))
    buf = read_bytes(src) if from_file else src
    try:
        graph, raw, info = read_net(buf, skip_unsupported, prototxt=options.prototxt)
        check_declared(graph, info)
        arch, arch_meta = known_architecture(graph.specs)
        # The classifier pins the size only up to a pooling stride: a declared size, else the architecture's, first.
        declared = options.input_size or info["input_size"]
        sizes = candidate_sizes(declared) if declared else \
            (candidate_sizes(arch_meta["input_size"]) if arch else []) + candidate_sizes()
        info["input_size"], blobs = fit_weights(graph, raw, info, sizes)
        info["size_inferred"] = not declared and not arch
        meta = build_meta(graph, info, arch_meta, arch, os.path.basename(os.fspath(src)) if from_file else "",
                          hashlib.sha1(buf).hexdigest(), options)
        check_converted(graph, blobs, meta)
    except (ValueError, LookupError, ArithmeticError, TypeError, RecursionError) as exc:
        # CaffeModelError, and the boundary's safety net: any other failure here is still this file's fault.
        exc = exc if isinstance(exc, CaffeModelError) else f"cannot convert it ({type(exc).__name__}: {exc})"
        raise CaffeModelError(f"{os.fspath(src)}: {exc}" if from_file else str(exc)) from None
    return graph.specs, blobs, meta


def convert(src, dst, skip_unsupported=False, options=Options()):
    """Convert the .caffemodel ``src`` into the minidream model file ``dst``; returns its meta (its
    extra["assumed"] lists what the file could not say, extra["dropped_layers"] what inference leaves out)."""
    h5format.check_destination(dst)  # an unwritable folder or a wrong extension fails before the work
    specs, blobs, meta = load_caffemodel(src, skip_unsupported=skip_unsupported, options=options)
    h5format.save(dst, specs, blobs, meta)
    return meta
