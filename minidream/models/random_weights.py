"""Models with weights made here: He-initialized random models of the built-in architectures, for tests and
benchmarks without a download (minidream.architectures.builtin has the graphs)."""
import numpy as np

from minidream.architectures.builtin import architecture
from minidream.engine.net import Net


def he_init(net, seed=0):
    """He et al. 2015 initialization: W ~ N(0, 2 / fan_in), biases zero (fan_in = C/G * KH * KW, or K).

    Layers that hold statistics or scales rather than filters start as the identity: BatchNorm with mean 0,
    variance 1 and factor 1; Scale with gamma 1 and bias 0; PReLU with Caffe's default slope 0.25.
    """
    rng = np.random.default_rng(seed)
    identity = {"BatchNorm": (0.0, 1.0, 1.0), "Scale": (1.0, 0.0), "PReLU": (0.25,), "Bias": (0.0,)}
    for name in net.layer_names:
        if name not in net.params:
            continue
        kind = net.spec(name)["type"]
        if kind in identity:
            for blob, value in zip(net.params[name], identity[kind]):
                blob[...] = value
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
