"""The Net's two speed passes (minidream/engine/plans.py), each on its own, and the Net through them against finite
differences: in-place ReLU and sibling 1x1 convolutions fused into one product (the fast engine's only)."""
import numpy as np

from minidream.models import random_weights as models
from minidream.engine.engines import set_engine
from minidream.engine.graph import INPUT, Graph
from minidream.engine.ops import conv
from minidream.engine.net import Net
from minidream.engine.plans import forward_shared_input, in_place_layers, plan, pointwise_groups
from minidream.engine.layer_types.specs import layer as L
from tests.gradcheck import numerical_gradient, param_grad_errors, rel_error


def _inception_like():
    """Three 1x1 convolutions and a 3x3 read `pool`; c's pre-ReLU output is also read by another layer."""
    return [
        L("conv0", "Convolution", "data", num_output=5, kernel_size=[3, 3], pad=[1, 1]),
        L("relu0", "ReLU", "conv0", "conv0"),
        L("pool", "Pooling", "conv0", pool="MAX", kernel_size=[2, 2], stride=[2, 2]),
        L("a", "Convolution", "pool", num_output=3, kernel_size=[1, 1]),
        L("relu_a", "ReLU", "a", "a"),
        L("b", "Convolution", "pool", num_output=2, kernel_size=[1, 1], bias_term=False),
        L("relu_b", "ReLU", "b", "b"),
        L("c", "Convolution", "pool", num_output=4, kernel_size=[1, 1]),
        L("d", "Convolution", "pool", num_output=2, kernel_size=[3, 3], pad=[1, 1]),
        L("c_twice", "Concat", ["c", "c"]),  # reads c before its ReLU
        L("relu_c", "ReLU", "c", "c"),
        L("out", "Concat", ["a", "b", "c_twice", "d"]),
    ]


def _net(dtype=np.float64, seed=0):
    net = Net(_inception_like(), meta={"input_size": (8, 10)}, dtype=dtype)
    rng = np.random.default_rng(seed)
    for arrays in net.params.values():
        for a in arrays:
            a[...] = rng.standard_normal(a.shape)
    return net


def test_pointwise_groups_find_the_siblings_only():
    graph = Graph(_inception_like())
    order = list(range(len(graph.specs)))
    assert [[graph.names[i] for i in g] for g in pointwise_groups(graph, order)] == [["a", "b", "c"]]
    assert pointwise_groups(graph, [graph.index[n] for n in ("conv0", "relu0", "pool", "a", "d")]) == []


def test_in_place_only_over_fresh_single_use_outputs():
    graph = Graph(_inception_like())
    order = list(range(len(graph.specs)))
    names = {graph.names[i] for i in in_place_layers(graph, order, end_slots=[])}
    # relu_c's input c is also read by c_twice: it must not be overwritten.
    assert names == {"relu0", "relu_a", "relu_b"}
    # asking for a convolution's own (pre-ReLU) output keeps its ReLU out of place
    assert "relu_a" not in {graph.names[i] for i in in_place_layers(graph, order, [(graph.index["a"], 0)])}


def test_plan_runs_each_group_once():
    net = _net()
    labels = [step.label for step in plan(net, [net.graph.slot("out")])]
    assert "a + b + c" in labels and "a" not in labels and "b" not in labels
    assert labels.index("a + b + c") < labels.index("relu_a")


def test_the_textbook_engine_runs_sibling_convolutions_one_by_one_and_the_net_keeps_a_plan_per_engine():
    net = _net()
    x = np.random.default_rng(5).standard_normal((1, 3, 8, 10))
    y_fast = net.forward(x, end="out").copy()
    with set_engine("textbook"):
        labels = [step.label for step in plan(net, [net.graph.slot("out")])]
        y_book = net.forward(x, end="out")
    assert " + ".join("abc") not in labels and {"a", "b", "c"} <= set(labels)
    assert rel_error(y_book, y_fast) < 1e-12


def test_shared_input_pointwise_convolutions_match_separate_ones():
    rng = np.random.default_rng(4)
    x = rng.standard_normal((2, 6, 5, 7)).astype(np.float32)
    weights = [rng.standard_normal((f, 6, 1, 1)).astype(np.float32) for f in (3, 1, 4)]
    biases = [rng.standard_normal(3).astype(np.float32), None, rng.standard_normal(4).astype(np.float32)]
    for (y, cache), w, b in zip(forward_shared_input(x, weights, biases), weights, biases):
        y_ref, cache_ref = conv.forward(x, w, b)
        assert rel_error(y, y_ref) < 1e-6
        dy = rng.standard_normal(y.shape).astype(np.float32)
        for fast, ref in zip(conv.backward(dy, cache), conv.backward(dy, cache_ref)):
            assert (fast is None and ref is None) or rel_error(fast, ref) < 1e-6


def test_net_through_both_passes_matches_finite_differences():
    net = _net()
    x = np.random.default_rng(1).standard_normal((2, 3, 8, 10))
    for end in ("out", "relu_c", "a", ["a", "relu_b"]):
        y = net.forward(x, end=end)
        rng = np.random.default_rng(2)
        dy = {k: rng.standard_normal(v.shape) for k, v in y.items()} if isinstance(end, list) else \
            rng.standard_normal(y.shape)
        dx = net.backward(dy)

        def f(v, end=end):
            out = net.forward(v, end=end)
            return np.concatenate([out[k].ravel() for k in end]) if isinstance(end, list) else out.copy()

        flat_dy = np.concatenate([dy[k].ravel() for k in end]) if isinstance(end, list) else dy
        assert rel_error(dx, numerical_gradient(f, x, flat_dy)) < 1e-6, end


def test_param_grads_through_the_fused_group_match_finite_differences():
    net = _net()
    x = np.random.default_rng(3).standard_normal((1, 3, 8, 10))
    y = net.forward(x, end="out")
    dy = np.random.default_rng(4).standard_normal(y.shape)
    net.backward(dy, param_grads=True)
    errors = param_grad_errors(net, x, "out", dy, ("a", "b", "c"))
    assert max(errors.values()) < 1e-6, errors


def test_googlenet_walk_reads_its_input_once_per_fused_group():
    net = models.random_model("googlenet")
    steps = plan(net, [net.graph.slot("inception_3a/output")])
    fused = [s for s in steps if " + " in s.label]
    assert [s.label for s in fused] == ["inception_3a/1x1 + inception_3a/3x3_reduce + inception_3a/5x5_reduce"]
    assert fused[0].bottoms == [net.graph.slot("pool2/3x3_s2")] * 3 and INPUT not in fused[0].bottoms
