"""What a dream maximizes: small composable objectives, in the style of lucid.

    L2("inception_4c/output")                 the original DeepDream: 0.5 * sum(a^2)
    Channel("inception_4c/output", 97)        one filter (or a list of them): their mean
    ClassNeuron("goldfish")                   a class logit, averaged over image positions
    Guide("flowers.jpg", "inception_3b/output")  the notebook's guided dreaming
    0.5 * L2("conv3") + Channel("conv5", [3, 7])  weighted sums

An objective is a description; `dream()` calls `bind(net)` to get a bound copy that knows
the network (layer names checked, guide features computed, classifier head extracted).
A bound objective exposes `layers` (the layer outputs it reads) and, called with
{layer: activation (N, C, H, W)} and optional weights {layer: (H, W) array or None}, returns
(value, {layer: d value / d activation}) — exactly what `net.backward` takes. A dream gives it the
units whose receptive fields overlap the image, each weighed by its field's share on the image
(minidream.dreaming.image_region): sums and means over positions are weighed sums and means, so
the value is the picture's own, and the gradient is exactly its gradient. `layer=None` means the
model's default layer (see `default_layer`).

An image too large for one window is cut into tiles, and each tile's value is its part of the
whole image's: `reduction` says how (on_tile): "sum" objectives add over positions, so tiles add;
"mean" objectives average over positions, so a tile counts by its share of the layer's units; None
(one neuron, a match of whole-image statistics) needs the whole image in one window.

Sums whose terms read more than one layer divide each term by the size (element count)
of its layer's activation, so a big early layer does not drown a small deep one.
"""
import copy

import numpy as np
from PIL import Image

from minidream.dreaming.class_head import sliding_classifier
from minidream.engine.backend import get_array_module, to_device
from minidream.engine.ops import avg_pool
from minidream.io.images import as_kind, load_rgb, to_network
from minidream.models.metadata import class_index, default_layer, fixed_input_size


def check_spatial_layer(net, layer):
    """The layer's name after checking that it exists and keeps a spatial map.

    Unknown names raise net's UnknownLayerError (closest names and how to list them all).
    Fully connected layers only exist at the model's nominal input size, so they cannot be
    dreamed on directly; ClassNeuron applies them convolutionally instead. A model of one input size
    (a ViT: its layers are tokens) sees every window at that size, so any of its layers serves.
    """
    net.layer_index(layer)
    if len(net.output_shape(layer)) != 4 and not fixed_input_size(net.meta):
        raise ValueError(
            f"layer {layer!r} is fully connected, so it only exists at the model's input size "
            f"{tuple(net.meta['input_size'])}; dream on a convolutional layer, or use "
            "ClassNeuron (--class) to maximize a class"
        )
    return layer


KINDS = {}  # class name -> objective class: what a recipe's objective data names (from_data)


class Objective:
    """Base class: arithmetic (a + b, 0.5 * a, a - b, -a, sum([...])) builds a `Sum`.

    to_data() describes an objective as JSON-able data for recipes (None where it cannot be rebuilt), and
    from_data(data) rebuilds it: every subclass is registered by its name in KINDS.
    """

    layers = ()
    reduction = None  # "sum", "mean" or None: how its value splits over tiles (module doc)

    def __init_subclass__(cls, **kwargs):
        super().__init_subclass__(**kwargs)
        if not cls.__name__.startswith("_"):
            KINDS[cls.__name__] = cls

    def bind(self, net):
        raise NotImplementedError

    def __call__(self, acts, weights=None):
        raise NotImplementedError

    def to_data(self):
        return None

    def __add__(self, other):
        if not isinstance(other, Objective):
            return NotImplemented
        return Sum(_terms(self) + _terms(other))

    def __radd__(self, other):
        if isinstance(other, (int, float)) and other == 0:  # sum([...]) starts from 0
            return self
        return NotImplemented

    def __mul__(self, weight):
        if not isinstance(weight, (int, float)):
            return NotImplemented
        return Sum([(float(weight) * w, leaf) for w, leaf in _terms(self)])

    __rmul__ = __mul__

    def __neg__(self):
        return -1.0 * self

    def __sub__(self, other):
        return self + (-1.0) * other


def _terms(objective):
    return list(objective.terms) if isinstance(objective, Sum) else [(1.0, objective)]


class _Leaf(Objective):
    """An objective reading one layer, self.layer (None until bound: the default layer)."""

    def __init__(self, layer=None):
        self.layer = layer
        self._bound = False

    @property
    def layers(self):
        self._require_bound()
        return (self.layer,)

    def _require_bound(self):
        if not self._bound:
            raise RuntimeError(f"{self!r} is not bound to a network: call bind(net) first")

    def bind(self, net):
        bound = copy.copy(self)
        bound.layer = check_spatial_layer(net, self.layer or default_layer(net.meta))
        bound._bound = True
        bound._setup(net)
        return bound

    def _setup(self, net):
        """Per-type work at bind time (validation, precomputed features)."""


