"""python -m weights_tools: convert, fetch, inspect and list Caffe models for minidream.

Ctrl-C exits 130 with one line from the first statement on (minidream/interrupts.py), and bad input is one line
`error: ...` with exit code 2, never a traceback.
"""
import sys

from minidream.interrupts import at_start, run

if __name__ == "__main__":
    at_start("weights_tools")

import argparse  # noqa: E402
import os  # noqa: E402
import warnings  # noqa: E402

DESCRIPTION = """\
Use Caffe's reference models with minidream, with no Caffe and no protobuf installed.

  fetch googlenet|alexnet   download BVLC's model (progress bar, resumable), check its SHA1,
                            convert it into the cache; then minidream.load_model("googlenet")
  convert SRC DST           convert a .caffemodel (2014 V1 snapshots or current format) to a
                            minidream .h5 file: graph, weights, input size, BGR mean, class names
  inspect FILE              layers, output shapes and parameter counts of a .caffemodel or .h5
  list                      what is in the cache

The cache is $MINIDREAM_HOME, else $XDG_CACHE_HOME/minidream, else ~/.cache/minidream.
Training-only layers (data, loss, accuracy, Caffe's Split copies) are dropped on conversion;
supported layer types: Convolution, Pooling, LRN, InnerProduct, ReLU, Dropout, Concat, Softmax.
"""


def _parser():
    parser = argparse.ArgumentParser(prog="python -m weights_tools", description=DESCRIPTION,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    sub = parser.add_subparsers(dest="command", metavar="COMMAND")
    p = sub.add_parser("convert", help="convert a .caffemodel to a minidream .h5 file",
                       description="Convert a .caffemodel to a minidream .h5 file (written atomically).")
    p.add_argument("src", metavar="SRC.caffemodel")
    p.add_argument("dst", metavar="DST.h5")
    p.add_argument("--skip-unsupported", action="store_true",
                   help="drop unsupported layers at the end of the net (with a warning) instead of failing")
    p = sub.add_parser("fetch", help="download, verify and convert a BVLC model into the cache",
                       description="Download a BVLC reference model, verify its SHA1 and convert it into the cache.")
    p.add_argument("name", choices=["googlenet", "alexnet"])
    p.add_argument("--url", help="download from this mirror instead of BVLC's server (same file, same SHA1)")
    p = sub.add_parser("inspect", help="show layers, output shapes and parameter counts of a model file",
                       description="Show the layers, output shapes and parameter counts of a .caffemodel or .h5.")
    p.add_argument("file", metavar="FILE")
    p.add_argument("--skip-unsupported", action="store_true", help="as for convert")
    sub.add_parser("list", help="list the cached models and downloads", description="List the cache's contents.")
    return parser


def _run(args):
    from weights_tools import summary

    if args.command == "convert":
        from weights_tools.convert import convert

        meta = convert(args.src, args.dst, skip_unsupported=args.skip_unsupported)
        h, w = meta["input_size"]
        print(f"wrote {args.dst}: {meta['name']}, input {h}x{w}, "
              f"{len(meta.get('class_names') or [])} class names")
    elif args.command == "fetch":
        from weights_tools.fetch import fetch_model

        path = fetch_model(args.name, url=args.url)
        print(f"{args.name} is ready: {path}\nuse it with minidream.load_model({args.name!r})")
    elif args.command == "inspect":
        print(summary.inspect_file(args.file, skip_unsupported=args.skip_unsupported))
    else:
        print(summary.list_cache())


def main(argv=None):
    parser = _parser()
    args = parser.parse_args(argv)
    if not args.command:
        parser.print_help()
        return 2
    from minidream.h5format import ModelFileError
    from weights_tools.errors import CaffeModelError
    from weights_tools.fetch import FetchError

    warnings.showwarning = lambda message, *rest, **kw: print(f"warning: {message}", file=sys.stderr)
    try:
        _run(args)
    except (CaffeModelError, FetchError, ModelFileError, OSError, ValueError) as exc:
        print(f"error: {' '.join(str(exc).split())}", file=sys.stderr)
        return 2
    except Exception as exc:  # a bug, not bad input: still one line unless asked for the traceback
        if os.environ.get("MINIDREAM_TRACEBACK"):
            raise
        print(f"error: internal error {type(exc).__name__}: {exc} (please report it; MINIDREAM_TRACEBACK=1 "
              "shows the traceback)", file=sys.stderr)
        return 1
    except KeyboardInterrupt:
        return 130  # minidream.interrupts prints the one line; nothing half-written is left behind
    return 0


if __name__ == "__main__":
    sys.exit(run(main, "weights_tools"))
