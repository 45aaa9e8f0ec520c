"""`python -m minidream dream|zoom|classify|layers|train|finetune|curate ...`.

Every subcommand handler takes the parsed args and returns an exit code. Any error is
printed as one line, `minidream: error: ...`, with exit code 2 (set MINIDREAM_TRACEBACK=1
to see the traceback instead).
"""
import argparse
import os
import secrets
import sys
import warnings

from minidream.options import parse_size, parse_steps
from minidream.tuning import tune_cpu

EPILOG = ("Models: mini, auto (GoogLeNet when downloaded, else the bundled mini model), a zoo model "
          "(`python -m minidream models` lists them: googlenet, vgg16, resnet50, ...), a .h5 or a .caffemodel "
          "file. List a model's layers with `python -m minidream layers --model NAME`.")


class _Parser(argparse.ArgumentParser):
    def __init__(self, *args, **kwargs):
        # No abbreviated options: --from overrides the options written out (see _given).
        super().__init__(*args, allow_abbrev=False, **kwargs)

    def error(self, message):
        # One line instead of argparse's usage block.
        self.exit(2, f"{self.prog}: error: {message} (see --help)\n")


def _checked(convert, test, wanted):
    """An argparse type: convert the text, then require test(value) (the error says `wanted`)."""
    def parse(text):
        try:
            value = convert(text)
        except ValueError as exc:
            raise argparse.ArgumentTypeError(str(exc) if convert not in (int, float) else
                                             f"expected {wanted}, got {text!r}") from None
        if not test(value):
            raise argparse.ArgumentTypeError(f"expected {wanted}, got {text!r}")
        return value
    return parse


def _arg(parse):
    """An argparse type from a minidream.options parser (its ValueError message becomes the error)."""
    return _checked(parse, lambda v: True, "")


_positive_int = _checked(int, lambda v: v >= 1, "a whole number >= 1")
_count = _checked(int, lambda v: v >= 0, "a whole number >= 0")
_positive = _checked(float, lambda v: v > 0, "a number > 0")
_non_negative = _checked(float, lambda v: v >= 0, "a number >= 0")


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
    """'3' or '3,7' -> [3] or [3, 7]; 'auto' -> 'auto' (the strongest channel on the input)."""
    if text.strip().lower() == "auto":
        return "auto"
    try:
        return [int(v) for v in text.split(",")]
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected channel numbers such as 97 or 3,7, or auto; got {text!r}") \
            from None


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
    g.add_argument("--layer", action="append", metavar="LAYER[:WEIGHT]",
                   help="layer to dream on (default: the model's default layer; GoogLeNet: inception_4c/output); "
                        "repeat it or give a comma list for a weighted sum: --layer conv3:0.5 --layer conv5")
    g.add_argument("--channel", type=_channels, metavar="N[,N...]|auto",
                   help="maximize these channels (filters) of --layer instead of the whole layer; auto = the "
                        "layer's strongest channel on the input image")
    g.add_argument("--class", dest="cls", metavar="NAME|INDEX",
                   help="maximize a class, e.g. 'goldfish' or 1 (the classifier slid over the image); with "
                        "--layer the two are added")
    g.add_argument("--guide", metavar="IMAGE", help="guided dream: grow the features of this image at --layer")
    g = p.add_argument_group("the dream")
    g.add_argument("--octaves", type=_positive_int, default=4, help="number of scales, smallest first (default: 4)")
    g.add_argument("--octave-scale", type=_checked(float, lambda v: v > 1, "a number > 1"), default=1.4,
                   help="size ratio between octaves (default: 1.4)")
    g.add_argument("--steps", type=_arg(parse_steps), default=10, metavar="N[,N...]",
                   help="gradient steps per octave, or one number per octave, smallest first (default: 10)")
    g.add_argument("--step-size", type=_positive, default=1.5,
                   help="step length, in units of the mean gradient magnitude (default: 1.5)")
    g.add_argument("--jitter", type=_count, default=32,
                   help="maximum random shift per step in pixels; the image is seen inside mirrored context, "
                        "so its edges stay seam-free (default: 32)")
    g.add_argument("--no-clip", dest="clip", action="store_false",
                   help="let pixel values leave 0..255 between steps")
    g.add_argument("--tile-size", type=_positive_int, help="compute gradients in windows of at most this many "
                                                           "pixels a side, bounding memory (default: 1024)")
    g.add_argument("--blur", type=_non_negative, default=0.0, help="Gaussian blur of each update, sigma in pixels")
    g.add_argument("--decay", type=_checked(float, lambda v: 0 <= v < 1, "a number in [0, 1)"), default=0.0,
                   help="pull toward the mean colour each step (e.g. 0.01)")
    g.add_argument("--lapnorm", type=_count, default=0, metavar="N",
                   help="normalize each update over N Laplacian pyramid levels (e.g. 4; default: 0 = off)")
    g.add_argument("--param", choices=("pixel", "fft"), default="pixel",
                   help="pixel: ascent on pixels in octaves (default); fft: on a decorrelated-colour Fourier "
                        "image with random scale/rotation, all steps at full size (best from noise, --class)")
    g.add_argument("--tv", type=_non_negative, default=0.0,
                   help="total-variation penalty weight, smooths the result (e.g. 0.05; default: 0)")
    g.add_argument("--keep-colors", action="store_true", help="keep the input's colours, take the dream's luminance")
    g.add_argument("--seed", type=int, help="random seed; the same seed gives the same image (default: random, "
                                            "recorded in the output's metadata)")
    g.add_argument("--from", dest="recipe", metavar="IMAGE",
                   help="run the recipe stored in an image minidream wrote again (same bytes); options given "
                        "here override it")
    g.add_argument("--no-progress", dest="progress", action="store_false", help="hide the progress bars")


