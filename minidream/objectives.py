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

from minidream.backend import get_array_module, to_device
from minidream.layers import avg_pool, conv, relu

DEFAULT_LAYER = "inception_4c/output"


def default_layer(net):
    """The layer a dream uses when none is named.

    The model's own choice, meta["extra"]["default_layer"], when it has one (the bundled
    mini model does: "conv4"), else "inception_4c/output", the original notebook's
    GoogLeNet layer.
    """
    return (net.meta.get("extra") or {}).get("default_layer") or DEFAULT_LAYER


def check_spatial_layer(net, layer):
    """The layer's name after checking that it exists and keeps a spatial map.

    Unknown names raise net's UnknownLayerError (closest names and how to list them all).
    Fully connected layers only exist at the model's nominal input size, so they cannot be
    dreamed on directly; ClassNeuron applies them convolutionally instead.
    """
    net.layer_index(layer)
    if len(net.output_shape(layer)) != 4:
        raise ValueError(
            f"layer {layer!r} is fully connected, so it only exists at the model's input size "
            f"{tuple(net.meta['input_size'])}; dream on a convolutional layer, or use "
            "ClassNeuron (--class) to maximize a class"
        )
    return layer


class Objective:
    """Base class: arithmetic (a + b, 0.5 * a, a - b, -a, sum([...])) builds a `Sum`."""

    layers = ()

    def bind(self, net):
        raise NotImplementedError

    def __call__(self, acts):
        raise NotImplementedError

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
        bound.layer = check_spatial_layer(net, self.layer or default_layer(net))
        bound._bound = True
        bound._setup(net)
        return bound

    def _setup(self, net):
        """Per-type work at bind time (validation, precomputed features)."""