class L2(_Leaf):
    """0.5 * sum(a^2) of a layer's output; its gradient is the activation itself (DeepDream)."""

    reduction = "sum"

    def to_data(self):
        return {"type": "L2", "layer": self.layer}

    @classmethod
    def from_data(cls, data):
        return cls(data["layer"])

    def __call__(self, acts, weights=None):
        a = acts[self.layer]
        w = _weights(a, weights, self.layer)
        return 0.5 * float((w * a * a).sum()), {self.layer: w * a}

    def __repr__(self):
        return f"L2({self.layer!r})"


class Channel(_Leaf):
    """Mean of the given channel(s) of a layer over all positions: "a layer and a filter".

    value = mean_{c in channels, i, j} a[0, c, i, j]; the gradient is 1 / (k H W) on
    those channels and 0 elsewhere.
    """

    reduction = "mean"

    def to_data(self):
        return {"type": "Channel", "layer": self.layer, "channels": self.channels}

    @classmethod
    def from_data(cls, data):
        return cls(data["layer"], data["channels"])

    def __init__(self, layer, channels):
        super().__init__(layer)
        many = isinstance(channels, (list, tuple, range, np.ndarray))
        self.channels = [int(c) for c in channels] if many else [int(channels)]
        if not self.channels:
            raise ValueError("Channel needs at least one channel index")

    def _setup(self, net):
        count = net.output_shape(self.layer)[1]
        bad = [c for c in self.channels if not 0 <= c < count]
        if bad:
            raise ValueError(f"layer {self.layer!r} has {count} channels (0..{count - 1}); "
                             f"channel {bad[0]} does not exist")

    def __call__(self, acts, weights=None):
        a = acts[self.layer]
        w = _weights(a, weights, self.layer)
        picked = a[:, self.channels]
        per_unit = w / (picked.shape[0] * picked.shape[1] * _positions(a, w))
        grad = get_array_module(a).zeros_like(a)
        grad[:, self.channels] = per_unit
        return float((picked * per_unit).sum()), {self.layer: grad}

    def __repr__(self):
        channels = self.channels[0] if len(self.channels) == 1 else self.channels
        return f"Channel({self.layer!r}, {channels!r})"


class Guide(_Leaf):
    """Guided dreaming (the original notebook's objective_guide).

    The guide image's features y (C, M) are computed once at bind time (the guide is first shrunk to fit the
    model's input size, as the notebook's 224-pixel guide was). At each position p of each image's activation
    x (C, P) the gradient is the guide feature with the largest dot product, y[:, argmax_m x_p . y_m]; the value
    is the sum of those largest dot products over positions and images.
    """

    reduction = "sum"

    def __init__(self, guide, layer=None):
        super().__init__(layer)
        self.guide = guide

    def to_data(self):  # a guide given as an image, not a path, cannot be rebuilt
        return {"type": "Guide", "layer": self.layer, "guide": self.guide} if isinstance(self.guide, str) else None

    @classmethod
    def from_data(cls, data):
        return cls(data["guide"], data["layer"])

    def _setup(self, net):
        img = as_kind(load_rgb(self.guide)[0], "pil")
        img.thumbnail(tuple(net.meta["input_size"])[::-1], Image.BILINEAR)
        x = to_device(to_network(np.asarray(img), net.meta), net.device)
        y = net.forward(x, end=[self.layer])[self.layer]
        self.features = y.reshape(y.shape[1], -1)

    def __call__(self, acts, weights=None):
        a = acts[self.layer]
        xp = get_array_module(a)
        w = _weights(a, weights, self.layer)
        x = a.reshape(a.shape[0], a.shape[1], -1)  # (N, C, P)
        dots = xp.matmul(x.transpose(0, 2, 1), self.features)  # (N, P, M)
        best = dots.argmax(axis=2)  # (N, P)
        grad = self.features[:, best].transpose(1, 0, 2).reshape(a.shape)  # (C, N, P) -> (N, C, H, W)
        return float((dots.max(axis=2).reshape(a.shape[0], 1, *a.shape[2:]) * w).sum()), {self.layer: grad * w}

    def __repr__(self):
        guide = self.guide if isinstance(self.guide, str) else f"<{type(self.guide).__name__}>"
        return f"Guide({guide!r}, {self.layer!r})"


