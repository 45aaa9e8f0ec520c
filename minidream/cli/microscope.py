"""`microscope`: a static site with a picture of every channel of a model's layers (minidream.microscope)."""
import sys

from minidream.cli.common import EPILOG, count, model_option, parsed_by, positive, positive_int


def add_commands(sub):
    """Add microscope to the subparsers `sub`."""
    from minidream.microscope.plan import DIVERSITY, STEP_SIZE, STEPS, parse_channels

    p = sub.add_parser("microscope", help="a static site picturing every channel of a model's layers",
                       epilog=EPILOG, description=(
                           "Write a static site into SITE: an index of the model's layers, a page per layer with "
                           "a grid of every channel's picture (dreamed from noise), and a page per channel with "
                           "its variants, its top-activating crops from --images and its recipe. Plain HTML that "
                           "opens from file://. A rerun skips the pictures already rendered with the same "
                           "recipe. Rendering runs in this process, in batches of 8 pictures that keep up to 8 cores "
                           "busy; on more cores and the CPU, on a local Dask cluster of one worker per core (--workers "
                           "N or --scheduler to choose Dask, --workers 0 this process)."))
    p.add_argument("-o", "--output", required=True, metavar="SITE", help="the site's folder (created if missing)")
    p.add_argument("--layers", metavar="A,B", type=lambda text: [n for n in text.split(",") if n],
                   help="layers to picture (default: every convolution and concat layer)")
    p.add_argument("--channels", type=parsed_by(parse_channels), metavar="0-63",
                   help="channels pictured in each layer, ranges and lists: 0-7,12 (default: all)")
    p.add_argument("--size", type=positive_int, metavar="PX",
                   help="picture side in pixels (default: the model's input side, at most 128; mini: 64)")
    p.add_argument("--steps", type=positive_int, default=STEPS, help="steps per picture (default: %(default)s)")
    p.add_argument("--step-size", type=positive, default=STEP_SIZE, help="step length (default: %(default)s)")
    p.add_argument("--diversity", type=count, default=DIVERSITY, metavar="K",
                   help="variants per channel besides its picture; 2 or more are dreamed as one batch pushed apart "
                        "in Gram-matrix space (Diversity), 1 is from another seed (default: %(default)s)")
    p.add_argument("--seed", type=count, default=0, help="seed of each channel's picture (default: 0)")
    p.add_argument("--images", metavar="DIR", help="a folder of images: each channel's page shows where in them "
                                                   "it responds most (its top-activating crops)")
    p.add_argument("--serve", nargs="?", const=8000, type=positive_int, metavar="PORT",
                   help="afterwards, serve the site on http://127.0.0.1:PORT (default 8000) until Ctrl-C")
    p.add_argument("--no-progress", dest="progress", action="store_false", help="no progress bar")
    g = p.add_argument_group("where to render (Dask)")
    g.add_argument("--scheduler", metavar="tcp://HOST:PORT", help="an existing Dask scheduler whose workers have "
                                                                 "minidream and the model installed")
    g.add_argument("--workers", type=count, metavar="N",
                   help="render on a local Dask cluster of N workers; 0: in this process (default: this "
                        "process up to 8 cores or with --device gpu, one worker per core on more)")
    model_option(p)
    p.set_defaults(func=run_microscope)


def run_microscope(args):
    from minidream.microscope import microscope
    from minidream.microscope.site import ranges

    report = microscope(args.model, args.output, layers=args.layers, channels=args.channels, size=args.size,
                        steps=args.steps, step_size=args.step_size, diversity=args.diversity, seed=args.seed,
                        images=args.images, device=args.device, workers=args.workers, scheduler=args.scheduler,
                        progress=args.progress)
    if report.skipped:
        print(f"skipped {report.skipped} pictures already rendered with the same recipe")
    for name, error in report.failed:
        print(f"minidream: failed: {name}: {error}", file=sys.stderr)
    for layer, channels in report.constant.items():
        if channels:
            print(f"{layer}: channel{'s' if len(channels) > 1 else ''} {ranges(sorted(channels))} hold one value on "
                  "their pictures (dead: no gradient; the pictures are their starting noise)")
    print(f"microscope: {report.written} pictures rendered -> {report.site}/index.html")
    if args.serve:
        _serve(report.site, args.serve)
    return 1 if report.failed else 0


def _serve(site, port):
    """Python's own HTTP server on the site, on this machine only, until Ctrl-C (the site needs none)."""
    import functools
    import http.server

    handler = functools.partial(http.server.SimpleHTTPRequestHandler, directory=site)
    with http.server.ThreadingHTTPServer(("127.0.0.1", port), handler) as server:
        print(f"serving http://127.0.0.1:{port}/ (Ctrl-C stops)", flush=True)
        server.serve_forever()

