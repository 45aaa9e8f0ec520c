"""How a Net runs the layers a forward needs: a list of Steps, made by two passes over the graph.

A Step is the unit of the Net's walk: it reads some slots (minidream.engine.graph), writes some, and has a forward and
a backward. The plain step runs one layer through its registry entry. Two passes make the walk faster without
changing a single number, and each is a separate function with its own tests:

- in_place_layers: a ReLU overwrites its producer's output, as Caffe's in-place ReLU does, when that output is
  a fresh array nobody else reads (not an end, one reader, and a producer whose backward does not read it).
- pointwise_groups: sibling 1x1 convolutions (stride 1, no padding, one group) that read the same blob — an
  inception module's 1x1, 3x3_reduce and 5x5_reduce — run as ONE taller matrix product that reads x once. A speed
  trick of the fast engine (minidream/engine/engines.py): the textbook engine runs the convolutions one by one.

A third pass changes numbers by rounding only: affine_chains finds a convolution whose output goes only through
per-channel affine layers (ResNet's BatchNorm and Scale); at inference they fold into the convolution's weights and
bias, w' = w * k, b' = b * k + shift, so the two passes over the output (and two in backward) disappear; inside
Net.frozen() (a dream) the folded weights are made once, not in every forward. Training, and any backward that asks
for the layers' own gradients, runs them one by one.
"""
from typing import Callable, NamedTuple, Tuple

from minidream.engine import engines
from minidream.engine.backend import get_array_module
from minidream.engine.graph import INPUT
from minidream.engine.ops import conv, im2col


class Step(NamedTuple):
    label: str  # the layer name(s), for profiles
    layers: Tuple[int, ...]
    bottoms: list  # slots read
    tops: list  # slots written
    forward: Callable  # (inputs, ctx) -> (outputs, cache)
    backward: Callable  # (dys with None for no gradient, cache, param_grads) -> (dxs, {layer: [dW, db]})


def in_place_layers(graph, order, end_slots):
    """Indices of the layers in order that may overwrite their input (see the module doc)."""
    readers = graph.readers(order)
    found = set()
    for i in order:
        source = graph.bottoms[i][0]
        if (graph.types[i].runs_in_place and source != INPUT and source not in end_slots
                and len(readers[source]) == 1
                and not graph.types[source[0]].keeps_output(graph.specs[source[0]]["params"])):
            found.add(i)
    return found


def pointwise_groups(graph, order):
    """[indices of 1x1 convolutions reading the same slot], for each group of two or more among order."""
    groups = {}
    for i in order:
        p = graph.specs[i]["params"]
        if (graph.types[i].role == "convolution" and p["group"] == 1
                and im2col.is_pointwise(*p["kernel_size"], p["stride"], p["pad"])):
            groups.setdefault(graph.bottoms[i][0], []).append(i)
    return [members for members in groups.values() if len(members) > 1]


def affine_chains(graph, order, end_slots):
    """[convolution, affine layer, ...] for each convolution whose output only feeds a chain of per-channel affine
    layers (LayerType.per_channel_affine: BatchNorm not forced to batch statistics, a one-bottom Scale over the
    channels); each link's output read by the next layer alone and not an end."""
    readers = graph.readers(order)
    chains = []
    for i in order:
        if graph.types[i].role != "convolution":
            continue
        chain = [i]
        while True:
            top = (chain[-1], 0)
            after = readers.get(top, [])
            if top in end_slots or len(after) != 1 or not _per_channel_affine(graph, after[0]):
                break
            chain.append(after[0])
        if len(chain) > 1:
            chains.append(chain)
    return chains


def _per_channel_affine(graph, i):
    return graph.types[i].per_channel_affine(graph.specs[i]["params"], len(graph.bottoms[i]))


