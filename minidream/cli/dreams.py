"""`zoom` and `atlas`: the jobs made of a few dreams of one image (video and batch: cli/jobs.py)."""
import os

from minidream.cli.common import (DREAM_OPTIONS, EPILOG, OBJECTIVE_OPTIONS, below_one, dream_kwargs, dream_options,
                                  given_options, parsed_by, positive, positive_int, recipe_input, recipe_kwargs)
from minidream.cli.options import parse_size
from minidream.dreaming.settings import CELL_SIZE, ZOOM_FPS, ZOOM_FRAMES, ZOOM_SCALE


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
        recipe, kwargs = recipe_kwargs(args, "zoom")
        image = recipe_input(recipe, args)
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


def add_commands(sub):
    """Add zoom and atlas to the subparsers `sub`."""
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
