"""ONNX nodes as minidream layer specs: Caffe's types where the math is the same, "onnx.<Op>" types elsewhere.

A Conv, a BatchNormalization, a Relu, a classifier's Gemm, a pooling with Caffe's geometry ... become the Caffe
layer types, so the engine's speed machinery and its passes (in-place ReLU, BatchNorm folded into the convolution)
serve ONNX models too. Every other node becomes an "onnx.<Op>" spec (minidream/engine/layer_types/onnx_base.py).
Nodes whose inputs are all constant are computed here (constant folding); Identity and Dropout disappear.
Shapes are inferred as specs are made, at the model's nominal input size, to choose among the forms.
"""
import numpy as np

from minidream.engine.layer_types import Context, layer_type
from minidream.engine.layer_types.onnx_base import TYPE_PREFIX
from minidream.errors import OnnxModelError

PASS_THROUGH = ("Identity", "Dropout")
SHAPE_FLOATS = {("Resize", 2)}  # (op, input position): float constants the output's shape is computed from


class Builder:
    """Specs, weights and shapes of an ONNX graph, node by node (see the module doc)."""

    def __init__(self, model, input_name, input_shape):
        self.model, self.input_name, self.input_shape = model, input_name, tuple(input_shape)
        self.constants = dict(model.initializers)  # tensor name -> array
        self.shapes = {input_name: tuple(input_shape)}  # tensor name -> shape at the nominal size
        self.values = {}  # tensor name -> value computed from shapes alone (shape arithmetic)
        self.renamed = {}  # a pass-through node's output -> its input
        self.specs, self.blobs, self.aliases = [], {}, {}

    # ---------------------------------------------------------------- tensors
    def tensor(self, name):
        return self.renamed.get(name, name)

    def is_constant(self, name):
        return name == "" or self.tensor(name) in self.constants

    def constant(self, name):
        return self.constants[self.tensor(name)]

    def shape(self, name):
        name = self.tensor(name)
        return np.shape(self.constants[name]) if name in self.constants else self.shapes[name]

    # ---------------------------------------------------------------- specs
    def add(self, node, kind, bottoms, tops, params, weights=(), alias=True):
        """One spec; its output shapes inferred now. Named by its output tensor; alias: the node's name calls it
        (False for a node's intermediate specs)."""
        name = tops[0] if len(tops) == 1 else (node.name or tops[0])
        spec = {"name": name, "type": kind, "bottoms": [self.tensor(b) for b in bottoms], "tops": list(tops),
                "params": params}
        info = layer_type(kind, name)
        try:
            p = info.normalize(dict(params), name)
            in_shapes = [self.shapes[b] for b in spec["bottoms"]]
            shapes, values = info.shapes_and_values(p, in_shapes, [self.values.get(b) for b in spec["bottoms"]])
        except (ValueError, KeyError, IndexError, TypeError) as exc:
            prefix, message = f"node {node.name or tops[0]!r} ({node.op_type}): ", str(exc)
            raise OnnxModelError(message if message.startswith(prefix) else prefix + message) from None
        for top, shape, value in zip(tops, shapes, values):
            self.shapes[top] = tuple(int(d) for d in shape)
            if value is not None:
                self.values[top] = value
        self.specs.append(spec)
        if weights:
            self.blobs[name] = [np.array(w, dtype=np.float32, order="C") for w in weights]
        if alias and node.name and node.name != name:
            self.aliases[node.name] = name
        return name

    def arguments(self, node):
        """(bottoms, weights, args) of a node: graph tensors as bottoms, float constants as weights, integer
        constants and SHAPE_FLOATS in the spec (shape inference needs their values); see onnx_base for args."""
        bottoms, weights, args = [], [], []
        for position, name in enumerate(node.inputs):
            if name == "":
                args.append(None)
            elif self.is_constant(name):
                value = self.constant(name)
                if value.dtype.kind != "f":
                    args.append(["const", value.tolist()])
                elif (node.op_type, position) in SHAPE_FLOATS:
                    args.append(["const", value.tolist(), value.dtype.name])
                else:
                    args.append(["weight", len(weights)])
                    weights.append(value)
            else:
                tensor = self.tensor(name)
                if tensor not in bottoms:
                    bottoms.append(tensor)
                args.append(["bottom", bottoms.index(tensor)])
        return bottoms, weights, args

    def add_onnx(self, node, attrs):
        """The node as an "onnx.<Op>" spec."""
        bottoms, weights, args = self.arguments(node)
        weights = [np.array(w, ndmin=1) for w in weights]  # the .h5 file stores a scalar as one value: alike here
        params = {"args": args, "attrs": attrs, "weight_shapes": [list(w.shape) for w in weights]}
        return self.add(node, TYPE_PREFIX + node.op_type, bottoms, node.outputs, params, weights)

    def fold(self, node, attrs):
        """A node whose inputs are all constant: computed now, its outputs constants."""
        info = layer_type(TYPE_PREFIX + node.op_type, node.name)
        _, weights, args = self.arguments(node)
        p = info.normalize({"args": args, "attrs": attrs, "weight_shapes": [list(w.shape) for w in weights]},
                           node.name)
        outputs, _ = info.forward(p, weights, [], Context())
        for name, value in zip(node.outputs, outputs):
            self.constants[name] = np.asarray(value)

    def pass_through(self, node):
        self.renamed[node.outputs[0]] = self.tensor(node.inputs[0])
        for extra in node.outputs[1:]:  # Dropout's mask: nothing a classifier at test time reads
            self.renamed[extra] = ""


def constant_value(node):
    """The tensor of a Constant node (value, or one of the value_* shorthands)."""
    attrs = node.attributes
    for key, dtype in (("value", None), ("value_float", np.float32), ("value_floats", np.float32),
                       ("value_int", np.int64), ("value_ints", np.int64)):
        if key in attrs:
            return np.asarray(attrs[key], dtype=dtype)
    raise OnnxModelError(f"Constant node {node.name!r} holds {sorted(attrs)}; minidream reads value, value_float(s) "
                         "and value_int(s)")
