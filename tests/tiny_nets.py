"""A tiny trainable network and pattern data sets for the training tests."""
from minidream.training import patterns
from minidream.training.image_folder import ImageSet


def tiny_arch():
    """A 32x32 network with every weighted/trained layer kind, small enough to train in seconds."""
    def layer(name, kind, bottom, top=None, **params):
        return {"name": name, "type": kind, "bottoms": [bottom], "tops": [top or name], "params": params}

    specs = [
        layer("conv1", "Convolution", "data", num_output=12, kernel_size=[3, 3], pad=[1, 1]),
        layer("relu1", "ReLU", "conv1", "conv1"),
        layer("pool1", "Pooling", "conv1", pool="MAX", kernel_size=[3, 3], stride=[2, 2]),
        layer("norm1", "LRN", "pool1", local_size=3, alpha=1e-4, beta=0.75, k=1.0),
        layer("conv2", "Convolution", "norm1", num_output=16, kernel_size=[3, 3], pad=[1, 1], group=2),
        layer("relu2", "ReLU", "conv2", "conv2"),
        layer("pool2", "Pooling", "conv2", pool="MAX", kernel_size=[3, 3], stride=[2, 2]),
        layer("fc3", "InnerProduct", "pool2", num_output=32),
        layer("relu3", "ReLU", "fc3", "fc3"),
        layer("drop3", "Dropout", "fc3", "fc3", dropout_ratio=0.25),
        layer("fc4", "InnerProduct", "fc3", num_output=2),
        layer("prob", "Softmax", "fc4", axis=1),
    ]
    return specs, {"name": "tiny", "input_size": (32, 32), "mean_bgr": [127.5] * 3, "channel_order": "BGR"}


def pattern_set(n, seed, classes=("rings", "checkerboard"), size=36):
    images, labels = patterns.generate(n, size=size, seed=seed, classes=classes)
    return ImageSet(images, labels, list(classes))
