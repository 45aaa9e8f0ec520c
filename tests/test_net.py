import numpy as np
import pytest

from minidream.models import random_weights as models
from minidream.engine.layer_types.specs import layer as L
from minidream.engine.net import Net, UnknownLayerError
from tests.gradcheck import numerical_gradient, param_grad_errors, rel_error
from minidream.models.loading import load_net, save_model


def _small_specs():
    """A little net with every layer type: grouped conv, in-place ReLU, LRN, both pools, concat, FC, softmax."""
    return [
        L("conv1", "Convolution", "data", num_output=4, kernel_size=[3, 3], stride=[1, 1], pad=[1, 1], group=1),
        L("relu1", "ReLU", "conv1", "conv1"),
        L("norm1", "LRN", "conv1", local_size=3, alpha=1.0, beta=0.75, k=2.0),
        L("pool1", "Pooling", "norm1", pool="MAX", kernel_size=[3, 3], stride=[2, 2]),
        L("conv2a", "Convolution", "pool1", num_output=2, kernel_size=[1, 1], group=2),
        L("conv2b", "Convolution", "pool1", num_output=4, kernel_size=[3, 3], pad=[1, 1], group=2),
        L("relu2b", "ReLU", "conv2b", "conv2b"),
        L("pool2", "Pooling", "pool1", pool="AVE", kernel_size=[3, 3], stride=[1, 1], pad=[1, 1]),
        L("cat", "Concat", ["conv2a", "conv2b", "pool2"]),
        L("drop", "Dropout", "cat", "cat", dropout_ratio=0.5),
        L("fc", "InnerProduct", "cat", num_output=3),
        L("prob", "Softmax", "fc"),
    ]


def _small_net(dtype=np.float64, seed=0):
    net = Net(_small_specs(), meta={"name": "small", "input_size": (7, 8)}, dtype=dtype)
    rng = np.random.default_rng(seed)
    for arrays in net.params.values():
        for a in arrays:
            a[...] = rng.standard_normal(a.shape)
    return net


def test_backward_matches_finite_differences():
    net = _small_net()
    x = np.random.default_rng(1).standard_normal((2, 3, 7, 8))
    for end in ("prob", "cat", "relu1", "conv1"):
        y = net.forward(x, end=end)
        dy = np.random.default_rng(2).standard_normal(y.shape)
        dx = net.backward(dy)
        num = numerical_gradient(lambda v: net.forward(v, end=end).copy(), x, dy)
        assert rel_error(dx, num) < 1e-6, end


def test_param_grads_match_finite_differences():
    net = _small_net()
    x = np.random.default_rng(3).standard_normal((2, 3, 7, 8))
    y = net.forward(x, end="fc")
    dy = np.random.default_rng(4).standard_normal(y.shape)
    net.backward(dy, param_grads=True)
    errors = param_grad_errors(net, x, "fc", dy, ("conv1", "conv2b", "fc"))
    assert max(errors.values()) < 1e-6, errors


def test_several_ends_sum_their_gradients():
    net = _small_net()
    x = np.random.default_rng(5).standard_normal((1, 3, 7, 8))
    outs = net.forward(x, end=["conv2a", "pool2"])
    g = {k: np.random.default_rng(6).standard_normal(v.shape) for k, v in outs.items()}
    both = net.backward(g)
    net.forward(x, end="conv2a")
    first = net.backward(g["conv2a"])
    net.forward(x, end="pool2")
    second = net.backward(g["pool2"])
    assert rel_error(both, first + second) < 1e-12


def test_forward_runs_only_ancestors(monkeypatch):
    net = models.random_model("googlenet")
    ran = []
    net.hooks.append(lambda label, phase, event: ran.extend(label.split(" + ") if event == "start" else []))
    net.forward(np.zeros((1, 3, 64, 64), np.float32), end="inception_3a/3x3_reduce")
    assert ran[-1] == "inception_3a/3x3_reduce"
    assert "inception_3a/1x1" not in ran and "inception_3a/pool" not in ran
    assert ran == [n for n in net.layer_names if n in set(ran)]  # graph order
    assert "pool2/3x3_s2" in ran and len(ran) == 11


def test_activations_go_with_the_backward_or_before_the_next_forward():
    """A tiled dream runs window after window: a window's activations must not stay alive after its backward, nor
    while the next window's are made (at 12 MP they doubled the peak memory)."""
    import weakref

    net = _small_net()
    x = np.random.default_rng(2).standard_normal((1, 3, 7, 8))
    y = net.forward(x, end="relu1")  # kept by ReLU's and LRN's caches, not only by the caller
    last = weakref.ref(y)
    dx = net.backward(np.ones_like(y))
    del y
    assert last() is None and dx.shape == x.shape
    with pytest.raises(RuntimeError, match="needs a net.forward first"):
        net.backward(np.ones((1, 4, 7, 8)))  # the caches are used up
    y = net.forward(x, end="relu1")  # no backward: kept until the next forward starts
    last = weakref.ref(y)
    del y
    assert last() is not None
    alive_at_start = []
    net.hooks.append(lambda label, phase, event: alive_at_start.append(last() is not None))
    y = net.forward(x, end="pool1")
    assert alive_at_start[0] is False
    np.testing.assert_array_equal(net.backward(np.ones_like(y)).shape, x.shape)  # the new forward's backward


