"""The Net: a graph of named Caffe layers (minidream.engine.graph) with weights, run forward and backward.

The walk is micrograd's: forward runs the steps in graph order and keeps each step's cache on a tape; backward
walks the tape in reverse, each step turning the gradients of its outputs into gradients of its inputs, summed
where a blob feeds several layers (the multivariable chain rule). What the steps are — one layer each, or the
faster plans of minidream/engine/plans.py — does not change a number.
"""
import contextlib

import numpy as np

from minidream.engine import engines
from minidream.engine.backend import as_numpy, check_device, to_device, xp_for
from minidream.engine.graph import INPUT, Graph, UnknownLayerError
from minidream.engine.layer_types import Context
from minidream.engine.plans import plan

__all__ = ["Net", "UnknownLayerError"]


class Net:
    def __init__(self, specs, blobs=None, meta=None, device="cpu", dtype=np.float32):
        self.meta = dict(meta or {})
        self.meta.setdefault("input_size", (224, 224))
        self.meta.setdefault("mean_bgr", [0.0, 0.0, 0.0])
        self.meta.setdefault("channel_order", "BGR")
        self.input_blob = self.meta.get("input_blob", "data")
        self.dtype = np.dtype(dtype)
        self.graph = Graph(specs, self.input_blob, self.meta.get("input_channels", 3),
                           (self.meta.get("extra") or {}).get("aliases"))  # other names of layers: ONNX nodes
        self.layer_names = self.graph.names
        self.params, self.grads = {}, {}
        self.hooks = []  # hook(step label, "forward" | "backward", "start" | "stop"): for profiles
        self._init_params(blobs or {})
        self.device, self._plans, self._tape = "cpu", {}, None
        self.derived = None  # inside frozen(): {key: what the walk derived from the parameters}; else None
        self.to(device)

    def _init_params(self, blobs):
        for name, shapes in self.graph.param_shapes(self.meta["input_size"]).items():
            given = blobs.get(name)
            if given is None:
                self.params[name] = [np.zeros(s, dtype=self.dtype) for s in shapes]
                continue
            if len(given) != len(shapes):
                raise ValueError(f"layer {name!r} expects {len(shapes)} parameter blobs, got {len(given)}")
            arrays = [np.asarray(as_numpy(blob), dtype=self.dtype) for blob in given]
            for k, (array, shape) in enumerate(zip(arrays, shapes)):
                if array.shape != shape:
                    raise ValueError(f"layer {name!r}: parameter blob {k} has shape {array.shape}, "
                                     f"the graph needs {shape}")
            # own, writable copies where needed (a .caffemodel's blobs are read-only views of the file)
            self.params[name] = [np.require(a, requirements=["C", "W"]) for a in arrays]

    def to(self, device):
        """Move the parameters to "cpu" or "gpu" (returns self)."""
        device = check_device(device)
        self.params = {name: [to_device(a, device) for a in arrays] for name, arrays in self.params.items()}
        self.device, self._tape = device, None
        if self.derived is not None:
            self.derived = {}  # derived from the arrays just replaced
        return self

    @contextlib.contextmanager
    def frozen(self):
        """Within it the parameters are taken as fixed: the walk derives what it needs from them once and reuses it
        in every forward (ResNet's convolutions with their BatchNorm and Scale folded in, minidream/engine/plans.py,
        made again each forward otherwise). A dream's steps run inside it; a change to net.params inside it goes unseen
        until it ends, so training never runs inside it. Nested uses share the outer one's."""
        outer = self.derived
        if outer is None:
            self.derived = {}
        try:
            yield self
        finally:
            if outer is None:
                self.derived = None

    # ---------------------------------------------------------------- the walk
    def forward(self, x, end=None, train=False, rng=None):
        """Run the layers `end` depends on; return its output (a dict when `end` is a list of names).

        x: (N, C, H, W) in network input space. end: a layer name (or a top of a several-top layer); default
        the last layer. train=True turns dropout on (rng: a numpy Generator for its masks).
        """
        many = isinstance(end, (list, tuple))
        ends = list(end) if many else [self.layer_names[-1] if end is None else end]
        end_slots = [self.graph.slot(e) for e in ends]
        x = self._check_input(x, end_slots)
        self._tape = None  # the last forward's activations go now, not after this one has made its own
        values, tape, ctx = {INPUT: x}, [], Context(train, rng)
        for step in self._plan(end_slots):
            self._hook(step.label, "forward", "start")
            outputs, cache = step.forward([values[s] for s in step.bottoms], ctx)
            self._hook(step.label, "forward", "stop")
            values.update(zip(step.tops, outputs))
            tape.append((step, cache))
        self._tape = (tape, {s: values[s].shape for s in end_slots}, x.shape)
        outputs = {e: values[s] for e, s in zip(ends, end_slots)}
        return outputs if many else outputs[ends[0]]

    def backward(self, dtop, param_grads=False):
        """dL/dx for the last forward, given dL/d(output of end) (a dict {end: grad} for several ends).

        param_grads=True also fills net.grads[layer] = [dW, db] for the weighted layers that were run.
        Backward uses up the forward's caches, each as soon as its layer is through (a step's activations are gone
        by the time it returns, not kept until the next forward): a second backward needs a new forward.
        """
        if self._tape is None:
            raise RuntimeError("net.backward needs a net.forward first (each backward uses up one forward)")
        tape, end_shapes, input_shape = self._tape
        grads = self._check_dtop(dtop, end_shapes)
        self._tape = None
        if param_grads:
            self.grads = {}
        while tape:
            step, cache = tape.pop()  # the list's reference goes now; the cache itself with the next pop
            dys = [grads.pop(slot, None) for slot in step.tops]
            if all(d is None for d in dys):
                continue
            self._hook(step.label, "backward", "start")
            dxs, dweights = step.backward(dys, cache, param_grads)
            self._hook(step.label, "backward", "stop")
            self.grads.update(dweights)
            for slot, dx in zip(step.bottoms, dxs):
                if dx is not None:  # a blob read by several layers sums their gradients
                    grads[slot] = dx if slot not in grads else grads[slot] + dx
        return grads.get(INPUT, xp_for(self.device).zeros(input_shape, dtype=self.dtype))

    def _plan(self, end_slots):
        key = (tuple(end_slots), engines.engine())  # the fast engine's plan fuses sibling 1x1 convolutions
        if key not in self._plans:
            self._plans[key] = plan(self, end_slots)
        return self._plans[key]

    def _hook(self, label, phase, event):
        for hook in self.hooks:
            hook(label, phase, event)

    def _check_input(self, x, end_slots):
        if not hasattr(x, "shape") or x.ndim != 4:
            raise ValueError(f"net.forward expects a 4-D array (N, C, H, W); got {getattr(x, 'shape', type(x))}")
        if x.shape[1] != self.graph.input_channels:
            raise ValueError(f"net.forward expects {self.graph.input_channels} input channels, got {x.shape[1]}")
        self.graph.shapes(x.shape, only=set(self.graph.ancestors(end_slots)))  # a clear error for small inputs
        return xp_for(self.device).asarray(x, dtype=self.dtype)

    def _check_dtop(self, dtop, end_shapes):
        if not isinstance(dtop, dict):
            if len(end_shapes) != 1:
                raise ValueError("the last forward had several ends: pass dtop as {layer name: gradient}")
            dtop = {self.graph.slot_name(next(iter(end_shapes))): dtop}
        xp, grads = xp_for(self.device), {}
        for name, g in dtop.items():
            slot = self.graph.slot(name)
            if slot not in end_shapes:
                raise ValueError(f"layer {name!r} was not an end of the last forward")
            if tuple(g.shape) != tuple(end_shapes[slot]):
                raise ValueError(f"gradient for {name!r} has shape {g.shape}, the output is {end_shapes[slot]}")
            grads[slot] = xp.asarray(g, dtype=self.dtype)
        return grads

    # ---------------------------------------------------------------- the graph, by name
    def layer_index(self, name):
        return self.graph.layer_index(name)

    def spec(self, name):
        return self.graph.specs[self.layer_index(name)]

    @property
    def specs(self):
        return [dict(s, params=dict(s["params"])) for s in self.graph.specs]

    def bottom_layers(self, name):
        """Names of the layers feeding `name` (None stands for the network input)."""
        return [self.graph.slot_name(s) for s in self.graph.bottoms[self.layer_index(name)]]

    def output_shapes(self, input_size=None, batch=1):
        """{layer name: output shape} for an input of (H, W) (default: the nominal size), computing nothing."""
        return self.graph.output_shapes(input_size or self.meta["input_size"], batch)

    def output_shape(self, layer, input_size=None, batch=1):
        slot = self.graph.slot(layer)
        shape = self.graph.input_shape(input_size or self.meta["input_size"], batch)
        return self.graph.shapes(shape, only=set(self.graph.ancestors([slot])))[slot]

    def min_input_size(self, end):
        """The smallest square input (in pixels) for which every layer up to `end` has an output."""
        return self.graph.min_input_size(self.graph.slot(end))

    def __repr__(self):
        n_params = sum(int(np.prod(a.shape)) for arrays in self.params.values() for a in arrays)
        return (f"Net({self.meta.get('name') or 'unnamed'}: {len(self.layer_names)} layers, "
                f"{n_params:,} parameters, device={self.device})")
