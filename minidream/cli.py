"""`python -m minidream dream|zoom|classify|layers ...` (and train/finetune when minidream.training exists).

Every subcommand handler takes the parsed args and returns an exit code. Any error is
printed as one line, `minidream: error: ...`, with exit code 2 (set MINIDREAM_TRACEBACK=1
to see the traceback instead).
"""
import argparse
import importlib.util
import os
import secrets
import sys
import warnings

from minidream.tuning import tune_cpu

EPILOG = ("Models: googlenet, alexnet, mini, auto (GoogLeNet when downloaded, else the bundled mini "
          "model), or a .h5 file. List a model's layers with `python -m minidream layers --model NAME`.")


class _Parser(argparse.ArgumentParser):
    def error(self, message):
        # One line instead of argparse's usage block.
        self.exit(2, f"{self.prog}: error: {message} (see --help)\n")


def _size(text):
    """'640x480' -> (640, 480)."""
    try:
        w, h = (int(v) for v in text.lower().split("x"))
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected WIDTHxHEIGHT such as 640x480, got {text!r}") from None
    if w < 1 or h < 1:
        raise argparse.ArgumentTypeError(f"width and height must be positive, got {text!r}")
    return w, h


def _channels(text):
    """'3' or '3,7' -> [3] or [3, 7]."""
    try:
        return [int(v) for v in text.split(",")]
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected channel numbers such as 97 or 3,7, got {text!r}") from None


def _model_option(p):
    p.add_argument("--model", default="auto",
                   help="model name (googlenet, alexnet, mini, auto) or .h5 file (default: auto)")
    p.add_argument("--device", default="cpu", choices=("cpu", "gpu"), help="where to compute (default: cpu)")
    p.add_argument("--max-pixels", type=int, metavar="N",
                   help="refuse input images with more pixels than this (default: 50000000, or "
                        "$MINIDREAM_MAX_PIXELS); checked before the image is decoded")


def _dream_options(p):
    _model_option(p)
    g = p.add_argument_group("what to maximize")
    g.add_argument("--layer", help="layer to dream on (default: the model's default layer; GoogLeNet: "
                                   "inception_4c/output)")
    g.add_argument("--channel", type=_channels, metavar="N[,N...]",
                   help="maximize these channels (filters) of --layer instead of the whole layer")
    g.add_argument("--class", dest="cls", metavar="NAME|INDEX",
                   help="maximize a class, e.g. 'goldfish' or 1 (the classifier slid over the image)")
    g.add_argument("--guide", metavar="IMAGE", help="guided dream: grow the features of this image at --layer")
    g = p.add_argument_group("the dream")
    g.add_argument("--octaves", type=int, default=4, help="number of scales, smallest first (default: 4)")
    g.add_argument("--octave-scale", type=float, default=1.4, help="size ratio between octaves (default: 1.4)")
    g.add_argument("--steps", type=int, default=10, help="gradient steps per octave (default: 10)")
    g.add_argument("--step-size", type=float, default=1.5,
                   help="step length, in units of the mean gradient magnitude (default: 1.5)")
    g.add_argument("--jitter", type=int, default=32, help="maximum random shift per step in pixels (default: 32)")
    g.add_argument("--no-clip", dest="clip", action="store_false",
                   help="let pixel values leave 0..255 between steps")
    g.add_argument("--tile-size", type=int, help="compute gradients in tiles of this many pixels a side, "
                                                 "bounding memory (default: 1024)")
    g.add_argument("--blur", type=float, default=0.0, help="Gaussian blur of each update, sigma in pixels")
    g.add_argument("--decay", type=float, default=0.0, help="pull toward the mean colour each step (e.g. 0.01)")
    g.add_argument("--seed", type=int, help="random seed; the same seed gives the same image (default: random, "
                                            "recorded in the output's metadata)")
    g.add_argument("--no-progress", dest="progress", action="store_false", help="hide the progress bars")


