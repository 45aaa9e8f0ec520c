"""The dream step's own array operation besides the network: the normalized ascent update.

    update(x, g, step_size, lo, hi):  x <- clip(x + step_size / mean(|g|) * g, lo_c, hi_c)   (in place)

CPU and GPU side by side: NumPy here, kernels/dream.cu on CuPy arrays, where mean(|g|) is reduced on the device
(abs_sum twice) so a step never waits for the host.
"""
import numpy as np

from minidream import kernels
from minidream.engine.backend import is_gpu

# abs_sum's first pass uses at most this many blocks (each thread strides through the rest), so its second pass
# adds at most this many partial sums in one block.
REDUCE_BLOCKS = 1024


def update(x, g, step_size, lo, hi):
    """In place: x += step_size / mean(|g|) * g (nothing when g = 0), then clip to [lo, hi] per channel.

    x, g (..., C, H, W); lo, hi: per-channel bounds broadcastable against x, or None for no clipping.
    """
    if g.shape != x.shape:
        raise ValueError(f"gradient shape {g.shape} differs from the image's {x.shape}")
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