def build_parser():
    parser = _Parser(prog="python -m minidream", description="DeepDream with a hand-written CNN.",
                     epilog=EPILOG)
    from minidream import __version__

    parser.add_argument("--version", action="version", version=f"minidream {__version__}")
    sub = parser.add_subparsers(dest="command", metavar="COMMAND", parser_class=_Parser)
    sub.required = True

    p = sub.add_parser("dream", help="dream on images (or on noise with --size)", epilog=EPILOG,
                       description="Dream on images and save the results; each carries its full recipe (PNG "
                                   "text, JPEG comment): --from OUT re-runs it.")
    p.add_argument("input", nargs="*", metavar="IN",
                   help="input images, folders or glob patterns (several: -o is a folder); omit, with --size, "
                        "to start from noise")
    p.add_argument("-o", "--output", required=True, metavar="OUT",
                   help="output image (.png, .jpg or .gif), or a folder for several inputs")
    p.add_argument("--size", type=_arg(parse_size), metavar="N|WxH",
                   help="resize the input: N = longer side N pixels (keeps the aspect ratio), WxH = exactly; "
                        "or the noise size")
    p.add_argument("--save-every", type=_positive_int, metavar="N",
                   help="also save the image every N steps, as OUT_o<octave>_s<step>.<ext>")
    p.add_argument("--plot", metavar="PNG", help="also draw the objective against the steps, one panel per octave")
    _dream_options(p)
    p.set_defaults(func=run_dream, subparser=p)

    p = sub.add_parser("zoom", help="dream, zoom into the centre, repeat: an animation", epilog=EPILOG,
                       description="The original notebook's zoom animation.")
    p.add_argument("input", nargs="?", metavar="IN", help="first frame (omit with --from)")
    p.add_argument("-o", "--output", required=True, metavar="OUT",
                   help="an animated .gif, or a folder for numbered PNG frames (no other formats)")
    p.add_argument("--frames", type=_positive_int, default=30, help="number of frames (default: 30)")
    p.add_argument("--scale", type=_checked(float, lambda v: 0 <= v < 1, "a number in [0, 1)"), default=0.05,
                   help="zoom per frame (default: 0.05 = 5%%)")
    p.add_argument("--fps", type=_positive, default=10.0, help="GIF frame rate (default: 10)")
    _dream_options(p)
    p.set_defaults(func=run_zoom, subparser=p)

    p = sub.add_parser("atlas", help="one image dreamed at several layers (or models): a labelled sheet",
                       epilog=EPILOG, description="Dream the image at each layer and write one contact sheet, "
                                                  "the layer's name under each cell.")
    p.add_argument("input", metavar="IN", help="the image to dream on")
    p.add_argument("-o", "--output", required=True, metavar="OUT", help="the sheet, .png")
    p.add_argument("--layers", type=lambda t: [n for n in t.split(",") if n], metavar="A,B,...",
                   help="layers, one cell each (default: one per stage, the deepest layer at each resolution)")
    p.add_argument("--models", type=lambda t: [n for n in t.split(",") if n], metavar="A,B,...",
                   help="one row per model, each at its default layers (the architecture comparison)")
    p.add_argument("--cell-size", type=_positive_int, default=256, help="cell size in pixels (default: 256)")
    p.add_argument("--size", type=_arg(parse_size), metavar="N|WxH", help="resize the input first (as dream)")
    _dream_options(p)
    p.set_defaults(func=run_atlas)

    p = sub.add_parser("classes", help="list a model's class names", epilog=EPILOG)
    p.add_argument("model", nargs="?", default="auto", metavar="MODEL", help="model name or .h5 file")
    p.set_defaults(func=run_classes)

    _add_video_parser(sub)
    _add_batch_parser(sub)

    p = sub.add_parser("classify", help="the model's top classes for an image", epilog=EPILOG)
    p.add_argument("input", metavar="IN", help="image to classify")
    p.add_argument("--top", type=_positive_int, default=5, help="how many classes to show (default: 5)")
    _model_option(p)
    p.set_defaults(func=run_classify)

    p = sub.add_parser("layers", help="list a model's layers with their output shapes", epilog=EPILOG)
    p.add_argument("--model", default="auto", help="model name or .h5 file (default: auto)")
    p.add_argument("--size", type=_size, metavar="WxH", help="input size for the shapes (default: the model's)")
    p.set_defaults(func=run_layers)

    p = sub.add_parser("models", help="list the model zoo: name, size, cached or not, license, default layer")
    p.set_defaults(func=run_models)

    _add_training_commands(sub)
    return parser