def build_parser():
    parser = _Parser(prog="python -m minidream", description="DeepDream with a hand-written CNN.",
                     epilog=EPILOG)
    from minidream import __version__

    parser.add_argument("--version", action="version", version=f"minidream {__version__}")
    sub = parser.add_subparsers(dest="command", metavar="COMMAND", parser_class=_Parser)
    sub.required = True

    p = sub.add_parser("dream", help="dream on an image (or on noise with --size)", epilog=EPILOG,
                       description="Dream on an image and save the result; its metadata records every "
                                   "parameter (PNG text, JPEG comment).")
    p.add_argument("input", nargs="?", metavar="IN", help="input image (omit, with --size, to start from noise)")
    p.add_argument("-o", "--output", required=True, metavar="OUT", help="output image, .png or .jpg")
    p.add_argument("--size", type=_size, metavar="WxH", help="resize the input to WxH, or the noise size")
    p.add_argument("--save-every", type=int, metavar="N",
                   help="also save the image every N steps, as OUT_o<octave>_s<step>.<ext>")
    _dream_options(p)
    p.set_defaults(func=run_dream)

    p = sub.add_parser("zoom", help="dream, zoom into the centre, repeat: an animation", epilog=EPILOG,
                       description="The original notebook's zoom animation.")
    p.add_argument("input", metavar="IN", help="first frame")
    p.add_argument("-o", "--output", required=True, metavar="OUT",
                   help="an animated .gif, or a folder for numbered PNG frames")
    p.add_argument("--frames", type=int, default=30, help="number of frames (default: 30)")
    p.add_argument("--scale", type=float, default=0.05, help="zoom per frame (default: 0.05 = 5%%)")
    p.add_argument("--fps", type=float, default=10.0, help="GIF frame rate (default: 10)")
    _dream_options(p)
    p.set_defaults(func=run_zoom)

    _add_video_parser(sub)
    _add_batch_parser(sub)

    p = sub.add_parser("classify", help="the model's top classes for an image", epilog=EPILOG)
    p.add_argument("input", metavar="IN", help="image to classify")
    p.add_argument("--top", type=int, default=5, help="how many classes to show (default: 5)")
    _model_option(p)
    p.set_defaults(func=run_classify)

    p = sub.add_parser("layers", help="list a model's layers with their output shapes", epilog=EPILOG)
    p.add_argument("--model", default="auto", help="model name or .h5 file (default: auto)")
    p.add_argument("--size", type=_size, metavar="WxH", help="input size for the shapes (default: the model's)")
    p.set_defaults(func=run_layers)

    if importlib.util.find_spec("minidream.training") is not None:
        from minidream.training import register_cli

        register_cli(sub)
    return parser


def main(argv=None):
    tune_cpu()  # before anything imports NumPy (the handlers import the engine): minidream/tuning.py
    args = build_parser().parse_args(argv)
    if getattr(args, "max_pixels", None):
        os.environ["MINIDREAM_MAX_PIXELS"] = str(args.max_pixels)  # read by minidream.limits.max_pixels
    try:
        with warnings.catch_warnings():
            warnings.showwarning = _show_warning
            return args.func(args) or 0
    except KeyboardInterrupt:
        return 130  # minidream.interrupts prints the one line
    except Exception as exc:
        if os.environ.get("MINIDREAM_TRACEBACK"):
            raise
        print(f"minidream: error: {_one_line(exc)}", file=sys.stderr)
        return 2


def _show_warning(message, category, filename, lineno, file=None, line=None):
    print(f"minidream: note: {message}", file=sys.stderr)


def _one_line(exc):
    text = str(exc).strip() or type(exc).__name__
    if isinstance(exc, (ValueError, OSError, LookupError, RuntimeError, TypeError)):
        return " ".join(text.split())
    return f"{type(exc).__name__}: {' '.join(text.split())}"


# ---------------------------------------------------------------- subcommands
def _objective(args, net):
    """(objective, layer or None): --channel/--guide/--class terms summed, else L2(layer)."""
    from minidream.metadata import default_layer
    from minidream.objectives import L2, Channel, ClassNeuron, Guide

    layer = args.layer or default_layer(net.meta)
    terms = []
    if args.channel:
        terms.append(Channel(layer, args.channel))
    if args.guide:
        terms.append(Guide(args.guide, layer))
    if args.cls is not None:
        terms.append(ClassNeuron(args.cls))
    if not terms:
        return L2(layer), layer
    uses_layer = args.channel or args.guide
    return sum(terms), (layer if uses_layer else None)


