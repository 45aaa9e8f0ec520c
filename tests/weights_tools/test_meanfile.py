"""mean.binaryproto: every BlobProto form Caffe writes, and what is not a mean file."""
import numpy as np
import pytest

from weights_tools import writer as pw
from weights_tools import CaffeModelError
from weights_tools.meanfile import read_mean_file


def _image(channels=3, height=5, width=4):
    rng = np.random.default_rng(channels)
    return (rng.random((channels, height, width)) * 255).astype(np.float32)


@pytest.mark.parametrize("options", [{}, {"legacy": False}, {"double": True}, {"packed": False},
                                     {"double": True, "legacy": False, "packed": False}])
def test_compute_image_mean_forms(options, tmp_path):
    image = _image()
    path = tmp_path / "mean.binaryproto"
    path.write_bytes(pw.blob(image[None], **options))  # (1, C, H, W), as compute_image_mean writes it
    got, channel_mean = read_mean_file(path)
    assert got.dtype == np.float32 and got.shape == (3, 5, 4)
    np.testing.assert_array_equal(got, image)
    np.testing.assert_allclose(channel_mean, image.reshape(3, -1).mean(axis=1), rtol=1e-6)
    assert [round(m) for m in channel_mean] != [round(m) for m in channel_mean[::-1]]  # order kept


def test_three_dim_shape_and_one_channel():
    got, channel_mean = read_mean_file(pw.blob(_image(channels=1), legacy=False))
    assert got.shape == (1, 5, 4) and len(channel_mean) == 1


@pytest.mark.parametrize("data, message", [
    (b"", "empty"),
    (pw.f_string(1, "net") + pw.f_bytes(100, pw.f_string(1, "conv1")), "no values"),  # a .caffemodel
    (b"name: 'text'\n", "not a BlobProto|no values"),
    (pw.blob(np.zeros((2, 3, 4, 4), np.float32)), r"shape is \[2, 3, 4, 4\]"),  # two images
    (pw.blob(np.zeros(7, np.float32), legacy=False), r"shape is \[7\]"),
    (pw.f_varint(1, 1) + pw.f_varint(2, 3) + pw.f_varint(3, 2) + pw.f_varint(4, 2)
     + pw.f_packed_floats(5, np.zeros(11)), "holds 11 values"),
    (pw.blob(np.full((1, 3, 2, 2), np.nan, np.float32)), "NaN"),
    (pw.blob(_image()[None])[:-3], "not a BlobProto"),  # truncated
])
def test_what_is_not_a_mean_file(data, message):
    with pytest.raises(CaffeModelError, match=message):
        read_mean_file(data)


def test_missing_file_is_named(tmp_path):
    with pytest.raises(CaffeModelError, match="cannot read .*missing.binaryproto"):
        read_mean_file(tmp_path / "missing.binaryproto")
