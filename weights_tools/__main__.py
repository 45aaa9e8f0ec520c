"""python -m weights_tools: convert, fetch, inspect and list Caffe and ONNX models for minidream.

Ctrl-C exits 130 with one line from the first statement on (minidream/io/interrupts.py), and bad input is one line
`error: ...` with exit code 2, never a traceback.
"""
import sys

from minidream.io.interrupts import at_start, run

if __name__ == "__main__":
    at_start("weights_tools")

import argparse  # noqa: E402
import os  # noqa: E402
import warnings  # noqa: E402
from pathlib import Path  # noqa: E402

from minidream.engine.layer_types import TYPES  # noqa: E402
from weights_tools.zoo import MODELS  # noqa: E402

DESCRIPTION = """\
Use Caffe's reference models and ONNX models (PyTorch, Keras through tf2onnx) with minidream, with no
Caffe, ONNX or protobuf package installed.

  fetch NAME                download a zoo model (progress bar, resumable), verify it, convert
                            it into the cache; then minidream.load_model(NAME)
  convert SRC [DST]         convert a .caffemodel (2014 V1 snapshots or current format) or an
                            .onnx model (opsets 13..21, external data too) to a minidream .h5
                            file: graph, weights, input size, preprocessing, class names; what
                            the file cannot say is assumed, printed and recorded
  inspect FILE              layers, output shapes and parameter counts of a .caffemodel or .h5,
                            or an ONNX model's nodes and parameter counts (told by content)
  list                      what is in the cache

The cache is $MINIDREAM_HOME, else $XDG_CACHE_HOME/minidream, else ~/.cache/minidream.
Training-only layers (data, loss, accuracy, Caffe's Split copies) are dropped on conversion;
supported layer types (minidream.engine.layer_types): {types}.
""".format(types=", ".join(TYPES))


def _floats(text):
    return [float(v) for v in text.split(",")]


def _size(text):
    h, _, w = text.lower().partition("x")
    return int(h), int(w or h)


