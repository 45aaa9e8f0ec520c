"""Dreams in a Fourier, decorrelated-colour parameterization with transformation robustness (param="fft").

Following Olah, Mordvintsev & Schubert, "Feature Visualization" (Distill 2017) and lucid's `image.fft_image`
and `to_valid_rgb`. The image is not optimized pixel by pixel; it is made from parameters Z (3, H, W//2+1),
complex:

    y   = irfft2(Z * scale, norm="ortho") / 4     scale[f] = 1 / max(|f|, 1 / max(H, W))   (a 1/f spectrum)
    lin = C y                                      C: lucid's square root of ImageNet's colour covariance
    rgb = 255 * sigmoid(lin)                       always inside 0..255, no clipping needed

Ascent on Z moves all frequencies at the pace natural images have (pixel ascent moves the high ones first:
noise), and on decorrelated colours (pixel ascent tints everything). The start image is expressed exactly in
these parameters (lin = logit(rgb / 255), y = C^-1 lin, Z = rfft2(4 y) / scale), so any image can start.

Each step looks at the image through a random transformation T: scale in [0.9, 1.1], rotation in [-10, 10]
degrees (nearest-neighbour sampling, mirrored past the edges), then the usual jitter shift inside mirrored
context (minidream.dreaming.jitter). The gradient goes back through T's transpose (a scatter-add), the sigmoid, C and
the Fourier transform (rfft2(g) * scale is the gradient with respect to Re Z + i Im Z), and Adam takes the
step with learning rate step_size / 30 (lucid's 0.05 is step size 1.5). All steps run at full size: the sum of
the steps of every octave.
"""
import math

import numpy as np

from minidream.dreaming.batch import reported
from minidream.dreaming.filters import gaussian_blur, normalized, tv_gradient
from minidream.dreaming.jitter import gradient, min_input_side, window_settings
from minidream.dreaming.lapnorm import laplacian_normalize
from minidream.engine.backend import as_numpy, get_array_module, to_device
from minidream.io.images import from_network, input_scale

# lucid's color_correlation_svd_sqrt, columns normalized to the largest column norm (RGB order)
_CORRELATION = np.array([[0.26, 0.09, 0.02], [0.27, 0.00, -0.05], [0.27, -0.09, 0.03]], np.float64)
COLOR = (_CORRELATION / np.max(np.linalg.norm(_CORRELATION, axis=0))).astype(np.float32)
SCALES, ANGLE = (0.9, 1.1), 10.0
ADAM = (0.9, 0.999, 1e-8)


def frequency_scale(h, w):
    """1 / max(|f|, 1 / max(h, w)) for the rfft2 frequencies of an (h, w) image, shape (h, w // 2 + 1)."""
    fy = np.fft.fftfreq(h)[:, None]
    fx = np.fft.rfftfreq(w)[None, :]
    return (1.0 / np.maximum(np.sqrt(fx * fx + fy * fy), 1.0 / max(h, w))).astype(np.float32)


def to_spectrum(rgb, scale):
    """Z for RGB images (K, 3, H, W) in 0..255 (values are kept 0.5 away from 0 and 255 for the logit)."""
    p = np.clip(rgb.astype(np.float64), 0.5, 254.5) / 255.0
    lin = np.log(p / (1.0 - p))
    y = np.einsum("ij,kjhw->kihw", np.linalg.inv(COLOR.astype(np.float64)), lin)
    return np.fft.rfft2(4.0 * y, norm="ortho") / scale


def to_rgb(z, scale, size):
    """(rgb (K, 3, H, W) in 0..255, sigmoid(lin)) from Z (K, 3, H, W // 2 + 1)."""
    y = np.fft.irfft2(z * scale, s=size, norm="ortho") / 4.0
    s = 1.0 / (1.0 + np.exp(-np.einsum("ij,kjhw->kihw", COLOR, y)))
    return (255.0 * s).astype(np.float32), s


def _rgb_order(meta):
    return slice(None, None, -1) if str(meta.get("channel_order", "BGR")).upper() == "BGR" else slice(None)


def _network(rgb, meta):
    """Network input (K, 3, H, W) from rgb (K, 3, H, W) in 0..255: model channel order, mean off, scaled."""
    mean = np.asarray(meta.get("mean_bgr", (0.0, 0.0, 0.0)), np.float32)[:, None, None]
    return (rgb[:, _rgb_order(meta)] - mean) * input_scale(meta)[:, None, None]


def warp_indices(h, w, rng):
    """Flat source index of every output pixel for a random scale and rotation about the centre."""
    s = rng.uniform(*SCALES)
    a = math.radians(rng.uniform(-ANGLE, ANGLE))
    i, j = np.mgrid[0:h, 0:w].astype(np.float64)
    ci, cj = (h - 1) / 2.0, (w - 1) / 2.0
    di, dj = (i - ci) / s, (j - cj) / s
    si = np.rint(ci + math.cos(a) * di - math.sin(a) * dj).astype(np.int64)
    sj = np.rint(cj + math.sin(a) * di + math.cos(a) * dj).astype(np.int64)
    return (_mirror(si, h) * w + _mirror(sj, w)).ravel()


