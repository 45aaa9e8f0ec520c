"""The plan's affine fold (minidream/engine/plans.py: affine_chains, affine_step): BatchNorm and Scale after a convolution
fold into its weights at inference, and the Net gives what the layer-by-layer walk gives, gradients included."""
import numpy as np

from minidream.engine import plans
from minidream.engine.graph import Graph
from minidream.engine.net import Net
from minidream.engine.ops import batch_norm
from minidream.engine.layer_types.specs import layer
from tests.gradcheck import numerical_gradient, rel_error


def conv(name, bottom, n, **kw):
    return layer(name, "Convolution", bottom, num_output=n, kernel_size=[3, 3], pad=[1, 1], **kw)


SPECS = [
    conv("c1", "data", 8, bias_term=False),
    layer("bn1", "BatchNorm", "c1", "c1", eps=0.1), layer("sc1", "Scale", "c1", "c1", bias_term=True),
    layer("relu1", "ReLU", "c1", "c1"),
    conv("c2", "c1", 8), layer("sc2", "Scale", "c2", "c2"),          # Scale alone, no bias
    conv("c3", "c2", 8), layer("bn3", "BatchNorm", "c3"),             # c3 also read below: no fold
    conv("c4", "c3", 8), layer("bn4", "BatchNorm", "c4", use_global_stats=False),  # always batch statistics
    layer("out", "Eltwise", ["bn3", "bn4", "c3"]),
]


def _net(seed=0):
    net = Net(SPECS, meta={"input_size": (6, 7)}, dtype=np.float64)
    rng = np.random.default_rng(seed)
    for name, arrays in net.params.items():
        for a in arrays:
            a[...] = rng.standard_normal(a.shape)
        if name.startswith("bn"):
            arrays[1][...] = rng.random(8) + 0.5  # variance sums > 0
            arrays[2][...] = 2.0  # moving-average factor
    return net


def test_chains_stop_at_forks_ends_and_batch_statistics():
    graph = Graph(SPECS)
    order = list(range(len(SPECS)))
    named = lambda chains: [[graph.names[i] for i in c] for c in chains]  # noqa: E731
    assert named(plans.affine_chains(graph, order, [])) == [["c1", "bn1", "sc1"], ["c2", "sc2"]]
    assert named(plans.affine_chains(graph, order, [(graph.index["bn1"], 0)])) == [["c1", "bn1"], ["c2", "sc2"]]


def _walk(net, x, dy, train=False, param_grads=False):
    y = net.forward(x, end="out", train=train)
    return y.copy(), net.backward(dy, param_grads=param_grads), dict(getattr(net, "grads", {}))


def test_folded_walk_matches_the_layer_by_layer_walk(monkeypatch):
    x = np.random.default_rng(1).standard_normal((2, 3, 6, 7))
    dy = np.random.default_rng(2).standard_normal((2, 8, 6, 7))
    folded = _net()
    labels = [step.label for step in folded._plan([(folded.graph.index["out"], 0)])]
    assert "c1 + bn1 + sc1" in labels and "c2 + sc2" in labels
    results = {}
    for fold in (True, False):
        if not fold:
            monkeypatch.setattr(plans, "affine_chains", lambda *a, **k: [])
        net = _net()
        results[fold] = [_walk(net, x, dy), _walk(net, x, dy, param_grads=True), _walk(net, x, dy, train=True),
                         [a.copy() for a in net.params["bn1"]]]
    (y, dx, _), (_, _, grads), (y_train, dx_train, _), bn1_after = results[True]
    (y_ref, dx_ref, _), (_, _, grads_ref), (y_train_ref, dx_train_ref, _), bn1_ref = results[False]
    assert rel_error(y, y_ref) < 1e-13 and rel_error(dx, dx_ref) < 1e-13
    assert grads.keys() == grads_ref.keys() and {"c1", "sc1", "c2", "sc2"} <= grads.keys()
    for name in grads:  # the layers' own gradients after an inference forward: the chain runs again, unfolded
        for g, g_ref in zip(grads[name], grads_ref[name]):  # (c4's bias gradient through batch statistics is ~0)
            np.testing.assert_allclose(g, g_ref, rtol=1e-11, atol=1e-13, err_msg=name)
    # Training runs the layers one by one: batch statistics, and the running sums updated once.
    assert np.array_equal(y_train, y_train_ref) and np.array_equal(dx_train, dx_train_ref)
    assert all(np.array_equal(a, b) for a, b in zip(bn1_after, bn1_ref))


def test_folded_input_gradient_matches_finite_differences():
    net = _net(seed=3)
    x = np.random.default_rng(4).standard_normal((1, 3, 6, 7))
    dy = np.random.default_rng(5).standard_normal((1, 8, 6, 7))
    net.forward(x, end="out")
    dx = net.backward(dy)
    assert rel_error(dx, numerical_gradient(lambda v: net.forward(v, end="out").copy(), x, dy)) < 1e-7


def test_a_chain_is_folded_rather_than_grouped_with_its_1x1_siblings():
    specs = [layer("p", "Convolution", "data", num_output=4, kernel_size=[1, 1]), layer("bnp", "BatchNorm", "p"),
             layer("q", "Convolution", "data", num_output=2, kernel_size=[1, 1]),
             layer("r", "Convolution", "data", num_output=2, kernel_size=[1, 1]),
             layer("out", "Concat", ["bnp", "q", "r"])]
    net = Net(specs, meta={"input_size": (5, 5)}, dtype=np.float64)
    assert [step.label for step in net._plan([(net.graph.index["out"], 0)])] == ["p + bnp", "q + r", "out"]


def _count_folds(monkeypatch):
    """[calls of batch_norm.affine], the one piece of the fold that BatchNorm adds (c1's chain has one BatchNorm)."""
    calls = []
    original = batch_norm.affine
    monkeypatch.setattr(batch_norm, "affine", lambda *a, **k: calls.append(1) or original(*a, **k))
    return calls


def test_frozen_folds_once_and_gives_the_same_numbers(monkeypatch):
    x = np.random.default_rng(1).standard_normal((2, 3, 6, 7))
    dy = np.random.default_rng(2).standard_normal((2, 8, 6, 7))
    net = _net()
    expected = _walk(net, x, dy)
    calls = _count_folds(monkeypatch)
    with net.frozen():
        with net.frozen():  # nested: the outer one's
            runs = [_walk(net, x, dy) for _ in range(3)]
    assert len(calls) == 1 and net.derived is None
    for y, dx, _ in runs:
        np.testing.assert_array_equal(y, expected[0])
        np.testing.assert_array_equal(dx, expected[1])
    _walk(net, x, dy)
    _walk(net, x, dy)
    assert len(calls) == 3  # outside it, each forward folds again


def test_a_change_to_the_weights_shows_after_frozen_not_inside_it():
    x = np.random.default_rng(1).standard_normal((2, 3, 6, 7))
    net = _net()
    with net.frozen():
        before = net.forward(x, end="out").copy()
        net.params["bn1"][1][...] *= 4  # variance: c1's folded scale halves
        np.testing.assert_array_equal(net.forward(x, end="out"), before)
    assert not np.allclose(net.forward(x, end="out"), before)


def test_moving_the_net_inside_frozen_drops_what_was_derived_from_the_old_arrays():
    net = _net()
    with net.frozen():
        net.forward(np.ones((1, 3, 6, 7)), end="out")
        assert net.derived
        net.to("cpu")  # new arrays (on the GPU, on the device): the folded weights of the old ones must go
        assert net.derived == {}
