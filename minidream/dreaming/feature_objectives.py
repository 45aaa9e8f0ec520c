"""Feature-visualization objectives, as Lucid names them: one neuron, a direction in a layer's space, an image's
features to match or exaggerate (Olah et al., "Feature Visualization", Distill 2017).

    Neuron("conv5", 3)                  the unit of channel 3 at the centre of the layer's map (or at y, x)
    Direction("conv5", v)               the mean over positions of v . a[:, i, j] (v: one weight per channel)
    Caricature("conv5", "photo.jpg")    the image's channel profile exaggerated: its direction, v = the image's
                                        mean activation per channel, normalized
    Caricature("conv5", "photo.jpg", exaggerate=False)   feature inversion: -0.5 |mean_ij a - the image's|^2

Caricature compares channel profiles (means over positions), not maps, so it holds at any window size, octave or
tile, where the image's map and the dream's window differ in size.
"""
import numpy as np
from PIL import Image

from minidream.dreaming.objective_base import _Leaf, _positions, _weights
from minidream.engine.backend import as_numpy, get_array_module, to_device
from minidream.io.images import as_kind, load_rgb, to_network


def _weighed_direction(a, v, w):
    """(value, d value / da) of the (weighed) mean over images and positions of v . a[n, :, i, j], v (1, C, 1, 1)."""
    grad = get_array_module(a).broadcast_to(v * (w / (a.shape[0] * _positions(a, w))), a.shape).copy()
    return float((a * grad).sum()), grad


def _channel_count(net, layer):
    return net.output_shape(layer)[1]


class Neuron(_Leaf):
    """One unit: channel `channel` at (y, x) of the layer's map, the map's centre by default (where the window's
    context is deepest on every side). value = a[0, c, y, x]; its gradient 1 there, 0 elsewhere."""

    def __init__(self, layer, channel, y=None, x=None):
        super().__init__(layer)
        self.channel, self.y, self.x = int(channel), y, x

    def _setup(self, net):
        count = _channel_count(net, self.layer)
        if not 0 <= self.channel < count:
            raise ValueError(f"layer {self.layer!r} has {count} channels (0..{count - 1}); channel {self.channel} "
                             "does not exist")

    def __call__(self, acts, weights=None):  # one unit: the units' weights do not change it
        a = acts[self.layer]
        h, w = a.shape[-2:]
        y = h // 2 if self.y is None else min(int(self.y), h - 1)
        x = w // 2 if self.x is None else min(int(self.x), w - 1)
        grad = get_array_module(a).zeros_like(a)
        grad[:, self.channel, y, x] = 1.0 / a.shape[0]
        return float(a[:, self.channel, y, x].mean()), {self.layer: grad}

    def to_data(self):
        return {"type": "Neuron", "layer": self.layer, "channel": self.channel, "y": self.y, "x": self.x}

    @classmethod
    def from_data(cls, data):
        return cls(data["layer"], data["channel"], data.get("y"), data.get("x"))

    def __repr__(self):
        at = "" if self.y is None and self.x is None else f", y={self.y!r}, x={self.x!r}"
        return f"Neuron({self.layer!r}, {self.channel}{at})"


class Direction(_Leaf):
    """A direction in the layer's channel space: value = mean over positions of v . a[:, i, j]; its gradient v
    at every position, divided by their count."""

    reduction = "mean"

    def __init__(self, layer, vector):
        super().__init__(layer)
        self.vector = [float(v) for v in np.asarray(vector, np.float64).reshape(-1)]

    def _setup(self, net):
        count = _channel_count(net, self.layer)
        if len(self.vector) != count:
            raise ValueError(f"Direction on {self.layer!r} needs one weight per channel: {count}, got "
                             f"{len(self.vector)}")

    def __call__(self, acts, weights=None):
        a = acts[self.layer]
        v = get_array_module(a).asarray(self.vector, dtype=a.dtype).reshape((1, -1) + (1,) * (a.ndim - 2))
        value, grad = _weighed_direction(a, v, _weights(a, weights, self.layer))
        return value, {self.layer: grad}

    def to_data(self):
        return {"type": "Direction", "layer": self.layer, "vector": self.vector}

    @classmethod
    def from_data(cls, data):
        return cls(data["layer"], data["vector"])

    def __repr__(self):
        return f"Direction({self.layer!r}, <{len(self.vector)} weights>)"


class Caricature(_Leaf):
    """An image's features, exaggerated (its normalized channel profile as a Direction) or matched (feature
    inversion: -0.5 |mean_ij a - the image's mean_ij a|^2, its gradient (target - mean) / positions). The image is
    seen at the model's input size, as Guide sees its guide."""

    def __init__(self, layer, image, exaggerate=True):
        super().__init__(layer)
        self.image, self.exaggerate = image, bool(exaggerate)

    @property
    def reduction(self):  # the exaggerated profile is a mean over positions; the match needs the whole image's mean
        return "mean" if self.exaggerate else None

    def _setup(self, net):
        img = as_kind(load_rgb(self.image)[0], "pil")
        img.thumbnail(tuple(net.meta["input_size"])[::-1], Image.BILINEAR)
        x = to_device(to_network(np.asarray(img), net.meta), net.device)
        a = as_numpy(net.forward(x, end=[self.layer])[self.layer])
        profile = a.reshape(a.shape[0], a.shape[1], -1).mean(axis=(0, 2))
        norm = float(np.linalg.norm(profile))
        self.profile = profile / norm if self.exaggerate and norm > 0 else profile

    def __call__(self, acts, weights=None):
        a = acts[self.layer]
        xp = get_array_module(a)
        target = xp.asarray(self.profile, dtype=a.dtype).reshape((1, -1) + (1,) * (a.ndim - 2))
        w = _weights(a, weights, self.layer)
        if self.exaggerate:
            value, grad = _weighed_direction(a, target, w)
            return value, {self.layer: grad}
        per_unit = w / _positions(a, w)  # the (weighed) mean over positions
        mean = (a * per_unit).sum(axis=tuple(range(2, a.ndim)), keepdims=True)
        diff = target - mean  # d/da of -0.5 |target - mean|^2 is diff * per_unit at every position
        return -0.5 * float((diff * diff).sum()), {self.layer: diff * per_unit}

    def to_data(self):
        return {"type": "Caricature", "layer": self.layer, "image": self.image, "exaggerate": self.exaggerate} \
            if isinstance(self.image, str) else None

    @classmethod
    def from_data(cls, data):
        return cls(data["layer"], data["image"], data.get("exaggerate", True))

    def __repr__(self):
        image = self.image if isinstance(self.image, str) else f"<{type(self.image).__name__}>"
        return f"Caricature({self.layer!r}, {image!r}{'' if self.exaggerate else ', exaggerate=False'})"
