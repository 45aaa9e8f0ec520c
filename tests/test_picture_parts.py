"""A batch walked in parts, a part per core (minidream.engine.speed.picture_parts): the same numbers as the whole
batch and as each picture alone, the whole walk wherever a layer mixes the pictures, and the engine's serial mode."""
from pathlib import Path

import numpy as np
import pytest

import minidream
from minidream.engine import engines
from minidream.engine.layer_types import layer_type
from minidream.engine.net import Net
from minidream.engine.layer_types.specs import conv, layer, relu
from minidream.engine.speed import parallel, picture_parts, workers
from weights_tools.onnx.convert import load_onnx

ENDS = ["conv3", "conv5"]
REAL_ONNX = Path(__file__).resolve().parents[1] / ".." / "shared" / "real_onnx"


@pytest.fixture(scope="module")
def net():
    # As the CLI runs: under the BLAS kernels tune_cpu picks on some CPUs (AMD Zen 4) a product rounds by the shape of
    # its band of columns, so a part that cut its products otherwise than the picture alone would differ in the bits.
    minidream.tune_cpu()
    return minidream.load_model("mini")


def _same_bits_three_ways(net, ends, x, parts, rng):
    """The parts' forward and backward equal the whole batch's and the last picture's alone, bit for bit."""
    shapes = {e: net.output_shape(e, x.shape[-2:], len(x)) for e in ends}
    dtop = {e: rng.standard_normal(s).astype(np.float32) for e, s in shapes.items()}
    whole, dx_whole = (lambda out: (out, net.backward(dtop)))(net.forward(x, end=ends))
    walker = picture_parts.PictureParts(net, parts)
    split = walker.forward(x, end=ends)
    dx_split = walker.backward(dtop)
    assert walker._whole is False  # it did walk in parts
    for e in ends:
        np.testing.assert_array_equal(split[e], whole[e])
    np.testing.assert_array_equal(dx_split, dx_whole)
    k = len(x) - 1
    alone = net.forward(x[k:k + 1], end=ends)
    np.testing.assert_array_equal(dx_split[k:k + 1], net.backward({e: d[k:k + 1] for e, d in dtop.items()}))
    for e in ends:
        np.testing.assert_array_equal(split[e][k:k + 1], alone[e])


@pytest.mark.parametrize("pictures, parts, side", [(8, 2, 112), (5, 2, 112), (3, 3, 112), (4, 2, 40)])
def test_parts_give_every_picture_the_bits_of_the_whole_batch_and_of_the_picture_alone(net, pictures, parts, side):
    # 40 px: conv1's product of one picture is too small to cut in bands, its batch's is not (parallel.matmul cuts
    # a batch's products as each picture's alone)
    rng = np.random.default_rng(pictures)
    _same_bits_three_ways(net, ENDS, (30 * rng.standard_normal((pictures, 3, side, side))).astype(np.float32), parts,
                          rng)


@pytest.mark.skipif(not REAL_ONNX.is_dir(), reason=f"{REAL_ONNX} (real ONNX exports) is absent")
@pytest.mark.parametrize("name, end", [("squeezenet1_1", "/features/features.10/expand1x1/Conv_output_0"),
                                       ("mobilenet_v3_small", "getitem_69")])  # past 6 squeeze-excite gates (onnx.Mul)
def test_real_onnx_models_walk_in_parts_with_the_same_bits(name, end):
    minidream.tune_cpu()
    net = Net(*load_onnx(REAL_ONNX / f"{name}.onnx", quiet=True))
    rng = np.random.default_rng(1)
    _same_bits_three_ways(net, [end], rng.standard_normal((4, 3, 160, 160)).astype(np.float32), 2, rng)


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
    assert layer_type("onnx.HardSwish").per_picture({}) and layer_type("onnx.MaxPool").per_picture({})
    mul = layer_type("onnx.Mul").per_picture
    assert mul({"weight_shapes": [], "args": [["bottom", 0], ["bottom", 1]]})  # MobileNet's x * gate
    assert mul({"weight_shapes": [[1, 16, 1, 1]], "args": [["bottom", 0], ["weight", 0]]})
    assert mul({"weight_shapes": [[16]], "args": [["bottom", 0], ["weight", 0]]})
    assert not mul({"weight_shapes": [[4, 16, 1, 1]], "args": [["bottom", 0], ["weight", 0]]})  # 4 pictures' own
    assert not mul({"weight_shapes": [], "args": [["bottom", 0], ["const", [[1], [2]]]]})


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
