"""Large jobs: `video` and `batch` (on Dask)."""
import sys

from minidream.cli.common import DREAM_OPTIONS, EPILOG, count, dream_kwargs, dream_options, positive, unit_interval
from minidream.dreaming.settings import VIDEO_BLEND, VIDEO_FLOW, VIDEO_STEPS_PER_FRAME

JOBS_EPILOG = ("The seed defaults to 0 here (not random), so running the same command again skips the outputs "
               "already written with the same settings and finishes an interrupted job. " + EPILOG)


def _cluster_options(p):
    g = p.add_argument_group("where to run (Dask)")
    g.add_argument("--scheduler", metavar="tcp://HOST:PORT",
                   help="an existing Dask scheduler whose workers have minidream and the model installed "
                        "(default: start a local cluster)")
    g.add_argument("--workers", type=int, metavar="N",
                   help="local cluster size: worker processes, one BLAS thread each (default: one per core)")


def add_commands(sub):
    """Add video and batch to the subparsers `sub`."""
    _add_video_parser(sub)
    _add_batch_parser(sub)


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
    g.add_argument("--blend", type=unit_interval, default=VIDEO_BLEND,
                   help="weight of the previous frame's warped dream detail, 0..1 (default: %(default)s)")
    g.add_argument("--steps-per-frame", type=count, default=VIDEO_STEPS_PER_FRAME,
                   help="steps per octave for frames after the first (default: %(default)s; the first gets --steps)")
    g.add_argument("--flow", default=VIDEO_FLOW, choices=("dis", "farneback"),
                   help="optical flow method (OpenCV; default: %(default)s)")
    g.add_argument("--no-flow", dest="flow", action="store_const", const=None,
                   help="dream every frame on its own (no carry-over), as a Dask batch")
    g.add_argument("--fps", type=positive,
                   help="frame rate of a folder of frames (default: 24); video files and GIFs keep their own")
    g.add_argument("--keep-frames", action="store_true", help="keep OUT.frames/ after encoding the video")
    _cluster_options(p)
    dream_options(p)
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
    dream_options(p)
    p.set_defaults(func=run_batch, seed=0)


def _job_kwargs(args):
    """(dream kwargs with the model as named, recipe, the loaded Net): jobs ship the model by name or path.

    The Net is loaded here to check the options (layer names, guide) before any work starts.
    """
    from minidream import __version__
    from minidream.dreaming.recipes import weights_sha256
    from minidream.models.loading import resolve_model

    net = resolve_model(args.model, args.device)
    kwargs = dream_kwargs(args, net)
    bound = kwargs["objective"].bind(net)
    # The recipe each output of the job carries; an output already holding the same one is skipped on a rerun.
    recipe = {k: list(v) if isinstance(v, tuple) else v for k, v in kwargs.items() if k in DREAM_OPTIONS}
    recipe.update(model=args.model, model_sha256=weights_sha256(net), objective=repr(bound), seed=kwargs["seed"],
                  minidream_version=__version__)
    kwargs.update(model=args.model, progress=False)
    return kwargs, recipe, net


def run_video(args):
    from minidream.jobs.videos import render

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
    from minidream.jobs.batches import batch

    kwargs, recipe, net = _job_kwargs(args)
    if args.atlas is not None:
        from minidream.dreaming.atlas import stage_layers

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
