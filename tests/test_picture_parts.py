"""A batch walked in parts, a part per core (minidream.engine.speed.picture_parts): the same numbers as the whole
batch and as each picture alone, the whole walk wherever a layer mixes the pictures, and the engine's serial mode."""
import numpy as np
import pytest

import minidream
from minidream.engine import engines
from minidream.engine.layer_types import layer_type
from minidream.engine.net import Net
from minidream.engine.layer_types.specs import conv, layer, relu
from minidream.engine.speed import parallel, picture_parts, workers

ENDS = ["conv3", "conv5"]


@pytest.fixture(scope="module")
def net():
    # As the CLI runs: under the BLAS kernels tune_cpu picks on some CPUs (AMD Zen 4) a product rounds by the shape of
    # its band of columns, so a part that cut its products otherwise than the picture alone would differ in the bits.
    minidream.tune_cpu()
    return minidream.load_model("mini")


def _walk(walker, x, dtop):
    out = walker.forward(x, end=ENDS)
    return out, walker.backward(dtop)


@pytest.mark.parametrize("pictures, parts", [(8, 2), (5, 2), (3, 3)])
def test_parts_give_every_picture_the_bits_of_the_whole_batch_and_of_the_picture_alone(net, pictures, parts):
    rng = np.random.default_rng(pictures)
    x = (30 * rng.standard_normal((pictures, 3, 112, 112))).astype(np.float32)
    shapes = {e: net.output_shape(e, (112, 112), pictures) for e in ENDS}
    dtop = {e: rng.standard_normal(s).astype(np.float32) for e, s in shapes.items()}
    whole, dx_whole = _walk(net, x, dtop)
    walker = picture_parts.PictureParts(net, parts)
    split, dx_split = _walk(walker, x, dtop)
    assert walker._whole is False  # it did walk in parts
    for e in ENDS:
        np.testing.assert_array_equal(split[e], whole[e])
    np.testing.assert_array_equal(dx_split, dx_whole)
    k = pictures - 1  # the last part's last picture, alone (112-px products are cut alike alone and in a part)
    alone, dx_alone = _walk(net, x[k:k + 1], {e: d[k:k + 1] for e, d in dtop.items()})
    np.testing.assert_array_equal(dx_split[k:k + 1], dx_alone)
    for e in ENDS:
        np.testing.assert_array_equal(split[e][k:k + 1], alone[e])


def test_a_layer_that_mixes_the_pictures_makes_the_batch_walk_whole():
    specs = [conv("conv1", "data", 4, 3, pad=1), relu("relu1", "conv1"),
             layer("bn", "BatchNorm", "conv1", use_global_stats=False)]  # the batch's own statistics
    net = Net(specs, meta={"input_size": (16, 16)})
    rng = np.random.default_rng(0)
    for arrays in net.params.values():
        for a in arrays:
            a[...] = rng.uniform(0.5, 1.5, a.shape)
    x = rng.standard_normal((4, 3, 16, 16)).astype(np.float32)
    walker = picture_parts.PictureParts(net, 2)
    y = walker.forward(x, end="bn")
    assert walker._whole is True
    np.testing.assert_array_equal(y, net.forward(x, end="bn"))
    dy = rng.standard_normal(y.shape).astype(np.float32)
    walker.forward(x, end="bn")
    np.testing.assert_array_equal(walker.backward(dy), (net.forward(x, end="bn"), net.backward(dy))[1])
    walker.forward(x, end="conv1")  # up to conv1 nothing mixes the pictures
    assert walker._whole is False


def test_which_layer_types_keep_the_pictures_apart():
    assert layer_type("Convolution").per_picture({}) and layer_type("ReLU").per_picture({})
    assert layer_type("Concat").per_picture({"axis": 1}) and not layer_type("Concat").per_picture({"axis": 0})
    assert not layer_type("Softmax").per_picture({"axis": -1})  # which axis that is depends on the blob
    assert layer_type("BatchNorm").per_picture({"use_global_stats": None})  # dreams never train: stored statistics
    assert not layer_type("BatchNorm").per_picture({"use_global_stats": False})
    assert not layer_type("Reshape").per_picture({}) and not layer_type("onnx.Reshape").per_picture({})


def test_the_walker_takes_parts_only_with_a_picture_per_core(net, monkeypatch):
    monkeypatch.setattr(parallel, "WORKERS", 2)
    assert picture_parts.walker(net, 1) is net
    assert isinstance(picture_parts.walker(net, 2), picture_parts.PictureParts)
    monkeypatch.setattr(parallel, "WORKERS", 1)  # one core: nothing to walk apart
    assert picture_parts.walker(net, 8) is net
    with engines.set_engine("textbook"):
        assert engines.fast("picture_parts") is None  # the dream asks through fast(): the Net walks every batch


def test_backward_needs_its_forward(net):
    with pytest.raises(RuntimeError, match="forward first"):
        picture_parts.PictureParts(net, 2).backward(np.zeros((2, 64, 14, 14), np.float32))


def test_serial_mode_cuts_nothing_but_keeps_the_product_bands(monkeypatch):
    monkeypatch.setattr(parallel, "WORKERS", 2)
    ran = []
    monkeypatch.setattr(workers, "run", lambda work, pieces, threads: ran.append(pieces))
    calls = []
    parallel.for_blocks(calls.append, 100, 10 ** 9)
    assert ran and not calls  # outside: handed to the pool in slices
    ran.clear()
    with parallel.serial():
        parallel.for_blocks(calls.append, 100, 10 ** 9)
        assert calls == [slice(0, 100)] and not ran
        calls.clear()
        if parallel._blas_threads() is not None:
            parallel.for_blas_blocks(calls.append, 100, 10 ** 9)
            assert calls == [slice(0, 50), slice(50, 100)] and not ran  # the bands outside, one after another
    parallel.for_blocks(calls.append, 100, 10 ** 9)
    assert ran  # serial ends with its block
