"""The dream step's own array operation besides the network: the normalized ascent update.

    update(x, g, step_size, lo, hi):  x <- clip(x + step_size / mean(|g|) * g, lo_c, hi_c)   (in place)

step_size is in pixel levels (0..255): for a model whose input is scaled (torchvision's 1 / (255 std) per channel,
`unit` network units per level) the step is taken along the gradient with respect to the pixels, unit * g, and
lands in network units as unit * step_size.

CPU and GPU side by side: NumPy here, kernels/dream.cu on CuPy arrays, where mean(|g|) is reduced on the device
(abs_sum twice) so a step never waits for the host.
"""
import numpy as np

from minidream import kernels
from minidream.engine.backend import get_array_module, is_gpu

# abs_sum's first pass uses at most this many blocks (each thread strides through the rest), so its second pass
# adds at most this many partial sums in one block.
REDUCE_BLOCKS = 1024


def update(x, g, step_size, lo, hi, unit=None):
    """In place: x += step_size / mean(|g|) * g (nothing when g = 0), then clip to [lo, hi] per channel.

    x, g (..., C, H, W); lo, hi: per-channel bounds broadcastable against x, or None for no clipping. unit: the
    network units of one pixel level, per channel (None: 1), see the module doc.
    """
    if g.shape != x.shape:
        raise ValueError(f"gradient shape {g.shape} differs from the image's {x.shape}")
    if unit is not None:
        g, step_size = _in_pixel_levels(g, step_size, unit)
    if is_gpu(x):
        _update_gpu(x, g, step_size, lo, hi)
        return
    mean = float(np.abs(g).mean())
    if mean > 0.0:
        x += np.float32(step_size / mean) * g
    if lo is not None:
        np.clip(x, lo, hi, out=x)


def _update_gpu(x, g, step_size, lo, hi):
    run = kernels.launcher()
    xp = run.xp
    if not (x.dtype == np.float32 and x.flags.c_contiguous and x.ndim >= 3):
        raise ValueError("update changes x in place: pass a C-contiguous float32 array (..., C, H, W)")
    c, h, w = x.shape[-3:]
    if lo is None:
        lo, hi = -np.inf, np.inf
    lo, hi = (xp.ascontiguousarray(xp.broadcast_to(xp.asarray(v, dtype=np.float32).reshape(-1), (c,)))
              for v in (lo, hi))
    g = run.contiguous(g)
    blocks = min(kernels.grid_1d(g.size)[0][0], REDUCE_BLOCKS)
    partial, total = run.empty((blocks,)), run.empty((1,))
    run("abs_sum", (blocks,), (kernels.THREADS,), g, partial, g.size)
    run("abs_sum", (1,), (kernels.THREADS,), partial, total, blocks)
    run("dream_update", *kernels.grid_1d(x.size), x, g, total, lo, hi, x.size, c, h * w, step_size)




def _in_pixel_levels(g, step_size, unit):
    """(g', step') with step' / mean|g'| * g' = step_size * unit * g_p / mean|g_p|, g_p = unit * g the gradient with
    respect to the pixels: the plain update then takes the pixel-space step (one reduction more on a GPU)."""
    xp = get_array_module(g)
    unit = xp.asarray(unit, dtype=g.dtype).reshape(-1, 1, 1)
    g_pixels = g * unit
    pixel_mean = float(xp.abs(g_pixels).mean())
    g_network = g_pixels * unit
    network_mean = float(xp.abs(g_network).mean())
    return g_network, (step_size * network_mean / pixel_mean if pixel_mean > 0.0 else 0.0)
