"""What a dream maximizes: small composable objectives, in the style of lucid.

    L2("inception_4c/output")                 the original DeepDream: 0.5 * sum(a^2)
    Channel("inception_4c/output", 97)        one filter (or a list of them): their mean
    ClassNeuron("goldfish")                   a class logit, averaged over image positions
    Guide("flowers.jpg", "inception_3b/output")  the notebook's guided dreaming
    0.5 * L2("conv3") + Channel("conv5", [3, 7])  weighted sums

An objective is a description; `dream()` calls `bind(net)` to get a bound copy that knows
the network (layer names checked, guide features computed, classifier head extracted).
A bound objective exposes `layers` (the layer outputs it reads) and, called with
{layer: activation (1, C, H, W)}, returns (value, {layer: d value / d activation}) —
exactly what `net.backward` takes. `layer=None` means the model's default layer
(see `default_layer`).

Sums whose terms read more than one layer divide each term by the size (element count)
of its layer's activation, so a big early layer does not drown a small deep one.
"""
import copy

import numpy as np
from PIL import Image

from minidream.dreaming.class_head import sliding_classifier
from minidream.engine.backend import get_array_module, to_device
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

    def __init_subclass__(cls, **kwargs):
        super().__init_subclass__(**kwargs)
        if not cls.__name__.startswith("_"):
            KINDS[cls.__name__] = cls

    def bind(self, net):
        raise NotImplementedError

    def __call__(self, acts):
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

    def to_data(self):
        return {"type": "L2", "layer": self.layer}

    @classmethod
    def from_data(cls, data):
        return cls(data["layer"])

    def __call__(self, acts):
        a = acts[self.layer]
        return 0.5 * float((a * a).sum()), {self.layer: a.copy()}

    def __repr__(self):
        return f"L2({self.layer!r})"


class Channel(_Leaf):
    """Mean of the given channel(s) of a layer over all positions: "a layer and a filter".

    value = mean_{c in channels, i, j} a[0, c, i, j]; the gradient is 1 / (k H W) on
    those channels and 0 elsewhere.
    """

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

    def __call__(self, acts):
        a = acts[self.layer]
        xp = get_array_module(a)
        picked = a[:, self.channels]
        grad = xp.zeros_like(a)
        grad[:, self.channels] = 1.0 / picked.size
        return float(picked.mean()), {self.layer: grad}

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

    def __call__(self, acts):
        a = acts[self.layer]
        xp = get_array_module(a)
        x = a.reshape(a.shape[0], a.shape[1], -1)  # (N, C, P)
        dots = xp.matmul(x.transpose(0, 2, 1), self.features)  # (N, P, M)
        best = dots.argmax(axis=2)  # (N, P)
        grad = self.features[:, best].transpose(1, 0, 2).reshape(a.shape)  # (C, N, P) -> (N, C, H, W)
        return float(dots.max(axis=2).sum()), {self.layer: grad}

    def __repr__(self):
        guide = self.guide if isinstance(self.guide, str) else f"<{type(self.guide).__name__}>"
        return f"Guide({guide!r}, {self.layer!r})"


class ClassNeuron(_Leaf):
    """A class logit at any image size: the classifier slid over the image (minidream.dreaming.class_head).

    The objective reads the layer feeding the classifier head (GoogLeNet: inception_5b/output, AlexNet: pool5)
    and runs the head as convolutions over it; the value is the mean of the class score over positions. cls: a
    class index or a name from meta["class_names"] (any synonym, case-insensitive).
    """

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

    def __call__(self, acts):
        a = acts[self.layer]
        key = (a.shape, a.dtype.str)
        if key not in self._heads:  # one small Net per map size (octaves and tiles repeat a few sizes)
            self._heads[key] = sliding_classifier(self._net, a.shape, self.index, a.dtype)
        head = self._heads[key]
        y = head.forward(a)
        d = head.backward(get_array_module(y).full(y.shape, 1.0 / y.size, dtype=y.dtype))
        return float(y.mean()), {self.layer: d}

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

    def __call__(self, acts):
        normalize = len(self.layers) > 1
        value, grads = 0.0, {}
        for weight, leaf in self.terms:
            v, g = leaf(acts)
            scale = weight / acts[leaf.layer].size if normalize else weight
            value += scale * v
            for layer, d in g.items():
                grads[layer] = grads[layer] + scale * d if layer in grads else scale * d
        return value, grads

    def __repr__(self):
        parts = [repr(leaf) if w == 1.0 else f"{w:g} * {leaf!r}" for w, leaf in self.terms]
        return " + ".join(parts)


def from_data(data):
    """The objective an objective's to_data() described (a recipe's objective_data)."""
    kind = KINDS.get(data.get("type"))
    if kind is None or not hasattr(kind, "from_data"):
        raise ValueError(f"the recipe's objective {data!r} is not one minidream knows ({', '.join(sorted(KINDS))})")
    return kind.from_data(data)
