"""Each channel's top-activating crops: where in a folder of images the channel responds most.

Every image goes through the net once, at the model's input size (centre-cropped to its aspect ratio, then
resized). For each channel of each pictured layer the TOP strongest responses are kept, at most one per image
(its maximum over positions; an image where the channel holds one value everywhere has no strongest place and
wins nothing: constant.py), and the crop shown is the receptive field around that position: the unit's centre
± jitter.receptive_radius, which counts a whole kernel on each side of every window and so covers the field
whatever the padding, clipped to the image.

The crops and an index (crops.json) go to SITE/<layer>/crops/, keyed by the model's weights, the layer, its
pictured channels and the images' bytes, so a rerun with the same ones reads them back instead of running the net again.
"""
import dataclasses
import hashlib
import json
import os
import warnings

import numpy as np
from PIL import Image, ImageOps
from tqdm.auto import tqdm

from minidream.dreaming.jitter import receptive_radius
from minidream.engine.backend import as_numpy, to_device
from minidream.errors import ImageError
from minidream.io.files import atomic_write
from minidream.io.images import load_rgb, save_image, to_network
from minidream.microscope.constant import FLAT, is_flat

TOP = 4  # crops per channel
INDEX = "crops.json"


@dataclasses.dataclass
class Crop:
    image: str  # the source image's file name
    activation: float  # the channel's maximum in that image
    box: list  # (left, top, right, bottom) in the image at the model's input size
    file: str  # the crop's path relative to its layer's folder: "crops/3_0.png"


def top_crops(net, layer_plans, images, site, model_sha256, device="cpu", progress=True):
    """{layer name: {channel: [Crop], strongest first}} for the layers' pictured channels, from image paths."""
    digests = [(os.path.basename(path), _file_sha256(path)) for path in images]
    keys = {plan.name: _key(model_sha256, plan, net.meta["input_size"], digests) for plan in layer_plans}
    found = {plan.name: _read_index(os.path.join(site, plan.slug), keys[plan.name]) for plan in layer_plans}
    missing = [plan for plan in layer_plans if found[plan.name] is None]
    if missing:
        values, places = _strongest(net, [plan.name for plan in missing], images, device, progress)
        for plan in missing:
            found[plan.name] = _write_crops(net, plan, os.path.join(site, plan.slug), images, values[plan.name],
                                            places[plan.name], keys[plan.name])
    return found


def fitted(path, net):
    """The image as the net sees it here: RGB uint8 at the model's input size, centre-cropped to its aspect."""
    height, width = (int(v) for v in net.meta["input_size"])
    return np.asarray(ImageOps.fit(Image.fromarray(load_rgb(path)[0]), (width, height), Image.BILINEAR))


def _strongest(net, layers, images, device, progress):
    """Per layer, each image's maximum per channel (N, C) and where it is, as a flat position (N, C)."""
    values = {layer: [] for layer in layers}
    places = {layer: [] for layer in layers}
    for path in tqdm(images, desc="crops", unit="image", disable=not progress):
        try:
            rgb = fitted(path, net)
        except (ImageError, OSError) as exc:
            warnings.warn(f"{exc}: left out of the top-activating crops")
            rgb = None
        acts = None if rgb is None else net.forward(to_device(to_network(rgb, net.meta), device), end=layers)
        for layer in layers:
            if acts is None:  # an unreadable image never wins
                count = net.output_shape(layer)[1]
                values[layer].append(np.full(count, -np.inf, np.float32))
                places[layer].append(np.zeros(count, np.int64))
                continue
            a = as_numpy(acts[layer])[0].reshape(acts[layer].shape[1], -1)  # (C, H * W)
            top = a.max(axis=1)
            values[layer].append(np.where(is_flat(a.min(axis=1), top, a.mean(axis=1)), -np.inf, top))
            places[layer].append(a.argmax(axis=1))
    return ({layer: np.stack(v) for layer, v in values.items()}, {layer: np.stack(p) for layer, p in places.items()})


def _write_crops(net, plan, folder, images, values, places, key):
    """Write the crops of the layer's pictured channels and their index; returns {channel: [Crop]}."""
    height, width = (int(v) for v in net.meta["input_size"])
    rows, cols = net.output_shape(plan.name)[2:]
    radius = min(receptive_radius(net, [plan.name]), max(height, width))  # infinite for global pooling
    os.makedirs(os.path.join(folder, "crops"), exist_ok=True)
    seen = {}  # image index -> fitted RGB, each image decoded once more at most
    crops = {}
    for channel in plan.channels:
        crops[channel] = []
        for rank, n in enumerate(np.argsort(-values[:, channel], kind="stable")[:TOP]):
            if not np.isfinite(values[n, channel]):
                break
            i, j = divmod(int(places[n, channel]), cols)
            y, x = (i + 0.5) * height / rows, (j + 0.5) * width / cols  # the unit's centre in input pixels
            box = [max(0, int(x - radius)), max(0, int(y - radius)),
                   min(width, int(np.ceil(x + radius))), min(height, int(np.ceil(y + radius)))]
            if n not in seen:
                seen[n] = fitted(images[n], net)
            crop = Crop(os.path.basename(images[n]), float(values[n, channel]), box, f"crops/{channel}_{rank}.png")
            save_image(seen[n][box[1]:box[3], box[0]:box[2]], os.path.join(folder, crop.file),
                       dict(dataclasses.asdict(crop), layer=plan.name, channel=channel))
            crops[channel].append(crop)
    index = {"key": key, "channels": {str(c): [dataclasses.asdict(crop) for crop in v] for c, v in crops.items()}}
    atomic_write(os.path.join(folder, "crops", INDEX), lambda f: f.write(json.dumps(index, indent=1).encode()))
    return crops


def _read_index(folder, key):
    """The cached {channel: [Crop]} of a layer when its index has this key and every crop is there, else None."""
    try:
        with open(os.path.join(folder, "crops", INDEX), encoding="utf-8") as f:
            index = json.load(f)
        crops = {int(c): [Crop(**crop) for crop in v] for c, v in index["channels"].items()}
    except (OSError, ValueError, KeyError, TypeError):
        return None
    if index.get("key") != key or not all(os.path.isfile(os.path.join(folder, crop.file))
                                          for v in crops.values() for crop in v):
        return None
    return crops


def _key(model_sha256, plan, input_size, digests):
    text = json.dumps([model_sha256, plan.name, plan.channels, list(input_size), TOP, FLAT, digests])
    return hashlib.sha256(text.encode()).hexdigest()


def _file_sha256(path):
    with open(path, "rb") as f:
        return hashlib.sha256(f.read()).hexdigest()