class ClassNeuron(_Leaf):
    """A class logit at any image size: the classifier slid over the image (minidream.dreaming.class_head).

    The objective reads the layer feeding the classifier head (GoogLeNet: inception_5b/output, AlexNet: pool5)
    and runs the head as convolutions over it; the value is the mean of the class score over positions. cls: a
    class index or a name from meta["class_names"] (any synonym, case-insensitive).
    """

    reduction = "mean"

    def __init__(self, cls):
        super().__init__(None)
        self.cls = cls

    def to_data(self):
        return {"type": "ClassNeuron", "class": int(self.cls) if isinstance(self.cls, (int, np.integer))
                else str(self.cls)}

    @classmethod
    def from_data(cls, data):
        return cls(data["class"])

    def bind(self, net):
        head = net.graph.classifier_head()
        bound = copy.copy(self)
        bound.layer, bound._bound, bound._net, bound._heads = head.trunk, True, net, {}
        bound.index = class_index(net.meta, self.cls, head.classes)
        return bound

    def __call__(self, acts, weights=None):
        a = acts[self.layer]
        key = (a.shape, a.dtype.str)
        if key not in self._heads:  # one small Net per map size (octaves and tiles repeat a few sizes)
            self._heads[key] = sliding_classifier(self._net, a.shape, self.index, a.dtype)
        head = self._heads[key]
        y = head.forward(a)
        # a score's weight: the mean weight of the trunk units its window reads
        w = _weights(y, None if weights is None or weights.get(self.layer) is None else
                     {self.layer: window_means(weights[self.layer], y.shape[-2:])}, self.layer)
        xp = get_array_module(y)
        per_score = xp.asarray(w / (y.shape[0] * y.shape[1] * _positions(y, w)), dtype=y.dtype)
        d = head.backward(xp.broadcast_to(per_score, y.shape).copy())
        return float((y * per_score).sum()), {self.layer: d}

    def __repr__(self):
        return f"ClassNeuron({self.cls!r})"


class Sum(Objective):
    """sum_k weight_k * term_k; terms are (weight, leaf objective) pairs.

    When the terms read more than one layer, term k is divided by the element count of
    its layer's activation (value and gradient alike).
    """

    def __init__(self, terms):
        self.terms = [(float(w), leaf) for w, leaf in terms]

    def to_data(self):
        terms = [[w, leaf.to_data()] for w, leaf in self.terms]
        return None if any(t is None for _, t in terms) else {"type": "Sum", "terms": terms}

    @classmethod
    def from_data(cls, data):
        return cls([(float(w), from_data(t)) for w, t in data["terms"]])

    def bind(self, net):
        return Sum([(w, leaf.bind(net)) for w, leaf in self.terms])

    @property
    def layers(self):
        return tuple(dict.fromkeys(layer for _, leaf in self.terms for layer in leaf.layers))

    def __call__(self, acts, weights=None, shares=None):
        """shares: {layer: a tile's share of its units} when called for a tile (on_tile), else None."""
        normalize = len(self.layers) > 1
        value, grads = 0.0, {}
        for weight, leaf in self.terms:
            v, g = leaf(acts, weights) if shares is None else on_tile(leaf, acts, weights, shares)
            a = acts[leaf.layer]
            # the whole image's (weighed) element count: a tile's over its share
            size = a.shape[0] * a.shape[1] * _positions(a, _weights(a, weights, leaf.layer))
            size /= 1.0 if shares is None else shares[leaf.layer]
            scale = weight / size if normalize else weight
            value += scale * v
            for layer, d in g.items():
                grads[layer] = grads[layer] + scale * d if layer in grads else scale * d
        return value, grads

    def __repr__(self):
        parts = [repr(leaf) if w == 1.0 else f"{w:g} * {leaf!r}" for w, leaf in self.terms]
        return " + ".join(parts)


def _weights(a, weights, layer):
    """The units' weights for activation a (N, C, H, W): weights[layer] shaped to broadcast, or 1.0 (no weights)."""
    w = None if weights is None else weights.get(layer)
    return 1.0 if w is None else w.reshape((1, 1) + w.shape)


def _positions(a, w):
    """The weighed count of a's positions: the sum of the weights, or the map's size."""
    return float(w.sum()) if not isinstance(w, float) else a.size / (a.shape[0] * a.shape[1])


def window_means(weights, out_hw):
    """The mean of weights (H, W) over every window of a valid sliding window that leaves out_hw outputs."""
    kernel = (weights.shape[0] - out_hw[0] + 1, weights.shape[1] - out_hw[1] + 1)
    return avg_pool.forward(weights[None, None], kernel, rounding="floor")[0][0, 0]


def on_tile(objective, acts, weights, shares):
    """(value, gradients) of a tile's part of the objective: the tile's acts are its part's units and shares
    {layer: the part's units / the whole image's}; the parts' values add up to the whole image's (module doc)."""
    if isinstance(objective, Sum):
        return objective(acts, weights, shares)
    value, grads = objective(acts, weights)
    if objective.reduction == "mean":
        share = shares[objective.layer]
        return share * value, {layer: share * d for layer, d in grads.items()}
    return value, grads


def check_tileable(objective, size, tile):
    """ValueError when an objective that needs the whole image (reduction None) would be cut into tiles."""
    for leaf in (leaf for _, leaf in _terms(objective)):
        if leaf.reduction is None:
            raise ValueError(f"{leaf!r} needs the whole image in one window, but a {size[1]}x{size[0]} image is "
                             f"cut into tiles of at most {tile} pixels: give a larger tile_size (--tile-size) or a "
                             "smaller image")


def from_data(data):
    """The objective an objective's to_data() described (a recipe's objective_data)."""
    kind = KINDS.get(data.get("type"))
    if kind is None or not hasattr(kind, "from_data"):
        raise ValueError(f"the recipe's objective {data!r} is not one minidream knows ({', '.join(sorted(KINDS))})")
    return kind.from_data(data)
