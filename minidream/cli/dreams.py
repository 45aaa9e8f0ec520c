"""`dream`, `zoom`, `atlas`, `classes`, `classify`, `layers` and `models`: handlers and their parsers."""
import os
import secrets
import sys

from minidream.cli.common import (DREAM_OPTIONS, EPILOG, OBJECTIVE_OPTIONS, below_one, dream_kwargs, dream_options,
                                  given_options, model_option, objective_of, parsed_by, positive, positive_int, wxh)
from minidream.cli.options import parse_size
from minidream.dreaming.settings import AT_LEAST_ONE, CELL_SIZE, NON_NEGATIVE, ZOOM_FPS, ZOOM_FRAMES, ZOOM_SCALE


def _recipe_kwargs(args, kind):
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


def _recipe_input(recipe, args):
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


def run_dream(args):
    from tqdm.auto import tqdm

    from minidream.cli.options import resolve_size
    from minidream.io.images import image_paths, load_rgb, output_format
    from minidream.models.loading import resolve_model

    if args.batch is not None:
        return _dream_batch(args)
    if args.diversity:
        raise ValueError("--diversity pushes the pictures of a batch apart: give --batch K (K >= 2) too")
    if args.recipe:
        recipe, kwargs = _recipe_kwargs(args, "dream")
        output_format(args.output)
        if recipe.get("batch") is not None:
            return _remake_batch_picture(args, recipe, kwargs)
        _dream_one(args, _recipe_input(recipe, args), args.output, kwargs, kwargs.pop("size", None))
        return 0
    inputs = image_paths(args.input)
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
    if args.plot:
        if many:
            raise ValueError("--plot draws one dream's objective: give one input")
        output_format(args.plot)
    net = resolve_model(args.model, args.device)
    if not inputs:  # noise
        size = args.size if isinstance(args.size, tuple) else (args.size, args.size)
        _dream_one(args, None, args.output, dream_kwargs(args, net), size)
        return 0
    files = tqdm(list(zip(inputs, outputs)), desc="files", unit="file", disable=not (many and args.progress))
    for path, out in files:
        rgb = load_rgb(path)[0]
        kwargs = dream_kwargs(args, net, rgb)
        if many:
            kwargs["progress"] = False  # the bar counts files
        _dream_one(args, path, out, kwargs, resolve_size(args.size, rgb.shape))
    return 0


def _remake_batch_picture(args, recipe, kwargs):
    """--from a picture whose batch compared its pictures (Diversity): the batch dreamed again, that picture kept."""
    from minidream.dreaming.deepdream import dream
    from minidream.io.images import save_image

    changed = given_options(args) & (set(DREAM_OPTIONS) | set(OBJECTIVE_OPTIONS) | {"seed", "size", "input"})
    if changed or args.input:
        raise ValueError(f"{args.recipe} was dreamed in a batch whose pictures were pushed apart (Diversity): --from "
                         "remakes it as it was, without other options")
    save_image(dream(recipe=recipe, model=kwargs["model"], device=args.device, progress=args.progress), args.output)
    print(f"wrote {args.output}")
    return 0


def batch_outputs(output, count):
    """The files of a batch: OUT's name with _0 ... _{K-1} before its extension (out.png -> out_0.png, ...)."""
    stem, ext = os.path.splitext(output)
    return [f"{stem}_{k}{ext}" for k in range(count)]