def test_pre_and_post_relu_outputs():
    net = models.random_model("googlenet")
    x = np.random.default_rng(0).standard_normal((1, 3, 48, 40)).astype(np.float32) * 50
    pre = net.forward(x, end="conv1/7x7_s2")
    post = net.forward(x, end="conv1/relu_7x7")
    assert (pre < 0).any() and (post >= 0).all()
    assert np.array_equal(post, np.maximum(pre, 0))
    both = net.forward(x, end=["conv1/7x7_s2", "conv1/relu_7x7"])  # in-place ReLU must not clobber the end
    assert np.array_equal(both["conv1/7x7_s2"], pre) and np.array_equal(both["conv1/relu_7x7"], post)
    # A later layer reads the post-ReLU blob even though the blob is named after the convolution.
    reduce_in = net.forward(x, end="pool1/3x3_s2")
    assert (reduce_in >= 0).all()


@pytest.mark.parametrize("size", [(224, 224), (231, 257)])
def test_googlenet_shapes_match_forward(size):
    net = models.random_model("googlenet")
    shapes = net.output_shapes(size)
    if size == (224, 224):
        assert shapes["inception_4c/output"] == (1, 512, 14, 14)
        assert shapes["pool5/7x7_s1"] == (1, 1024, 1, 1) and shapes["prob"] == (1, 1000)
    x = np.zeros((1, 3) + size, np.float32)
    ends = [n for n in net.layer_names if n not in ("loss3/classifier", "prob") or size == (224, 224)]
    outs = net.forward(x, end=ends)
    for name in ends:
        assert outs[name].shape == shapes[name], name
    assert net.output_shape("inception_4c/output", size) == shapes["inception_4c/output"]


def test_alexnet_shapes():
    net = models.random_model("alexnet")
    shapes = net.output_shapes((227, 227))
    assert [shapes[k][2] for k in ("conv1", "pool1", "pool2", "pool5")] == [55, 27, 13, 6]
    assert shapes["fc6"] == (1, 4096) and net.params["conv2"][0].shape == (256, 48, 5, 5)
    assert net.params["fc6"][0].shape == (4096, 9216)
    odd = net.output_shapes((231, 257))
    assert odd["conv5"] == (1, 256, 14, 15)  # 231: 56 -> 28 -> 14; 257: 62 -> 31 -> 15


def test_params_are_writable_in_place():
    net = _small_net(np.float32)
    x = np.ones((1, 3, 7, 8), np.float32)
    before = net.forward(x, end="conv1").copy()
    net.params["conv1"][1][...] += 1.0
    assert np.allclose(net.forward(x, end="conv1"), before + 1.0)


def test_save_and_load_round_trip(tmp_path):
    net = _small_net(np.float32)
    net.meta["class_names"] = ["a", "b", "c"]
    path = tmp_path / "small.h5"
    save_model(net, path)
    loaded = load_net(path)
    x = np.random.default_rng(0).standard_normal((2, 3, 7, 8)).astype(np.float32)
    assert np.array_equal(net.forward(x, end="prob"), loaded.forward(x, end="prob"))
    assert loaded.layer_names == net.layer_names and loaded.meta["class_names"] == ["a", "b", "c"]
    assert loaded.meta["input_size"] == (7, 8)
    assert [p.name for p in tmp_path.iterdir()] == ["small.h5"]  # no temp file left behind


def test_unknown_layer_suggests_names():
    net = models.random_model("googlenet")
    with pytest.raises(UnknownLayerError) as err:
        net.forward(np.zeros((1, 3, 64, 64), np.float32), end="inception_4c/outptu")
    assert "inception_4c/output" in str(err.value) and "layers --model" in str(err.value)


def test_bad_inputs_say_what_is_wrong():
    net = models.random_model("googlenet")
    with pytest.raises(ValueError, match="too small for layer"):
        net.forward(np.zeros((1, 3, 8, 8), np.float32), end="inception_4c/output")
    with pytest.raises(ValueError, match="input channels"):
        net.forward(np.zeros((1, 4, 64, 64), np.float32), end="conv1/7x7_s2")
    with pytest.raises(ValueError, match="4-D"):
        net.forward(np.zeros((3, 64, 64), np.float32), end="conv1/7x7_s2")
    with pytest.raises(RuntimeError, match="forward first"):
        models.random_model("alexnet").backward(np.zeros(1))
    assert net.min_input_size("inception_4c/output") <= 64


def test_unsupported_layer_type_is_named():
    with pytest.raises(ValueError, match="'weird'.*Threshold.*supported"):
        Net([{"name": "weird", "type": "Threshold", "bottoms": ["data"], "tops": ["weird"], "params": {}}])
