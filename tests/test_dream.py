import dataclasses
import warnings

import numpy as np
import pytest
from PIL import Image

from minidream.dreaming.deepdream import dream
from minidream.dreaming.jitter import min_input_side
from minidream.dreaming.octaves import _clip_bounds, make_step, pyramid_sizes, run_octaves
from minidream.dreaming.jitter import _offset_splits, _splits, extend, gradient
from minidream.dreaming.image_region import edge_gain, image_part, unit_grids
from minidream.io.images import to_network
from minidream.models.random_weights import random_model
from minidream.engine.net import UnknownLayerError
from minidream.dreaming.objectives import L2
from minidream.dreaming.settings import DreamSettings

LAYER = "conv2/3x3"  # far cheaper than the default inception_4c/output; the same code path
FAST = dict(layer=LAYER, octaves=2, steps=2, progress=False)


@pytest.fixture(scope="module")
def net():
    return random_model("googlenet")


@pytest.fixture(scope="module")
def photo():
    """A smooth colourful 64x80 test image (uint8 RGB)."""
    yy, xx = np.mgrid[0:64, 0:80]
    rgb = np.stack([xx * 3, yy * 4, (xx + yy) * 2], axis=-1) % 256
    return rgb.astype(np.uint8)


def _l2(net, rgb, layer=LAYER):
    a = net.forward(to_network(rgb, net.meta), end=layer)
    return 0.5 * float((a.astype(np.float64) ** 2).sum())


def test_array_in_array_out(net, photo):
    out = dream(photo, model=net, seed=0, **FAST)
    assert isinstance(out, np.ndarray) and out.dtype == np.uint8 and out.shape == photo.shape
    assert np.abs(out.astype(int) - photo).mean() > 1.0


def test_pil_and_path_in_pil_out(net, photo, tmp_path):
    out = dream(Image.fromarray(photo), model=net, seed=0, **FAST)
    assert isinstance(out, Image.Image) and out.mode == "RGB" and out.size == (80, 64)
    rgba = np.dstack([photo, np.full(photo.shape[:2], 200, np.uint8)])
    path = tmp_path / "in.png"
    Image.fromarray(rgba, "RGBA").save(path)
    out = dream(str(path), model=net, seed=0, **FAST)
    assert isinstance(out, Image.Image) and out.mode == "RGB" and out.size == (80, 64)


def test_grayscale_input(net, photo):
    out = dream(Image.fromarray(photo[:, :, 0], "L"), model=net, seed=0, **FAST)
    assert out.mode == "RGB" and out.size == (80, 64)


def test_layer_l2_grows(net, photo):
    before = _l2(net, photo)
    out = dream(photo, model=net, seed=0, layer=LAYER, octaves=1, steps=4, progress=False)
    assert _l2(net, out) > 1.03 * before
    # Without jitter the ascent is steep, far above an undirected change as big (the net sees the image in
    # mirrored context while dreaming, so the bare image's L2 grows a little less than the window's).
    out = dream(photo, model=net, seed=0, layer=LAYER, octaves=1, steps=4, jitter=0, progress=False)
    change = np.abs(out.astype(int) - photo).mean()
    noise = np.random.default_rng(0).choice([-1, 1], size=photo.shape) * round(change)
    shaken = np.clip(photo.astype(int) + noise, 0, 255).astype(np.uint8)
    assert _l2(net, out) > 1.2 * before
    assert _l2(net, out) - before > 3 * abs(_l2(net, shaken) - before)


def test_same_seed_same_bytes_different_seed_differs(net, photo):
    a = dream(photo, model=net, seed=7, **FAST)
    b = dream(photo, model=net, seed=7, **FAST)
    c = dream(photo, model=net, seed=8, **FAST)
    assert a.tobytes() == b.tobytes()
    assert a.tobytes() != c.tobytes()


def test_noise_start_needs_size(net):
    out = dream(None, size=(72, 48), model=net, seed=1, **FAST)
    assert isinstance(out, Image.Image) and out.size == (72, 48)
    assert np.asarray(out).std() > 1.0
    with pytest.raises(ValueError, match="size"):
        dream(None, model=net, **FAST)