def plan(net, end_slots):
    """The Steps that compute end_slots, in graph order."""
    graph = net.graph
    order = graph.ancestors(end_slots)
    in_place = in_place_layers(graph, order, end_slots)
    chains = {chain[0]: chain for chain in affine_chains(graph, order, end_slots)}
    # A folded chain saves more (four passes over its output) than sharing the input read with a sibling.
    grouped = {members[0]: members for members in pointwise_groups(graph, [i for i in order if i not in chains])
               if engines.engine() == "fast"}
    skip = {i for members in [*grouped.values(), *chains.values()] for i in members[1:]}
    return [pointwise_step(net, grouped[i]) if i in grouped else affine_step(net, chains[i]) if i in chains
            else layer_step(net, i, i in in_place) for i in order if i not in skip]


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


def affine_step(net, members):
    """A convolution and the affine layers after it (affine_chains) as one convolution with folded weights."""
    graph = net.graph
    conv_i, conv_params = members[0], dict(graph.specs[members[0]]["params"], bias_term=True)
    one_by_one = [layer_step(net, m) for m in members]

    def folded_weights():
        w, *b = net.params[graph.names[conv_i]]
        k, shift = 1.0, (b[0] if b else 0.0)
        for m in members[1:]:
            k_m, shift_m = graph.types[m].affine_terms(graph.specs[m]["params"], net.params[graph.names[m]])
            k, shift = k * k_m, shift * k_m + shift_m
        xp = get_array_module(w)
        return (w * xp.asarray(k, dtype=w.dtype).reshape(-1, 1, 1, 1),
                xp.broadcast_to(xp.asarray(shift, dtype=w.dtype), (w.shape[0],)))

    def weights_now():
        """The folded weights: made once per Net.frozen() (a dream), else each forward (the parameters may change
        between forwards: training's evaluation passes)."""
        if net.derived is None:
            return folded_weights()
        key = ("folded", conv_i)
        if key not in net.derived:
            net.derived[key] = folded_weights()
        return net.derived[key]

    def run_one_by_one(inputs, ctx):
        caches = []
        for step in one_by_one:
            inputs, cache = step.forward(inputs, ctx)
            caches.append(cache)
        return inputs, caches

    def forward(inputs, ctx):
        if ctx.train:  # batch statistics in BatchNorm, and a backward that will want the layers' own gradients
            outputs, caches = run_one_by_one(inputs, ctx)
            return outputs, ("one by one", caches, None)
        weights = weights_now()
        outputs, cache = graph.types[conv_i].forward(conv_params, weights, inputs, ctx)
        return outputs, ("folded", cache, (inputs, ctx, weights))

    def backward(dys, cache, param_grads):
        how, caches, replay = cache
        if how == "folded" and not param_grads:
            return graph.types[conv_i].backward(conv_params, replay[2], dys, caches, False)[0], {}
        if how == "folded":  # the layers' own gradients after an inference forward: run them again one by one
            _, caches = run_one_by_one(*replay[:2])
        dweights = {}
        for step, step_cache in zip(one_by_one[::-1], caches[::-1]):
            dys, grads = step.backward(dys, step_cache, param_grads)
            dweights.update(grads)
        return dys, dweights

    return Step(" + ".join(graph.names[m] for m in members), tuple(members), graph.bottoms[conv_i],
                [(members[-1], 0)], forward, backward)


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
    b_all = None if all(bk is None for bk in biases) else xp.concatenate(
        [xp.zeros(size, dtype=x.dtype) if bk is None else bk.astype(x.dtype) for bk, size in zip(biases, sizes)])
    cols = im2col.columns_for(x)  # a 1x1 convolution's columns are x itself: only the product is used
    y_all = cols.matmul(w_all, x.reshape(n, c, h * w), b_all).reshape(n, sum(sizes), h, w)
    results, start = [], 0
    for wk, bk, size in zip(weights, biases, sizes):
        y = y_all[:, start:start + size]
        results.append((y, conv.ConvCache(cols.path, x, wk, bk is not None, (1, 1), (0, 0), 1)))
        start += size
    return results