def main(argv=None):
    tune_cpu()  # before anything imports NumPy (the handlers import the engine): minidream/tuning.py
    argv = sys.argv[1:] if argv is None else list(argv)
    args = build_parser().parse_args(argv)
    args.argv = argv
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
DREAM_OPTIONS = ("octaves", "octave_scale", "steps", "step_size", "jitter", "clip", "tile_size", "blur", "decay",
                 "lapnorm", "param", "tv", "keep_colors")
OBJECTIVE_OPTIONS = ("layer", "channel", "cls", "guide")


def _given(args):
    """The dests of the options written out on the command line (for --from: they override the recipe).

    argparse cannot tell an option left at its default from one given with the default value, so the
    subcommand's actions are matched against the words typed (abbreviations are off, see _Parser).
    """
    given = set()
    for action in args.subparser._actions:
        if any(token == o or token.startswith(o + "=") for o in action.option_strings for token in args.argv):
            given.add(action.dest)
    return given


def _objective(args, net, rgb=None):
    from minidream.options import build_objective, parse_layers

    return build_objective(net, parse_layers(args.layer), args.channel, args.cls, args.guide, rgb)


def _dream_kwargs(args, net, rgb=None):
    """dream()'s keyword arguments from the options (the objective built for the input rgb, if any)."""
    kwargs = {k: getattr(args, k) for k in DREAM_OPTIONS}
    kwargs.update(model=net, objective=_objective(args, net, rgb), seed=args.seed, device=args.device,
                  progress=args.progress)
    return kwargs


def _recipe_kwargs(args, kind):
    """dream()/zoom() keyword arguments for --from: the recipe's, with the options given here on top.

    The recipe's model is refused when its weights hash differs, unless --model is given; its input is
    checked likewise unless an input is given.
    """
    from minidream.loading import resolve_model
    from minidream.recipes import check_model, dream_kwargs, read_recipe

    recipe = read_recipe(args.recipe)
    if recipe.get("kind", "dream") != kind:
        raise ValueError(f"{args.recipe} holds a {recipe.get('kind')} recipe: run `minidream {recipe.get('kind')} "
                         f"--from {args.recipe}`")
    given = _given(args)
    kwargs = dream_kwargs(recipe)
    net = resolve_model(args.model if "model" in given else kwargs["model"], args.device)
    if "model" not in given:
        check_model(recipe, net)
    kwargs.update({k: getattr(args, k) for k in DREAM_OPTIONS if k in given}, model=net, device=args.device,
                  progress=args.progress)
    if "seed" in given:
        kwargs["seed"] = args.seed
    if given & set(OBJECTIVE_OPTIONS):
        kwargs["objective"] = _objective(args, net)
    if "size" in given:
        kwargs["size"] = args.size
    return recipe, kwargs


