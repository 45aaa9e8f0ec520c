"""Atlas and compare sheets: one image dreamed at each layer of a net, or at the stages of several nets.

    atlas(image, net, layers=None)        one row: the image dreamed at each layer (default: one per stage)
    compare(image, ["mini", "alexnet"])   one row per model, each at its stage layers

A stage is a stretch of the net at one resolution; its layer is the deepest convolution or concat output at
that resolution (mini: conv1, conv2, conv4, conv5; GoogLeNet: conv1/7x7_s2, conv2/3x3, inception_3b/output,
inception_4e/output, inception_5b/output). The sheets are what the feature-visualization papers show: the same
picture seen by each depth, and comparable depths of different architectures side by side.
"""
import os

from minidream.dreaming.deepdream import dream
from minidream.dreaming.settings import CELL_SIZE
from minidream.engine.layer_types import type_of
from minidream.io.contact_sheets import contact_sheet
from minidream.models.loading import resolve_model


def stage_layers(net):
    """The deepest Convolution or Concat layer at each output resolution, input side first."""
    shapes = net.output_shapes()
    stages = {}
    for spec in net.specs:
        shape = shapes.get(spec["name"])
        if type_of(spec).role in ("convolution", "concat") and shape is not None and len(shape) == 4:
            stages[tuple(shape[2:])] = spec["name"]  # later layers at the same size replace earlier ones
    return list(stages.values())


def atlas(image, net, layers=None, cell_size=CELL_SIZE, **dream_kwargs):
    """A one-row sheet (PIL) of `image` dreamed at each layer, the layer's name under each cell."""
    net = resolve_model(net, dream_kwargs.get("device", "cpu"))
    layers = layers or stage_layers(net)
    images = [dream(image, model=net, layer=layer, **dream_kwargs) for layer in layers]
    return contact_sheet(images, layers, len(layers), cell_size)


def compare(image, models, cell_size=CELL_SIZE, **dream_kwargs):
    """A sheet (PIL) with one row per model, its stage layers left to right, labelled "model: layer"."""
    rows = []
    for name in models:
        net = resolve_model(name, dream_kwargs.get("device", "cpu"))
        layers = stage_layers(net)
        label = os.path.splitext(os.path.basename(os.fspath(name)))[0]
        rows.append([(dream(image, model=net, layer=layer, **dream_kwargs), f"{label}: {layer}") for layer in layers])
    columns = max(len(row) for row in rows)
    cells = [cell for row in rows for cell in row + [(None, "")] * (columns - len(row))]  # None: an empty cell
    return contact_sheet([c[0] for c in cells], [c[1] for c in cells], columns, cell_size)
