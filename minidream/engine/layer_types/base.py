"""What a layer type is, for the registry: Caffe's rules for one `type` string, written once.

A LayerType holds, for one Caffe layer type:

    normalize(raw, name) -> params      Caffe's defaults filled in, field forms unified (kernel_h/kernel_w or
                                        kernel_size -> [h, w]; enum numbers or names -> names); raw may come
                                        from a .caffemodel, a prototxt or an already normalized .h5 (idempotent)
    output_shapes(params, in_shapes)    the top shapes for the bottom shapes, computing nothing
    param_shapes(params, in_shapes)     the shapes of its weight blobs, in Caffe's blob order ([] for none)
    forward(params, weights, inputs, ctx) -> (outputs, cache)      the op, through minidream/engine/ops
    backward(params, weights, dys, cache, param_grads) -> (dxs, dweights or None)

and facts the rest of minidream reads instead of testing type strings: how many bottoms and tops it takes,
whether its cache keeps its own output (then nothing may overwrite that output in place), whether it may run in
place over its input, whether it can be part of a classifier head, its role (ROLES: what it is to the engine, the
dream and training, in words that do not depend on the file format), the window it sees (window: what the
receptive radius needs), whether it is a per-channel affine map at inference (what folds into a convolution),
whether it keeps a batch's pictures apart (what lets a batch be walked in parts), and the constants its weights
start at (Caffe's filler defaults, where training does not draw them at random).
"""
import math
from dataclasses import dataclass
from typing import Callable, NamedTuple, Optional, Tuple, Union

import numpy as np


class SpecError(ValueError):
    """A layer spec that breaks Caffe's rules for its type; the message names the layer and the field."""


class Context(NamedTuple):
    """Per-call settings a forward may need: train (dropout on), rng (its masks), in_place (write over input 0)."""

    train: bool = False
    rng: Optional[np.random.Generator] = None
    in_place: bool = False


# What a layer is to the code outside the registry. A second file format maps its operators onto the same roles.
ROLES = ("convolution", "deconvolution", "pooling", "fully_connected", "concat", "dropout", "flatten", "softmax",
         "batch_norm", "scale", "other")
# A window that sees the whole input (a fully connected layer, global pooling): its receptive radius is infinite.
WHOLE_INPUT = (math.inf, 1, 0)


def unclaimed(params):
    """per_picture of a type that does not say it keeps a batch's pictures apart."""
    return False


def each_picture(params):
    """per_picture of a type that never mixes a batch's pictures."""
    return True


def past_batch_axis(params):
    """per_picture of a type that works along params["axis"]: per picture unless that is the batch axis (a negative
    axis counts as the batch's too: which axis it is depends on the blob)."""
    return params["axis"] > 0


def no_params(params, in_shapes):
    return []


def same_shape(params, in_shapes):
    return [tuple(in_shapes[0])]