def _recipe_input(recipe, args):
    """The input of a --from run: the one given, else the recipe's (checked against its hash)."""
    from minidream.imageio import load_rgb
    from minidream.recipes import check_input

    if args.input:
        return args.input if isinstance(args.input, str) else args.input[0]
    if recipe.get("input") is None:
        if recipe.get("input_sha256"):
            raise ValueError("the recipe's input was an image in memory, not a file: give the input image")
        return None
    check_input(recipe, load_rgb(recipe["input"])[0])
    return recipe["input"]


def run_dream(args):
    from tqdm.auto import tqdm

    from minidream.imageio import load_rgb, output_format
    from minidream.loading import resolve_model
    from minidream.options import expand_inputs, resolve_size

    if args.recipe:
        recipe, kwargs = _recipe_kwargs(args, "dream")
        output_format(args.output)
        _dream_one(args, _recipe_input(recipe, args), args.output, kwargs, kwargs.pop("size", None))
        return 0
    inputs = expand_inputs(args.input)
    if not inputs and args.size is None:
        raise ValueError("give an input image, or --size WxH to dream from noise")
    many = len(inputs) > 1 or os.path.isdir(args.output)
    if many:
        os.makedirs(args.output, exist_ok=True)
        outputs = [os.path.join(args.output, os.path.splitext(os.path.basename(i))[0] + ".png") for i in inputs]
        if len(set(outputs)) < len(outputs):
            raise ValueError("two inputs have the same name; their outputs would overwrite each other")
    else:
        outputs = [args.output]
        output_format(args.output)  # fail now, not after the dream
    for path in inputs:
        if not os.path.isfile(path):
            raise FileNotFoundError(f"image not found: {path}")
    if args.plot:
        if many:
            raise ValueError("--plot draws one dream's objective: give one input")
        output_format(args.plot)
    net = resolve_model(args.model, args.device)
    if not inputs:  # noise
        size = args.size if isinstance(args.size, tuple) else (args.size, args.size)
        _dream_one(args, None, args.output, _dream_kwargs(args, net), size)
        return 0
    files = tqdm(list(zip(inputs, outputs)), desc="files", unit="file", disable=not (many and args.progress))
    for path, out in files:
        rgb = load_rgb(path)[0]
        kwargs = _dream_kwargs(args, net, rgb)
        if many:
            kwargs["progress"] = False  # the bar counts files
        _dream_one(args, path, out, kwargs, resolve_size(args.size, rgb.shape))
    return 0


def _dream_one(args, path, output, kwargs, size):
    """One dream, saved with its recipe (and the --save-every snapshots and --plot)."""
    from minidream.dreaming import dream
    from minidream.imageio import save_image

    if kwargs.get("seed") is None:
        kwargs["seed"] = secrets.randbits(31)
    history = [] if args.plot else None
    stem, ext = os.path.splitext(output)
    done, known = [0], {"seed": kwargs["seed"], "model": getattr(kwargs["model"], "source", None)}

    def snapshot(octave, step, image):  # the full recipe exists only once the dream is done
        done[0] += 1
        if done[0] % args.save_every == 0:
            save_image(image, f"{stem}_o{octave}_s{step:03d}{ext}", dict(known, octave=octave, step=step))

    callback = snapshot if args.save_every else None
    image = dream(path, size=size, callback=callback, history=history, **kwargs)
    save_image(image, output)
    if args.plot:
        from minidream.plot import plot_history

        save_image(plot_history(history, title=output), args.plot, {})
    print(f"wrote {output}")


