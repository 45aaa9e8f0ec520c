"""A classifier head slid over a feature map of any size: the head as a small Net of convolutions.

A fully connected layer whose input is (C, KH, KW) at the model's nominal size is a KH x KW convolution with the
same weights, W (Nout, C*KH*KW) -> (Nout, C, KH, KW). Over the larger map of a larger image it gives a class score
at every position. Smaller maps still work: the head's average pooling window is clipped to the map, and a map
smaller than a convolution's kernel is zero-padded up to it (missing features read as zero).
"""
import numpy as np

from minidream.engine.backend import as_numpy
from minidream.engine.layer_types import type_of
from minidream.engine.layer_types.core import pool_geometry
from minidream.engine.net import Net
from minidream.engine.ops.pool_shape import output_size as pool_size


def sliding_classifier(net, map_shape, index=None, dtype=np.float32):
    """A Net from net's classifier head (graph.classifier_head) for a trunk map of map_shape (N, C, H, W).

    Its input blob is "trunk"; its last layer gives the class scores at every position ((N, classes, h, w)), or
    only class `index`'s when given. dtype: the head's float type (float64 for gradient checks).
    """
    head = net.graph.classifier_head()
    specs, blobs, bottom, (h, w) = [], {}, "trunk", map_shape[2:]
    if head.pool is not None:
        p = net.spec(head.pool)["params"]
        kernel, stride, pad = pool_geometry(p, map_shape)
        kernel = tuple(min(k, s) for k, s in zip(kernel, (h, w)))
        specs.append({"name": head.pool, "type": "Pooling", "bottoms": [bottom], "tops": [head.pool],
                      "params": {"pool": "AVE", "kernel_size": list(kernel), "stride": list(stride),
                                 "pad": list(pad)}})
        bottom, h, w = head.pool, pool_size(h, kernel[0], stride[0], pad[0]), pool_size(w, kernel[1], stride[1], pad[1])
    for name in head.layers:
        spec = net.spec(name)
        if type_of(spec).role != "fully_connected":
            specs.append(dict(spec, bottoms=[bottom], tops=[bottom]))  # ReLU, in place
            continue
        nominal = net.output_shape(net.bottom_layers(name)[0])
        c, kh, kw = (tuple(nominal[1:]) + (1, 1))[:3]
        weights = [as_numpy(a) for a in net.params[name]]
        if name == head.classifier and index is not None:  # only the chosen class's row is needed
            weights = [a[index:index + 1] for a in weights]
        pad = [max(0, (kh - h + 1) // 2), max(0, (kw - w + 1) // 2)]
        specs.append({"name": name, "type": "Convolution", "bottoms": [bottom], "tops": [name],
                      "params": {"num_output": weights[0].shape[0], "kernel_size": [kh, kw], "pad": pad,
                                 "bias_term": len(weights) > 1}})
        blobs[name] = [weights[0].reshape(-1, c, kh, kw)] + weights[1:]
        bottom, h, w = name, h + 2 * pad[0] - kh + 1, w + 2 * pad[1] - kw + 1
    meta = {"name": f"{net.meta.get('name') or 'model'} classifier", "input_blob": "trunk",
            "input_channels": map_shape[1], "input_size": tuple(map_shape[2:])}
    return Net(specs, blobs, meta, device=net.device, dtype=dtype)
