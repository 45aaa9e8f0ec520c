"""Caffe blobs -> float32 weight arrays in the shapes the graph needs.

A blob's values come as float data (or double_data, converted) with its declared dims: BlobShape dims in newer
files, the legacy 4-D num/channels/height/width in old snapshots (so InnerProduct weights arrive as (1, 1, N, K)
and biases as (1, 1, 1, N)). The shapes a layer needs come from the layer registry through minidream.engine.graph
(Graph.param_shapes); here a blob is checked against them — its value count, and its dims when declared
(legacy 4-D dims may pad the shape with leading 1s) — before it is reshaped, so a corrupt size is an error
rather than a wrong net.
"""
import numpy as np

from minidream.errors import CaffeModelError


def blob_values(blob, name, index):
    """(values as float32, declared dims or None) of one decoded BlobProto."""
    data = blob.get("data")
    if (data is None or not len(data)) and blob.get("double_data") is not None:
        data = blob["double_data"].astype(np.float32)
    if data is None:
        data = np.zeros(0, np.float32)
    if "shape" in blob:
        dims = list(blob["shape"].get("dim", []))
    elif any(k in blob for k in ("num", "channels", "height", "width")):
        dims = [blob.get(k, 0) for k in ("num", "channels", "height", "width")]
    else:
        dims = None
    if dims is not None:
        if any(d < 0 for d in dims):
            raise CaffeModelError(f"layer {name!r}: blob {index} has negative dims {dims}")
        if int(np.prod(dims, dtype=object)) != len(data):
            raise CaffeModelError(f"layer {name!r}: blob {index} declares shape {dims} but holds {len(data)} values")
    return data, dims


def fits(values, dims, shape):
    """Whether a blob's values and declared dims can be the array of `shape` (legacy dims padded with 1s)."""
    if len(values) != int(np.prod(shape, dtype=object)):
        return False
    if dims is None or not dims:  # no dims, or Caffe's 0-d blob (a channel_shared PReLU's one slope)
        return True
    lead, tail = dims[:max(len(dims) - len(shape), 0)], dims[-len(shape):] if shape else []
    return list(tail) == list(shape) and all(d == 1 for d in lead)


def shaped(blobs, shapes, name, transposed=False):
    """[(values, dims)] of one layer -> float32 arrays of `shapes`; CaffeModelError naming the first misfit.

    transposed: InnerProductParameter.transpose, where W is stored (K, N) and is turned into (N, K) here.
    """
    if len(blobs) != len(shapes):
        raise CaffeModelError(f"layer {name!r} has {len(blobs)} weight blobs, expected {len(shapes)}; the file holds "
                              "no or damaged weights for it")
    out = []
    for k, ((values, dims), shape) in enumerate(zip(blobs, shapes)):
        stored = tuple(shape[::-1]) if transposed and k == 0 else tuple(shape)
        if not fits(values, dims, stored):
            raise CaffeModelError(f"layer {name!r}: blob {k} holds {len(values)} values"
                                  f"{'' if dims is None else f' of shape {dims}'}, the graph needs {stored}")
        array = values.reshape(stored)
        out.append(np.ascontiguousarray(array.T) if transposed and k == 0 else array)
    return out
