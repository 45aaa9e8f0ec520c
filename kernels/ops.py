"""GPU versions of the layers that have hand-written kernels (kernels/*.cu).

Each function has the signature, return values and cache layout of its NumPy twin in
minidream/layers (conv's cache differs in one slot, see conv_forward); the layer's ``forward``
hands CuPy arrays to us, its ``backward`` hands us back our own cache. Kernels run through ``launcher_for(x)``: CuPy arrays launch on the GPU,
NumPy arrays run the very same launches on the CPU emulation (tests). Matrix products are
``xp.matmul`` (cuBLAS on the GPU); everything else is one of our kernels.

Every launch here is 1-D, one thread per output element (``grid_1d``), except the
dream step's reduction. Arrays are made C-contiguous float32 before a launch, and ints and
floats are passed as np.int32 / np.float32, the C types the kernels declare.
"""
import numpy as np

from kernels import THREADS, grid_1d, launcher_for
from minidream.layers import conv, pool_shape

# abs_sum's first pass uses at most this many blocks (each thread strides through the rest),
# so its second pass adds at most this many partial sums in one block.
REDUCE_BLOCKS = 1024


def _ints(*values):
    return tuple(np.int32(v) for v in values)


def _contiguous(xp, a):
    return xp.ascontiguousarray(a, dtype=np.float32)


def _conv_geometry(x_shape, w_shape, stride, pad, groups):
    """The ints im2col/col2im take: N, C, H, W, KH, KW, SH, SW, PH, PW, OH, OW."""
    n, c, h, w = x_shape
    f, cg, kh, kw = w_shape
    if c != cg * groups or f % groups:
        raise ValueError(f"convolution shapes disagree: input has {c} channels, weights expect {cg} per "
                         f"group x {groups} groups with {f} filters (filters must divide by groups)")
    oh, ow = conv.output_size(h, kh, stride[0], pad[0]), conv.output_size(w, kw, stride[1], pad[1])
    if oh < 1 or ow < 1:
        raise ValueError(f"a {kh}x{kw} convolution (stride {stride}, pad {pad}) does not fit a "
                         f"{h}x{w} input; use a larger image")
    return _ints(n, c, h, w, kh, kw, *stride, *pad, oh, ow)


def _im2col(run, x, dims):
    """col (N, C*KH*KW, OH*OW) of x; for a 1x1, stride-1, unpadded convolution x itself is col."""
    n, c, _, _, kh, kw, sh, sw, ph, pw, oh, ow = (int(d) for d in dims)
    if conv.is_pointwise(kh, kw, (sh, sw), (ph, pw)):
        return x.reshape(n, c, oh * ow)
    col = run.empty((n, c * kh * kw, oh * ow))
    run("im2col", *grid_1d(n * c * oh * ow), _contiguous(run.xp, x), col, *dims)
    return col


