"""Read a Caffe mean file (mean.binaryproto): the mean image a net was trained with.

    image, channel_mean = read_mean_file("imagenet_mean.binaryproto")
    image.shape          # (3, 256, 256) float32, channels in the file's order (BGR for Caffe's tools)
    channel_mean         # [B, G, R]: image.mean over H and W, one float per channel

The file is one serialized BlobProto, as Caffe's compute_image_mean writes it: the
legacy dims num/channels/height/width (num = 1) or a BlobShape of (1, C, H, W) or
(C, H, W), and the values in ``data`` (float) or ``double_data``. A transform_param's
mean_file subtracts the whole image (cropped like the input); minidream subtracts one
value per channel, as Caffe does for mean_value, so ``channel_mean`` is what the
converter records. Anything else raises CaffeModelError.
"""
import os

import numpy as np

from minidream.errors import CaffeModelError
from weights_tools import schema
from weights_tools.wire import decode


def _dims(blob, where):
    if "shape" in blob:
        dims = list(blob["shape"].get("dim", []))
    else:
        dims = [blob.get(k, 0) for k in ("num", "channels", "height", "width")]
    if len(dims) == 4 and dims[0] == 1:
        dims = dims[1:]
    if len(dims) != 3 or min(dims) <= 0:
        raise CaffeModelError(f"{where}: a mean file holds one (C, H, W) image; this blob's shape is {dims}")
    return dims


def read_mean_file(source):
    """(image (C, H, W) float32, per-channel mean [C floats]) of a mean.binaryproto (path or bytes)."""
    where = os.fspath(source) if isinstance(source, (str, os.PathLike)) else "mean file"
    buf = source
    if isinstance(source, (str, os.PathLike)):
        try:
            with open(source, "rb") as f:
                buf = f.read()
        except OSError as exc:
            raise CaffeModelError(f"cannot read {where}: {exc.strerror or exc}") from None
    if not len(buf):
        raise CaffeModelError(f"{where}: empty file; a mean file is a serialized BlobProto")
    try:
        blob = decode(buf, schema.BLOB)
    except CaffeModelError as exc:
        raise CaffeModelError(f"{where}: not a BlobProto: {exc}") from None
    data = blob.get("data")
    if data is None or not len(data):
        data = blob.get("double_data")
    if data is None or not len(data):
        raise CaffeModelError(f"{where}: the blob holds no values; is this a mean.binaryproto "
                              "(not a .caffemodel or a text file)?")
    dims = _dims(blob, where)
    if int(np.prod(dims, dtype=object)) != len(data):
        raise CaffeModelError(f"{where}: the blob declares shape {dims} but holds {len(data)} values")
    image = np.asarray(data, np.float32).reshape(dims)
    if not np.isfinite(image).all():
        raise CaffeModelError(f"{where}: the mean image holds NaN or infinite values")
    return image, [float(m) for m in image.mean(axis=(1, 2), dtype=np.float64)]
