"""The graph of a Caffe net, without weights: blob wiring, shapes, parameter shapes, the classifier head.

Specs are the dicts that Net, the HDF5 format and weights_tools share:

    {"name", "type", "bottoms": [...], "tops": [...], "params": {...}}

Blob names are resolved once, to the *slot* (layer index, top index) that last wrote them before each reader —
that is how Caffe's in-place layers work (a ReLU whose top equals its bottom). So every layer's output stays
addressable by the layer's own name: "conv1" is the convolution's pre-ReLU output, "relu1" the post-ReLU one,
exactly what pycaffe's forward(end=...) leaves in net.blobs. The network input is the slot INPUT.

Everything here is shape arithmetic from the layer registry (minidream.engine.layer_types): no arrays, no weights,
so the converter validates a file with it and the Net plans its walk with it.
"""
import difflib
from typing import List, NamedTuple, Optional

from minidream.engine.layer_types import SpecError, layer_type

INPUT = (-1, 0)  # the slot of the network input blob


class UnknownLayerError(KeyError):
    """A layer name the net does not have; the message lists the closest names."""

    def __str__(self):
        return self.args[0]


class FixedBatchError(ValueError):
    """A batch given to a layer that takes one picture at a time (an ONNX export that reshapes to a batch of 1)."""

    def __init__(self, layer, batch, detail):
        self.layer, self.detail = layer, detail
        super().__init__(f"layer {layer!r} takes one picture at a time, not a batch of {batch} ({detail}): dream the "
                         "pictures one by one, without a batch")


class Head(NamedTuple):
    """A classifier head: [pool] -> fully connected layers with their ReLUs (dropouts left out, they are the
    identity at test time). trunk is the layer feeding it, classifier the last fully connected layer."""

    pool: Optional[str]
    layers: List[str]
    trunk: str
    classifier: str
    classes: int


def normalized(spec):
    """A copy of a layer spec with its type's Caffe defaults filled in (registry normalize), checked."""
    for key in ("name", "type", "bottoms", "tops"):
        if key not in spec:
            raise SpecError(f"layer spec {spec!r} lacks {key!r}")
    name, kind = str(spec["name"]), spec["type"]
    info = layer_type(kind, name)
    bottoms, tops = list(spec["bottoms"]), list(spec["tops"])
    for what, count, (low, high) in (("bottoms", len(bottoms), info.bottoms), ("tops", len(tops), info.tops)):
        if count < low or (high is not None and count > high):
            expected = f"{low}" if low == high else f"{low} or more" if high is None else f"{low} to {high}"
            raise SpecError(f"layer {name!r} ({kind}) has {count} {what}, expected {expected}")
    raw = dict(spec.get("params") or {})
    if info.tops != (1, 1):  # a several-top type (Slice) sizes its outputs by the top count
        raw["num_tops"] = len(tops)
    return {"name": name, "type": kind, "bottoms": bottoms, "tops": tops, "params": info.normalize(raw, name)}


