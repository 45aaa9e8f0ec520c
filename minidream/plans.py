"""How a Net runs the layers a forward needs: a list of Steps, made by two passes over the graph.

A Step is the unit of the Net's walk: it reads some slots (minidream.graph), writes some, and has a forward and
a backward. The plain step runs one layer through its registry entry. Two passes make the walk faster without
changing a single number, and each is a separate function with its own tests:

- in_place_layers: a ReLU overwrites its producer's output, as Caffe's in-place ReLU does, when that output is
  a fresh array nobody else reads (not an end, one reader, and a producer whose backward does not read it).
- pointwise_groups: sibling 1x1 convolutions (stride 1, no padding, one group) that read the same blob — an
  inception module's 1x1, 3x3_reduce and 5x5_reduce — run as ONE taller matrix product that reads x once.
"""
from typing import Callable, NamedTuple, Tuple

from minidream.backend import get_array_module, is_gpu
from minidream.graph import INPUT
from minidream.layers import conv, parallel


class Step(NamedTuple):
    label: str  # the layer name(s), for profiles
    layers: Tuple[int, ...]
    bottoms: list  # slots read
    tops: list  # slots written
    forward: Callable  # (inputs, ctx) -> (outputs, cache)
    backward: Callable  # (dys with None for no gradient, cache, param_grads) -> (dxs, {layer: [dW, db]})


def in_place_layers(graph, order, end_slots):
    """Indices of the layers in order that may overwrite their input (see the module doc)."""
    reads = graph.consumers(order)
    found = set()
    for i in order:
        source = graph.bottoms[i][0]
        if (graph.types[i].runs_in_place and source != INPUT and source not in end_slots
                and reads[source] == 1
                and not graph.types[source[0]].keeps_output(graph.specs[source[0]]["params"])):
            found.add(i)
    return found


def pointwise_groups(graph, order):
    """[indices of 1x1 convolutions reading the same slot], for each group of two or more among order."""
    groups = {}
    for i in order:
        spec = graph.specs[i]
        p = spec["params"]
        if spec["type"] == "Convolution" and p["group"] == 1 and conv.is_pointwise(*p["kernel_size"], p["stride"],
                                                                                   p["pad"]):
            groups.setdefault(graph.bottoms[i][0], []).append(i)
    return [members for members in groups.values() if len(members) > 1]


def plan(net, end_slots):
    """The Steps that compute end_slots, in graph order."""
    graph = net.graph
    order = graph.ancestors(end_slots)
    in_place = in_place_layers(graph, order, end_slots)
    grouped = {members[0]: members for members in pointwise_groups(graph, order)}
    skip = {i for members in grouped.values() for i in members[1:]}
    return [pointwise_step(net, grouped[i]) if i in grouped else layer_step(net, i, i in in_place)
            for i in order if i not in skip]


def layer_step(net, i, in_place=False):
    """One layer through its registry entry; in_place: its forward may overwrite its input."""
    graph = net.graph
    spec, kind = graph.specs[i], graph.types[i]
    name, params = spec["name"], spec["params"]
    tops = [(i, k) for k in range(len(spec["tops"]))]

    def forward(inputs, ctx):
        outputs, cache = kind.forward(params, net.params.get(name, []), inputs, ctx._replace(in_place=in_place))
        return outputs, (cache, [(o.shape, o.dtype) for o in outputs])

    def backward(dys, cache, param_grads):
        cache, out_shapes = cache
        if any(d is None for d in dys):  # a several-top layer whose unused tops get no gradient
            xp = get_array_module(next(d for d in dys if d is not None))
            dys = [xp.zeros(*shape) if d is None else d for d, shape in zip(dys, out_shapes)]
        dxs, dweights = kind.backward(params, net.params.get(name, []), dys, cache, param_grads)
        return dxs, ({name: dweights} if dweights is not None else {})

    return Step(name, (i,), graph.bottoms[i], tops, forward, backward)


def pointwise_step(net, members):
    """Sibling 1x1 convolutions of one input as one matrix product (forward_shared_input)."""
    graph = net.graph
    names = [graph.names[m] for m in members]

    def forward(inputs, ctx):
        weights = [net.params[name] for name in names]
        results = forward_shared_input(inputs[0], [w[0] for w in weights], [w[1] if len(w) > 1 else None
                                                                            for w in weights])
        return [y for y, _ in results], [cache for _, cache in results]

    def backward(dys, caches, param_grads):
        dxs, dweights = [], {}
        for name, dy, cache in zip(names, dys, caches):
            if dy is None:
                dxs.append(None)
                continue
            dx, dw, db = conv.backward(dy, cache, weight_grads=param_grads)
            dxs.append(dx)
            if param_grads:
                dweights[name] = [dw] + ([db] if db is not None else [])
        # Handed back last member first: the Net sums them into x in the order layer-by-layer backward would.
        return dxs[::-1], dweights

    # x once per member (reversed, matching the dxs), so that each member's gradient is summed into it.
    return Step(" + ".join(names), tuple(members), graph.bottoms[members[0]] * len(members),
                [(m, 0) for m in members], forward, backward)


def forward_shared_input(x, weights, biases):
    """Several 1x1 (stride 1, no padding, one group) convolutions of the same x as ONE matrix product.

    Stacking the filters gives a taller, more efficient GEMM and reads x once. Returns [(y_k, cache_k)], each
    what conv.forward(x, weights[k], biases[k]) returns (y_k is a channel slice of the joint output).
    """
    xp = get_array_module(x)
    n, c, h, w = x.shape
    sizes = [wk.shape[0] for wk in weights]
    if any(wk.shape[1:] != (c, 1, 1) for wk in weights):
        raise ValueError(f"forward_shared_input takes 1x1 filters over {c} channels, got "
                         f"{[tuple(wk.shape) for wk in weights]}")
    w_all = xp.concatenate([wk.reshape(wk.shape[0], c) for wk in weights])
    y_all = parallel.matmul(w_all, x.reshape(n, c, h * w)).reshape(n, sum(sizes), h, w)
    results, start = [], 0
    path = "gpu" if is_gpu(x) else "cpu"
    for wk, bk, size in zip(weights, biases, sizes):
        y = y_all[:, start:start + size]
        if bk is not None:
            y += bk.reshape(1, size, 1, 1)
        results.append((y, conv.ConvCache(path, x, wk, bk is not None, (1, 1), (0, 0), 1)))
        start += size
    return results