@dataclass(frozen=True)
class LayerType:
    name: str
    normalize: Callable
    output_shapes: Callable
    forward: Callable
    backward: Callable
    param_shapes: Callable = no_params
    bottoms: Tuple[int, Optional[int]] = (1, 1)  # (fewest, most); most None = any number
    tops: Tuple[int, Optional[int]] = (1, 1)
    # backward reads this layer's own output, or the output is a view of its input: either way nothing may
    # overwrite it in place. A bool, or a function of the normalized params (Eltwise: only PROD keeps y).
    output_in_cache: Union[bool, Callable] = True
    runs_in_place: bool = False  # may overwrite its one input (Caffe's in-place ReLU)
    classifier_part: bool = False  # may sit in a classifier head (fully connected, ReLU, dropout, softmax)
    role: str = "other"  # one of ROLES
    # (largest kernel side, largest stride, largest padding before the first input pixel) of the window it reads,
    # WHOLE_INPUT, or None for a pointwise layer
    window: Callable = lambda params: None
    # whether, at inference, y = k * x + shift per channel (then a convolution before it can absorb it), and
    # affine_terms(params, weights) -> (k, shift)
    per_channel_affine: Callable = lambda params, n_bottoms: False
    affine_terms: Optional[Callable] = None
    # the constant each weight blob starts at, by blob index; None: drawn at random (He initialization)
    initial_values: Tuple[Optional[float], ...] = ()
    # infer(params, in_shapes, in_values) -> (out shapes, out values or None): for types whose output shapes depend
    # on their inputs' values (ONNX's shape arithmetic, onnx_base.py); None: output_shapes(params, in_shapes) serves
    infer: Optional[Callable] = None
    # per_picture(params): whether each picture of a batch goes through it on its own, nothing mixing the pictures
    # (no batch statistics, no concat, softmax or reshape across the batch axis): then a batch may be walked in parts
    # (minidream/engine/speed/picture_parts.py). False unless a type says so.
    per_picture: Callable = unclaimed

    def __post_init__(self):
        if self.role not in ROLES:
            raise ValueError(f"layer type {self.name}: role {self.role!r} is not one of {ROLES}")

    def shapes_and_values(self, params, in_shapes, in_values):
        """(output shapes, output values or None each): infer where the type reads values, else output_shapes."""
        if self.infer is None:
            shapes = self.output_shapes(params, in_shapes)
            return shapes, [None] * len(shapes)
        return self.infer(params, in_shapes, in_values)

    def keeps_output(self, params):
        """Whether this layer's output must not be overwritten in place (see output_in_cache)."""
        return self.output_in_cache(params) if callable(self.output_in_cache) else self.output_in_cache


# ---------------------------------------------------------------- parameter forms shared by the types
def f32(value):
    """A float as float32 would store it, written as the shortest decimal that round-trips (1e-4, not 9.99e-05)."""
    return float(str(np.float32(value)))


def pair(raw, key, name, default=None, list_key=None, allow_zero=False):
    """Caffe's 2-D size rule: key_h and key_w if given, else the list (one value for both, or [h, w])."""
    list_key = list_key or key
    h, w = raw.get(key + "_h"), raw.get(key + "_w")
    if h is not None or w is not None:
        if key == "pad":  # pad_h/pad_w default to 0 each in caffe.proto
            h, w = h or 0, w or 0
        elif h is None or w is None:
            raise SpecError(f"layer {name!r}: {key}_h and {key}_w must be given together")
        values = [h, w]
    else:
        values = raw.get(list_key, [])
        values = list(values) if isinstance(values, (list, tuple, np.ndarray)) else [values]
    if not values:
        if default is None:
            raise SpecError(f"layer {name!r}: no {list_key} given")
        return [default, default]
    if len(values) > 2:
        raise SpecError(f"layer {name!r}: {len(values)}-D {key} {values}; only 2-D is supported")
    result = [int(values[0]), int(values[-1])]
    if any(v < 0 for v in result) or (not allow_zero and any(v == 0 for v in result)):
        raise SpecError(f"layer {name!r}: invalid {key} {values}")
    return result


def enum(raw, key, names, default, name):
    """A Caffe enum field as its name; raw holds its number (binary files) or its name (text, .h5)."""
    value = raw.get(key, default)
    if isinstance(value, (int, np.integer)) and 0 <= value < len(names):
        value = names[value]
    if value not in names:
        raise SpecError(f"layer {name!r}: {key} {value!r} is not one of {', '.join(names)}")
    return value


def positive_int(raw, key, name, default=None):
    value = raw.get(key, default)
    if value is None or int(value) <= 0:
        raise SpecError(f"layer {name!r}: {key} must be a positive integer, got {value}")
    return int(value)


def kernel_window(params):
    """The window of a layer with kernel_size, stride and pad (Pooling): (largest side, largest stride, largest pad)."""
    return max(params["kernel_size"]), max(params["stride"]), max(params["pad"])


def check_axis(raw, key, name, supported=1):
    if raw.get(key, supported) != supported:
        raise SpecError(f"layer {name!r}: {key} {raw[key]} is not supported by minidream (only {supported})")