class Graph:
    def __init__(self, specs, input_blob="data", input_channels=3, aliases=None):
        self.specs = [normalized(spec) for spec in specs]
        self.input_blob, self.input_channels = input_blob, int(input_channels)
        self.names = [spec["name"] for spec in self.specs]
        self.index = {name: i for i, name in enumerate(self.names)}
        if len(self.index) != len(self.specs):
            duplicate = next(n for n in self.names if self.names.count(n) > 1)
            raise SpecError(f"two layers are named {duplicate!r}; layer names must be unique")
        self.types = [layer_type(spec["type"]) for spec in self.specs]
        # other names of layers (an ONNX node's name beside its output tensor's): {alias: layer name}
        self.aliases = {str(a): str(name) for a, name in (aliases or {}).items() if name in self.index}
        self.bottoms, self._blobs = self._resolve()

    def _resolve(self):
        """Each layer's bottom slots, and {blob name: slot of its last writer}."""
        writer, bottoms = {self.input_blob: INPUT}, []
        for i, spec in enumerate(self.specs):
            slots = []
            for blob in spec["bottoms"]:
                if blob not in writer:
                    raise SpecError(f"layer {spec['name']!r} reads blob {blob!r}, which no earlier layer writes "
                                    f"(the network input is {self.input_blob!r})")
                slots.append(writer[blob])
            bottoms.append(slots)
            writer.update({top: (i, k) for k, top in enumerate(spec["tops"])})
        return bottoms, writer

    # ---------------------------------------------------------------- names
    def layer_index(self, name):
        if name in self.index:
            return self.index[name]
        close = difflib.get_close_matches(str(name), self.names, n=5, cutoff=0.4)
        hint = f" Did you mean: {', '.join(close)}?" if close else ""
        raise UnknownLayerError(f"unknown layer {name!r}.{hint} List all layers with "
                                "`python -m minidream layers --model MODEL` or net.layer_names.")

    def slot(self, name):
        """The slot a name stands for: a one-top layer's output, a top blob of a several-top layer (Slice), or the
        output of a layer called by an alias (an ONNX node's name; its layer is named by its output tensor)."""
        if name not in self.index and name in self.aliases:
            name = self.aliases[name]
        if name in self.index and len(self.specs[self.index[name]]["tops"]) == 1:
            return self.index[name], 0
        if name not in self.index and name in self._blobs and self._blobs[name] != INPUT:
            i, k = self._blobs[name]
            if len(self.specs[i]["tops"]) > 1:
                return i, k
        if name in self.index:
            raise UnknownLayerError(f"layer {name!r} has several outputs; name one of its tops: "
                                    f"{', '.join(self.specs[self.index[name]]['tops'])}")
        return self.layer_index(name), 0  # raises with the closest names

    def slot_name(self, slot):
        i, k = slot
        if slot == INPUT:
            return None
        return self.names[i] if len(self.specs[i]["tops"]) == 1 else self.specs[i]["tops"][k]

    def ancestors(self, slots):
        """Indices of the layers the given slots depend on (their layers included), in graph order."""
        needed, stack = set(), [i for i, _ in slots]
        while stack:
            i = stack.pop()
            if i < 0 or i in needed:
                continue
            needed.add(i)
            stack.extend(j for j, _ in self.bottoms[i])
        return sorted(needed)

    def readers(self, order):
        """{slot: [the layers in order that read it, once per read]}."""
        found = {}
        for i in order:
            for slot in self.bottoms[i]:
                found.setdefault(slot, []).append(i)
        return found

    # ---------------------------------------------------------------- shapes, computing nothing
    def shapes(self, input_shape, only=None):
        """{slot: shape} for an input (N, C, H, W); only: the layer indices to compute (default all).

        Where a type's shapes depend on values (ONNX's shape arithmetic: LayerType.infer), the values that shapes
        alone determine are carried along, so they are recomputed for every input size."""
        shapes, values = {INPUT: tuple(int(d) for d in input_shape)}, {}
        for i, spec in enumerate(self.specs):
            if only is not None and i not in only:
                continue
            kind, in_shapes = self.types[i], [shapes[s] for s in self.bottoms[i]]
            try:
                in_values = [values.get(s) for s in self.bottoms[i]]
                outs, found = kind.shapes_and_values(spec["params"], in_shapes, in_values)
                values.update({(i, k): v for k, v in enumerate(found) if v is not None})
            except ValueError as exc:
                n, _, h, w = input_shape
                if n > 1 and self._fits_one(input_shape, only):
                    raise FixedBatchError(spec["name"], n, exc) from None
                raise ValueError(f"input {h}x{w} is too small for layer {spec['name']!r}: {exc}") from None
            shapes.update({(i, k): tuple(s) for k, s in enumerate(outs)})
        return shapes

    def _fits_one(self, input_shape, only):
        """Whether one picture of input_shape's size goes through (the layers in only)."""
        try:
            self.shapes((1, *input_shape[1:]), only)
        except ValueError:
            return False
        return True

    def input_shape(self, input_size, batch=1):
        return (batch, self.input_channels, *input_size)

    def output_shapes(self, input_size, batch=1):
        """{layer name (or top name of a several-top layer): output shape} for an input of (H, W)."""
        shapes = self.shapes(self.input_shape(input_size, batch))
        return {self.slot_name(s): shape for s, shape in shapes.items() if s != INPUT}

    def param_shapes(self, input_size):
        """{layer name: [weight blob shapes]} for the layers that have weights (InnerProduct's depend on H, W)."""
        shapes = self.shapes(self.input_shape(input_size))
        out = {}
        for i, spec in enumerate(self.specs):
            found = self.types[i].param_shapes(spec["params"], [shapes[s] for s in self.bottoms[i]])
            if found:
                out[spec["name"]] = [tuple(s) for s in found]
        return out

    def min_input_size(self, slot):
        """The smallest square input side (pixels) for which every layer up to slot has an output."""
        only, lo, hi = set(self.ancestors([slot])), 1, 4096
        while lo < hi:
            mid = (lo + hi) // 2
            try:
                self.shapes(self.input_shape((mid, mid)), only)
                hi = mid
            except ValueError:
                lo = mid + 1
        return lo

    # ---------------------------------------------------------------- the classifier
    def classifier_head(self):
        """The Head behind the last fully connected layer: walking back through the layers that may sit in a classifier
        head (fully connected, pointwise activations; dropout and flatten, the identity on a head's maps, left out),
        then one average pooling before them (GoogLeNet's pool5/7x7_s1); the first other layer is the trunk.
        ValueError when the net has no fully connected classifier."""
        fcs = [i for i, kind in enumerate(self.types) if kind.role == "fully_connected"]
        if not fcs:
            raise ValueError("the model has no fully connected classifier (InnerProduct layer)")
        layers, i = [], fcs[-1]
        while i >= 0 and self.types[i].classifier_part and self.types[i].role != "softmax":
            if self.types[i].role not in ("dropout", "flatten"):
                layers.append(self.names[i])
            i = self.bottoms[i][0][0]
        pool = None
        if i >= 0 and self.types[i].role == "pooling" and self.specs[i]["params"]["pool"] == "AVE":
            pool, i = self.names[i], self.bottoms[i][0][0]
        if i < 0:
            raise ValueError("the classifier reads the network input directly: there is no spatial layer before it")
        return Head(pool, layers[::-1], self.names[i], self.names[fcs[-1]],
                    self.specs[fcs[-1]]["params"]["num_output"])