def _dream_kwargs(args, net):
    objective, layer = _objective(args, net)
    seed = args.seed if args.seed is not None else secrets.randbits(31)
    kwargs = dict(model=net, objective=objective, octaves=args.octaves, octave_scale=args.octave_scale,
                  steps=args.steps, step_size=args.step_size, jitter=args.jitter, clip=args.clip,
                  tile_size=args.tile_size, blur=args.blur, decay=args.decay, seed=seed,
                  device=args.device, progress=args.progress)
    return kwargs, layer


def _params(args, kwargs, layer):
    """The metadata stored with an output: enough to run the same dream again."""
    from minidream import __version__

    params = {k: v for k, v in kwargs.items() if k not in ("model", "objective", "progress", "device")}
    params.update(minidream_version=__version__, model=args.model, objective=repr(kwargs["objective"]),
                  input=args.input and os.path.basename(args.input))
    if layer is not None:
        params["layer"] = layer
    return {k: v for k, v in params.items() if v is not None}


def run_dream(args):
    from minidream.dreaming import dream
    from minidream.imageio import output_format, save_image
    from minidream.loading import resolve_model

    if args.input is None and args.size is None:
        raise ValueError("give an input image, or --size WxH to dream from noise")
    output_format(args.output)  # fail now, not after the dream
    if args.save_every is not None and args.save_every < 1:
        raise ValueError(f"--save-every must be at least 1, got {args.save_every}")
    net = resolve_model(args.model, args.device)
    kwargs, layer = _dream_kwargs(args, net)
    params = _params(args, kwargs, layer)
    if args.size is not None:
        params["size"] = list(args.size)
    callback = None
    if args.save_every:
        stem, ext = os.path.splitext(args.output)
        done = [0]

        def callback(octave, step, image):
            done[0] += 1
            if done[0] % args.save_every == 0:
                save_image(image, f"{stem}_o{octave}_s{step:03d}{ext}", params)

    image = dream(args.input, size=args.size, callback=callback, **kwargs)
    save_image(image, args.output, params)
    print(f"wrote {args.output}")
    return 0


def run_zoom(args):
    from minidream.imageio import output_format, save_image
    from minidream.loading import resolve_model
    from minidream.zooming import zoom

    gif = args.output if args.output.lower().endswith(".gif") else None
    if gif is None:
        os.makedirs(args.output, exist_ok=True)
    output_format(gif or os.path.join(args.output, "0000.png"))  # fail now, not after the first frame
    net = resolve_model(args.model, args.device)
    kwargs, layer = _dream_kwargs(args, net)
    params = dict(_params(args, kwargs, layer), frames=args.frames, scale=args.scale)
    for i, frame in enumerate(zoom(args.input, frames=args.frames, scale=args.scale, gif=gif, fps=args.fps,
                                   **kwargs)):
        if gif is None:
            save_image(frame, os.path.join(args.output, f"{i:04d}.png"), dict(params, frame=i))
    print(f"wrote {args.output}")
    return 0


def run_classify(args):
    from minidream.classification import classify

    for name, prob in classify(args.input, args.model, top=args.top, device=args.device):
        print(f"{prob:8.4f}  {name}")
    return 0


def run_layers(args):
    from minidream.classification import layer_table

    size = args.size[::-1] if args.size else None
    rows = layer_table(args.model, input_size=size)
    width = max(len(name) for name, _ in rows)
    for name, shape in rows:
        print(f"{name:<{width}}  {'x'.join(str(d) for d in shape)}")
    return 0


# ---------------------------------------------------------------- large jobs: video and batch
JOBS_EPILOG = ("The seed defaults to 0 here (not random), so running the same command again skips the outputs "
               "already written with the same settings and finishes an interrupted job. " + EPILOG)


def _cluster_options(p):
    g = p.add_argument_group("where to run (Dask)")
    g.add_argument("--scheduler", metavar="tcp://HOST:PORT",
                   help="an existing Dask scheduler whose workers have minidream and the model installed "
                        "(default: start a local cluster)")
    g.add_argument("--workers", type=int, metavar="N",
                   help="local cluster size: worker processes, one BLAS thread each (default: one per core)")