def _mirror(k, n):
    """Indices folded into 0..n-1 by reflection (-1 -> 1, n -> n - 2)."""
    if n == 1:
        return np.zeros_like(k)
    period = 2 * (n - 1)
    k = np.abs(k) % period
    return np.where(k >= n, period - k, k)


def warp(x, index):
    """x (K, C, H, W) sampled at index (flat, one per output pixel), the same for every picture; x for None."""
    if index is None:
        return x
    index = get_array_module(x).asarray(index)
    return x.reshape(x.shape[0] * x.shape[1], -1)[:, index].reshape(x.shape)


def warp_transpose(g, index):
    """The transpose of warp (NumPy): every output pixel's gradient added onto its source pixel. One bincount
    for every picture and channel: row r's pixels are bins r * n ... r * n + n - 1."""
    if index is None:
        return g
    rows, n = g.shape[0] * g.shape[1], g.shape[-2] * g.shape[-1]
    bins = (index[None, :] + n * np.arange(rows)[:, None]).ravel()
    out = np.bincount(bins, weights=g.reshape(-1).astype(np.float64), minlength=rows * n)
    return out.astype(g.dtype).reshape(g.shape)


def run_fourier(net, objective, x, rng, settings, progress=True, callback=None, history=None):
    """Ascent on the Fourier parameters of x (1, 3, H, W), network space; returns the result in network space.

    settings: a DreamSettings; clip is implied (the sigmoid keeps 0..255), octaves only count the steps, and blur,
    lapnorm and tv act on the image-space gradient. callback and history see octave 0 for every step.
    A batch x (K, 3, H, W) is K pictures seen through the same transformation each step, in one forward and
    backward; Adam's moments are per element, so each picture climbs as it would alone (lapnorm and tv normalize
    each picture's gradient on its own).
    """
    from tqdm.auto import tqdm

    blur, lapnorm, tv = settings.blur, settings.lapnorm, settings.tv
    steps = sum(settings.steps_per_octave())
    h, w = x.shape[-2:]
    side = min_input_side(net, objective)
    if min(h, w) < side:
        raise ValueError(f"the image is {w}x{h} but {', '.join(objective.layers)} needs at least {side}x{side} "
                         "pixels: use a larger image or size, or a layer nearer the input")
    margin, jitter, tile = window_settings(net, objective, settings, side)
    scale = frequency_scale(h, w)
    order = _rgb_order(net.meta)
    z = to_spectrum(np.stack([from_network(x[k:k + 1], net.meta).transpose(2, 0, 1) for k in range(len(x))]), scale)
    m, v = np.zeros_like(z), np.zeros(z.shape, np.float64)
    beta1, beta2, eps = ADAM
    rgb, s = to_rgb(z, scale, (h, w))
    for step in tqdm(range(steps), desc=f"fft {w}x{h}", disable=not progress, leave=False):
        index = warp_indices(h, w, rng) if settings.warps() else None
        shift = tuple(int(v) for v in rng.integers(-jitter, jitter + 1, size=2))
        current = _network(rgb, net.meta)
        seen = to_device(np.ascontiguousarray(warp(current, index)), net.device)
        value, g = gradient(net, objective, seen, tile, rng, shift, jitter, margin)
        g = gaussian_blur(warp_transpose(as_numpy(g), index), blur)
        if lapnorm or tv:
            g = np.concatenate([_shaped(g[k:k + 1], current[k:k + 1], lapnorm, tv) for k in range(len(g))])
        g_rgb = (g * input_scale(net.meta)[:, None, None])[:, order].astype(np.float64)
        g_lin = g_rgb * 255.0 * s * (1.0 - s)
        g_z = np.fft.rfft2(np.einsum("ji,kjhw->kihw", COLOR, g_lin) / 4.0, norm="ortho") * scale
        t = step + 1
        m = beta1 * m + (1 - beta1) * g_z
        v = beta2 * v + (1 - beta2) * (g_z.real ** 2 + g_z.imag ** 2)
        z = z + (settings.step_size / 30.0) * (m / (1 - beta1 ** t)) / (np.sqrt(v / (1 - beta2 ** t)) + eps)
        rgb, s = to_rgb(z, scale, (h, w))
        if history is not None:
            history.append((0, step, reported(objective, value)))
        if callback is not None:
            shown = [np.clip(np.rint(p.transpose(1, 2, 0)), 0, 255).astype(np.uint8) for p in rgb]
            callback(0, step, shown[0] if len(shown) == 1 else shown)
    return to_device(np.ascontiguousarray(_network(rgb, net.meta)), net.device)


def _shaped(g, current, lapnorm, tv):
    """One picture's gradient g (1, 3, H, W) with lapnorm and tv applied (current: the picture seen)."""
    if lapnorm:
        g = laplacian_normalize(g, lapnorm)
    if tv:
        g = normalized(g) - np.float32(tv) * tv_gradient(current)
    return g