def test_size_resizes_input(net, photo):
    out = dream(photo, size=(40, 30), model=net, seed=0, **FAST)
    assert out.shape == (30, 40, 3)


def test_octave_sizes_follow_the_notebook():
    # scipy.ndimage.zoom sizes: round(previous / 1.4), each octave from the one above
    assert pyramid_sizes((480, 640), 4, 1.4) == [(480, 640), (343, 457), (245, 326), (175, 233)]
    assert pyramid_sizes((100, 100), 1, 1.4) == [(100, 100)]


def test_callback_sees_every_step_at_octave_size(net, photo):
    seen = []
    dream(photo, model=net, seed=0, callback=lambda o, s, img: seen.append((o, s, img.shape)), **FAST)
    assert [(o, s) for o, s, _ in seen] == [(0, 0), (0, 1), (1, 0), (1, 1)]
    assert seen[0][2] == (46, 57, 3) and seen[-1][2] == (64, 80, 3)


class _Shift:
    """A bound objective whose gradient depends on position: value sum(a * ramp)."""

    layers = ("conv1/7x7_s2",)

    def __call__(self, acts, weights=None):
        a = acts[self.layers[0]]
        ramp = np.arange(a.size, dtype=np.float32).reshape(a.shape) % 7 * weights[self.layers[0]]
        return float((a * ramp).sum()), {self.layers[0]: ramp}


def test_step_sees_the_image_shifted_in_odd_mirrored_context(net, photo):
    x = to_network(photo, net.meta)
    objective = _Shift()
    got = x.copy()
    make_step(net, objective, got, np.random.default_rng(3), DreamSettings(step_size=1.5, jitter=32, margin=5), 1024)
    ox, oy = np.random.default_rng(3).integers(-32, 33, size=2)
    assert (ox, oy) != (0, 0)
    pad = 5 + 64
    big = extend(x, pad)
    # rows above the image: margin + jitter + oy; columns left of it: margin + jitter + ox
    top, left = 5 + 32 + oy, 5 + 32 + ox
    seen = big[..., pad - top:pad - top + 64 + 2 * 37, pad - left:pad - left + 80 + 2 * 37].copy()
    # the objective reads the units that see the image, weighed (minidream.dreaming.image_region), and the step
    # scales the gradient up toward the edges
    layer = objective.layers[0]
    grid = unit_grids(net)[layer]
    acts = net.forward(seen, end=[layer])
    index, weights = image_part(grid, acts[layer], ((top, 64), (left, 80)))
    d = np.zeros_like(acts[layer])
    d[index] = objective({layer: acts[layer][index]}, {layer: weights})[1][layer]
    gain = np.outer(edge_gain(grid, top, 64), edge_gain(grid, left, 80)).astype(np.float32)
    g = net.backward({layer: d})[..., top:top + 64, left:left + 80] * gain
    expected = x + np.float32(1.5 / float(np.abs(g).mean())) * g
    np.testing.assert_array_equal(got, expected)


def test_odd_reflection_continues_a_ramp():
    ramp = np.arange(6, dtype=np.float32)[None, None, None, :].repeat(4, axis=2)
    np.testing.assert_array_equal(extend(ramp, 3)[0, 0, 3], np.arange(-3, 9, dtype=np.float32))


def test_zero_gradient_leaves_image_unchanged(net, photo):
    class Zero(_Shift):
        def __call__(self, acts, weights=None):
            a = acts[self.layers[0]]
            return 0.0, {self.layers[0]: np.zeros_like(a)}

    x = to_network(photo, net.meta)
    got = x.copy()
    make_step(net, Zero(), got, np.random.default_rng(0), DreamSettings(jitter=32), 1024)
    np.testing.assert_array_equal(got, x)


def test_tiled_equals_untiled_when_tile_covers_image(net, photo):
    objective = L2(LAYER).bind(net)
    x = to_network(photo, net.meta)
    whole = run_octaves(net, objective, x, np.random.default_rng(5), DreamSettings(octaves=2, steps=2), False)
    # 80 pixels plus 2 * (margin 18 + jitter 32) of context: one window of 180
    covered = run_octaves(net, objective, x, np.random.default_rng(5), DreamSettings(octaves=2, steps=2, tile_size=180),
                          False)
    np.testing.assert_array_equal(whole, covered)


