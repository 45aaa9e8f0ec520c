"""The units a dream's objective counts: their grid against the net's own gradients, their weights, the tiles."""
import numpy as np
import pytest

from minidream.dreaming.image_region import axis_weights, edge_gain, image_part, unit_grids
from minidream.dreaming.jitter import gradient
from minidream.dreaming.objectives import L2, Channel
from minidream.engine.net import Net
from minidream.io.images import to_network
from minidream.models.loading import load_model


def _layer(name, kind, bottom, **params):
    return {"name": name, "type": kind, "bottoms": [bottom], "tops": [name], "params": params}


# Padded and unpadded windows, strides and a dilation: every way a layer moves the centres of its units.
SPECS = [
    _layer("c1", "Convolution", "data", num_output=2, kernel_size=[5, 5], pad=[1, 1]),
    _layer("p1", "Pooling", "c1", pool="AVE", kernel_size=[3, 3], stride=[2, 2]),
    _layer("c2", "Convolution", "p1", num_output=2, kernel_size=[3, 3], pad=[2, 2], dilation=[2, 2]),
    _layer("c3", "Convolution", "c2", num_output=2, kernel_size=[3, 3], stride=[2, 2], pad=[0, 0]),
]


@pytest.fixture(scope="module")
def positive_net():
    """Positive weights: a unit's input gradient is nonzero exactly on its receptive field."""
    net = Net(SPECS, meta={"input_size": (40, 40)}, dtype=np.float64)
    rng = np.random.default_rng(0)
    for blobs in net.params.values():
        for blob in blobs:
            blob[...] = rng.uniform(0.5, 1.0, blob.shape)
    return net


@pytest.mark.parametrize("layer", ["c1", "p1", "c2", "c3"])
def test_unit_grid_matches_the_receptive_fields_the_net_back_propagates(positive_net, layer):
    x = np.ones((1, 3, 40, 40))
    grid = unit_grids(positive_net)[layer]
    n = positive_net.forward(x, end=[layer])[layer].shape[-1]
    for i in (n // 2 - 1, n // 2):  # units whose fields lie inside the input
        a = positive_net.forward(x, end=[layer])[layer]
        d = np.zeros_like(a)
        d[0, 0, n // 2, i] = 1.0
        seen = np.nonzero(np.abs(positive_net.backward({layer: d})[0]).sum(axis=(0, 1)) > 0)[0]
        assert (seen[0] + seen[-1]) / 2 == pytest.approx(grid.first + grid.step * i)
        assert seen[-1] - seen[0] == pytest.approx(grid.radius)


def test_weights_are_each_units_share_of_its_field_on_the_image():
    grid = unit_grids(Net(SPECS[:1], meta={"input_size": (40, 40)}))["c1"]  # 5x5, pad 1: first 1, step 1, radius 4
    assert grid == (1.0, 1, 4.0)
    # image part: window pixels 6..15; unit i sees pixels i - 1 .. i + 3 (its centre i + 1)
    i0, weights = axis_weights(grid, 30, before=6, length=10)
    assert i0 == 3  # unit 3 sees pixels 2..6: one of its five pixels is the image's
    assert weights[0] == pytest.approx(1 / 5) and weights[4] == pytest.approx(1.0)
    assert len(weights) == 14 and weights[-1] == pytest.approx(1 / 5)  # unit 16 sees 15..19: pixel 15 only
    # tiny parts: at least one unit
    assert len(axis_weights(grid, 3, before=20, length=2)[1]) == 1


def test_edge_gain_is_one_in_the_middle_and_larger_at_the_edges():
    grid = unit_grids(Net(SPECS, meta={"input_size": (40, 40)}))["c2"]
    gain = edge_gain(grid, before=7, length=60)
    assert gain[25:35] == pytest.approx(1.0)
    assert gain[0] > gain[3] > 1.0 and gain[-1] > 1.0
    assert gain.max() <= 4.0


def test_a_part_without_a_grid_counts_everything():
    a = np.zeros((1, 4, 6))  # a token layer
    index, weights = image_part(None, a, ((3, 10), (3, 10)))
    assert weights is None and a[index].shape == a.shape


@pytest.fixture(scope="module")
def mini():
    return load_model("mini")


def test_tiles_add_up_to_the_whole_images_objective(mini):
    """Tiles each read their part's units, weighed by their share: the values add up to the untiled one, and the
    gradients (each tile's including what it sees of its neighbours) match, for a sum and for a mean."""
    rng = np.random.default_rng(0)
    x = to_network(rng.integers(0, 256, size=(50, 70, 3)).astype(np.uint8), mini.meta)
    for objective in (L2("conv1"), Channel("conv1", [1, 5])):
        bound = objective.bind(mini)
        value, whole = gradient(mini, bound, x, 1024, rng, (2, -1), jitter=3, margin=4)
        tiled_value, tiled = gradient(mini, bound, x, 30, rng, (2, -1), jitter=3, margin=4)
        assert tiled_value == pytest.approx(value, rel=1e-4)
        np.testing.assert_allclose(tiled, whole, rtol=1e-4, atol=1e-4 * np.abs(whole).max())
