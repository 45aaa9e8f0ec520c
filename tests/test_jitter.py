"""Seam-free jitter (minidream.dreaming.jitter), Laplacian normalization, the Fourier parameterization's pieces."""
import numpy as np
import pytest

import minidream
from minidream.dreaming.filters import tv_gradient
from minidream.dreaming.fourier import frequency_scale, to_rgb, to_spectrum, warp, warp_indices, warp_transpose
from minidream.io.images import to_network
from minidream.dreaming.jitter import extend, gradient, margin_for, receptive_radius, window
from minidream.dreaming.lapnorm import laplacian_merge, laplacian_normalize, laplacian_split
from minidream.models.loading import load_model
from minidream.dreaming.objectives import L2


@pytest.fixture(scope="module")
def mini():
    return load_model("mini")


def ramp(w, h):
    """Grey 60 at the left to 200 at the right, +-30 from top to bottom (the issue's border check)."""
    grey = np.linspace(60, 200, w)[None, :] + np.linspace(-30, 30, h)[:, None]
    return np.repeat(np.rint(grey)[:, :, None], 3, axis=2).astype(np.uint8)


@pytest.mark.parametrize("h, w, rows, cols, pads_y, pads_x", [
    (300, 400, (0, 120), (250, 400), (69, 59), (50, 78)),    # a corner tile: reflected above and to the right
    (300, 400, (100, 200), (100, 300), (69, 59), (78, 50)),  # an inner tile: no reflection
    (300, 400, (0, 300), (0, 400), (40, 96), (96, 40)),      # the whole image in one window
    (50, 400, (0, 50), (0, 150), (69, 59), (78, 50)),        # a strip thinner than its context: reflected twice
    (1, 400, (0, 1), (100, 200), (10, 10), (10, 10)),        # a 1-pixel axis: extend repeats the edge
])
def test_a_window_holds_what_the_whole_extension_holds_there(h, w, rows, cols, pads_y, pads_x):
    x = np.random.default_rng(0).standard_normal((1, 3, h, w)).astype(np.float32)
    pad = 128
    expected = extend(x, pad)[..., pad + rows[0] - pads_y[0]:pad + rows[1] + pads_y[1],
                              pad + cols[0] - pads_x[0]:pad + cols[1] + pads_x[1]]
    np.testing.assert_array_equal(window(x, pad, rows, cols, pads_y, pads_x), expected)


def band_ratio(before, after, band=4):
    """Mean |change| in the outer `band` pixels over the mean |change| inside them."""
    d = np.abs(after.astype(float) - before).mean(axis=2)
    outer = np.ones(d.shape, bool)
    outer[band:-band, band:-band] = False
    return d[outer].mean() / d[~outer].mean()


def test_receptive_radius_walks_kernels_and_strides(mini):
    assert receptive_radius(mini, ["conv1"]) == 2  # one 3x3
    # conv1 2, pool1 (3x3 s2) +2, conv2 at stride 2 +4, pool2 +4, conv3 at stride 4 +8
    assert receptive_radius(mini, ["conv3"]) == 20
    assert receptive_radius(mini, ["conv1", "conv3"]) == 20
    assert receptive_radius(mini, ["fc6"]) == np.inf
    assert margin_for(mini, ["fc6"]) == 64


def test_the_margin_setting_caps_the_context_and_the_layer_caps_it_too(mini, monkeypatch):
    assert margin_for(mini, ["conv3"], 16) == 16 and margin_for(mini, ["conv3"], 0) == 0
    assert margin_for(mini, ["conv3"], 64) == 20 and margin_for(mini, ["conv1"], 16) == 2
    windows, forward = [], mini.forward

    def spy(x, *args, **kwargs):  # the window each step shows the net
        windows.append(x.shape[-2:])
        return forward(x, *args, **kwargs)

    monkeypatch.setattr(mini, "forward", spy)
    for margin in (0, 8, 64):
        minidream.dream(None, model=mini, layer="conv3", size=(48, 40), octaves=1, steps=1, jitter=4, margin=margin,
                        seed=0, progress=False)
    # the picture plus 2 * (margin + jitter) a side; conv3 sees 20 px, so a margin of 64 keeps 20
    assert windows == [(40 + 2 * (m + 4), 48 + 2 * (m + 4)) for m in (0, 8, 20)]


