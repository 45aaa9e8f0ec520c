"""The zoo's layer types through the registry and the Net: shapes without running, float64 finite differences of
the whole walk (input and parameter gradients), Caffe's BatchNorm phase rule, and the in-place pass's limits."""
import numpy as np
import pytest

from minidream.engine.graph import Graph
from minidream.engine.net import Net
from minidream.engine.plans import in_place_layers
from minidream.engine.layer_types import TYPES, SpecError
from minidream.engine.layer_types.specs import layer
from tests.gradcheck import numerical_gradient, param_grad_errors, rel_error
from minidream.models.loading import load_net, save_model

ZOO_TYPES = ["BatchNorm", "Scale", "Bias", "Eltwise", "PReLU", "ELU", "TanH", "Sigmoid", "AbsVal", "Power", "BNLL",
             "Flatten", "Reshape", "Slice", "Crop", "Deconvolution"]


def conv(name, bottom, n, k, **kw):
    return layer(name, "Convolution", bottom, num_output=n, kernel_size=[k, k], **kw)


def zoo_specs():
    """A net with every zoo type (input (2, 3, 6, 6)), hyperparameters large enough to expose mistakes."""
    return [
        conv("c1", "data", 4, 3, pad=[1, 1]),
        layer("bn", "BatchNorm", "c1", "c1", eps=0.1),
        layer("sc", "Scale", "c1", "c1", bias_term=True),
        layer("pr", "PReLU", "c1"),
        layer("pr_shared", "PReLU", "pr", channel_shared=True),
        layer("elu", "ELU", "pr_shared", alpha=0.7),
        layer("th", "TanH", "elu"), layer("sg", "Sigmoid", "c1"), layer("ab", "AbsVal", "c1"),
        layer("pw", "Power", "sg", power=2.5, scale=1.3, shift=0.4), layer("bl", "BNLL", "ab"),
        layer("sum", "Eltwise", ["th", "pw", "bl"], operation="SUM", coeff=[0.5, -2.0, 1.5]),
        layer("prod", "Eltwise", ["sum", "th"], operation="PROD"),
        layer("max", "Eltwise", ["prod", "bl"], operation="MAX"),
        layer("sc2", "Scale", ["max", "ab"], axis=0),  # two-bottom form: gamma is bottom 1 (all its axes)
        layer("bias", "Bias", "sc2", axis=1, num_axes=1),
        layer("dc", "Deconvolution", "bias", num_output=4, kernel_size=[3, 3], stride=[2, 2], pad=[1, 1], group=2),
        layer("crop", "Crop", ["dc", "c1"], axis=2, offset=[2, 1]),
        dict(layer("sl", "Slice", "crop", axis=1, slice_point=[1, 3]), tops=["sl_a", "sl_b", "sl_c"]),
        layer("fl", "Flatten", "sl_b"), layer("rs", "Reshape", "fl", shape={"dim": [0, -1, 3]}),
    ]


def zoo_net(seed=0):
    net = Net(zoo_specs(), meta={"input_size": (6, 6)}, dtype=np.float64)
    rng = np.random.default_rng(seed)
    for name, arrays in net.params.items():
        for a in arrays:
            a[...] = rng.standard_normal(a.shape) * 0.7
    net.params["bn"][1][...] = rng.random(4) + 0.5  # variance sums > 0
    net.params["bn"][2][...] = 3.0  # the moving-average factor: statistics are mean / 3, variance / 3
    return net


def test_every_zoo_type_is_registered():
    assert set(ZOO_TYPES) <= set(TYPES)


def test_shapes_without_running_match_the_forward():
    net = zoo_net()
    x = np.random.default_rng(1).standard_normal((2, 3, 6, 6))
    shapes = net.output_shapes((6, 6), batch=2)
    outputs = net.forward(x, end=list(shapes))
    assert {k: v.shape for k, v in outputs.items()} == shapes
    assert shapes["dc"] == (2, 4, 11, 11) and shapes["crop"] == (2, 4, 6, 6) and shapes["rs"] == (2, 24, 3)
    assert net.params["dc"][0].shape == (4, 2, 3, 3)  # Deconvolution: (C_in, C_out / G, KH, KW)
    assert net.params["pr_shared"][0].shape == (1,) and net.params["bn"][2].shape == (1,)


