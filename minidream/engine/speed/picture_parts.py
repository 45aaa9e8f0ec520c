"""A batch's pictures walked in parts, a part per core: the CPU path of a batched dream's forward and backward.

A batch of small pictures (the microscope's) walked as one leaves the cores idle part of the time: every layer's
work is cut over the cores and put back together, and between the pieces the threads wait on each other and on
Python's GIL (docs/speed.md, "Batched rendering"). Here the batch is cut into WORKERS parts of whole
pictures instead, and each part is walked forward and backward by a Net of its own on one thread, its layers
cut nothing (parallel.serial): fewer, larger NumPy calls, and a core that never waits for the other's layer.

Each picture gets exactly the numbers it gets in the whole batch or alone: the layers compute picture by picture,
and a part's matrix products keep the bands they have outside (parallel.for_blas_blocks), whose shapes OpenBLAS
rounds by. So a batched picture's recipe still remakes it bit for bit (tests/test_batch_dream.py).

Only where that holds for every layer walked (LayerType.per_picture: no batch statistics, nothing across the batch
axis), on the CPU, and with at least a picture per core; otherwise the Net walks the batch. The dream asks for it
through engines.fast("picture_parts"): under the textbook engine the Net walks every batch.
"""
import copy
import weakref

import numpy as np

from minidream.engine.layer_types import type_of
from minidream.engine.speed import parallel, workers

_part_nets = weakref.WeakKeyDictionary()  # net -> the Nets that walk its parts, made once


def walker(net, batch):
    """What walks a batch of `batch` pictures through net: PictureParts where parts pay and keep the numbers, else
    the net itself (both have forward(x, end) and backward(dtop) as Net's)."""
    if parallel.WORKERS < 2 or batch < parallel.WORKERS or net.device != "cpu":
        return net
    return PictureParts(net, parallel.WORKERS)


class PictureParts:
    """Net.forward and Net.backward of a batch, in `parts` parts of whole pictures walked at once."""

    def __init__(self, net, parts):
        self.net, self.parts = net, parts
        self._nets, self._bounds, self._whole = None, None, None

    def forward(self, x, end):
        """As net.forward(x, end) (end: a name or a list of names), the same numbers."""
        ends = list(end) if isinstance(end, (list, tuple)) else [end]
        graph = self.net.graph
        self._whole = not all(type_of(graph.specs[i]).per_picture(graph.specs[i]["params"])
                              for i in graph.ancestors([graph.slot(e) for e in ends]))
        if self._whole:
            return self.net.forward(x, end=end)
        n = len(x)
        self._bounds = [n * k // self.parts for k in range(self.parts + 1)]
        self._nets = _nets_for(self.net, self.parts)
        outs = self._each(lambda net, pictures: net.forward(x[pictures], end=ends))
        joined = {e: np.concatenate([out[e] for out in outs]) for e in ends}
        return joined if isinstance(end, (list, tuple)) else joined[ends[0]]

    def backward(self, dtop):
        """As net.backward(dtop) after this forward (dtop: a gradient, or {end: gradient})."""
        if self._whole:
            return self.net.backward(dtop)
        if self._nets is None:
            raise RuntimeError("backward needs a forward first (each backward uses up one forward)")
        grads = self._each(lambda net, pictures: net.backward(
            {e: g[pictures] for e, g in dtop.items()} if isinstance(dtop, dict) else dtop[pictures]))
        self._nets = None
        return np.concatenate(grads)

    def _each(self, walk):
        """[walk(the part's Net, its pictures' slice) for each part], the parts at once, each on one thread."""
        results = [None] * self.parts

        def part(k):
            with parallel.serial():
                results[k] = walk(self._nets[k], slice(self._bounds[k], self._bounds[k + 1]))

        workers.run(part, list(range(self.parts)), max(1, self.parts - 1))
        return results


def _nets_for(net, parts):
    """`parts` Nets that walk net's pictures: shallow copies with a tape and step plans of their own (a plan keeps the
    Net that made it), given net's parameters and derived weights as they are now."""
    nets = _part_nets.get(net, [])
    while len(nets) < parts:
        part = copy.copy(net)
        part._plans, part._tape, part.grads = {}, None, {}
        nets.append(part)
    _part_nets[net] = nets
    for part in nets[:parts]:
        part.params, part.derived, part.device, part.hooks = net.params, net.derived, net.device, net.hooks
    return nets[:parts]