@pytest.mark.parametrize("layer", ["conv1", "conv3"])
def test_no_frame_on_a_ramp(mini, layer):
    img = ramp(160, 120)
    out = minidream.dream(img, model=mini, layer=layer, octaves=2, steps=5, seed=0, progress=False)
    assert band_ratio(img, out) < 1.5  # the wrap-around roll gave 2.8x (conv1) and 5.2x (conv3) at 640x480


def test_tiles_with_enough_context_equal_the_whole_image(mini):
    rng = np.random.default_rng(0)
    x = to_network(rng.integers(0, 256, size=(50, 70, 3)).astype(np.uint8), mini.meta)
    objective = L2("conv1").bind(mini)
    # conv1's gradient at a pixel reads pixels up to 2 * radius = 4 away: 4 pixels of context suffice
    _, whole = gradient(mini, objective, x, 1024, rng, (2, -1), jitter=3, margin=4)
    _, tiled = gradient(mini, objective, x, 30, rng, (2, -1), jitter=3, margin=4)
    np.testing.assert_allclose(tiled, whole, rtol=1e-4, atol=1e-4 * np.abs(whole).max())


def test_laplacian_split_merges_back_and_normalize_evens_the_bands():
    rng = np.random.default_rng(1)
    yy, xx = np.mgrid[0:40, 0:56]
    smooth = (np.sin(xx / 9.0) + np.cos(yy / 7.0))[None, None].astype(np.float32) * 100
    g = smooth + rng.standard_normal((1, 1, 40, 56)).astype(np.float32)
    np.testing.assert_allclose(laplacian_merge(laplacian_split(g, 4)), g, atol=1e-3)
    fine_before = np.sqrt(np.mean(laplacian_split(g, 4)[0] ** 2)) / np.sqrt(np.mean(g ** 2))
    n = laplacian_normalize(g, 4)
    fine_after = np.sqrt(np.mean(laplacian_split(n, 4)[0] ** 2)) / np.sqrt(np.mean(n ** 2))
    assert fine_after > 4 * fine_before  # the fine band no longer drowns under the smooth one
    with pytest.raises(ValueError, match="at least 1"):
        laplacian_normalize(g, 0)


def test_spectrum_round_trip():
    rng = np.random.default_rng(2)
    rgb = rng.uniform(10, 245, size=(1, 3, 24, 30)).astype(np.float32)
    scale = frequency_scale(24, 30)
    back, _ = to_rgb(to_spectrum(rgb, scale), scale, (24, 30))
    np.testing.assert_allclose(back, rgb, atol=1e-2)


def test_warp_transpose_is_the_adjoint_of_warp():
    rng = np.random.default_rng(3)
    index = warp_indices(20, 26, rng)
    x = rng.standard_normal((1, 3, 20, 26))
    y = rng.standard_normal((1, 3, 20, 26))
    assert np.sum(warp(x, index) * y) == pytest.approx(np.sum(x * warp_transpose(y, index)))
    assert index.min() >= 0 and index.max() < 20 * 26


def test_tv_gradient_matches_finite_differences():
    x = np.random.default_rng(4).permutation(30).reshape(1, 1, 5, 6).astype(np.float64)  # no ties

    def tv(a):
        return np.abs(np.diff(a, axis=-1)).sum() + np.abs(np.diff(a, axis=-2)).sum()

    numeric = np.zeros_like(x)
    for idx in np.ndindex(x.shape):
        d = np.zeros_like(x)
        d[idx] = 1e-3
        numeric[idx] = (tv(x + d) - tv(x - d)) / 2e-3
    np.testing.assert_allclose(tv_gradient(x), numeric, atol=1e-6)


def test_fft_ascent_raises_the_objective_and_stays_in_range(mini):
    history = []
    img = minidream.dream(None, size=(40, 40), model=mini, layer="conv3", octaves=1, steps=8, param="fft", jitter=4,
                          tv=0.01, seed=0, progress=False, history=history)
    values = [v for _, _, v in history]
    assert [(o, s) for o, s, _ in history] == [(0, s) for s in range(8)]  # all steps at full size
    assert values[-1] > 2 * values[0]
    assert np.asarray(img).std() > 5  # patterns grew out of the grey noise