def run_zoom(args):
    from tqdm.auto import tqdm

    from minidream.imageio import load_rgb, save_image
    from minidream.loading import resolve_model
    from minidream.zooming import zoom

    output = args.output
    gif = output if output.lower().endswith(".gif") else None
    if gif is None and os.path.splitext(output)[1] and not os.path.isdir(output):
        raise ValueError(f"zoom writes an animated .gif or a folder of PNG frames, not {output!r}; for a video, "
                         "write the frames to a folder and join them, e.g. ffmpeg -i OUT/%04d.png z.mp4")
    if args.recipe:
        recipe, kwargs = _recipe_kwargs(args, "zoom")
        image = _recipe_input(recipe, args)
        given = _given(args)
        frames, scale, fps = (getattr(args, k) if k in given else recipe[k] for k in ("frames", "scale", "fps"))
    else:
        if not args.input:
            raise ValueError("give the first frame's image (or --from a zoom frame)")
        net = resolve_model(args.model, args.device)
        kwargs = _dream_kwargs(args, net, load_rgb(args.input)[0])
        image, frames, scale, fps = args.input, args.frames, args.scale, args.fps
    if gif is None:
        os.makedirs(output, exist_ok=True)
    progress = kwargs.pop("progress")
    made = zoom(image, frames=frames, scale=scale, gif=gif, fps=fps, progress=False, **kwargs)
    for i, frame in enumerate(tqdm(made, total=frames, desc="frames", unit="frame", disable=not progress)):
        if gif is None:
            save_image(frame, os.path.join(output, f"{i:04d}.png"))
    print(f"wrote {output}")
    return 0


def run_atlas(args):
    from minidream.atlas import atlas, compare
    from minidream.imageio import load_rgb, output_format, save_image
    from minidream.loading import resolve_model
    from minidream.options import resolve_size

    bad = [o for o in OBJECTIVE_OPTIONS if getattr(args, o)]
    if bad:
        flag = "--" + bad[0].replace("cls", "class")
        raise ValueError(f"atlas dreams plain layers: use --layers A,B,... instead of {flag}")
    if args.models and args.layers:
        raise ValueError("give --layers (one model) or --models (each at its default layers), not both")
    output_format(args.output)
    rgb = load_rgb(args.input)[0]
    size = resolve_size(args.size, rgb.shape)
    kwargs = {k: getattr(args, k) for k in DREAM_OPTIONS}
    kwargs.update(size=size, seed=args.seed, device=args.device, progress=args.progress)
    if args.models:
        sheet = compare(rgb, args.models, cell_size=args.cell_size, **kwargs)
    else:
        sheet = atlas(rgb, resolve_model(args.model, args.device), args.layers, cell_size=args.cell_size, **kwargs)
    save_image(sheet, args.output)
    print(f"wrote {args.output}")
    return 0


def run_classes(args):
    from minidream.loading import resolve_model

    net = resolve_model(args.model)
    names = net.meta.get("class_names") or []
    if not names:
        raise ValueError(f"model {args.model!r} has no class names (use class indexes with --class)")
    for i, name in enumerate(names):
        print(f"{i:4d}  {name}")
    return 0


def run_classify(args):
    from minidream.classification import classify

    for name, prob in classify(args.input, args.model, top=args.top, device=args.device):
        print(f"{prob:8.4f}  {name}")
    return 0


def run_models(args):
    from weights_tools.fetch import models_table

    rows = [("name", "size", "cached", "license", "default layer")]
    rows += [(name, f"{size / 1e6:.0f} MB", "yes" if cached else "no", license_, layer)
             for name, size, cached, license_, layer in models_table()]
    widths = [max(len(row[c]) for row in rows) for c in range(4)]
    for row in rows:
        print("  ".join(f"{cell:<{width}}" for cell, width in zip(row, widths)) + "  " + row[4])
    print("\nGet one with `python -m weights_tools fetch NAME` (or just use it: --model NAME fetches it).")
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
    p.add_argument("--atlas", nargs="?", const="", metavar="LAYER[,LAYER...]",
                   help="write an atlas sheet per image instead of one dream: the image dreamed at each layer "
                        "(default layers: one per stage of the net, as `minidream atlas`)")
    _cluster_options(p)
    _dream_options(p)
    p.set_defaults(func=run_batch, seed=0)


