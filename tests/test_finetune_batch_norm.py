"""Fine-tuning a net with BatchNorm: its frozen statistics are kept, or recomputed on the new images."""
import numpy as np
import pytest

from minidream.training.finetuning import finetune
from minidream.training.image_folder import ImageSet
from minidream.models.random_weights import he_init
from minidream.engine.net import Net
from minidream.engine.layer_types.specs import conv, fc, layer, pool, relu


def _bn_net():
    specs = [conv("conv1", "data", 4, 3, pad=1), layer("bn1", "BatchNorm", "conv1"), layer("scale1", "Scale", "bn1",
                                                                                          bias_term=True),
             relu("relu1", "scale1"), pool("pool1", "scale1", "MAX", 2, 2),
             fc("fc1", "pool1", 8), relu("relu2", "fc1"), fc("fc2", "fc1", 3), layer("prob", "Softmax", "fc2")]
    net = he_init(Net(specs, meta={"input_size": (12, 12), "mean_bgr": [0.0, 0.0, 0.0]}), seed=0)
    mean, var, s = net.params["bn1"]
    mean[...], var[...], s[...] = 500.0, 9000.0, 2.0  # trained statistics: mean 250, variance 4500
    return net


def _images(n=24, seed=0):
    rng = np.random.default_rng(seed)
    return ImageSet(rng.integers(0, 256, (n, 14, 14, 3), dtype=np.uint8), np.arange(n) % 2, ["a", "b"])


@pytest.mark.parametrize("bn_stats", ["frozen", "reestimate"])
def test_batch_norm_statistics_frozen_or_reestimated(bn_stats):
    net = _bn_net()
    before = [a.copy() for a in net.params["bn1"]]
    data = _images()
    result = finetune(net, data, val=_images(6, seed=1), bn_stats=bn_stats, epochs=1, batch_size=8, progress=False)
    for given, kept in zip(before, net.params["bn1"]):
        np.testing.assert_array_equal(given, kept)  # the model handed in is never changed
    mean, var, s = result.net.params["bn1"]
    if bn_stats == "frozen":
        np.testing.assert_array_equal(mean / s, before[0] / before[2])
        return
    # Recomputed: the statistics of conv1's outputs over the training images' centre crops.
    crops = data.images[:, 1:13, 1:13, ::-1].transpose(0, 3, 1, 2).astype(np.float32)
    y = net.forward(crops, end="conv1")
    assert s[0] > 0
    np.testing.assert_allclose(mean / s[0], y.mean(axis=(0, 2, 3)), rtol=0.05, atol=0.05 * np.abs(y).mean())
    assert not np.allclose(mean / s[0], before[0] / before[2])


def test_unknown_bn_stats_is_refused():
    with pytest.raises(ValueError, match="bn_stats must be one of frozen, reestimate"):
        finetune(_bn_net(), _images(), bn_stats="learned", progress=False)
