"""Image-folder data sets and the augmentation that training applies to them.

Layout (the one torchvision's ImageFolder and Caffe's tools use):

    DATA_DIR/<class>/*.jpg|png|...        training images, one sub-folder per class
    DATA_DIR/val/<class>/*.jpg|png|...    optional validation split, same class names

Without val/, a seeded random ``val_fraction`` of each class is held out. Images are
decoded once into memory as uint8 RGB (N, S, S, 3): the shorter side resized to S, then
the centre square cut out. Training cuts random (crop, crop) windows from those S x S
squares and mirrors half of them (AlexNet section 4.1: 256 -> 224 crops and flips).
"""
import os
from typing import List, NamedTuple

import numpy as np

from minidream.io.images import IMAGE_EXTENSIONS, image_files

VAL_DIR = "val"


class ImageSet(NamedTuple):
    """images uint8 RGB (N, S, S, 3); labels int64 (N,) indexing class_names."""

    images: np.ndarray
    labels: np.ndarray
    class_names: List[str]


def load_size(crop):
    """The square side images are stored at: 8/7 of the crop, as 256 is to 224."""
    return int(round(crop * 8 / 7))


def scan_folder(folder, class_names=None):
    """(class names, [(path, label)]) for folder/<class>/<image>: class names sorted (or the given
    class_names, which must cover every sub-folder), val/ skipped, files sorted within a class."""
    if not os.path.isdir(folder):
        raise FileNotFoundError(f"data folder not found: {folder}")
    found = sorted(d for d in os.listdir(folder)
                   if d != VAL_DIR and os.path.isdir(os.path.join(folder, d)))
    names = class_names if class_names is not None else found
    if len(names) < 2:
        raise ValueError(f"{folder} needs at least two class sub-folders (DATA_DIR/<class>/<images>), "
                         f"found {len(found)}: {found}")
    missing = sorted(set(found) - set(names))
    if missing:
        raise ValueError(f"{folder} has classes {missing} that the training folder does not have")
    items = []
    for label, name in enumerate(names):
        sub = os.path.join(folder, name)
        files = image_files(sub) if os.path.isdir(sub) else []
        if not files and class_names is None:
            raise ValueError(f"class folder {sub} has no images ({', '.join(IMAGE_EXTENSIONS)})")
        items += [(f, label) for f in files]
    return names, items


def load_image(path, size):
    """One image file as uint8 RGB (size, size, 3): shorter side to size, centre square."""
    from PIL import Image

    with Image.open(path) as im:
        im = im.convert("RGB")
        scale = size / min(im.size)
        w, h = max(size, round(im.width * scale)), max(size, round(im.height * scale))
        im = im.resize((w, h), Image.BILINEAR)
        left, top = (w - size) // 2, (h - size) // 2
        return np.asarray(im.crop((left, top, left + size, top + size)), np.uint8)


def load_images(items, size, names, desc="loading", progress=True):
    """ImageSet of the [(path, label)] items (as scan_folder lists them), each loaded by load_image."""
    from tqdm import tqdm

    images = np.empty((len(items), size, size, 3), np.uint8)
    for i, (path, _) in enumerate(tqdm(items, desc=desc, unit="img", disable=not progress)):
        images[i] = load_image(path, size)
    labels = np.array([label for _, label in items], np.int64)
    return ImageSet(images, labels, list(names))


def holdout(labels, fraction, seed):
    """(train indices, val indices): a seeded ``fraction`` of each label held out (at least 1)."""
    labels = np.asarray(labels)
    rng = np.random.default_rng(seed)
    val = []
    for label in np.unique(labels):
        where = rng.permutation(np.flatnonzero(labels == label))
        take = max(1, int(round(fraction * where.size))) if fraction > 0 and where.size > 1 else 0
        val.extend(where[:take])
    val = np.sort(np.array(val, np.int64))
    return np.setdiff1d(np.arange(labels.size), val), val


def load_folder(data_dir, size, val_fraction=0.1, seed=0, progress=True):
    """(train ImageSet, val ImageSet) from DATA_DIR; val is empty if val_fraction is 0."""
    names, items = scan_folder(data_dir)
    val_dir = os.path.join(data_dir, VAL_DIR)
    if os.path.isdir(val_dir):
        _, val_items = scan_folder(val_dir, names)
    else:
        keep, held = holdout([label for _, label in items], val_fraction, seed)
        items, val_items = [items[i] for i in keep], [items[i] for i in held]
    return (load_images(items, size, names, "loading train", progress),
            load_images(val_items, size, names, "loading val", progress))


def datasets(data, val=None, size=None, val_fraction=0.1, seed=0, progress=True):
    """(train ImageSet, val ImageSet) for training on ``data``.

    data: DATA_DIR (loaded at ``size`` a side, see load_folder) or an ImageSet already in memory.
    val: an ImageSet to validate on; None -> DATA_DIR/val/, or a seeded val_fraction of each class
    held out (of the ImageSet too).
    """
    if isinstance(data, ImageSet):
        if val is None:
            keep, held = holdout(data.labels, val_fraction, seed)
            data, val = (ImageSet(data.images[i], data.labels[i], data.class_names) for i in (keep, held))
        return data, val
    if val is not None:
        return load_folder(data, size, 0.0, seed, progress)[0], val
    return load_folder(data, size, val_fraction, seed, progress)


def random_crops(images, crop, rng, flip=True):
    """Random (crop, crop) windows of images (N, S, S, 3), half of them mirrored left-right."""
    n, h, w = images.shape[:3]
    if crop > min(h, w):
        raise ValueError(f"crop {crop} is larger than the stored images ({h}x{w})")
    top = rng.integers(0, h - crop + 1, n)
    left = rng.integers(0, w - crop + 1, n)
    mirror = rng.random(n) < 0.5 if flip else np.zeros(n, bool)
    out = np.empty((n, crop, crop) + images.shape[3:], images.dtype)
    for i in range(n):
        window = images[i, top[i]:top[i] + crop, left[i]:left[i] + crop]
        out[i] = window[:, ::-1] if mirror[i] else window
    return out


def center_crops(images, crop):
    """The centre (crop, crop) window of every image (N, S, S, 3)."""
    h, w = images.shape[1:3]
    top, left = (h - crop) // 2, (w - crop) // 2
    return images[:, top:top + crop, left:left + crop]


def to_input(images, mean_bgr):
    """uint8 RGB (N, H, W, 3) -> the network's float32 BGR (N, 3, H, W) minus the mean."""
    bgr = images[..., ::-1].astype(np.float32) - np.asarray(mean_bgr, np.float32)
    return np.ascontiguousarray(bgr.transpose(0, 3, 1, 2))
