"""The Net: a graph of named Caffe layers wired by bottom/top blob names.

Blob names are resolved once, at construction, to the *layer* that last wrote them before each reader —
that is how Caffe's in-place layers work (a ReLU whose top equals its bottom). Every layer's output is kept
under the layer's own name, so `forward(end="conv1")` gives the convolution's pre-ReLU output and
`forward(end="relu1")` the post-ReLU one, exactly what pycaffe's forward(end=...) leaves in net.blobs.
"""
import difflib

import numpy as np

from minidream import h5format
from minidream.backend import as_numpy, check_device, to_device, xp_for
from minidream.layers import (avg_pool, concat, conv, dropout, inner_product, lrn, max_pool, pool_shape,
                              relu, softmax)

SUPPORTED_TYPES = ("Convolution", "Pooling", "LRN", "InnerProduct", "ReLU", "Concat", "Dropout", "Softmax")
WEIGHTED_TYPES = ("Convolution", "InnerProduct")
INPUT = -1  # producer index of the network input blob


class UnknownLayerError(KeyError):
    """A layer name the net does not have; the message lists the closest names."""

    def __str__(self):
        return self.args[0]


class Net:
    def __init__(self, specs, blobs=None, meta=None, device="cpu", dtype=np.float32):
        self.meta = dict(meta or {})
        self.meta.setdefault("input_size", (224, 224))
        self.meta.setdefault("mean_bgr", [0.0, 0.0, 0.0])
        self.meta.setdefault("channel_order", "BGR")
        self.input_blob = self.meta.get("input_blob", "data")
        self.dtype = np.dtype(dtype)
        self._specs = [_normalized(spec) for spec in specs]
        self.layer_names = [spec["name"] for spec in self._specs]
        self._index = {name: i for i, name in enumerate(self.layer_names)}
        if len(self._index) != len(self._specs):
            raise ValueError("layer names must be unique")
        self._bottoms = self._resolve_bottoms()
        self._channels = self._infer_channels()
        self._shared_pointwise = self._find_shared_pointwise()
        self.params = {}
        self.grads = {}
        self._init_params(blobs or {})
        self.device = "cpu"
        self._last = None
        self.to(device)

    # ---------------------------------------------------------------- graph structure
    def _resolve_bottoms(self):
        """For each layer, the producer layer index of each bottom blob (INPUT for the network input)."""
        producer = {self.input_blob: INPUT}
        resolved = []
        for spec in self._specs:
            if spec["type"] not in SUPPORTED_TYPES:
                raise ValueError(
                    f"layer {spec['name']!r} has type {spec['type']!r}, which minidream does not support; "
                    f"supported types: {', '.join(SUPPORTED_TYPES)}"
                )
            if len(spec["tops"]) != 1:
                raise ValueError(f"layer {spec['name']!r} must have exactly one top, has {spec['tops']}")
            inputs = []
            for blob in spec["bottoms"]:
                if blob not in producer:
                    raise ValueError(
                        f"layer {spec['name']!r} reads blob {blob!r}, which no earlier layer writes "
                        f"(the network input is {self.input_blob!r})"
                    )
                inputs.append(producer[blob])
            resolved.append(inputs)
            producer[spec["tops"][0]] = self._index[spec["name"]]
        return resolved

    def _infer_channels(self):
        """Output channel count of every layer (spatial sizes depend on the input; channels do not)."""
        channels = {INPUT: int(self.meta.get("input_channels", 3))}
        for i, spec in enumerate(self._specs):
            ins = [channels[p] for p in self._bottoms[i]]
            kind = spec["type"]
            if kind in ("Convolution", "InnerProduct"):
                channels[i] = spec["params"]["num_output"]
            elif kind == "Concat":
                channels[i] = sum(ins)
            else:
                channels[i] = ins[0]
        return channels

    def _find_shared_pointwise(self):
        """{layer index: indices of all 1x1 convolutions reading the same blob} for groups of two or more."""
        groups = {}
        for i, spec in enumerate(self._specs):
            p = spec["params"]
            if (spec["type"] == "Convolution" and p["group"] == 1
                    and conv.is_pointwise(*p["kernel_size"], p["stride"], p["pad"])):
                groups.setdefault(self._bottoms[i][0], []).append(i)
        return {i: members for members in groups.values() if len(members) > 1 for i in members}

    def ancestors(self, ends):
        """Indices of the layers the given end layers depend on (ends included), in graph order."""
        needed, stack = set(), [self.layer_index(e) for e in ends]
        while stack:
            i = stack.pop()
            if i == INPUT or i in needed:
                continue
            needed.add(i)
            stack.extend(self._bottoms[i])
        return sorted(needed)

    def layer_index(self, name):
        if name in self._index:
            return self._index[name]
        close = difflib.get_close_matches(str(name), self.layer_names, n=5, cutoff=0.4)
        hint = f" Did you mean: {', '.join(close)}?" if close else ""
        raise UnknownLayerError(
            f"unknown layer {name!r} in model {self.meta.get('name') or '(unnamed)'}.{hint} "
            "List all layers with `python -m minidream layers --model MODEL` or net.layer_names."
        )

    def spec(self, name):
        return self._specs[self.layer_index(name)]

    def bottom_layers(self, name):
        """Names of the layers feeding `name` (None stands for the network input)."""
        return [None if p == INPUT else self.layer_names[p] for p in self._bottoms[self.layer_index(name)]]

    # ---------------------------------------------------------------- parameters
    def _init_params(self, blobs):
        shapes = self._param_shapes()
        for name, expected in shapes.items():
            given = blobs.get(name)
            if given is None:
                arrays = [np.zeros(s, dtype=self.dtype) for s in expected]
            else:
                if len(given) != len(expected):
                    raise ValueError(f"layer {name!r} expects {len(expected)} parameter blobs, got {len(given)}")
                arrays = []
                for blob, shape in zip(given, expected):
                    blob = np.asarray(as_numpy(blob), dtype=self.dtype)
                    if blob.size != int(np.prod(shape)):
                        raise ValueError(
                            f"layer {name!r}: parameter of shape {blob.shape} does not fit the expected {shape}"
                        )
                    arrays.append(np.ascontiguousarray(blob.reshape(shape)))
            self.params[name] = arrays

    def _param_shapes(self):
        shapes, out_shapes = {}, None
        for i, spec in enumerate(self._specs):
            p = spec["params"]
            if spec["type"] == "Convolution":
                c_in = self._channels[self._bottoms[i][0]]
                kh, kw = p["kernel_size"]
                w = (p["num_output"], c_in // p["group"], kh, kw)
                shapes[spec["name"]] = [w, (p["num_output"],)] if p["bias_term"] else [w]
            elif spec["type"] == "InnerProduct":
                if out_shapes is None:
                    out_shapes = self._shapes(self.meta["input_size"], 1)
                producer = self._bottoms[i][0]
                k = int(np.prod(out_shapes[producer][1:]))
                w = (p["num_output"], k)
                shapes[spec["name"]] = [w, (p["num_output"],)] if p["bias_term"] else [w]
        return shapes

    def to(self, device):
        """Move the parameters to "cpu" or "gpu" (returns self)."""
        device = check_device(device)
        for name, arrays in self.params.items():
            self.params[name] = [to_device(a, device) for a in arrays]
        self.device = device
        self._last = None
        return self

    # ---------------------------------------------------------------- shapes without running
    def output_shapes(self, input_size=None, batch=1):
        """{layer name: output shape} for an input of (H, W) (default: the nominal size), computing nothing."""
        shapes = self._shapes(input_size or self.meta["input_size"], batch)
        return {self.layer_names[i]: s for i, s in shapes.items() if i != INPUT}

    def output_shape(self, layer, input_size=None, batch=1):
        needed = self.ancestors([layer])
        shapes = self._shapes(input_size or self.meta["input_size"], batch, only=set(needed))
        return shapes[self.layer_index(layer)]

    def _shapes(self, input_size, batch, only=None):
        h, w = (int(v) for v in input_size)
        shapes = {INPUT: (batch, self._channels[INPUT], h, w)}
        for i, spec in enumerate(self._specs):
            if only is not None and i not in only:
                continue
            ins = [shapes[p] for p in self._bottoms[i]]
            try:
                shapes[i] = _layer_shape(spec, ins)
            except ValueError as exc:
                raise ValueError(f"input {h}x{w} is too small for layer {spec['name']!r}: {exc}") from None
        return shapes

    def min_input_size(self, end):
        """The smallest square input (in pixels) for which every layer up to `end` has an output."""
        only = set(self.ancestors([end]))
        lo, hi = 1, 4096
        while lo < hi:
            mid = (lo + hi) // 2
            try:
                self._shapes((mid, mid), 1, only=only)
                hi = mid
            except ValueError:
                lo = mid + 1
        return lo

    # ---------------------------------------------------------------- forward / backward
    def forward(self, x, end=None, train=False, rng=None):
        """Run the layers `end` depends on; return its output (a dict when `end` is a list of names).

        x: (N, C, H, W) in network input space (BGR, mean subtracted). train=True turns dropout on (rng:
        a numpy Generator for its masks).
        """
        many = isinstance(end, (list, tuple))
        ends = list(end) if many else [end if end is not None else self.layer_names[-1]]
        order = self.ancestors(ends)
        x = self._check_input(x, xp_for(self.device), order)
        end_set = {self.layer_index(e) for e in ends}
        consumers = self._consumer_counts(order)
        outputs, caches = {INPUT: x}, {}
        needed = set(order)
        for i in order:
            if i in outputs:  # computed together with a sibling 1x1 convolution
                continue
            members = [m for m in self._shared_pointwise.get(i, ()) if m in needed]
            if len(members) > 1:
                self._forward_shared_pointwise(members, outputs, caches)
                continue
            inputs = [outputs[p] for p in self._bottoms[i]]
            # An in-place ReLU may overwrite its producer's output when nobody else needs it (Caffe does the same).
            in_place = (self._specs[i]["type"] == "ReLU" and self._bottoms[i][0] not in end_set
                        and self._bottoms[i][0] != INPUT and consumers[self._bottoms[i][0]] == 1
                        and self._specs[self._bottoms[i][0]]["type"] in WEIGHTED_TYPES)
            outputs[i], caches[i] = self._forward_layer(i, inputs, train, rng, in_place)
        self._last = {"order": order, "caches": caches, "ends": ends, "shapes": {
            i: outputs[i].shape for i in order}, "input_shape": x.shape}
        if many:
            return {e: outputs[self.layer_index(e)] for e in ends}
        return outputs[self.layer_index(ends[0])]

    def _forward_shared_pointwise(self, members, outputs, caches):
        x = outputs[self._bottoms[members[0]][0]]
        params = [self.params[self.layer_names[m]] for m in members]
        results = conv.forward_shared_input(x, [p[0] for p in params], [p[1] if len(p) > 1 else None for p in params])
        for m, (y, cache) in zip(members, results):
            outputs[m], caches[m] = y, cache

    def _consumer_counts(self, order):
        counts = {}
        for i in order:
            for p in self._bottoms[i]:
                counts[p] = counts.get(p, 0) + 1
        return counts

    def _check_input(self, x, xp, order):
        if not hasattr(x, "shape") or x.ndim != 4:
            raise ValueError(
                f"net.forward expects a 4-D array (N, C, H, W); got {getattr(x, 'shape', type(x).__name__)}"
            )
        if x.shape[1] != self._channels[INPUT]:
            raise ValueError(f"net.forward expects {self._channels[INPUT]} input channels, got {x.shape[1]}")
        self._shapes(x.shape[2:], x.shape[0], only=set(order))  # a clear error for inputs too small
        return xp.asarray(x, dtype=self.dtype)

    def _forward_layer(self, i, inputs, train, rng, in_place):
        spec, p = self._specs[i], self._specs[i]["params"]
        kind, x = spec["type"], inputs[0]
        weights = self.params.get(spec["name"])
        if kind == "Convolution":
            b = weights[1] if p["bias_term"] else None
            return conv.forward(x, weights[0], b, tuple(p["stride"]), tuple(p["pad"]), p["group"])
        if kind == "InnerProduct":
            return inner_product.forward(x, weights[0], weights[1] if p["bias_term"] else None)
        if kind == "Pooling":
            kernel, stride, pad = _pool_geometry(p, x.shape)
            op = max_pool if p["pool"] == "MAX" else avg_pool
            return op.forward(x, kernel, stride, pad)
        if kind == "LRN":
            return lrn.forward(x, p["local_size"], p["alpha"], p["beta"], p["k"])
        if kind == "ReLU":
            return relu.forward(x, p["negative_slope"], out=x if in_place else None)
        if kind == "Concat":
            return concat.forward(inputs, p["axis"])
        if kind == "Dropout":
            return dropout.forward(x, p["dropout_ratio"], train, rng)
        return softmax.forward(x, p["axis"])

    def backward(self, dtop, param_grads=False):
        """dL/dx for the last forward, given dL/d(output of end) (a dict {layer: grad} for several ends).

        param_grads=True also fills net.grads[layer] = [dW, db] for the weighted layers that were run.
        """
        if self._last is None:
            raise RuntimeError("net.backward needs a net.forward first")
        last = self._last
        if not isinstance(dtop, dict):
            if len(last["ends"]) != 1:
                raise ValueError("the last forward had several ends: pass dtop as {layer name: gradient}")
            dtop = {last["ends"][0]: dtop}
        xp = xp_for(self.device)
        grads = {}
        for name, g in dtop.items():
            i = self.layer_index(name)
            if i not in last["shapes"]:
                raise ValueError(f"layer {name!r} was not computed by the last forward")
            if tuple(g.shape) != tuple(last["shapes"][i]):
                raise ValueError(f"gradient for {name!r} has shape {g.shape}, the layer's output is "
                                 f"{last['shapes'][i]}")
            grads[i] = xp.asarray(g, dtype=self.dtype)
        if param_grads:
            self.grads = {}
        owned = set()  # gradients this loop allocated itself, safe to add into in place
        for i in reversed(last["order"]):
            if i not in grads:
                continue
            dxs = self._backward_layer(i, grads.pop(i), last["caches"][i], param_grads)
            for p, dx in zip(self._bottoms[i], dxs):
                # A blob read by several layers (an inception module's input) sums their gradients.
                if p not in grads:
                    grads[p] = dx
                elif p in owned:
                    grads[p] += dx
                else:
                    grads[p] = grads[p] + dx
                    owned.add(p)
        return grads.get(INPUT, xp.zeros(last["input_shape"], dtype=self.dtype))

    def _backward_layer(self, i, dy, cache, param_grads):
        spec = self._specs[i]
        kind = spec["type"]
        if kind in WEIGHTED_TYPES:
            op = conv if kind == "Convolution" else inner_product
            dx, dw, db = op.backward(dy, cache, weight_grads=param_grads)
            if param_grads:
                self.grads[spec["name"]] = [dw] + ([db] if spec["params"]["bias_term"] else [])
            return [dx]
        if kind == "Pooling":
            return [(max_pool if spec["params"]["pool"] == "MAX" else avg_pool).backward(dy, cache)]
        if kind == "Concat":
            return concat.backward(dy, cache)
        op = {"LRN": lrn, "ReLU": relu, "Dropout": dropout, "Softmax": softmax}[kind]
        return [op.backward(dy, cache)]

    # ---------------------------------------------------------------- files
    @property
    def specs(self):
        return [dict(s, params=dict(s["params"])) for s in self._specs]

    def save(self, path):
        """Write graph, weights and metadata to an HDF5 file (docs/format.md), atomically."""
        blobs = {name: [as_numpy(a) for a in arrays] for name, arrays in self.params.items()}
        h5format.save(path, self.specs, blobs, self.meta)

    @classmethod
    def load(cls, path, device="cpu"):
        specs, blobs, meta = h5format.load(path)
        return cls(specs, blobs, meta, device=device)

    def __repr__(self):
        n_params = sum(int(np.prod(a.shape)) for arrays in self.params.values() for a in arrays)
        return (f"Net({self.meta.get('name') or 'unnamed'}: {len(self.layer_names)} layers, "
                f"{n_params:,} parameters, device={self.device})")


# -------------------------------------------------------------------- per-type helpers
_DEFAULTS = {
    "Convolution": {"stride": [1, 1], "pad": [0, 0], "group": 1, "bias_term": True},
    "Pooling": {"pool": "MAX", "stride": [1, 1], "pad": [0, 0], "global_pooling": False, "kernel_size": [1, 1]},
    "LRN": {"local_size": 5, "alpha": 1.0, "beta": 0.75, "k": 1.0, "norm_region": "ACROSS_CHANNELS"},
    "InnerProduct": {"bias_term": True},
    "ReLU": {"negative_slope": 0.0},
    "Dropout": {"dropout_ratio": 0.5},
    "Concat": {"axis": 1},
    "Softmax": {"axis": 1},
}


def _pair(v):
    if isinstance(v, (list, tuple)):
        return [int(v[0]), int(v[-1])]
    return [int(v), int(v)]


def _normalized(spec):
    """A copy of a layer spec with Caffe's defaults filled in and sizes as [h, w] pairs."""
    for key in ("name", "type", "bottoms", "tops"):
        if key not in spec:
            raise ValueError(f"layer spec {spec!r} lacks {key!r}")
    params = dict(_DEFAULTS.get(spec["type"], {}))
    params.update(spec.get("params") or {})
    for key in ("kernel_size", "stride", "pad"):
        if key in params:
            params[key] = _pair(params[key])
    if spec["type"] in ("Convolution", "InnerProduct") and "num_output" not in params:
        raise ValueError(f"layer {spec['name']!r} ({spec['type']}) needs num_output")
    if spec["type"] == "Convolution" and "kernel_size" not in params:
        raise ValueError(f"layer {spec['name']!r} (Convolution) needs kernel_size")
    if spec["type"] == "LRN" and params["norm_region"] != "ACROSS_CHANNELS":
        raise ValueError(f"layer {spec['name']!r}: only LRN norm_region ACROSS_CHANNELS is supported")
    if spec["type"] == "Pooling" and params["pool"] not in ("MAX", "AVE"):
        raise ValueError(f"layer {spec['name']!r}: pooling {params['pool']!r} is not supported (MAX, AVE)")
    return {"name": str(spec["name"]), "type": spec["type"], "bottoms": list(spec["bottoms"]),
            "tops": list(spec["tops"]), "params": params}


def _pool_geometry(p, x_shape):
    if p["global_pooling"]:
        return tuple(x_shape[2:]), (1, 1), (0, 0)
    return tuple(p["kernel_size"]), tuple(p["stride"]), tuple(p["pad"])


def _layer_shape(spec, ins):
    p, kind = spec["params"], spec["type"]
    n, c = ins[0][0], ins[0][1] if len(ins[0]) > 1 else None
    if kind == "Convolution":
        (kh, kw), (sh, sw), (ph, pw) = p["kernel_size"], p["stride"], p["pad"]
        oh, ow = conv.output_size(ins[0][2], kh, sh, ph), conv.output_size(ins[0][3], kw, sw, pw)
        if oh < 1 or ow < 1:
            raise ValueError(f"its {kh}x{kw} kernel needs at least {kh - 2 * ph}x{kw - 2 * pw} pixels, "
                             f"gets {ins[0][2]}x{ins[0][3]}")
        return (n, p["num_output"], oh, ow)
    if kind == "Pooling":
        (kh, kw), (sh, sw), (ph, pw) = _pool_geometry(p, ins[0])
        return (n, c, pool_shape.output_size(ins[0][2], kh, sh, ph), pool_shape.output_size(ins[0][3], kw, sw, pw))
    if kind == "InnerProduct":
        return (n, p["num_output"])
    if kind == "Concat":
        axis = p["axis"]
        out = list(ins[0])
        out[axis] = sum(s[axis] for s in ins)
        return tuple(out)
    return tuple(ins[0])