def _job_kwargs(args):
    """(dream kwargs with the model as named, recipe, the loaded Net): jobs ship the model by name or path.

    The Net is loaded here to check the options (layer names, guide) before any work starts.
    """
    from minidream.loading import resolve_model

    from minidream import __version__
    from minidream.recipes import weights_sha256

    net = resolve_model(args.model, args.device)
    kwargs = _dream_kwargs(args, net)
    bound = kwargs["objective"].bind(net)
    # The recipe each output of the job carries; an output already holding the same one is skipped on a rerun.
    recipe = {k: list(v) if isinstance(v, tuple) else v for k, v in kwargs.items() if k in DREAM_OPTIONS}
    recipe.update(model=args.model, model_sha256=weights_sha256(net), objective=repr(bound), seed=kwargs["seed"],
                  minidream_version=__version__)
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

    kwargs, recipe, net = _job_kwargs(args)
    if args.atlas is not None:
        from minidream.atlas import stage_layers

        # An atlas dreams the L2 of each layer: the objective options give way to the layers.
        kwargs["atlas"] = recipe["atlas"] = [n for n in args.atlas.split(",") if n] or stage_layers(net)
        for name in kwargs["atlas"]:
            net.layer_index(name)  # an unknown layer fails now, with the closest names, not on every worker
    report = batch(args.inputs, args.output, scheduler=args.scheduler, workers=args.workers, ext="." + args.format,
                   recipe=recipe, **dict(kwargs, progress=args.progress))
    for name, error in report.failed:
        print(f"minidream: failed: {name}: {error}", file=sys.stderr)
    print(f"batch: {report.summary()} -> {args.output}")
    return 1 if report.failed else 0


# ---------------------------------------------------------------- train, finetune, curate
def _augmentations(text):
    """'rotate,zoom' -> ('rotate', 'zoom'), checked against minidream.augment."""
    from minidream.augment import parse

    try:
        return parse(text)
    except ValueError as exc:
        raise argparse.ArgumentTypeError(str(exc)) from None


def _layer_names(text):
    return [name for name in text.split(",") if name]


def _solver_options(p, output):
    from minidream.optimizers import OPTIMIZERS, SCHEDULES

    p.add_argument("data_dir", metavar="DATA_DIR",
                   help="one sub-folder of images per class; optional DATA_DIR/val/ for validation")
    p.add_argument("-o", "--output", default=output,
                   help=f"model file to write after every epoch, reports beside it (default: {output})")
    p.add_argument("--epochs", type=int, default=10, help="passes over the training set (default: 10)")
    p.add_argument("--batch-size", type=int, default=64, help="images per step (default: 64)")
    p.add_argument("--optimizer", choices=tuple(OPTIMIZERS), default="sgd",
                   help="update rule: SGD with momentum, Nesterov, Adagrad or Adam (default: sgd)")
    p.add_argument("--lr", type=float, default=0.01, help="base learning rate (default: 0.01; Adam: try 0.001)")
    p.add_argument("--schedule", choices=SCHEDULES, default="cosine", help="learning-rate schedule (default: cosine)")
    p.add_argument("--momentum", type=float, default=0.9, help="momentum of sgd and nesterov (default: 0.9)")
    p.add_argument("--weight-decay", type=float, default=5e-4, help="L2 weight decay, not on biases (default: 5e-4)")
    p.add_argument("--val-fraction", type=float, default=0.1,
                   help="share of each class held out for validation when DATA_DIR has no val/ (default: 0.1)")
    p.add_argument("--seed", type=int, default=0,
                   help="seeds initialization, shuffling, augmentation and dropout (default: 0)")
    p.add_argument("--device", choices=("cpu", "gpu"), default="cpu", help="where to compute (default: cpu)")
    p.add_argument("--no-progress", dest="progress", action="store_false", help="hide the progress bars")


def _solver_kwargs(args):
    return dict(epochs=args.epochs, batch_size=args.batch_size, lr=args.lr, schedule=args.schedule,
                optimizer=args.optimizer, momentum=args.momentum, weight_decay=args.weight_decay,
                val_fraction=args.val_fraction, seed=args.seed, device=args.device, progress=args.progress)


def _report_training(result, output):
    last = result.history[-1] if result.history else {}
    accuracy = ("no validation images" if last.get("val_accuracy") is None else
                f"val top-1 {last['val_accuracy']:.3f}, top-5 {last['val_top5']:.3f}")
    print(f"wrote {output} ({accuracy}; classes: {', '.join(result.net.meta['class_names'])})")
    return 0


def run_train(args):
    from minidream import augment, image_folder, models
    from minidream.training import train

    if args.preview_augment:
        size = args.input_size or models.architecture(args.arch)[1]["input_size"][0]
        train_set, _ = image_folder.load_folder(args.data_dir, image_folder.load_size(size), 0.0, args.seed,
                                                args.progress)
        first = {}  # the first image of each class, for up to six classes
        for i, label in enumerate(train_set.labels.tolist()):
            first.setdefault(label, i)
        picks = list(first.values())[:6]
        os.makedirs(args.preview_augment, exist_ok=True)
        path = os.path.join(args.preview_augment, "augment.png")
        augment.preview(train_set.images[picks], args.augment or tuple(augment.AUGMENTATIONS), args.seed).save(path)
        print(f"wrote {path}")
        return 0
    result = train(args.data_dir, args.arch, args.output, augment=args.augment, input_size=args.input_size,
                   resume=args.resume, **_solver_kwargs(args))
    return _report_training(result, args.output)