def test_progress_names_every_octave_of_the_total(net, photo, capsys):
    objective = L2(LAYER).bind(net)
    run_octaves(net, objective, to_network(photo, net.meta), np.random.default_rng(0),
                DreamSettings(octaves=3, steps=1), progress=True)
    shown = capsys.readouterr().err
    assert all(f"octave {k}/3 " in shown for k in (1, 2, 3))


def test_tiles_have_fresh_offsets_and_bounded_size(net, photo):
    objective = L2("conv2/3x3").bind(net)
    x = to_network(photo, net.meta)
    sizes = []
    forward = net.forward

    def spy(x, *args, **kwargs):
        sizes.append(x.shape[-2:])
        return forward(x, *args, **kwargs)

    net.forward = spy
    try:
        _, a = gradient(net, objective, x, 40, np.random.default_rng(0), (3, -2), jitter=4, margin=2)
        _, b = gradient(net, objective, x, 40, np.random.default_rng(1), (3, -2), jitter=4, margin=2)
    finally:
        del net.forward
    assert a.shape == x.shape and np.isfinite(a).all()
    assert all(h <= 40 and w <= 40 for h, w in sizes) and len(sizes) >= 2 * 2 * 2
    assert not np.array_equal(a, b)  # the tile grid moved with the seed


@pytest.mark.parametrize("n, core, count", [(1200, 256, 6), (900, 300, 4), (257, 256, 2), (206, 256, 1),
                                            (64, 40, 2), (33, 40, 1), (3000, 832, 5), (1155, 832, 2), (2000, 832, 3),
                                            (4000, 832, 6), (36, 5, 9)])
