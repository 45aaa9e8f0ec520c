"""The fast pools' copies (minidream/engine/speed/pool_phases.py): the padded input's column phases against the
textbook's padded input, and each backward helper as the exact adjoint of its forward one
(<forward(a), b> == <a, backward(b)>)."""
import numpy as np
import pytest

from minidream.engine.ops import pool_shape
from minidream.engine.speed import pool_phases

GEOMETRIES = [  # (N, C, H, W, kernel, stride, pad)
    (1, 2, 7, 7, (3, 3), (2, 2), (0, 0)),    # ceil mode: a last column and row of padding
    (2, 1, 8, 9, (3, 3), (2, 2), (1, 1)),
    (1, 3, 6, 5, (3, 3), (1, 1), (1, 1)),    # stride 1: one phase, the whole padded input
    (1, 2, 10, 7, (2, 3), (3, 2), (1, 2)),
    (1, 1, 9, 11, (1, 1), (2, 3), (0, 0)),   # fewer taps than the stride: phases no tap reads
    (1, 2, 5, 5, (2, 2), (2, 2), (1, 1)),    # the clip rule drops a window
]


def _phases_by_np_pad(x, kernel, stride, pad, fill):
    xpad = pool_shape.padded(x, kernel, stride, pad, fill)
    return [xpad[..., p::stride[1]] for p in range(min(stride[1], kernel[1]))]


@pytest.mark.parametrize("geometry", GEOMETRIES)
def test_padded_phases_are_the_padded_input_split_by_column(geometry):
    n, c, h, w, kernel, stride, pad = geometry
    x = np.random.default_rng(0).standard_normal((n, c, h, w))
    phases, oh, ow = pool_phases.padded_phases(x, kernel, stride, pad, -np.inf)
    expected = _phases_by_np_pad(x, kernel, stride, pad, -np.inf)
    assert (oh, ow) == (pool_shape.output_size(h, kernel[0], stride[0], pad[0]),
                        pool_shape.output_size(w, kernel[1], stride[1], pad[1]))
    assert len(phases) == len(expected)
    for phase, want in zip(phases, expected):
        assert phase.flags.c_contiguous and np.array_equal(phase, want)


@pytest.mark.parametrize("geometry", GEOMETRIES)
def test_unpad_phases_is_the_adjoint_of_padded_phases(geometry):
    n, c, h, w, kernel, stride, pad = geometry
    rng = np.random.default_rng(1)
    x = rng.standard_normal((n, c, h, w))
    phases, _, _ = pool_phases.padded_phases(x, kernel, stride, pad, 0.0)
    grads = [rng.standard_normal(phase.shape) for phase in phases]
    dx = pool_phases.unpad_phases(grads, x.shape, kernel, stride, pad, np.full(x.shape, np.nan))
    assert not np.isnan(dx).any()  # every element written, the columns of phases no tap reads as zeros
    assert np.isclose(sum(np.vdot(p, g) for p, g in zip(phases, grads)), np.vdot(x, dx), rtol=1e-12)


@pytest.mark.parametrize("geometry", GEOMETRIES)
def test_spreads_are_the_adjoints_of_the_taps(geometry):
    n, c, h, w, kernel, stride, pad = geometry
    rng = np.random.default_rng(2)
    (kh, kw), (sh, sw) = kernel, stride
    phases, oh, ow = pool_phases.padded_phases(rng.standard_normal((n, c, h, w)), kernel, stride, pad, 0.0)
    column_parts = [rng.standard_normal(phases[0].shape[:3] + (ow,)) for _ in range(kw)]
    width = pool_shape.padded_shape((n, c, h, w), kernel, stride, pad)[1]
    spread = pool_phases.spread_columns(phases[0].shape[:3] + (width,), sw, kw, iter(column_parts), np.float64)
    assert np.isclose(sum(np.vdot(t, d) for t, d in zip(pool_phases.column_taps(phases, sw, kw, ow), column_parts)),
                      sum(np.vdot(p, s) for p, s in zip(phases, spread)), rtol=1e-12)
    rows = rng.standard_normal(phases[0].shape[:3] + (ow,))
    row_parts = [rng.standard_normal(rows.shape[:2] + (oh, ow)) for _ in range(kh)]
    spread = pool_phases.spread_rows(rows.shape, sh, iter(row_parts), np.float64)
    assert np.isclose(sum(np.vdot(t, d) for t, d in zip(pool_phases.row_taps(rows, kh, sh, oh), row_parts)),
                      np.vdot(rows, spread), rtol=1e-12)
