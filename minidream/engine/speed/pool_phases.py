"""The fast engine's pooling geometry (the textbook's: ops/pool_shape.py), shared by speed/max_pool.py and avg_pool.py.

Both pools run their window as two 1-D passes over the padded input: along the rows (column_taps, read from the
padded input's column phases: padded_phases) and then down the columns (row_taps). Their backward runs the
adjoints in reverse: spread_rows, spread_columns, and unpad_phases into dx.
"""
import numpy as np

from minidream.engine.ops.pool_shape import padded_extent
from minidream.engine.speed.padding import place


def row_taps(a, taps, stride, count):
    """The views of `a` (N, C, rows, W) that window taps 0..taps-1 read down the columns: tap t is rows t, t + stride,
    ... (`count` of them). Strided across rows only, so every inner loop still runs along contiguous rows."""
    return [a[:, :, t:t + (count - 1) * stride + 1:stride] for t in range(taps)]


def column_taps(phases, stride, taps, count):
    """The views that window taps 0..taps-1 read along the rows, from the padded input's column phases
    (padded_phases): tap t is phase t % stride from its column t // stride on, `count` columns."""
    return [phases[t % stride][..., t // stride:t // stride + count] for t in range(taps)]


def spread_rows(shape, stride, parts, dtype):
    """The adjoint of row_taps: an array of `shape`, zero but for parts[t] added to its tap t rows, in tap order.
    parts: an iterable, made one at a time."""
    out = np.empty(shape, dtype=dtype)
    _accumulate([out[:, :, p::stride] for p in range(stride)], 2, stride, parts)
    return out


def spread_columns(shape, stride, taps, parts, dtype):
    """The adjoint of column_taps: the column phases of an array of `shape` (N, C, rows, padded width), zero but for
    parts[t] added to tap t's columns, in tap order (unpad_phases puts them back together)."""
    return _accumulate([np.empty(shape[:3] + (width,), dtype=dtype) for width in _phase_widths(shape[3], stride, taps)],
                       3, stride, parts)


def _phase_widths(width, stride, taps):
    """The widths of the column phases that `taps` taps read: phase p holds columns p, p + stride, ... of `width`
    (p < min(stride, taps))."""
    return [len(range(p, width, stride)) for p in range(min(stride, taps))]


def _accumulate(phases, axis, stride, parts):
    """Adds parts[t] into phases[t % stride] from index t // stride on along `axis`, in tap order, and zeros the
    rest. The first part a phase gets is written, not added to zeros: the same values (0 + a == a), one pass fewer."""
    written = [False] * len(phases)
    for t, part in enumerate(parts):
        p, first, count = t % stride, t // stride, part.shape[axis]
        if written[p]:
            _along(phases[p], axis, first, first + count)[...] += part
        else:  # the first tap of a phase starts at index 0 (t = p < stride)
            _along(phases[p], axis, 0, count)[...] = part
            _along(phases[p], axis, count, None)[...] = 0
            written[p] = True
    for phase, done in zip(phases, written):
        if not done:
            phase[...] = 0
    return phases


def _along(a, axis, start, stop):
    index = [slice(None)] * a.ndim
    index[axis] = slice(start, stop)
    return a[tuple(index)]


def padded_phases(x, kernel, stride, pad, fill):
    """x (N, C, H, W) inside a border of `fill` wide enough for every window, split into the column phases the taps
    read: phase p holds the padded input's columns p, p + sw, p + 2 sw, ... (p < min(sw, KW); stride 1: the one phase
    is the whole padded input). Returns (phases, OH, OW).

    Along the last axis a stride > 1 view makes NumPy's inner loops strided, and those run without SIMD, so every
    phase is one contiguous array, copied straight from x with its border (padding first and splitting after would
    copy everything twice). Measurements: docs/speed.md.
    """
    n, c, h, w = x.shape
    sw = stride[1]
    oh, top, bottom = padded_extent(h, kernel[0], stride[0], pad[0])
    ow, left, right = padded_extent(w, kernel[1], sw, pad[1])
    rows, width = h + top + bottom, w + left + right
    phases = []
    for p, columns in enumerate(_phase_widths(width, sw, kernel[1])):
        first, _ = _inside(p, sw, left, w)
        phases.append(place(x[..., p + sw * first - left::sw], np.empty((n, c, rows, columns), dtype=x.dtype), top,
                            first, fill))
    return phases, oh, ow


def unpad_phases(phases, x_shape, kernel, stride, pad, out):
    """The adjoint of padded_phases for gradients: the part of the column phases over the real image, written into
    out (N, C, H, W) (zeros in the columns of phases that no tap reads); returns out."""
    h, w = x_shape[2:]
    sw = stride[1]
    _, top, _ = padded_extent(h, kernel[0], stride[0], pad[0])
    _, left, _ = padded_extent(w, kernel[1], sw, pad[1])
    for p in range(sw):
        first, last = _inside(p, sw, left, w)
        if first < last:
            columns = out[..., p + sw * first - left::sw]
            columns[...] = phases[p][:, :, top:top + h, first:last] if p < len(phases) else 0
    return out


def _inside(p, sw, left, w):
    """The columns [first, last) of phase p that lie over the real image: padded column p + sw*i is x's column
    p + sw*i - left."""
    first = max(0, -(-(left - p) // sw))
    return first, max(first, -(-(left + w - p) // sw))
