"""A PyTorch executor of the same layer specs with Caffe's semantics — an independent implementation used by the
optional cross-check tests and as the PyTorch column of the benchmarks. PyTorch is optional: import this module
only where torch is importable.

Caffe semantics in PyTorch terms: ceil-mode pooling (PyTorch applies the same clip rule), average pooling with the
padded border counted in the divisor (count_include_pad=True), LocalResponseNorm (same alpha/n scaling),
InnerProduct flattening in (C, H, W) order.
"""
import torch
import torch.nn.functional as F

from minidream.engine.backend import as_numpy
from minidream.engine.graph import INPUT


class TorchNet:
    def __init__(self, net, device="cpu"):
        """Copy a minidream Net's specs and weights."""
        self.net = net
        self.device = device
        self.params = {name: [torch.from_numpy(as_numpy(a).copy()).to(device) for a in arrays]
                       for name, arrays in net.params.items()}

    def forward(self, x, ends):
        """{end: output} for the given end layers; x a torch tensor. Runs only the needed layers."""
        graph = self.net.graph
        outputs = {INPUT: x}
        for i in graph.ancestors([graph.slot(e) for e in ends]):
            outputs[i, 0] = self._layer(graph.specs[i], [outputs[s] for s in graph.bottoms[i]])
        return {e: outputs[graph.slot(e)] for e in ends}

    def _layer(self, spec, ins):
        p, kind, x = spec["params"], spec["type"], ins[0]
        w = self.params.get(spec["name"])
        if kind == "Convolution":
            return F.conv2d(x, w[0], w[1] if p["bias_term"] else None, tuple(p["stride"]), tuple(p["pad"]),
                            groups=p["group"])
        if kind == "InnerProduct":
            return F.linear(x.flatten(1), w[0], w[1] if p["bias_term"] else None)
        if kind == "Pooling":
            if p["global_pooling"]:
                kernel, stride, pad = tuple(x.shape[2:]), 1, 0
            else:
                kernel, stride, pad = tuple(p["kernel_size"]), tuple(p["stride"]), tuple(p["pad"])
            if p["pool"] == "MAX":
                return F.max_pool2d(x, kernel, stride, pad, ceil_mode=True)
            return F.avg_pool2d(x, kernel, stride, pad, ceil_mode=True, count_include_pad=True)
        if kind == "LRN":
            return F.local_response_norm(x, p["local_size"], p["alpha"], p["beta"], p["k"])
        if kind == "ReLU":
            return F.leaky_relu(x, p["negative_slope"]) if p["negative_slope"] else F.relu(x)
        if kind == "Concat":
            return torch.cat(ins, dim=p["axis"])
        if kind == "Dropout":
            return x
        if kind == "Softmax":
            return F.softmax(x, dim=p["axis"])
        if kind == "BatchNorm":  # inference: Caffe's blobs are sums, divided by the factor s (s = 0: zeros)
            s = w[2].reshape(()) if w[2].reshape(()) != 0 else torch.ones((), device=x.device)
            mean, var = (w[0] / s) * (w[2].reshape(()) != 0), (w[1] / s) * (w[2].reshape(()) != 0)
            return F.batch_norm(x, mean, var, eps=p["eps"])
        if kind == "Scale" and len(ins) == 1:
            shape = (1, -1) + (1,) * (x.dim() - 2)
            return x * w[0].reshape(shape) + (w[1].reshape(shape) if p["bias_term"] else 0)
        if kind == "Eltwise" and p["operation"] == "SUM":
            coeffs = p["coeff"] or [1.0] * len(ins)
            return sum(c * t for c, t in zip(coeffs, ins))
        raise ValueError(f"no PyTorch equivalent for {kind}")