class L2(_Leaf):
    """0.5 * sum(a^2) of a layer's output; its gradient is the activation itself (DeepDream)."""

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

    The guide image's features y (C, M) are computed once at bind time (the guide is
    first shrunk to fit the model's input size, as the notebook's 224-pixel guide was).
    At each position p of the dreamed activation x (C, P) the gradient is the guide
    feature with the largest dot product, y[:, argmax_m x_p . y_m]; the value is the sum
    of those largest dot products.
    """

    def __init__(self, guide, layer=None):
        super().__init__(layer)
        self.guide = guide

    def _setup(self, net):
        from PIL import Image

        from minidream.imageio import as_kind, load_rgb, to_network

        rgb, _ = load_rgb(self.guide)
        img = as_kind(rgb, "pil")
        img.thumbnail(tuple(net.meta["input_size"])[::-1], Image.BILINEAR)
        x = to_device(to_network(np.asarray(img), net.meta), net.device)
        y = net.forward(x, end=[self.layer])[self.layer]
        self.features = y.reshape(y.shape[1], -1)

    def __call__(self, acts):
        a = acts[self.layer]
        channels = a.shape[1]
        x = a.reshape(channels, -1)
        dots = x.T @ self.features  # (P, M)
        best = dots.argmax(axis=1)
        grad = self.features[:, best].reshape(a.shape)
        return float(dots.max(axis=1).sum()), {self.layer: grad}

    def __repr__(self):
        guide = self.guide if isinstance(self.guide, str) else f"<{type(self.guide).__name__}>"
        return f"Guide({guide!r}, {self.layer!r})"


class ClassNeuron(_Leaf):
    """A class logit at any image size: the classifier applied convolutionally.

    The classifier head (the InnerProduct layers before the final Softmax with their
    ReLUs, and an average pooling right before them such as GoogLeNet's pool5/7x7_s1;
    dropout is the identity at test time) is rewritten to slide over any map: a fully
    connected layer whose input is (C, KH, KW) at the nominal size is a KH x KW
    convolution with the same weights, W (Nout, C*KH*KW) -> (Nout, C, KH, KW). Over the
    larger map of a larger image it gives a class score at every position; the value is
    their mean. Smaller maps still work: the average pooling window is clipped to the map,
    and a map smaller than a convolution's kernel is zero-padded up to it (missing
    features read as zero). The objective reads the layer feeding the head (GoogLeNet:
    inception_5b/output, AlexNet: pool5). cls: a class index or a name from
    meta["class_names"] (any synonym, case-insensitive: "goldfish" matches
    "goldfish, Carassius auratus").
    """

    def __init__(self, cls):
        super().__init__(None)
        self.cls = cls

    def bind(self, net):
        head, trunk = _classifier_head(net)
        bound = copy.copy(self)
        bound.layer, bound._bound = trunk, True
        bound.index = class_index(net, self.cls, net.params[head[-1]][0].shape[0])
        ops = []
        for name in head:
            spec = net.spec(name)
            p = spec["params"]
            if spec["type"] == "ReLU":
                ops.append(("relu", p["negative_slope"]))
            elif spec["type"] == "Pooling":
                ops.append(("pool", None if p["global_pooling"] else tuple(p["kernel_size"]), tuple(p["stride"]),
                            tuple(p["pad"])))
            else:  # InnerProduct
                w, *b = net.params[name]
                _, c, kh, kw = _padded_shape(net.output_shape(net.bottom_layers(name)[0]))
                if name == head[-1]:  # only the chosen class's row is needed
                    w, b = w[bound.index:bound.index + 1], [v[bound.index:bound.index + 1] for v in b]
                ops.append(("conv", w.reshape(w.shape[0], c, kh, kw), b[0] if b else None))
        bound._ops = ops
        return bound

    def __call__(self, acts):
        y, caches = acts[self.layer], []
        for op in self._ops:
            size = y.shape[2:]
            if op[0] == "pool":
                kernel = size if op[1] is None else tuple(min(k, s) for k, s in zip(op[1], size))
                y, cache = avg_pool.forward(y, kernel, op[2], op[3])
            elif op[0] == "conv":
                pad = tuple(max(0, (k - s + 1) // 2) for k, s in zip(op[1].shape[2:], size))
                y, cache = conv.forward(y, op[1], op[2], (1, 1), pad)
            else:
                y, cache = relu.forward(y, op[1])
            caches.append(cache)
        xp = get_array_module(y)
        dy = xp.full(y.shape, 1.0 / y.size, dtype=y.dtype)
        for op, cache in zip(reversed(self._ops), reversed(caches)):
            if op[0] == "pool":
                dy = avg_pool.backward(dy, cache)
            elif op[0] == "conv":
                dy = conv.backward(dy, cache, weight_grads=False)[0]
            else:
                dy = relu.backward(dy, cache)
        return float(y.mean()), {self.layer: dy}

    def __repr__(self):
        return f"ClassNeuron({self.cls!r})"


def _padded_shape(shape):
    """(N, C, H, W) for a layer output; a fully connected output (N, C) is (N, C, 1, 1)."""
    return tuple(shape) + (1,) * (4 - len(shape))


def _classifier_head(net):
    """(head layer names in order, trunk layer name) for the net's last InnerProduct.

    Walks back from the last InnerProduct through InnerProduct/ReLU/Dropout layers, and
    one average pooling before them; the first other layer is the trunk whose spatial map
    the head is slid over.
    """
    fcs = [name for name in net.layer_names if net.spec(name)["type"] == "InnerProduct"]
    if not fcs:
        raise ValueError(f"model {net.meta.get('name') or '(unnamed)'} has no fully connected "
                         "classifier, so ClassNeuron cannot be used with it")
    head, name = [], fcs[-1]
    while name is not None and net.spec(name)["type"] in ("InnerProduct", "ReLU", "Dropout"):
        if net.spec(name)["type"] != "Dropout":
            head.append(name)
        name = net.bottom_layers(name)[0]
    if name is not None and net.spec(name)["type"] == "Pooling" and net.spec(name)["params"]["pool"] == "AVE":
        head.append(name)
        name = net.bottom_layers(name)[0]
    if name is None:
        raise ValueError("ClassNeuron needs at least one spatial layer before the classifier")
    return head[::-1], name


def class_index(net, cls, count):
    """A class index from an int or a name in meta["class_names"], checked against count."""
    names = net.meta.get("class_names") or []
    if isinstance(cls, (int, np.integer)) or (isinstance(cls, str) and cls.strip().isdigit()):
        index = int(cls)
        if not 0 <= index < count:
            raise ValueError(f"class index {index} is out of range: the model has {count} classes "
                             f"(0..{count - 1})")
        return index
    if not names:
        raise ValueError(f"model {net.meta.get('name') or '(unnamed)'} has no class names; "
                         f"pass a class index 0..{count - 1}")
    wanted = str(cls).strip().lower()
    matches = [i for i, n in enumerate(names)
               if wanted == n.lower() or wanted in (s.strip() for s in n.lower().split(","))]
    if matches:
        return matches[0]
    import difflib

    close = difflib.get_close_matches(str(cls), names, n=5, cutoff=0.5)
    hint = f" Did you mean: {'; '.join(close)}?" if close else ""
    raise ValueError(f"unknown class {cls!r}.{hint} List the classes with "
                     "`python -m minidream classify IMAGE --top N` or net.meta['class_names'].")


class Sum(Objective):
    """sum_k weight_k * term_k; terms are (weight, leaf objective) pairs.

    When the terms read more than one layer, term k is divided by the element count of
    its layer's activation (value and gradient alike).
    """

    def __init__(self, terms):
        self.terms = [(float(w), leaf) for w, leaf in terms]

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
