"""A microscope for any model: a static site with a picture of every channel of its layers.

    report = microscope("mini", "site/", layers=["conv3", "conv5"], channels=range(8), images="photos/")

plan.py checks the request (layers, channels, the site, the images) before any work; render.py dreams the
pictures (from noise, one per channel and its variants, each PNG with its recipe; on Dask as `minidream batch`
runs, or in this process); crops.py finds each channel's top-activating crops in a folder of images;
constant.py finds the channels that hold one value on their picture (dead: the picture is its starting noise);
site.py writes the pages. A rerun skips the pictures already on disk with the same recipe and writes the pages again.
"""
import dataclasses
import importlib.util

from minidream.microscope.plan import DIVERSITY, JITTER, MARGIN, PARAM, STEP_SIZE, STEPS


@dataclasses.dataclass
class Report:
    site: str  # the site's folder, absolute
    written: int  # pictures rendered now
    skipped: int  # pictures already there with the same recipe
    failed: list  # (picture, error) pairs from Dask workers; their pages say "not rendered"
    constant: dict  # {layer: {channel: value}}: channels that hold one value on their picture (dead; constant.py)


def microscope(model, site, layers=None, channels=None, size=None, steps=STEPS, step_size=STEP_SIZE,
               diversity=DIVERSITY, seed=0, images=None, device="cpu", workers=None, scheduler=None, progress=True):
    """Write the microscope site of `model` into the folder `site`; returns a Report.

    layers: layer names (default: every convolution and concat output); channels: channel numbers pictured in
        each layer (default: all of them).
    size: the pictures' side in pixels (default: the model's input side, at most plan.MAX_SIZE; mini: 64).
    steps, step_size, seed: each picture's dream (from noise, Fourier parametrization, one octave).
    diversity: variants per channel besides its picture: two or more are one diverse batch (a Diversity term pushes
        them apart, render.plan_pictures), a single one is the channel's objective from the next seed.
    images: a folder of images for each channel's top-activating crops (None: no crops).
    workers, scheduler: where to render (render.render_all): a local Dask cluster of `workers` processes, the
        cluster of `scheduler`, or this process (workers=0).
    """
    # Imported here, so the command line's parser (which reads plan's defaults) stays quick to build.
    from minidream.dreaming.recipes import model_name
    from minidream.microscope.constant import constant_channels
    from minidream.microscope.crops import top_crops
    from minidream.microscope.plan import check_images, check_site, default_size, plan_layers
    from minidream.microscope.render import plan_pictures, render_all
    from minidream.microscope.site import write_site
    from minidream.models.loading import resolve_model

    if scheduler is not None and workers is not None:
        raise ValueError("--workers sizes a local cluster; a --scheduler's cluster has the workers it has: give one")
    if (scheduler is not None or (workers or 0) >= 1) and importlib.util.find_spec("distributed") is None:
        raise ImportError("rendering on Dask needs it: pip install 'minidream[dask]', or --workers 0 for this process")
    if diversity < 0:
        raise ValueError(f"diversity: expected a number of variants >= 0, got {diversity}")
    net = resolve_model(model, device)
    layer_plans = plan_layers(net, layers, None if channels is None else sorted(set(channels)))
    site = check_site(site)
    image_paths = check_images(images) if images is not None else None
    size = default_size(net) if size is None else int(size)
    pictures = plan_pictures(net, site, layer_plans, size, steps, step_size, seed, diversity)
    sha256 = pictures[0].recipe["model_sha256"]
    crops = {} if image_paths is None else top_crops(net, layer_plans, image_paths, site, sha256, device, progress)
    written, skipped, failed = render_all(net, model_name(net), pictures, device, workers, scheduler, progress)
    about = {"model": model_name(net), "model_sha256": sha256, "input_size": list(net.meta["input_size"]),
             "settings": f"Pictures of {size} px, {steps} {PARAM} steps of size {step_size:g} from seed {seed} "
                         f"(jitter {JITTER}, mirrored margin {MARGIN}), {diversity} variants per channel"
                         + (" (a diverse batch)." if diversity >= 2 else ".")}
    constant = constant_channels(net, layer_plans, pictures, device)
    write_site(site, about, layer_plans, pictures, crops, constant)
    return Report(site, written, skipped, failed, constant)
