"""What every objective is: the protocol a dream calls, sums of objectives, tiles and recipe data.

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
whole image's: `reduction` says how (Objective.on_tile): "sum" objectives add over positions, so tiles add;
"mean" objectives average over positions, so a tile counts by its share of the layer's units; None
(one neuron, a match of whole-image statistics) needs the whole image in one window.

Sums whose terms read more than one layer divide each term by the size (element count)
of its layer's activation, so a big early layer does not drown a small deep one.

The objectives themselves: objectives.py (DeepDream's), feature_objectives.py (feature visualization's),
diversity.py (a batch's).
"""
import copy

from minidream.engine.ops import avg_pool
from minidream.models.metadata import default_layer, fixed_input_size


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

    def leaves(self):
        """The objectives it is made of that read activations themselves (itself, for one of them)."""
        return [self]

    def on_tile(self, acts, weights, shares):
        """(value, gradients) of a tile's part of the objective: the tile's acts are its part's units and shares
        {layer: the part's units / the whole image's}; the parts' values add up to the whole image's (module doc):
        a "sum" objective's part as it is, a "mean" one's weighed by the part's share."""
        value, grads = self(acts, weights)
        if self.reduction == "mean":
            share = shares[self.layer]
            return share * value, {layer: share * d for layer, d in grads.items()}
        return value, grads

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

    def leaves(self):
        return [leaf for _, leaf in self.terms]

    def on_tile(self, acts, weights, shares):
        return self(acts, weights, shares)

    def __call__(self, acts, weights=None, shares=None):
        """shares: {layer: a tile's share of its units} when called for a tile (on_tile), else None."""
        normalize = len(self.layers) > 1
        value, grads = 0.0, {}
        for weight, leaf in self.terms:
            v, g = leaf(acts, weights) if shares is None else leaf.on_tile(acts, weights, shares)
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


def check_tileable(objective, size, tile):
    """ValueError when an objective that needs the whole image (reduction None) would be cut into tiles."""
    for leaf in objective.leaves():
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