@pytest.mark.parametrize("end", ["rs", "sl_c", "max", "bn"])
def test_input_gradient_matches_finite_differences(end):
    net = zoo_net()
    x = np.random.default_rng(2).standard_normal((2, 3, 6, 6))
    y = net.forward(x, end=end)
    dy = np.random.default_rng(3).standard_normal(y.shape)
    dx = net.backward(dy)
    num = numerical_gradient(lambda v: net.forward(v, end=end).copy(), x, dy)
    assert rel_error(dx, num) < 1e-6


def test_parameter_gradients_match_finite_differences():
    net = zoo_net()
    x = np.random.default_rng(4).standard_normal((2, 3, 6, 6))
    y = net.forward(x, end="rs")
    dy = np.random.default_rng(5).standard_normal(y.shape)
    net.backward(dy, param_grads=True)
    assert "bn" not in net.grads  # statistics: Caffe fixes lr_mult 0, SGD leaves them alone
    errors = param_grad_errors(net, x, "rs", dy, ("sc", "pr", "pr_shared", "bias", "dc"))
    assert max(errors.values()) < 1e-6, errors


def test_batch_norm_follows_caffes_phase_rule():
    """use_global_stats unset: stored statistics at test time, batch statistics (updating the blobs) in training."""
    net = zoo_net()
    x = np.random.default_rng(6).standard_normal((2, 3, 6, 6))
    c1 = net.forward(x, end="c1")  # the convolution's output (BatchNorm works in place on it in Caffe's net)
    mean, var = net.params["bn"][0] / 3.0, net.params["bn"][1] / 3.0
    want = (c1 - mean[:, None, None]) / np.sqrt(var[:, None, None] + 0.1)
    np.testing.assert_allclose(net.forward(x, end="bn"), want, rtol=1e-12)
    before = [a.copy() for a in net.params["bn"]]
    y = net.forward(x, end="bn", train=True)
    np.testing.assert_allclose(y.mean(axis=(0, 2, 3)), 0, atol=1e-12)
    assert net.params["bn"][2][0] == pytest.approx(before[2][0] * 0.999 + 1)  # s = s * maf + 1
    fixed = zoo_specs()[:2]
    fixed[1]["params"]["use_global_stats"] = True
    net2 = Net(fixed, {"c1": net.params["c1"], "bn": before}, meta={"input_size": (6, 6)}, dtype=np.float64)
    np.testing.assert_allclose(net2.forward(x, end="bn", train=True), want, rtol=1e-12)  # explicit: always stored


def test_in_place_relu_never_overwrites_a_kept_output():
    """After Eltwise PROD (its cache holds y) or a view (Reshape), a ReLU must not run in place; after SUM it may."""
    specs = [conv("c", "data", 2, 1), conv("d", "data", 2, 1),
             layer("p", "Eltwise", ["c", "d"], operation="PROD"), layer("rp", "ReLU", "p", "p"),
             layer("s", "Eltwise", ["c", "d"]), layer("rs", "ReLU", "s", "s"),
             layer("f", "Reshape", "c", shape={"dim": [0, 0, -1, 1]}), layer("rf", "ReLU", "f", "f")]
    graph = Graph(specs)
    order = list(range(len(specs)))
    assert in_place_layers(graph, order, []) == {5}


def test_bad_parameters_are_named():
    with pytest.raises(SpecError, match="'e'.*coefficients only for SUM"):
        Graph([conv("c", "data", 2, 1), layer("e", "Eltwise", ["c", "c"], operation="MAX", coeff=[1, 2])])
    with pytest.raises(SpecError, match="'s'.*2 slice points make 3 outputs.*2 tops"):
        Graph([dict(layer("s", "Slice", "data", slice_point=[1, 2]), tops=["a", "b"])])


def test_the_zoo_types_survive_the_h5_file(tmp_path):
    net = zoo_net()
    save_model(net, tmp_path / "zoo.h5")
    again = load_net(tmp_path / "zoo.h5")
    assert again.specs == net.specs and again.spec("bn")["params"]["use_global_stats"] is None
    x = np.random.default_rng(7).standard_normal((2, 3, 6, 6))
    ends = ["rs", "sl_a", "bn"]
    got, want = again.forward(x.astype(np.float32), end=ends), net.forward(x, end=ends)
    for name in ends:
        np.testing.assert_allclose(got[name], want[name], rtol=1e-4, atol=1e-4)
