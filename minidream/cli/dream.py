"""`dream`: one dream per input (or from noise), a batch of pictures from noise, or a recipe's dream again."""
import os
import secrets

from minidream.cli.common import (DREAM_OPTIONS, EPILOG, OBJECTIVE_OPTIONS, dream_kwargs, dream_options, given_options,
                                  parsed_by, positive_int, recipe_input, recipe_kwargs)
from minidream.cli.options import parse_size
from minidream.dreaming.settings import AT_LEAST_ONE, NON_NEGATIVE


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
        recipe, kwargs = recipe_kwargs(args, "dream")
        output_format(args.output)
        if recipe.get("batch") is not None:
            return _remake_batch_picture(args, recipe, kwargs)
        _dream_one(args, recipe_input(recipe, args), args.output, kwargs, kwargs.pop("size", None))
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
    from minidream.io.images import output_format
    from minidream.models.loading import resolve_model
    from minidream.objectives import Diversity

    refused = [(args.input, "an input image (a batch dreams from noise: give --size WxH)"),
               (args.recipe, "--from (a batch picture's recipe remakes it alone: drop --batch)")]
    for given, what in refused:
        if given:
            raise ValueError(f"--batch does not take {what}")
    if args.size is None:
        raise ValueError("--batch dreams from noise: give --size WxH (or N for N x N)")
    if args.diversity and args.batch < 2:
        raise ValueError(f"--diversity pushes the pictures of a batch apart: give --batch 2 or more, got {args.batch}")
    output_format(args.output)
    if args.plot:
        output_format(args.plot)
    net = resolve_model(args.model, args.device)
    kwargs = dream_kwargs(args, net)
    if args.diversity:
        layer = kwargs["objective"].bind(net).layers[0]
        kwargs["objective"] = kwargs["objective"] + Diversity(layer, args.diversity)
    size = args.size if isinstance(args.size, tuple) else (args.size, args.size)
    _dream_and_save(args, batch_outputs(args.output, args.batch), dict(kwargs, size=size, batch=args.batch))
    return 0


def _dream_one(args, path, output, kwargs, size):
    """One dream, saved with its recipe (and the --save-every snapshots and --plot)."""
    _dream_and_save(args, [output], dict(kwargs, image=path, size=size))


def _dream_and_save(args, outputs, kwargs):
    """dream(**kwargs), its pictures saved as outputs (one, or a batch's), each with its recipe; every --save-every
    steps each picture's snapshot beside its output (OUT_o<octave>_s<step>.<ext>); --plot: the objective against the
    steps (a batch's: a line per picture)."""
    from minidream.dreaming.deepdream import dream
    from minidream.io.images import save_image

    if kwargs.get("seed") is None:
        kwargs["seed"] = secrets.randbits(31)
    history = [] if args.plot else None
    done, known = [0], {"seed": kwargs["seed"], "model": getattr(kwargs["model"], "source", None)}

    def snapshot(octave, step, images):  # the full recipe exists only once the dream is done
        done[0] += 1
        if done[0] % args.save_every == 0:
            for output, image in zip(outputs, images if isinstance(images, list) else [images]):
                stem, ext = os.path.splitext(output)
                save_image(image, f"{stem}_o{octave}_s{step:03d}{ext}", dict(known, octave=octave, step=step))

    images = dream(callback=snapshot if args.save_every else None, history=history, **kwargs)
    for output, image in zip(outputs, images if isinstance(images, list) else [images]):
        save_image(image, output)
        print(f"wrote {output}")
    if args.plot:
        from minidream.dreaming.plot import plot_history

        save_image(plot_history(history, title=outputs[0] if len(outputs) == 1 else args.output), args.plot, {})


def add_commands(sub):
    """Add dream to the subparsers `sub`."""
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
                   help="also save the image every N steps, as OUT_o<octave>_s<step>.<ext> (a batch: each picture's "
                        "beside its own, OUT_k_o<octave>_s<step>.<ext>)")
    p.add_argument("--plot", metavar="PNG", help="also draw the objective against the steps, one panel per octave (a "
                                                 "batch: a line per picture)")
    p.add_argument("--batch", type=parsed_by(AT_LEAST_ONE.parse), metavar="K",
                   help="dream K pictures from noise (--size) in one batched pass, written as OUT's name with _0 ... "
                        "_K-1 before its extension (out.png -> out_0.png ...), each with its own recipe; picture k "
                        "starts from the noise of seed + k")
    p.add_argument("--diversity", type=parsed_by(NON_NEGATIVE.parse), default=0.0, metavar="WEIGHT",
                   help="with --batch: push the pictures apart in Gram-matrix space at the objective's layer, "
                        "Diversity(layer, WEIGHT) (e.g. 1; default 0: none)")
    dream_options(p)
    p.set_defaults(func=run_dream, subparser=p)
