"""The command line's shared parts: the parser class, value checks, and the dream options every dreaming
subcommand takes (with how they become dream()'s keyword arguments).
"""
import argparse

from minidream.dreaming.settings import AT_LEAST_ONE, BELOW_ONE, FIELDS, POSITIVE, UNIT, WHOLE

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


def parsed_by(parse):
    """An argparse type from a parser of text that raises ValueError (its message becomes argparse's error)."""
    def argument(text):
        try:
            return parse(text)
        except ValueError as exc:
            raise argparse.ArgumentTypeError(str(exc)) from None
    return argument


# The checks of minidream.dreaming.settings, so an option says what it takes as dream() says it.
positive_int = parsed_by(AT_LEAST_ONE.parse)
positive = parsed_by(POSITIVE.parse)
below_one = parsed_by(BELOW_ONE.parse)
unit_interval = parsed_by(UNIT.parse)
count = parsed_by(WHOLE.parse)


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
    for field in FIELDS:
        if field.metadata["flag"] is not None:
            _setting_argument(g, field)
    g.add_argument("--seed", type=int, help="random seed; the same seed gives the same image (default: random, "
                                            "recorded in the output's metadata)")
    g.add_argument("--from", dest="recipe", metavar="IMAGE",
                   help="run the recipe stored in an image minidream wrote again (same bytes); options given "
                        "here override it")
    g.add_argument("--no-progress", dest="progress", action="store_false", help="hide the progress bars")


def _setting_argument(group, field):
    """The command-line option of a DreamSettings field: its flag, check, metavar and help, the default added."""
    flag, text = field.metadata["flag"], field.metadata["help"]
    if isinstance(field.default, bool):  # a switch: the flag turns the default over
        group.add_argument(flag, dest=field.name, action="store_false" if field.default else "store_true", help=text)
        return
    if field.default is not None:
        text += f" (default: {field.default})"
    group.add_argument(flag, dest=field.name, type=parsed_by(field.metadata["kind"].parse), default=field.default,
                       metavar=field.metadata["metavar"], help=text)


# the settings the command line sets (dream and atlas read --size themselves: N|WxH, resolved per image)
DREAM_OPTIONS = tuple(field.name for field in FIELDS if field.metadata["flag"] is not None)
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


def recipe_kwargs(args, kind):
    """dream()/zoom() keyword arguments for --from: the recipe's, with the options given here on top.

    The recipe's model is refused when its weights hash differs, unless --model is given; its input is
    checked likewise unless an input is given.
    """
    from minidream.dreaming.recipes import check_model, dream_kwargs, read_recipe
    from minidream.models.loading import resolve_model

    recipe = read_recipe(args.recipe)
    if recipe.get("kind", "dream") != kind:
        raise ValueError(f"{args.recipe} holds a {recipe.get('kind')} recipe: run `minidream {recipe.get('kind')} "
                         f"--from {args.recipe}`")
    given = given_options(args)
    kwargs = dream_kwargs(recipe)
    net = resolve_model(args.model if "model" in given else kwargs["model"], args.device)
    if "model" not in given:
        check_model(recipe, net)
    kwargs.update({k: getattr(args, k) for k in DREAM_OPTIONS if k in given}, model=net, device=args.device,
                  progress=args.progress)
    if "seed" in given:
        kwargs["seed"] = args.seed
    if given & set(OBJECTIVE_OPTIONS):
        kwargs["objective"] = objective_of(args, net)
    if "size" in given:
        kwargs["size"] = args.size
    return recipe, kwargs


def recipe_input(recipe, args):
    """The input of a --from run: the one given, else the recipe's (checked against its hash)."""
    from minidream.dreaming.recipes import check_input
    from minidream.io.images import load_rgb

    if args.input:
        return args.input if isinstance(args.input, str) else args.input[0]
    if recipe.get("input") is None:
        if recipe.get("input_sha256"):
            raise ValueError("the recipe's input was an image in memory, not a file: give the input image")
        return None
    check_input(recipe, load_rgb(recipe["input"])[0])
    return recipe["input"]