def conv_forward(x, w, b, stride=(1, 1), pad=(0, 0), groups=1):
    """y = conv(x, w) + b via im2col and one batched matmul per group.

    x (N, C, H, W), w (F, C/G, KH, KW), b (F,) or None -> y (N, F, OH, OW),
    OH = (H + 2*ph - KH) // sh + 1. col (N, C*KH*KW, OH*OW) is viewed as (N, G, C/G*KH*KW, OH*OW)
    so that y[n, g] = w_g (F/G, C/G*KH*KW) @ col[n, g].

    The cache is the NumPy layer's, except that its last slot holds x where the layer keeps col:
    col is KH*KW times larger than x and only dw needs it, which a dream never asks for, so
    backward recomputes it then instead of every conv holding it through the whole forward.
    """
    run = launcher_for(x)
    xp = run.xp
    x, w = _contiguous(xp, x), _contiguous(xp, w)
    dims = _conv_geometry(x.shape, w.shape, stride, pad, groups)
    n, _, _, _, kh, kw, *_, oh, ow = (int(d) for d in dims)
    f, cg = w.shape[:2]
    col = _im2col(run, x, dims)
    y = xp.matmul(w.reshape(groups, f // groups, cg * kh * kw), col.reshape(n, groups, cg * kh * kw, oh * ow))
    y = y.reshape(n, f, oh, ow)
    if b is not None:
        y += b.reshape(1, f, 1, 1)
    return y, (x.shape, w, b is not None, tuple(stride), tuple(pad), groups, x)


def conv_backward(dy, cache, weight_grads=True):
    """(dx, dw, db) for conv_forward; dw, db are None when weight_grads is False.

    dcol[n, g] = w_g^T @ dy[n, g] and dx = col2im(dcol); dw_g = sum_n dy[n, g] @ col[n, g]^T;
    db = sum of dy over N, OH, OW (None without a bias). The cache's last slot is x (see
    conv_forward), or for 1x1 convolutions also the col that conv.forward_shared_input keeps,
    which for them is the same array.
    """
    x_shape, w, has_bias, stride, pad, groups, x = cache
    run = launcher_for(dy)
    xp = run.xp
    dy = _contiguous(xp, dy)
    dims = _conv_geometry(x_shape, w.shape, stride, pad, groups)
    n, f, oh, ow = dy.shape
    _, cg, kh, kw = w.shape
    dy_mat = dy.reshape(n, groups, f // groups, oh * ow)
    dcol = xp.matmul(w.reshape(groups, f // groups, cg * kh * kw).transpose(0, 2, 1), dy_mat)
    if conv.is_pointwise(kh, kw, stride, pad):
        dx = dcol.reshape(x_shape)
    else:
        dx = run.empty(x_shape)
        run("col2im", *grid_1d(dx.size), _contiguous(xp, dcol), dx, *dims)
    dw = db = None
    if weight_grads:
        col = _im2col(run, x.reshape(x_shape), dims).reshape(n, groups, cg * kh * kw, oh * ow)
        dw = xp.matmul(dy_mat, col.transpose(0, 1, 3, 2)).sum(axis=0).reshape(w.shape)
        db = dy.sum(axis=(0, 2, 3)) if has_bias else None
    return dx, dw, db


def _pool_geometry(x_shape, kernel, stride, pad):
    """The ints the pooling kernels take: NC, H, W, KH, KW, SH, SW, PH, PW, OH, OW (Caffe ceil rule)."""
    n, c, h, w = x_shape
    oh = pool_shape.output_size(h, kernel[0], stride[0], pad[0])
    ow = pool_shape.output_size(w, kernel[1], stride[1], pad[1])
    return _ints(n * c, h, w, *kernel, *stride, *pad, oh, ow)


def max_pool_forward(x, kernel, stride=(1, 1), pad=(0, 0)):
    """x (N, C, H, W) -> y (N, C, OH, OW): max over each window clipped to the image.

    The cache keeps argmax (N, C, OH, OW), int32 flat h*W + w of each winner, for backward.
    """
    run = launcher_for(x)
    x = _contiguous(run.xp, x)
    dims = _pool_geometry(x.shape, kernel, stride, pad)
    shape = x.shape[:2] + (int(dims[-2]), int(dims[-1]))
    y, argmax = run.empty(shape), run.empty(shape, np.int32)
    run("max_pool_forward", *grid_1d(y.size), x, y, argmax, *dims)
    return y, (x.shape, tuple(kernel), tuple(stride), tuple(pad), argmax)


def max_pool_backward(dy, cache):
    """dx (N, C, H, W): each dy goes to its window's argmax."""
    x_shape, kernel, stride, pad, argmax = cache
    run = launcher_for(dy)
    dx = run.empty(x_shape)
    run("max_pool_backward", *grid_1d(dx.size), _contiguous(run.xp, dy), argmax, dx,
        *_pool_geometry(x_shape, kernel, stride, pad))
    return dx


def avg_pool_forward(x, kernel, stride=(1, 1), pad=(0, 0)):
    """x (N, C, H, W) -> y (N, C, OH, OW): window sum / Caffe's divisor (see avg_pool.cu)."""
    run = launcher_for(x)
    x = _contiguous(run.xp, x)
    dims = _pool_geometry(x.shape, kernel, stride, pad)
    y = run.empty(x.shape[:2] + (int(dims[-2]), int(dims[-1])))
    run("avg_pool_forward", *grid_1d(y.size), x, y, *dims)
    return y, (x.shape, tuple(kernel), tuple(stride), tuple(pad))


def avg_pool_backward(dy, cache):
    """dx (N, C, H, W): every pixel of a window gets that window's dy / divisor."""
    x_shape, kernel, stride, pad = cache
    run = launcher_for(dy)
    dx = run.empty(x_shape)
    run("avg_pool_backward", *grid_1d(dx.size), _contiguous(run.xp, dy), dx,
        *_pool_geometry(x_shape, kernel, stride, pad))
    return dx


def lrn_forward(x, local_size=5, alpha=1e-4, beta=0.75, k=1.0):
    """y = x * (k + alpha/n * window sum of x^2)^(-beta) across channels (formula in lrn.cu).

    x, y, scale (N, C, H, W); the cache keeps scale so backward need not recompute it.
    """
    if local_size < 1 or local_size % 2 == 0:
        raise ValueError(f"LRN local_size must be a positive odd number (Caffe's rule), got {local_size}")
    run = launcher_for(x)
    x = _contiguous(run.xp, x)
    n, c, h, w = x.shape
    y, scale = run.empty(x.shape), run.empty(x.shape)
    run("lrn_forward", *grid_1d(x.size), x, y, scale, *_ints(n, c, h * w, local_size),
        np.float32(alpha), np.float32(beta), np.float32(k))
    return y, (x, y, scale, local_size, alpha, beta)


def lrn_backward(dy, cache):
    """dx (N, C, H, W) for lrn_forward (formula in lrn.cu)."""
    x, y, scale, local_size, alpha, beta = cache
    run = launcher_for(dy)
    n, c, h, w = x.shape
    dx = run.empty(x.shape)
    run("lrn_backward", *grid_1d(x.size), x, y, scale, _contiguous(run.xp, dy), dx,
        *_ints(n, c, h * w, local_size), np.float32(alpha), np.float32(beta))
    return dx


def relu_forward(x, negative_slope=0.0, out=None):
    """y = x > 0 ? x : negative_slope * x, any shape; out (may be x) receives y when given."""
    run = launcher_for(x)
    x = _contiguous(run.xp, x)
    direct = out is not None and out.dtype == np.float32 and out.flags.c_contiguous
    y = out if direct else run.empty(x.shape)
    run("relu_forward", *grid_1d(x.size), x, y, np.int32(x.size), np.float32(negative_slope))
    if out is not None and not direct:  # e.g. a channel slice of a joint 1x1 convolution's output
        out[...] = y
        y = out
    return y, (y, negative_slope)


def relu_backward(dy, cache):
    """dx = dy where y > 0, negative_slope * dy elsewhere."""
    y, negative_slope = cache
    run = launcher_for(dy)
    dx = run.empty(y.shape)
    run("relu_backward", *grid_1d(y.size), _contiguous(run.xp, y), _contiguous(run.xp, dy), dx, np.int32(y.size),
        np.float32(negative_slope))
    return dx


def dream_update(x, g, step_size, lo, hi):
    """In place: x <- clip(x + step_size / mean(|g|) * g, lo_c, hi_c) per channel c.

    x, g (..., C, H, W); x must be C-contiguous float32 (it is updated in place). lo, hi:
    scalars or (C,) per-channel bounds. Returns None. A zero g leaves x unchanged (but clipped).
    """
    run = launcher_for(x, g)
    xp = run.xp
    if not (isinstance(x, xp.ndarray) and x.dtype == np.float32 and x.flags.c_contiguous and x.ndim >= 3):
        raise ValueError("dream_update changes x in place: pass a C-contiguous float32 array (..., C, H, W)")
    if g.shape != x.shape:
        raise ValueError(f"gradient shape {g.shape} differs from the image's {x.shape}")
    c, h, w = x.shape[-3:]
    lo, hi = (xp.ascontiguousarray(xp.broadcast_to(xp.asarray(v, dtype=np.float32), (c,))) for v in (lo, hi))
    g = _contiguous(xp, g)
    blocks = min(grid_1d(g.size)[0][0], REDUCE_BLOCKS)
    partial, total = run.empty((blocks,)), run.empty((1,))
    run("abs_sum", (blocks,), (THREADS,), g, partial, np.int32(g.size))
    run("abs_sum", (1,), (THREADS,), partial, total, np.int32(blocks))
    run("dream_update", *grid_1d(x.size), x, g, total, lo, hi, *_ints(x.size, c, h * w),
        np.float32(step_size))


def roll(x, oy, ox):
    """np.roll(x, (oy, ox), axis=(-2, -1)) as a new array; x (..., H, W), shifts any ints."""
    run = launcher_for(x)
    x = _contiguous(run.xp, x)
    h, w = x.shape[-2:]
    y = run.empty(x.shape)
    run("roll", *grid_1d(x.size), x, y, *_ints(x.size, h, w, oy % h, ox % w))
    return y
