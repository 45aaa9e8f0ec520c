"""Models with weights made here: He-initialized random models of the built-in architectures, for tests and
benchmarks without a download (minidream.architectures has the graphs)."""
import numpy as np

from minidream.architectures import ARCHITECTURES, architecture  # noqa: F401  (models.architecture(name) reads well)
from minidream.net import Net


def he_init(net, seed=0):
    """He et al. 2015 initialization: W ~ N(0, 2 / fan_in), biases zero (fan_in = C/G * KH * KW, or K)."""
    rng = np.random.default_rng(seed)
    for name in net.layer_names:
        if name not in net.params:
            continue
        w = net.params[name][0]
        fan_in = int(np.prod(w.shape[1:]))
        w[...] = rng.standard_normal(w.shape, dtype=np.float32) * np.float32(np.sqrt(2.0 / fan_in))
        for b in net.params[name][1:]:
            b[...] = 0.0
    return net


def random_model(name, seed=0, device="cpu"):
    """A built-in architecture with He-initialized weights (no download)."""
    specs, meta = architecture(name)
    net = he_init(Net(specs, meta=meta), seed)
    return net.to(device)
