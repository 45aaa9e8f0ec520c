"""The command line's shared parts: the parser class, value checks, and the dream options every dreaming
subcommand takes (with how they become dream()'s keyword arguments).
"""
import argparse

from minidream.cli.options import parse_steps


EPILOG = ("Models: mini, auto (GoogLeNet when downloaded, else the bundled mini model), a zoo model "
          "(`python -m minidream models` lists them: googlenet, vgg16, resnet50, ...), a .h5 or a .caffemodel "
          "file. List a model's layers with `python -m minidream layers --model NAME`.")


class Parser(argparse.ArgumentParser):
    def __init__(self, *args, **kwargs):
        # No abbreviated options: --from overrides the options written out (see given_options).
        super().__init__(*args, allow_abbrev=False, **kwargs)

    def error(self, message):
        # One line instead of argparse's usage block.
        self.exit(2, f"{self.prog}: error: {message} (see --help)\n")


def checked(convert, test, wanted):
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


def parsed_by(parse):
    """An argparse type from a minidream.cli.options parser (its ValueError message becomes the error)."""
    return checked(parse, lambda v: True, "")


positive_int = checked(int, lambda v: v >= 1, "a whole number >= 1")
count = checked(int, lambda v: v >= 0, "a whole number >= 0")
positive = checked(float, lambda v: v > 0, "a number > 0")
non_negative = checked(float, lambda v: v >= 0, "a number >= 0")


def wxh(text):
    """'640x480' -> (640, 480)."""
    try:
        w, h = (int(v) for v in text.lower().split("x"))
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected WIDTHxHEIGHT such as 640x480, got {text!r}") from None
    if w < 1 or h < 1:
        raise argparse.ArgumentTypeError(f"width and height must be positive, got {text!r}")
    return w, h


def channel_list(text):
    """'3' or '3,7' -> [3] or [3, 7]; 'auto' -> 'auto' (the strongest channel on the input)."""
    if text.strip().lower() == "auto":
        return "auto"
    try:
        return [int(v) for v in text.split(",")]
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected channel numbers such as 97 or 3,7, or auto; got {text!r}") \
            from None


def model_option(p):
    p.add_argument("--model", default="auto",
                   help="model name (googlenet, alexnet, mini, auto) or .h5 file (default: auto)")
    p.add_argument("--device", default="cpu", choices=("cpu", "gpu"), help="where to compute (default: cpu)")
    p.add_argument("--max-pixels", type=int, metavar="N",
                   help="refuse input images with more pixels than this (default: 50000000, or "
                        "$MINIDREAM_MAX_PIXELS); checked before the image is decoded")


def dream_options(p):
    model_option(p)
    g = p.add_argument_group("what to maximize")
    g.add_argument("--layer", action="append", metavar="LAYER[:WEIGHT]",
                   help="layer to dream on (default: the model's default layer; GoogLeNet: inception_4c/output); "
                        "repeat it or give a comma list for a weighted sum: --layer conv3:0.5 --layer conv5")
    g.add_argument("--channel", type=channel_list, metavar="N[,N...]|auto",
                   help="maximize these channels (filters) of --layer instead of the whole layer; auto = the "
                        "layer's strongest channel on the input image")
    g.add_argument("--class", dest="cls", metavar="NAME|INDEX",
                   help="maximize a class, e.g. 'goldfish' or 1 (the classifier slid over the image); with "
                        "--layer the two are added")
    g.add_argument("--guide", metavar="IMAGE", help="guided dream: grow the features of this image at --layer")
    g = p.add_argument_group("the dream")
    g.add_argument("--octaves", type=positive_int, default=4, help="number of scales, smallest first (default: 4)")
    g.add_argument("--octave-scale", type=checked(float, lambda v: v > 1, "a number > 1"), default=1.4,
                   help="size ratio between octaves (default: 1.4)")
    g.add_argument("--steps", type=parsed_by(parse_steps), default=10, metavar="N[,N...]",
                   help="gradient steps per octave, or one number per octave, smallest first (default: 10)")
    g.add_argument("--step-size", type=positive, default=1.5,
                   help="step length, in units of the mean gradient magnitude (default: 1.5)")
    g.add_argument("--jitter", type=count, default=32,
                   help="maximum random shift per step in pixels; the image is seen inside mirrored context, "
                        "so its edges stay seam-free (default: 32)")
    g.add_argument("--no-clip", dest="clip", action="store_false",
                   help="let pixel values leave 0..255 between steps")
    g.add_argument("--tile-size", type=positive_int, help="compute gradients in windows of at most this many "
                                                           "pixels a side, bounding memory (default: 1024)")
    g.add_argument("--blur", type=non_negative, default=0.0, help="Gaussian blur of each update, sigma in pixels")
    g.add_argument("--decay", type=checked(float, lambda v: 0 <= v < 1, "a number in [0, 1)"), default=0.0,
                   help="pull toward the mean colour each step (e.g. 0.01)")
    g.add_argument("--lapnorm", type=count, default=0, metavar="N",
                   help="normalize each update over N Laplacian pyramid levels (e.g. 4; default: 0 = off)")
    g.add_argument("--param", choices=("pixel", "fft"), default="pixel",
                   help="pixel: ascent on pixels in octaves (default); fft: on a decorrelated-colour Fourier "
                        "image with random scale/rotation, all steps at full size (best from noise, --class)")
    g.add_argument("--tv", type=non_negative, default=0.0,
                   help="total-variation penalty weight, smooths the result (e.g. 0.05; default: 0)")
    g.add_argument("--keep-colors", action="store_true", help="keep the input's colours, take the dream's luminance")
    g.add_argument("--seed", type=int, help="random seed; the same seed gives the same image (default: random, "
                                            "recorded in the output's metadata)")
    g.add_argument("--from", dest="recipe", metavar="IMAGE",
                   help="run the recipe stored in an image minidream wrote again (same bytes); options given "
                        "here override it")
    g.add_argument("--no-progress", dest="progress", action="store_false", help="hide the progress bars")


DREAM_OPTIONS = ("octaves", "octave_scale", "steps", "step_size", "jitter", "clip", "tile_size", "blur", "decay",
                 "lapnorm", "param", "tv", "keep_colors")
OBJECTIVE_OPTIONS = ("layer", "channel", "cls", "guide")


def given_options(args):
    """The dests of the options written out on the command line (for --from: they override the recipe).

    argparse cannot tell an option left at its default from one given with the default value, so the
    subcommand's actions are matched against the words typed (abbreviations are off, see Parser).
    """
    given = set()
    for action in args.subparser._actions:
        if any(token == o or token.startswith(o + "=") for o in action.option_strings for token in args.argv):
            given.add(action.dest)
    return given


def objective_of(args, net, rgb=None):
    from minidream.cli.options import build_objective, parse_layers

    return build_objective(net, parse_layers(args.layer), args.channel, args.cls, args.guide, rgb)


def dream_kwargs(args, net, rgb=None):
    """dream()'s keyword arguments from the options (the objective built for the input rgb, if any)."""
    kwargs = {k: getattr(args, k) for k in DREAM_OPTIONS}
    kwargs.update(model=net, objective=objective_of(args, net, rgb), seed=args.seed, device=args.device,
                  progress=args.progress)
    return kwargs
