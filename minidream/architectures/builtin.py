"""Built-in architectures as layer specs (no weights), layer for layer as the published deploy nets.

bvlc_alexnet/deploy.prototxt and bvlc_googlenet/deploy.prototxt (Caffe model zoo), VGG_ILSVRC_16_layers_deploy
and KaimingHe's ResNet-50-deploy.prototxt give the layer names, sizes and hyperparameters written out below.
minidream.models.random_weights fills them with weights; the converter recognises them.
"""
from minidream.architectures import mini as mini_module
from minidream.architectures import vgg_bn
from minidream.engine.layer_types.specs import conv, dropout, fc, layer, lrn, pool, relu

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


def vgg16():
    """VGG ILSVRC-2014 16-layer, configuration D (Simonyan & Zisserman 2014), as VGG_ILSVRC_16_layers_deploy:
    13 3x3 convolutions (pad 1) in 5 blocks with 2x2 max pooling, fc6/fc7 of 4096 and fc8; input 224x224."""
    specs, bottom = [], "data"
    for block, (width, count) in enumerate(((64, 2), (128, 2), (256, 3), (512, 3), (512, 3)), 1):
        for k in range(1, count + 1):
            name = f"conv{block}_{k}"
            specs += [conv(name, bottom, width, 3, pad=1), relu(f"relu{block}_{k}", name)]
            bottom = name
        specs.append(pool(f"pool{block}", bottom, "MAX", 2, 2))
        bottom = f"pool{block}"
    specs += [
        fc("fc6", "pool5", 4096), relu("relu6", "fc6"), dropout("drop6", "fc6", 0.5),
        fc("fc7", "fc6", 4096), relu("relu7", "fc7"), dropout("drop7", "fc7", 0.5),
        fc("fc8", "fc7", 1000), layer("prob", "Softmax", "fc8", axis=1),
    ]
    return specs, {"name": "vgg16", "input_size": (224, 224), "mean_bgr": [103.939, 116.779, 123.68],
                   "channel_order": "BGR", "extra": {"default_layer": "conv4_3"}}


def _conv_bn(name, bottom, num_output, kernel, stride=1, pad=0, suffix=None, relu_after=True):
    """ResNet's bias-free convolution + BatchNorm + Scale (in place, KaimingHe's names) [+ ReLU]."""
    suffix = suffix or name[3:]  # res2a_branch2a -> bn2a_branch2a, scale2a_branch2a
    specs = [layer(name, "Convolution", bottom, num_output=num_output, kernel_size=[kernel, kernel],
                   stride=[stride, stride], pad=[pad, pad], group=1, bias_term=False),
             layer(f"bn{suffix}", "BatchNorm", name, name, use_global_stats=True),
             layer(f"scale{suffix}", "Scale", name, name, bias_term=True)]
    return specs + ([relu(f"{name}_relu", name)] if relu_after else [])


def resnet50():
    """ResNet-50 (He et al. 2015) as KaimingHe's ResNet-50-deploy.prototxt: bottleneck blocks (1x1, 3x3, 1x1 with
    BatchNorm + Scale, stride on the first 1x1), a projection shortcut in each stage's first block, Eltwise SUM
    then ReLU; 7x7 average pooling and fc1000; input 224x224."""
    specs = [conv("conv1", "data", 64, 7, stride=2, pad=3),
             layer("bn_conv1", "BatchNorm", "conv1", "conv1", use_global_stats=True),
             layer("scale_conv1", "Scale", "conv1", "conv1", bias_term=True), relu("conv1_relu", "conv1"),
             pool("pool1", "conv1", "MAX", 3, 2)]
    bottom = "pool1"
    for stage, (width, blocks) in enumerate(((64, 3), (128, 4), (256, 6), (512, 3)), 2):
        for b in "abcdef"[:blocks]:
            unit, stride = f"res{stage}{b}", 2 if b == "a" and stage > 2 else 1
            shortcut = bottom
            if b == "a":
                specs += _conv_bn(f"{unit}_branch1", bottom, 4 * width, 1, stride, relu_after=False)
                shortcut = f"{unit}_branch1"
            specs += _conv_bn(f"{unit}_branch2a", bottom, width, 1, stride)
            specs += _conv_bn(f"{unit}_branch2b", f"{unit}_branch2a", width, 3, pad=1)
            specs += _conv_bn(f"{unit}_branch2c", f"{unit}_branch2b", 4 * width, 1, relu_after=False)
            specs += [layer(unit, "Eltwise", [shortcut, f"{unit}_branch2c"], operation="SUM"),
                      relu(f"{unit}_relu", unit)]
            bottom = unit
    specs += [pool("pool5", bottom, "AVE", 7, 1), fc("fc1000", "pool5", 1000),
              layer("prob", "Softmax", "fc1000", axis=1)]
    return specs, {"name": "resnet50", "input_size": (224, 224), "mean_bgr": IMAGENET_MEAN_BGR,
                   "channel_order": "BGR", "extra": {"default_layer": "res4f"}}


ARCHITECTURES = {"alexnet": alexnet, "googlenet": googlenet, "mini": mini_module.architecture, "vgg16": vgg16,
                 "resnet50": resnet50, "vgg-bn": vgg_bn.architecture}


def architecture(name):
    """(specs, meta) of a built-in architecture."""
    if name not in ARCHITECTURES:
        raise ValueError(f"unknown architecture {name!r}; built in: {', '.join(sorted(ARCHITECTURES))}")
    return ARCHITECTURES[name]()