def _dream_batch(args):
    """--batch K: K pictures from noise in one batched dream, each saved with its own recipe (batch_outputs)."""
    from minidream.dreaming.deepdream import dream
    from minidream.io.images import output_format, save_image
    from minidream.models.loading import resolve_model
    from minidream.objectives import Diversity

    refused = [(args.input, "an input image (a batch dreams from noise: give --size WxH)"),
               (args.recipe, "--from (a batch picture's recipe remakes it alone: drop --batch)"),
               (args.plot, "--plot (it draws one dream's objective)"), (args.save_every, "--save-every")]
    for given, what in refused:
        if given:
            raise ValueError(f"--batch does not take {what}")
    if args.size is None:
        raise ValueError("--batch dreams from noise: give --size WxH (or N for N x N)")
    if args.diversity and args.batch < 2:
        raise ValueError(f"--diversity pushes the pictures of a batch apart: give --batch 2 or more, got {args.batch}")
    output_format(args.output)
    net = resolve_model(args.model, args.device)
    kwargs = dream_kwargs(args, net)
    if args.diversity:
        layer = kwargs["objective"].bind(net).layers[0]
        kwargs["objective"] = kwargs["objective"] + Diversity(layer, args.diversity)
    if kwargs.get("seed") is None:
        kwargs["seed"] = secrets.randbits(31)
    size = args.size if isinstance(args.size, tuple) else (args.size, args.size)
    images = dream(None, size=size, batch=args.batch, **kwargs)
    for image, output in zip(images, batch_outputs(args.output, args.batch)):
        save_image(image, output)
        print(f"wrote {output}")
    return 0


def _dream_one(args, path, output, kwargs, size):
    """One dream, saved with its recipe (and the --save-every snapshots and --plot)."""
    from minidream.dreaming.deepdream import dream
    from minidream.io.images import save_image

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
        from minidream.dreaming.plot import plot_history

        save_image(plot_history(history, title=output), args.plot, {})
    print(f"wrote {output}")


def run_zoom(args):
    from tqdm.auto import tqdm

    from minidream.dreaming.zooming import zoom
    from minidream.io.images import load_rgb, save_image
    from minidream.models.loading import resolve_model

    output = args.output
    gif = output if output.lower().endswith(".gif") else None
    if gif is None and os.path.splitext(output)[1] and not os.path.isdir(output):
        raise ValueError(f"zoom writes an animated .gif or a folder of PNG frames, not {output!r}; for a video, "
                         "write the frames to a folder and join them, e.g. ffmpeg -i OUT/%04d.png z.mp4")
    if args.recipe:
        recipe, kwargs = _recipe_kwargs(args, "zoom")
        image = _recipe_input(recipe, args)
        given = given_options(args)
        frames, scale, fps = (getattr(args, k) if k in given else recipe[k] for k in ("frames", "scale", "fps"))
    else:
        if not args.input:
            raise ValueError("give the first frame's image (or --from a zoom frame)")
        net = resolve_model(args.model, args.device)
        kwargs = dream_kwargs(args, net, load_rgb(args.input)[0])
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
    from minidream.cli.options import resolve_size
    from minidream.dreaming.atlas import atlas, compare
    from minidream.io.images import load_rgb, output_format, save_image
    from minidream.models.loading import resolve_model

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
    from minidream.models.loading import resolve_model

    net = resolve_model(args.model)
    names = net.meta.get("class_names") or []
    if not names:
        raise ValueError(f"model {args.model!r} has no class names (use class indexes with --class)")
    for i, name in enumerate(names):
        print(f"{i:4d}  {name}")
    return 0


def run_classify(args):
    from minidream.models.classification import classify

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
    from minidream.models.classification import layer_table
    from minidream.models.loading import resolve_model
    from minidream.models.metadata import default_layer

    size = args.size[::-1] if args.size else None
    net = resolve_model(args.model)
    rows = layer_table(net, input_size=size)
    width = max(len(name) for name, _ in rows)
    for name, shape in rows:
        print(f"{name:<{width}}  {'x'.join(str(d) for d in shape)}")
    print(f"default dream layer: {default_layer(net.meta)}", file=sys.stderr)  # the table stays plain for scripts
    return 0


