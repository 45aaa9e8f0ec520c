"""The "vgg-bn" architecture: a small VGG with batch normalization, for training from scratch.

The layout of the VGG16-derived net that the DeepDream-on-your-own-data work trained on a 10-class
animal photo set (four conv blocks of 3x3 convolutions, each followed by batch normalization,
then max pooling; dropout; dense 512; dense N):

    block 1: conv1_1, conv1_2   32 channels     -> pool1 2x2/2
    block 2: conv2_1, conv2_2   64 channels     -> pool2 2x2/2
    block 3: conv3_1..conv3_3   128 channels    -> pool3 2x2/2
    block 4: conv4_1..conv4_3   256 channels    -> pool4 2x2/2
    fc5 (512) -> relu5 -> drop5 (0.5) -> fc6 (N classes) -> prob

Every convolution is Caffe's BN idiom (as in ResNet's deploy nets): Convolution without bias ->
BatchNorm (normalizes with batch statistics in training, stored running ones otherwise; blobs:
mean, variance, moving-average factor) -> Scale with bias (the learned gamma and beta) -> ReLU.
``batch_norm=False`` gives the same net without BatchNorm/Scale (convolutions with bias), the
baseline the BN net is compared with. For an S x S input the four pools leave S/16 x S/16 (Caffe
rounds up), so fc5 has 256 * ceil(S/16)^2 inputs; ``train --input-size S`` sets S.
"""
from minidream.engine.layer_types.specs import dropout, fc, layer, pool, relu

BLOCKS = ((32, 2), (64, 2), (128, 3), (256, 3))  # (channels, convolutions) per block
INPUT_SIZE = 64
NUM_CLASSES = 10
MEAN_BGR = [127.5, 127.5, 127.5]  # mid-grey: no data set's mean is known before training
DEFAULT_LAYER = "relu4_3"


def _conv_unit(block, i, bottom, channels, batch_norm):
    """conv{block}_{i} [-> bn -> scale] -> relu; returns (specs, top blob)."""
    name = f"{block}_{i}"
    conv = layer(f"conv{name}", "Convolution", bottom, num_output=channels, kernel_size=[3, 3], stride=[1, 1],
                 pad=[1, 1], group=1, bias_term=not batch_norm)  # BN's mean subtraction cancels a bias
    if not batch_norm:
        return [conv, relu(f"relu{name}", f"conv{name}")], f"conv{name}"
    specs = [conv,
             layer(f"bn{name}", "BatchNorm", f"conv{name}", moving_average_fraction=0.999, eps=1e-5),
             layer(f"scale{name}", "Scale", f"bn{name}", axis=1, num_axes=1, bias_term=True),
             relu(f"relu{name}", f"scale{name}")]
    return specs, f"scale{name}"


def architecture(input_size=INPUT_SIZE, num_classes=NUM_CLASSES, batch_norm=True):
    """(specs, meta) of vgg-bn for input_size x input_size images and num_classes classes."""
    if int(input_size) < 16:
        raise ValueError(f"vgg-bn needs inputs of at least 16x16 (four 2x2 poolings), got {input_size}")
    specs, bottom = [], "data"
    for block, (channels, count) in enumerate(BLOCKS, start=1):
        for i in range(1, count + 1):
            unit, bottom = _conv_unit(block, i, bottom, channels, batch_norm)
            specs += unit
        specs.append(pool(f"pool{block}", bottom, "MAX", 2, 2))
        bottom = f"pool{block}"
    specs += [fc("fc5", bottom, 512), relu("relu5", "fc5"), dropout("drop5", "fc5", 0.5),
              fc("fc6", "fc5", num_classes), layer("prob", "Softmax", "fc6", axis=1)]
    meta = {"name": "vgg-bn" if batch_norm else "vgg", "input_size": (int(input_size), int(input_size)),
            "mean_bgr": list(MEAN_BGR), "channel_order": "BGR", "input_blob": "data",
            "class_names": [f"class {k}" for k in range(num_classes)],
            "extra": {"default_layer": DEFAULT_LAYER}}
    return specs, meta
