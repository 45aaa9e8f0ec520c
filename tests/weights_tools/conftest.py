import numpy as np
import pytest

from minidream.architectures.builtin import architecture
from minidream.models.random_weights import he_init
from minidream.engine.net import Net
from weights_tools import writer as pw


@pytest.fixture(autouse=True)
def cache_home(tmp_path, monkeypatch):
    """Every test gets its own empty cache folder."""
    home = tmp_path / "cache"
    monkeypatch.setenv("MINIDREAM_HOME", str(home))
    return home


def small_specs():
    """A small net with every supported type, a branch (so Caffe inserts a Split) and a classifier."""
    def lay(name, kind, bottoms, top=None, **params):
        return {"name": name, "type": kind, "bottoms": bottoms, "tops": [top or name], "params": params}
    conv = dict(stride=[1, 1], pad=[0, 0], group=1, bias_term=True)
    return [
        lay("conv1", "Convolution", ["data"], num_output=4, kernel_size=[3, 3], **dict(conv, stride=[2, 2])),
        lay("relu1", "ReLU", ["conv1"], "conv1", negative_slope=0.0),
        lay("norm1", "LRN", ["conv1"], local_size=3, alpha=0.5, beta=0.75, k=2.0, norm_region="ACROSS_CHANNELS"),
        lay("a", "Convolution", ["norm1"], num_output=2, kernel_size=[1, 1], **conv),
        lay("b", "Convolution", ["norm1"], num_output=4, kernel_size=[3, 1], **dict(conv, pad=[1, 0], group=2)),
        lay("p", "Pooling", ["norm1"], pool="MAX", kernel_size=[3, 3], stride=[1, 1], pad=[1, 1],
            global_pooling=False),
        lay("cat", "Concat", ["a", "b", "p"], axis=1),
        lay("pool", "Pooling", ["cat"], pool="AVE", kernel_size=[2, 2], stride=[2, 2], pad=[0, 0],
            global_pooling=False),
        lay("fc", "InnerProduct", ["pool"], num_output=5, bias_term=True),
        lay("relu_fc", "ReLU", ["fc"], "fc", negative_slope=0.1),
        lay("drop", "Dropout", ["fc"], "fc", dropout_ratio=0.3),
        lay("out", "InnerProduct", ["fc"], num_output=3, bias_term=False),
        lay("prob", "Softmax", ["out"], axis=1),
    ]


def small_model(seed=0):
    """(specs, {layer: [W, b]}, Net) of small_specs with random weights, 13x13 input."""
    net = Net(small_specs(), meta={"input_size": (13, 13), "mean_bgr": [1.0, 2.0, 3.0]})
    rng = np.random.default_rng(seed)
    for arrays in net.params.values():
        for a in arrays:
            a[...] = rng.standard_normal(a.shape, dtype=np.float32)
    return net.specs, net.params, net


@pytest.fixture(scope="session")
def googlenet_v1(tmp_path_factory):
    """Full-size GoogLeNet (aux classifiers included) as a V1 training snapshot: (path, Net)."""
    specs, meta = architecture("googlenet")
    net = he_init(Net(pw.with_aux_classifiers(specs), meta=meta), seed=7)
    for name, arrays in net.params.items():  # non-zero biases, so a bias mix-up cannot pass
        if len(arrays) == 2:
            arrays[1][...] = np.random.default_rng(len(name)).standard_normal(arrays[1].shape) * 0.1
    path = tmp_path_factory.mktemp("caffe") / "bvlc_googlenet.caffemodel"
    path.write_bytes(pw.snapshot(net.specs, net.params, "V1", name="GoogleNet"))
    return path, net
