"""Built-in architectures as layer specs (no weights), layer for layer as BVLC's deploy nets.

bvlc_alexnet/deploy.prototxt and bvlc_googlenet/deploy.prototxt (Caffe model zoo) give the layer names, sizes and
hyperparameters written out below. minidream.models fills them with weights; the converter recognises them.
"""
from minidream import mini as mini_module
from minidream.specs import conv, dropout, fc, layer, lrn, pool, relu

IMAGENET_MEAN_BGR = [104.0, 117.0, 123.0]


def alexnet():
    """bvlc_alexnet (Krizhevsky et al. 2012): LRN before pooling, groups of 2 in conv2/4/5; input 227x227."""
    specs = [
        conv("conv1", "data", 96, 11, stride=4), relu("relu1", "conv1"), lrn("norm1", "conv1"),
        pool("pool1", "norm1", "MAX", 3, 2),
        conv("conv2", "pool1", 256, 5, pad=2, group=2), relu("relu2", "conv2"), lrn("norm2", "conv2"),
        pool("pool2", "norm2", "MAX", 3, 2),
        conv("conv3", "pool2", 384, 3, pad=1), relu("relu3", "conv3"),
        conv("conv4", "conv3", 384, 3, pad=1, group=2), relu("relu4", "conv4"),
        conv("conv5", "conv4", 256, 3, pad=1, group=2), relu("relu5", "conv5"),
        pool("pool5", "conv5", "MAX", 3, 2),
        fc("fc6", "pool5", 4096), relu("relu6", "fc6"), dropout("drop6", "fc6", 0.5),
        fc("fc7", "fc6", 4096), relu("relu7", "fc7"), dropout("drop7", "fc7", 0.5),
        fc("fc8", "fc7", 1000), layer("prob", "Softmax", "fc8", axis=1),
    ]
    return specs, {"name": "alexnet", "input_size": (227, 227), "mean_bgr": IMAGENET_MEAN_BGR,
                   "channel_order": "BGR", "extra": {"default_layer": "conv5"}}


# GoogLeNet's inception modules: (#1x1, #3x3 reduce, #3x3, #5x5 reduce, #5x5, pool proj) — Szegedy et al. 2014,
# Table 1, as in bvlc_googlenet.
INCEPTION = {
    "3a": (64, 96, 128, 16, 32, 32), "3b": (128, 128, 192, 32, 96, 64),
    "4a": (192, 96, 208, 16, 48, 64), "4b": (160, 112, 224, 24, 64, 64), "4c": (128, 128, 256, 24, 64, 64),
    "4d": (112, 144, 288, 32, 64, 64), "4e": (256, 160, 320, 32, 128, 128),
    "5a": (256, 160, 320, 32, 128, 128), "5b": (384, 192, 384, 48, 128, 128),
}


def _inception(module, bottom):
    n1, n3r, n3, n5r, n5, npool = INCEPTION[module]
    p = f"inception_{module}/"
    return [
        conv(p + "1x1", bottom, n1, 1), relu(p + "relu_1x1", p + "1x1"),
        conv(p + "3x3_reduce", bottom, n3r, 1), relu(p + "relu_3x3_reduce", p + "3x3_reduce"),
        conv(p + "3x3", p + "3x3_reduce", n3, 3, pad=1), relu(p + "relu_3x3", p + "3x3"),
        conv(p + "5x5_reduce", bottom, n5r, 1), relu(p + "relu_5x5_reduce", p + "5x5_reduce"),
        conv(p + "5x5", p + "5x5_reduce", n5, 5, pad=2), relu(p + "relu_5x5", p + "5x5"),
        pool(p + "pool", bottom, "MAX", 3, 1, pad=1),
        conv(p + "pool_proj", p + "pool", npool, 1), relu(p + "relu_pool_proj", p + "pool_proj"),
        layer(p + "output", "Concat", [p + "1x1", p + "3x3", p + "5x5", p + "pool_proj"], axis=1),
    ]


def googlenet():
    """bvlc_googlenet (Szegedy et al. 2014), the deploy net (no auxiliary classifiers); input 224x224."""
    specs = [
        conv("conv1/7x7_s2", "data", 64, 7, stride=2, pad=3), relu("conv1/relu_7x7", "conv1/7x7_s2"),
        pool("pool1/3x3_s2", "conv1/7x7_s2", "MAX", 3, 2), lrn("pool1/norm1", "pool1/3x3_s2"),
        conv("conv2/3x3_reduce", "pool1/norm1", 64, 1), relu("conv2/relu_3x3_reduce", "conv2/3x3_reduce"),
        conv("conv2/3x3", "conv2/3x3_reduce", 192, 3, pad=1), relu("conv2/relu_3x3", "conv2/3x3"),
        lrn("conv2/norm2", "conv2/3x3"), pool("pool2/3x3_s2", "conv2/norm2", "MAX", 3, 2),
    ]
    bottom = "pool2/3x3_s2"
    for module in ("3a", "3b", "4a", "4b", "4c", "4d", "4e", "5a", "5b"):
        specs += _inception(module, bottom)
        bottom = f"inception_{module}/output"
        if module in ("3b", "4e"):
            reduction = "pool3/3x3_s2" if module == "3b" else "pool4/3x3_s2"
            specs.append(pool(reduction, bottom, "MAX", 3, 2))
            bottom = reduction
    specs += [
        pool("pool5/7x7_s1", bottom, "AVE", 7, 1),
        dropout("pool5/drop_7x7_s1", "pool5/7x7_s1", 0.4),
        fc("loss3/classifier", "pool5/7x7_s1", 1000),
        layer("prob", "Softmax", "loss3/classifier", axis=1),
    ]
    return specs, {"name": "googlenet", "input_size": (224, 224), "mean_bgr": IMAGENET_MEAN_BGR,
                   "channel_order": "BGR", "extra": {"default_layer": "inception_4c/output"}}


ARCHITECTURES = {"alexnet": alexnet, "googlenet": googlenet, "mini": mini_module.architecture}


def architecture(name):
    """(specs, meta) of a built-in architecture."""
    if name not in ARCHITECTURES:
        raise ValueError(f"unknown architecture {name!r}; built in: {', '.join(sorted(ARCHITECTURES))}")
    return ARCHITECTURES[name]()