def add_commands(sub):
    """Add dream, zoom, atlas, classes, classify, layers and models to the subparsers `sub`."""
    p = sub.add_parser("dream", help="dream on images (or on noise with --size)", epilog=EPILOG,
                       description="Dream on images and save the results; each carries its full recipe (PNG "
                                   "text, JPEG comment): --from OUT re-runs it.")
    p.add_argument("input", nargs="*", metavar="IN",
                   help="input images, folders or glob patterns (several: -o is a folder); omit, with --size, "
                        "to start from noise")
    p.add_argument("-o", "--output", required=True, metavar="OUT",
                   help="output image (.png, .jpg or .gif), or a folder for several inputs")
    p.add_argument("--size", type=parsed_by(parse_size), metavar="N|WxH",
                   help="resize the input: N = longer side N pixels (keeps the aspect ratio), WxH = exactly; "
                        "or the noise size")
    p.add_argument("--save-every", type=positive_int, metavar="N",
                   help="also save the image every N steps, as OUT_o<octave>_s<step>.<ext>")
    p.add_argument("--plot", metavar="PNG", help="also draw the objective against the steps, one panel per octave")
    p.add_argument("--batch", type=parsed_by(AT_LEAST_ONE.parse), metavar="K",
                   help="dream K pictures from noise (--size) in one batched pass, written as OUT's name with _0 ... "
                        "_K-1 before its extension (out.png -> out_0.png ...), each with its own recipe; picture k "
                        "starts from the noise of seed + k")
    p.add_argument("--diversity", type=parsed_by(NON_NEGATIVE.parse), default=0.0, metavar="WEIGHT",
                   help="with --batch: push the pictures apart in Gram-matrix space at the objective's layer, "
                        "Diversity(layer, WEIGHT) (e.g. 1; default 0: none)")
    dream_options(p)
    p.set_defaults(func=run_dream, subparser=p)

    p = sub.add_parser("zoom", help="dream, zoom into the centre, repeat: an animation", epilog=EPILOG,
                       description="The original notebook's zoom animation.")
    p.add_argument("input", nargs="?", metavar="IN", help="first frame (omit with --from)")
    p.add_argument("-o", "--output", required=True, metavar="OUT",
                   help="an animated .gif, or a folder for numbered PNG frames (no other formats)")
    p.add_argument("--frames", type=positive_int, default=ZOOM_FRAMES, help="number of frames (default: %(default)s)")
    p.add_argument("--scale", type=below_one, default=ZOOM_SCALE,
                   help="zoom per frame, a fraction of the frame (default: %(default)s)")
    p.add_argument("--fps", type=positive, default=ZOOM_FPS, help="GIF frame rate (default: %(default)s)")
    dream_options(p)
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
    p.add_argument("--cell-size", type=positive_int, default=CELL_SIZE,
                   help="cell size in pixels (default: %(default)s)")
    p.add_argument("--size", type=parsed_by(parse_size), metavar="N|WxH", help="resize the input first (as dream)")
    dream_options(p)
    p.set_defaults(func=run_atlas)

    p = sub.add_parser("classes", help="list a model's class names", epilog=EPILOG)
    p.add_argument("model", nargs="?", default="auto", metavar="MODEL", help="model name or .h5 file")
    p.set_defaults(func=run_classes)

    p = sub.add_parser("classify", help="the model's top classes for an image", epilog=EPILOG)
    p.add_argument("input", metavar="IN", help="image to classify")
    p.add_argument("--top", type=positive_int, default=5, help="how many classes to show (default: 5)")
    model_option(p)
    p.set_defaults(func=run_classify)

    p = sub.add_parser("layers", help="list a model's layers with their output shapes", epilog=EPILOG)
    p.add_argument("--model", default="auto", help="model name or .h5 file (default: auto)")
    p.add_argument("--size", type=wxh, metavar="WxH", help="input size for the shapes (default: the model's)")
    p.set_defaults(func=run_layers)

    p = sub.add_parser("models", help="list the model zoo: name, size, cached or not, license, default layer")
    p.set_defaults(func=run_models)
