"""What every benchmark here measures, in one place: the cases, the sizes, the input, the FLOP count, and per-layer
timing through the Net's public hooks.

A case is (architecture, end layer): one DeepDream step is a forward to the end layer and the backward of the L2
objective to the input (a dream needs no weight gradients).
"""
import time

import numpy as np

from minidream.models.random_weights import random_model

CASES = [("googlenet", "inception_4c/output"), ("alexnet", "conv5"), ("vgg16", "conv4_3"), ("resnet50", "res4f")]
SIZES = [(224, 224), (480, 640)]  # (H, W)
DREAM_JITTER = 32  # minidream.dream's default jitter: the tiled gradients and the memory estimate use it


def sizes(quick=False):
    return SIZES[:1] if quick else SIZES


def input_image(size, batch=1):
    """A fixed random network input (batch, 3, H, W), about the scale of mean-subtracted pixels."""
    return (np.random.default_rng(0).standard_normal((batch, 3) + tuple(size)) * 50).astype(np.float32)


def step_flops(net, end, size):
    """FLOPs of forward to `end` plus the input-gradient backward (twice the forward's multiply-adds)."""
    shapes = net.output_shapes(size)
    needed = {name for name, _ in _ancestor_layers(net, end)}
    total = 0
    for spec in net.specs:
        if spec["name"] in needed and spec["type"] in ("Convolution", "InnerProduct", "Deconvolution"):
            w = net.params[spec["name"]][0]
            total += 2 * int(np.prod(shapes[spec["name"]][1:])) * int(np.prod(w.shape[1:]))
    return 2 * total


def _ancestor_layers(net, end):
    graph = net.graph
    return [(graph.names[i], i) for i in graph.ancestors([graph.slot(end)])]


def add_options(parser, repeats=5):
    """The options every benchmark script takes."""
    parser.add_argument("--quick", action="store_true", help="224x224 only, no per-layer tables")
    parser.add_argument("--repeats", type=int, default=repeats, help=f"timed steps per case (default {repeats})")
    parser.add_argument("--no-torch", action="store_true", help="skip the PyTorch columns")


class LayerTimes:
    """Per-step times of a Net's walk from its public hooks: {label: ([forward s...], [backward s...])}.

    clock() -> a mark, elapsed(a, b) -> seconds between two marks: perf_counter by default, CUDA events on a GPU
    (read them only after synchronizing).
    """

    def __init__(self, net, clock=time.perf_counter, elapsed=lambda a, b: b - a):
        self.net, self.clock, self.elapsed, self.marks = net, clock, elapsed, []
        self._open = {}

    def __enter__(self):
        self.net.hooks.append(self._hook)
        return self

    def __exit__(self, *exc):
        self.net.hooks.remove(self._hook)

    def _hook(self, label, phase, event):
        if event == "start":
            self._open[label, phase] = self.clock()
        else:
            self.marks.append((label, phase, self._open.pop((label, phase)), self.clock()))

    def medians_ms(self, skip=0):
        """{label: (forward ms, backward ms)} medians, leaving out the first `skip` calls of each (warm-up)."""
        times = {}
        for label, phase, a, b in self.marks:
            times.setdefault(label, ([], []))[phase == "backward"].append(self.elapsed(a, b))
        return {label: tuple(1000 * float(np.median(t[skip:])) if t[skip:] else 0.0 for t in pair)
                for label, pair in times.items()}


def per_layer(name, end, size, repeats=3):
    """{layer (or fused group): (forward ms, backward ms)} on the CPU: medians over `repeats` steps after one, with
    the weights frozen as in a dream."""
    net = random_model(name)
    x = input_image(size)
    with LayerTimes(net) as times, net.frozen():
        for _ in range(repeats + 1):
            net.backward(net.forward(x, end=end))
    return times.medians_ms(skip=1)
