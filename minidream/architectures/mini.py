"""The built-in "mini" model: a small AlexNet for 64x64 pattern images.

Same layer kinds and names as AlexNet (conv1..conv5, norm1/2, pool1/2/5, fc6..fc8,
drop6/7, prob), far narrower, with 3x3 kernels at stride 1 (AlexNet's 11x11 stride-4
first layer would alias away patterns a few pixels wide), so it trains on a CPU in
minutes and dreams on any image size (the convolutions do not care about H, W).
Shapes for a 64x64 input:

    data (3, 64, 64) -> conv1 3x3 (16, 64, 64) -> pool1 3x3/2 (16, 32, 32) -> norm1
         -> conv2 3x3 (32, 32, 32) -> pool2 3x3/2 (32, 16, 16) -> norm2
         -> conv3 3x3 (64, 16, 16) -> conv4 3x3 (64, 16, 16) -> pool4 3x3/2 (64, 8, 8)
         -> conv5 3x3 (64, 8, 8) -> pool5 3x3/2 (64, 4, 4)
         -> fc6 (512) -> drop6 -> fc7 (256) -> drop7 -> fc8 (classes) -> prob

756,395 parameters (0.76 M, 3.0 MB of float32). It learns the classes of
``minidream.training.patterns``; ``python -m minidream.train_mini`` reproduces the bundled
weights in minidream/models/data/mini.h5.
"""
from minidream.engine.layer_types.specs import conv, dropout, fc, layer, lrn, pool, relu

INPUT_SIZE = (64, 64)
# The model's output classes in order: the pattern generators of minidream.training.patterns, one per class.
CLASS_NAMES = ("stripes", "rings", "checkerboard", "grid", "polka_dots", "spiral", "rays", "waves", "zigzag", "bricks",
               "hexagons")
# Mean of the generated pattern images (uniform random colours), per BGR channel.
MEAN_BGR = [127.5, 127.5, 127.5]
# conv5 dreams grow the clearest patterns (ring arcs, scales, dots); conv3/conv4 give smaller marks.
DEFAULT_LAYER = "conv5"


# 0.25, not AlexNet's 0.5: the generated data never runs out, and at 0.5 a net this narrow sits at chance
# level for hundreds of extra steps before it starts to learn.
DROPOUT = 0.25


def architecture():
    """(specs, meta) of the mini network in the contract's spec format."""
    specs = [
        conv("conv1", "data", 16, 3, pad=1), relu("relu1", "conv1"),
        pool("pool1", "conv1", "MAX", 3, 2), lrn("norm1", "pool1"),  # AlexNet's LRN (Krizhevsky et al. 2012, 3.3)
        conv("conv2", "norm1", 32, 3, pad=1), relu("relu2", "conv2"),
        pool("pool2", "conv2", "MAX", 3, 2), lrn("norm2", "pool2"),
        conv("conv3", "norm2", 64, 3, pad=1), relu("relu3", "conv3"),
        conv("conv4", "conv3", 64, 3, pad=1), relu("relu4", "conv4"),
        pool("pool4", "conv4", "MAX", 3, 2),
        conv("conv5", "pool4", 64, 3, pad=1), relu("relu5", "conv5"),
        pool("pool5", "conv5", "MAX", 3, 2),
        fc("fc6", "pool5", 512), relu("relu6", "fc6"), dropout("drop6", "fc6", DROPOUT),
        fc("fc7", "fc6", 256), relu("relu7", "fc7"), dropout("drop7", "fc7", DROPOUT),
        fc("fc8", "fc7", len(CLASS_NAMES)),
        layer("prob", "Softmax", "fc8", axis=1),
    ]
    meta = {
        "name": "mini",
        "input_size": INPUT_SIZE,
        "mean_bgr": list(MEAN_BGR),
        "channel_order": "BGR",
        "class_names": list(CLASS_NAMES),
        "source_file": "",
        "source_sha1": "",
        "input_blob": "data",
        "extra": {"default_layer": DEFAULT_LAYER},
    }
    return specs, meta