def test_offset_splits_are_few_and_stay_between_a_quarter_and_the_whole_core(n, core, count):
    rng = np.random.default_rng(0)
    offsets = set()
    for _ in range(50):
        pieces = _offset_splits(n, core, rng)
        assert len(pieces) == count and pieces[0][0] == 0 and pieces[-1][1] == n
        assert all(a[1] == b[0] for a, b in zip(pieces, pieces[1:]))
        lengths = [stop - start for start, stop in pieces]
        assert max(lengths) <= core and (count == 1 or min(lengths) >= core // 4)
        offsets.add(pieces[0][1])
    assert count == 1 or len(offsets) > 1  # the grid moves


def test_splits_cover_in_nearly_equal_pieces():
    for n, tile in [(1200, 256), (900, 256), (257, 256), (256, 256), (10, 3)]:
        pieces = _splits(n, tile)
        assert pieces[0][0] == 0 and pieces[-1][1] == n
        assert all(a[1] == b[0] for a, b in zip(pieces, pieces[1:]))
        lengths = [stop - start for start, stop in pieces]
        assert max(lengths) <= tile and max(lengths) - min(lengths) <= 1


def test_big_image_in_tiles(net):
    rng = np.random.default_rng(0)
    img = rng.integers(0, 256, size=(900, 1200, 3), dtype=np.uint8)
    sizes = []
    forward = net.forward
    net.forward = lambda x, *a, **k: (sizes.append(x.shape[-2:]), forward(x, *a, **k))[1]
    try:
        out = dream(img, model=net, layer="conv1/7x7_s2", octaves=1, steps=1, tile_size=256, seed=0,
                    progress=False)
    finally:
        del net.forward
    assert out.shape == img.shape and not np.array_equal(out, img)
    assert max(max(s) for s in sizes) <= 256 and len(sizes) >= 4 * 5


def test_tiny_input_uses_fewer_octaves_and_says_so(net):
    side = min_input_side(net, L2("inception_4c/output").bind(net))
    img = np.full((side * 2, side * 2, 3), 128, np.uint8)
    seen = []
    with pytest.warns(UserWarning, match="using 3"):
        dream(img, model=net, layer="inception_4c/output", octaves=4, steps=1, seed=0, progress=False,
              callback=lambda o, s, im: seen.append(im.shape[:2]))
    assert min(seen[0]) >= side and len(seen) == 3
    with pytest.raises(ValueError, match="at least"):
        dream(np.zeros((side - 1, 50, 3), np.uint8), model=net, layer="inception_4c/output", progress=False)


def test_normal_input_does_not_warn(net, photo):
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        dream(photo, model=net, seed=0, **FAST)


def test_unknown_layer_lists_closest_names(net, photo):
    with pytest.raises(UnknownLayerError) as info:
        dream(photo, model=net, layer="inception_4x/output", progress=False)
    message = str(info.value)
    assert "inception_4c/output" in message and "python -m minidream layers" in message


def test_fully_connected_layer_is_refused_with_a_hint(net, photo):
    with pytest.raises(ValueError, match="ClassNeuron"):
        dream(photo, model=net, layer="loss3/classifier", progress=False)


def test_clip_keeps_network_range_and_no_clip_does_not(net, photo):
    objective = L2(LAYER).bind(net)
    x = to_network(photo, net.meta)
    mean = np.asarray(net.meta["mean_bgr"], np.float32).reshape(1, 3, 1, 1)
    settings = DreamSettings(octaves=1, steps=3, step_size=40.0)
    clipped = run_octaves(net, objective, x, np.random.default_rng(0), settings, False)
    free = run_octaves(net, objective, x, np.random.default_rng(0), dataclasses.replace(settings, clip=False), False)
    assert (clipped >= -mean - 1e-4).all() and (clipped <= 255 - mean + 1e-4).all()
    assert (free < -mean).any() or (free > 255 - mean).any()


def test_blur_and_decay_change_the_result(net, photo):
    plain = dream(photo, model=net, seed=0, **FAST)
    blurred = dream(photo, model=net, seed=0, blur=1.5, **FAST)
    decayed = dream(photo, model=net, seed=0, decay=0.2, **FAST)
    assert not np.array_equal(plain, blurred) and not np.array_equal(plain, decayed)
    # decay pulls toward the mean colour: the image's spread shrinks
    assert decayed.astype(float).std() < plain.astype(float).std()


def test_bad_arguments_are_clear(net, photo):
    with pytest.raises(ValueError, match="either layer or objective"):
        dream(photo, model=net, layer=LAYER, objective=L2(LAYER))
    with pytest.raises(ValueError, match="octave_scale"):
        dream(photo, model=net, octave_scale=1.0)
    with pytest.raises(ValueError, match="tile_size"):
        dream(photo, model=net, layer=LAYER, tile_size=4, progress=False)
    with pytest.raises(ValueError, match="uint8"):
        dream(photo.astype(np.float32), model=net)


def test_model_default_layer_is_used(net, photo, monkeypatch):
    calls = []
    forward = net.forward
    monkeypatch.setattr(net, "forward", lambda x, end=None, **k: (calls.append(end), forward(x, end, **k))[1])
    monkeypatch.setitem(net.meta, "extra", {"default_layer": "conv2/3x3"})
    dream(photo, model=net, octaves=1, steps=1, progress=False)
    assert calls == [["conv2/3x3"]]


@pytest.mark.gpu
def test_gpu_matches_cpu(net, photo):
    cupy = pytest.importorskip("cupy")
    try:
        cupy.cuda.runtime.getDeviceCount()
    except Exception:
        pytest.skip("no CUDA device")
    gpu_net = random_model("googlenet", device="gpu")
    cpu = dream(photo, model=net, seed=0, **FAST)
    gpu = dream(photo, model=gpu_net, seed=0, device="gpu", **FAST)
    assert np.abs(cpu.astype(int) - gpu).max() <= 3


def test_clip_bounds_follow_the_input_scale(photo):
    # A net trained on pixels / 256 gets its image kept within 0..255 pixels, i.e. (0 - mean)/256..(255 - mean)/256.
    net = random_model("mini", seed=0)
    net.meta = dict(net.meta, mean_bgr=[0.0, 64.0, 128.0], extra=dict(net.meta["extra"], input_scale=1 / 256))
    lo, hi = _clip_bounds(net, to_network(photo, net.meta), clip=True)
    np.testing.assert_allclose(lo.ravel(), [0.0, -0.25, -0.5])
    np.testing.assert_allclose(hi.ravel(), [255 / 256, 191 / 256, 127 / 256])
    out = dream(photo, model=net, layer="conv2", octaves=1, steps=3, step_size=0.2, seed=0, progress=False)
    assert out.shape == photo.shape and 0 < np.abs(out.astype(int) - photo).mean()


def test_a_dream_runs_with_its_weights_frozen():
    """The octave and Fourier loops run inside Net.frozen(), so a folded ResNet convolution is made once a dream."""
    net = random_model("alexnet")
    seen = []
    for param in ("pixel", "fft"):
        dream(np.full((40, 48, 3), 128, np.uint8), model=net, layer="conv2", octaves=1, steps=1, param=param,
              progress=False, callback=lambda octave, step, img: seen.append(net.derived is not None))
    assert seen == [True, True] and net.derived is None


def test_the_step_is_in_pixel_levels_for_a_scaled_input():
    """A model taking torchvision's normalized input (1 / (255 std) per channel): the update moves the *pixels* by
    step_size along their own gradient, unit * g, so in network units by unit * step_size / mean|unit * g|."""
    from minidream.dreaming.ascent import update

    rng = np.random.default_rng(0)
    g = rng.standard_normal((1, 3, 5, 6)).astype(np.float32)
    unit = np.array([1 / (255 * 0.229), 1 / (255 * 0.224), 1 / (255 * 0.225)], np.float32)
    x = np.zeros_like(g)
    update(x, g, 1.5, None, None, unit)
    g_pixels = g * unit[:, None, None]
    expected = 1.5 / np.abs(g_pixels).mean() * g_pixels * unit[:, None, None]
    assert np.allclose(x, expected, rtol=1e-5)
    pixels_moved = np.abs(x / unit[:, None, None]).mean()
    assert pixels_moved == pytest.approx(1.5, rel=1e-5)  # one step: 1.5 levels on average, as for a Caffe model
    plain = np.zeros_like(g)
    update(plain, g, 1.5, None, None)
    assert np.abs(plain).mean() == pytest.approx(1.5, rel=1e-5)  # unit None: network units are pixel levels


def test_a_net_of_one_input_size_sees_every_window_at_that_size(monkeypatch):
    """A fixed-size model (a ViT, an export with constant Reshapes): images smaller or larger than its input are
    dreamed in windows of exactly its size (tiles plus mirrored context), and its non-spatial layers serve."""
    from minidream.models.loading import load_model

    net = load_model("mini")
    net.meta["extra"] = dict(net.meta.get("extra") or {}, fixed_input_size=True)
    seen, forward = [], net.forward

    def recording(x, end=None, **kwargs):
        seen.append(tuple(x.shape[-2:]))
        return forward(x, end=end, **kwargs)

    monkeypatch.setattr(net, "forward", recording)
    for size in ((40, 52), (150, 90)):  # inside one window, and cut into tiles
        image = np.random.default_rng(0).integers(0, 256, (*size, 3), dtype=np.uint8)
        out = dream(image, model=net, layer="fc7", octaves=1, steps=2, jitter=32, seed=0)
        assert out.shape == image.shape and np.abs(out.astype(int) - image).mean() > 0
    assert seen and set(seen) == {tuple(net.meta["input_size"])}


def test_warp_transforms_serve_the_pixel_parameterization_too(net, photo):
    """transforms="warp" sees each step through a random scale and rotation (the gradient taken back through it):
    a different dream from the same seed, still the input's size; shift is the pixel default, warp fft's."""
    shifted = dream(photo, model=net, seed=0, **FAST)
    np.testing.assert_array_equal(dream(photo, model=net, seed=0, transforms="shift", **FAST), shifted)
    warped = dream(photo, model=net, seed=0, transforms="warp", **FAST)
    assert warped.shape == shifted.shape and np.abs(warped.astype(int) - shifted).mean() > 0.5
    assert DreamSettings(param="fft").warps() and not DreamSettings().warps()
    with pytest.raises(ValueError, match="transforms: expected shift or warp, got 'rotate'"):
        dream(photo, model=net, transforms="rotate", **FAST)