def _add_video_parser(sub):
    p = sub.add_parser("video", help="dream a video (.mp4, .gif or a folder of frames), frame by frame",
                       epilog=JOBS_EPILOG, description=(
                           "Dream every frame of a video, keeping its frame rate, size and audio (video files "
                           "only). Each frame starts from the previous frame's dream detail, warped along the "
                           "optical flow and blended in (--blend), then dreams --steps-per-frame more steps; "
                           "--no-flow dreams the frames independently, in parallel on Dask. Frames are kept "
                           "as PNGs with their recipe in OUT.frames/ (or the OUT folder) until the video is "
                           "encoded, so an interrupted run resumes."))
    p.add_argument("input", metavar="IN", help="input video: .mp4/.mkv/.mov/.webm, animated .gif, or a folder "
                                               "of frame images (sorted by name)")
    p.add_argument("-o", "--output", required=True, metavar="OUT",
                   help="output video: .mp4/.mkv/.mov (H.264), .gif, or a folder for numbered PNG frames")
    g = p.add_argument_group("temporal coherence")
    g.add_argument("--blend", type=float, default=0.8,
                   help="weight of the previous frame's warped dream detail, 0..1 (default: 0.8)")
    g.add_argument("--steps-per-frame", type=int, default=3,
                   help="steps per octave for frames after the first (default: 3; the first gets --steps)")
    g.add_argument("--flow", default="dis", choices=("dis", "farneback"),
                   help="optical flow method (OpenCV; default: dis)")
    g.add_argument("--no-flow", dest="flow", action="store_const", const=None,
                   help="dream every frame on its own (no carry-over), as a Dask batch")
    g.add_argument("--fps", type=float,
                   help="frame rate of a folder of frames (default: 24); video files and GIFs keep their own")
    g.add_argument("--keep-frames", action="store_true", help="keep OUT.frames/ after encoding the video")
    _cluster_options(p)
    _dream_options(p)
    p.set_defaults(func=run_video, seed=0)


def _add_batch_parser(sub):
    p = sub.add_parser("batch", help="dream many images on a Dask cluster (local or existing)", epilog=JOBS_EPILOG,
                       description=(
                           "Dream every input image into OUTDIR/<name>.png, one Dask task per image; each "
                           "worker loads the model once. An image that fails is reported at the end (exit "
                           "status 1) without stopping the others."))
    p.add_argument("inputs", nargs="+", metavar="INPUT", help="image files, folders of images, or glob "
                                                              "patterns such as 'shots/*.jpg' (quote them)")
    p.add_argument("-o", "--output", required=True, metavar="OUTDIR", help="folder for the results")
    p.add_argument("--format", default="png", choices=("png", "jpg"), help="output format (default: png)")
    _cluster_options(p)
    _dream_options(p)
    p.set_defaults(func=run_batch, seed=0)


def _job_kwargs(args):
    """(dream kwargs with the model as named, recipe, the loaded Net): jobs ship the model by name or path.

    The Net is loaded here to check the options (layer names, guide) before any work starts.
    """
    from minidream.loading import resolve_model

    net = resolve_model(args.model, args.device)
    kwargs, layer = _dream_kwargs(args, net)
    kwargs["objective"].bind(net)
    recipe = _params(argparse.Namespace(**dict(vars(args), input=getattr(args, "input", None))), kwargs, layer)
    kwargs.update(model=args.model, progress=False)
    return kwargs, recipe, net


def run_video(args):
    from minidream.videos import render

    kwargs, recipe, net = _job_kwargs(args)
    if args.flow is not None:  # dreamed here, frame after frame
        kwargs["model"] = net
    seed = kwargs.pop("seed")
    kwargs.pop("progress")
    count = render(args.input, args.output, recipe, blend=args.blend, steps_per_frame=args.steps_per_frame,
                   flow=args.flow, seed=seed, fps=args.fps, keep_frames=args.keep_frames, progress=args.progress,
                   scheduler=args.scheduler, workers=args.workers, **kwargs)
    print(f"wrote {args.output} ({count} frames)")
    return 0


def run_batch(args):
    from minidream.batches import batch

    kwargs, recipe, _ = _job_kwargs(args)
    report = batch(args.inputs, args.output, scheduler=args.scheduler, workers=args.workers, ext="." + args.format,
                   recipe=recipe, **dict(kwargs, progress=args.progress))
    for name, error in report.failed:
        print(f"minidream: failed: {name}: {error}", file=sys.stderr)
    print(f"batch: {report.summary()} -> {args.output}")
    return 1 if report.failed else 0
