"""What a dream maximizes: DeepDream's objectives, small and composable in the style of lucid.

    L2("inception_4c/output")                 the original DeepDream: 0.5 * sum(a^2)
    Channel("inception_4c/output", 97)        one filter (or a list of them): their mean
    ClassNeuron("goldfish")                   a class logit, averaged over image positions
    Guide("flowers.jpg", "inception_3b/output")  the notebook's guided dreaming
    0.5 * L2("conv3") + Channel("conv5", [3, 7])  weighted sums

What an objective is, how a dream calls it, weighs its units and cuts it into tiles: objective_base.py.
"""
import copy

import numpy as np
from PIL import Image

from minidream.dreaming.class_head import sliding_classifier
from minidream.dreaming.objective_base import _Leaf, _positions, _weights, window_means
from minidream.engine.backend import get_array_module, to_device
from minidream.io.images import as_kind, load_rgb, to_network
from minidream.models.metadata import class_index


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