def run_finetune(args):
    from minidream.finetuning import finetune

    result = finetune(args.model, args.data_dir, args.output, train_from=args.train_from, bn_stats=args.bn_stats,
                      **_solver_kwargs(args))
    return _report_training(result, args.output)


def run_curate(args):
    from minidream.curation import curate

    report = curate(args.data_dir, args.model, args.output, layers=args.layers, per_class=args.per_class,
                    steps=args.steps, seed=args.seed, device=args.device, progress=args.progress)
    print(f"wrote {report.path}")
    return 0


def _add_training_commands(sub):
    from minidream.models import ARCHITECTURES

    p = sub.add_parser("train", help="train a network from scratch on an image folder",
                       description="Train a network from scratch on DATA_DIR/<class>/<images>. After every "
                                   "epoch it writes the model and, beside it, MODEL.history.csv/.png (loss and "
                                   "accuracy per epoch), MODEL.confusion.csv/.png (validation) and "
                                   "MODEL.optimizer.npz (for --resume).")
    p.add_argument("--arch", default="mini", choices=sorted(ARCHITECTURES), help="architecture (default: mini)")
    p.add_argument("--input-size", type=int, metavar="S",
                   help="train on S x S crops (default: the architecture's input size)")
    p.add_argument("--augment", type=_augmentations, default=(), metavar="NAMES",
                   help="augmentations besides crop and flip, comma-separated: rotate,zoom,color,noise")
    p.add_argument("--preview-augment", metavar="DIR",
                   help="write DIR/augment.png (a few training images under each augmentation) and exit")
    p.add_argument("--resume", metavar="MODEL.h5",
                   help="go on from a checkpoint of this command (same options; the weights end up as if "
                        "it had never stopped)")
    _solver_options(p, "model.h5")
    p.set_defaults(func=run_train)

    p = sub.add_parser("finetune", help="retrain the top layers of a model for new classes",
                       description="Replace the classifier of a model for the classes of DATA_DIR and train its "
                                   "top layers, the others frozen. Reports are written beside the model as for "
                                   "train.")
    p.add_argument("--model", default="alexnet", help="built-in model name or .h5 file (default: alexnet)")
    p.add_argument("--train-from", metavar="LAYER",
                   help="first layer to train (default: the fully connected layers at the top)")
    p.add_argument("--bn-stats", choices=("frozen", "reestimate"), default="frozen",
                   help="BatchNorm statistics of the frozen layers: kept as trained, or recomputed on DATA_DIR's "
                        "images first (default: frozen)")
    _solver_options(p, "finetuned.h5")
    p.set_defaults(func=run_finetune)

    p = sub.add_parser("curate", help="report what each class taught a model and which images look wrong",
                       description="Dream one representative image per class at a few layers, classify every "
                                   "training image, and write REPORT_DIR/index.html listing per class the "
                                   "images the model gets wrong or is least sure about.")
    p.add_argument("data_dir", metavar="DATA_DIR", help="one sub-folder of images per class (the training set)")
    p.add_argument("--model", required=True, help="a model trained on these classes: name or .h5 file")
    p.add_argument("-o", "--output", required=True, metavar="REPORT_DIR", help="folder for the report")
    p.add_argument("--layers", type=_layer_names, metavar="L1,L2,...",
                   help="layers to dream at (default: three convolution layers from low to high)")
    p.add_argument("--per-class", type=int, default=8, help="suspects listed per class (default: 8)")
    p.add_argument("--steps", type=int, default=10, help="dream steps per octave (default: 10)")
    p.add_argument("--seed", type=int, default=0, help="seed of the dreams (default: 0)")
    p.add_argument("--device", choices=("cpu", "gpu"), default="cpu", help="where to compute (default: cpu)")
    p.add_argument("--no-progress", dest="progress", action="store_false", help="hide the progress bars")
    p.set_defaults(func=run_curate)