def _parser():
    parser = argparse.ArgumentParser(prog="python -m weights_tools", description=DESCRIPTION,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    sub = parser.add_subparsers(dest="command", metavar="COMMAND")
    p = sub.add_parser("convert", help="convert a .caffemodel or .onnx file to a minidream .h5 file",
                       description="Convert a .caffemodel or an .onnx model (told by content) to a minidream .h5 "
                                   "file (written atomically). An ONNX file states no preprocessing: torchvision's "
                                   "is assumed (RGB in 0..1, ImageNet's mean and std) unless --mean, --std, "
                                   "--channel-order or --input-range say otherwise.")
    p.add_argument("src", metavar="SRC.caffemodel|SRC.onnx")
    p.add_argument("dst", metavar="DST.h5", nargs="?", help="default: SRC with the extension .h5")
    p.add_argument("--skip-unsupported", action="store_true",
                   help="drop unsupported layers at the end of the net (with a warning) instead of failing")
    p.add_argument("--prototxt", metavar="deploy.prototxt",
                   help="take the graph from this deploy net; weights are matched by layer name, as Caffe does")
    p.add_argument("--mean-file", metavar="mean.binaryproto", help="the mean image the net was trained with")
    p.add_argument("--mean", type=_floats, metavar="B,G,R",
                   help="per-channel mean, in the network's channel order (ONNX: in input-range units, "
                        "e.g. 0.485,0.456,0.406)")
    p.add_argument("--std", type=_floats, metavar="R,G,B", help="ONNX: per-channel std, e.g. 0.229,0.224,0.225")
    p.add_argument("--input-range", type=float, choices=[1.0, 255.0],
                   help="ONNX: the value white has before normalization: 1 (torchvision) or 255")
    p.add_argument("--scale", type=float, help="Caffe's transform_param.scale (e.g. 0.00390625 for 1/256)")
    p.add_argument("--channel-order", type=str.upper, choices=["BGR", "RGB"], help="the training images' order")
    p.add_argument("--input-size", type=_size, metavar="HxW", help="the nominal input size, e.g. 224x224")
    p.add_argument("--classes", metavar="FILE", help="class names, one per output (synset_words or Places layout)")
    p = sub.add_parser("fetch", help="download, verify and convert a zoo model into the cache",
                       description="Download a zoo model, verify it (SHA1, SHA256 prefix or size) and convert it "
                                   "into the cache; where there is no direct download, say how to get it.")
    p.add_argument("name", choices=list(MODELS))
    p.add_argument("--url", help="download from this mirror instead of BVLC's server (same file, same SHA1)")
    p = sub.add_parser("inspect", help="show layers, output shapes and parameter counts of a model file",
                       description="Show the layers, output shapes and parameter counts of a .caffemodel or "
                                   ".h5, or the nodes and parameter counts of an ONNX model.")
    p.add_argument("file", metavar="FILE")
    p.add_argument("--skip-unsupported", action="store_true", help="as for convert")
    sub.add_parser("list", help="list the cached models and downloads", description="List the cache's contents.")
    return parser


def _run(args):
    from weights_tools import summary

    if args.command == "convert":
        dst = args.dst or str(Path(args.src).with_suffix(".h5"))
        meta = _convert_onnx(args, dst) if _is_onnx(args.src) else _convert_caffe(args, dst)
        h, w = meta["input_size"]
        print(f"wrote {dst}: {meta['name']}, input {meta['input_channels']}x{h}x{w} {meta['channel_order']}, "
              f"{len(meta.get('class_names') or [])} class names")
    elif args.command == "fetch":
        from weights_tools.fetch import fetch_model

        path = fetch_model(args.name, url=args.url)
        print(f"{args.name} is ready: {path}\nuse it with minidream.load_model({args.name!r})")
    elif args.command == "inspect":
        print(summary.inspect_file(args.file, skip_unsupported=args.skip_unsupported))
    else:
        print(summary.list_cache())


def _is_onnx(path):
    """Told by content; a path that is not a readable file goes the Caffe way, whose reader says what is wrong."""
    from weights_tools.foreign import looks_like_onnx

    if not os.path.isfile(path):
        return False
    with open(path, "rb") as f:
        return looks_like_onnx(f.read(64))


def _convert_onnx(args, dst):
    from weights_tools.onnx.convert import OnnxOptions, convert_onnx

    caffe_only = [flag for flag, value in (("--prototxt", args.prototxt), ("--mean-file", args.mean_file),
                                           ("--scale", args.scale), ("--input-size", args.input_size),
                                           ("--skip-unsupported", args.skip_unsupported)) if value]
    if caffe_only:
        raise ValueError(f"only .caffemodel files take {', '.join(caffe_only)}; {args.src} is an ONNX model (its "
                         "options: --mean, --std, --channel-order, --input-range, --classes)")
    return convert_onnx(args.src, dst, OnnxOptions(args.mean, args.std, args.channel_order, args.input_range,
                                                    args.classes))


def _convert_caffe(args, dst):
    from weights_tools.convert import Options, convert

    if args.std or args.input_range:
        raise ValueError(f"only ONNX models take --std and --input-range; for {args.src} use --mean and --scale")
    options = Options(args.prototxt, args.mean_file, args.mean, args.scale, args.channel_order, args.input_size,
                      args.classes)
    meta = convert(args.src, dst, skip_unsupported=args.skip_unsupported, options=options)
    report_conversion(meta)
    return meta


def report_conversion(meta):
    """The conversion's dropped layers and assumptions, one stderr line each (they are in the .h5 too)."""
    extra = meta["extra"]
    if extra.get("dropped_why"):
        print(f"dropped training-only layers: {'; '.join(extra['dropped_why'])}", file=sys.stderr)
    for key, what in extra.get("assumed", {}).items():
        print(f"assumed {key}: {what}", file=sys.stderr)


def main(argv=None):
    parser = _parser()
    args = parser.parse_args(argv)
    if not args.command:
        parser.print_help()
        return 2
    from minidream.errors import CaffeModelError, OnnxModelError
    from minidream.formats.h5format import ModelFileError
    from weights_tools.fetch import FetchError

    warnings.showwarning = lambda message, *rest, **kw: print(f"warning: {message}", file=sys.stderr)
    try:
        _run(args)
    except (CaffeModelError, OnnxModelError, FetchError, ModelFileError, OSError, ValueError) as exc:
        print(f"error: {' '.join(str(exc).split())}", file=sys.stderr)
        return 2
    except Exception as exc:  # a bug, not bad input: still one line unless asked for the traceback
        if os.environ.get("MINIDREAM_TRACEBACK"):
            raise
        print(f"error: internal error {type(exc).__name__}: {exc} (please report it; MINIDREAM_TRACEBACK=1 "
              "shows the traceback)", file=sys.stderr)
        return 1
    except KeyboardInterrupt:
        return 130  # minidream.io.interrupts prints the one line; nothing half-written is left behind
    return 0


if __name__ == "__main__":
    sys.exit(run(main, "weights_tools"))
