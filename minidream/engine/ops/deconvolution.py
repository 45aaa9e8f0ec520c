"""Deconvolution (Caffe "Deconvolution"): the adjoint (transpose) of Convolution — its forward is convolution's
backward-to-data, its backward-to-data is convolution's forward. Used to upsample (FCN's score upsampling).

Shapes (src/caffe/layers/deconv_layer.cpp, base_conv_layer.cpp):
    x (N, C_in, H, W)    w (C_in, C_out/G, KH, KW) — Caffe's layout, input channels first (a convolution's
    (F, C/G, KH, KW) with F and C swapped: the w of the convolution this layer transposes)
    b (C_out,) or None   y (N, C_out, OH, OW),   OH = stride * (H - 1) + KH - 2 * pad, and the same for OW.
    Groups: input channels [g*C_in/G, (g+1)*C_in/G) feed output channels [g*C_out/G, (g+1)*C_out/G).
    (Caffe's dilation is not supported: it must be 1.)
Formula. Every input pixel stamps its filter onto the output, stride apart, and the padding is cut off:
    ypad[n, g*C_out/G + o, i*s + u, j*s + v] += sum_c w[g*C_in/G + c, o, u, v] * x[n, g*C_in/G + c, i, j]
    y = ypad[:, :, p:p + OH, p:p + OW] + b
Backward (the forward is linear in x and in w; each gradient is that product with dy in place of y):
    dx[n, g*C_in/G + c, i, j] = sum_{o,u,v} w[.., c, o, u, v] * dypad[n, g*C_out/G + o, i*s + u, j*s + v]
    dw[g*C_in/G + c, o, u, v] = sum_{n,i,j} x[n, .., c, i, j] * dypad[n, .., o, i*s + u, j*s + v]
    db = sum of dy over N, OH, OW.
Textbook path, through convolution's own im2col/col2im and products (ops/im2col.py's Columns: NumPy, the fast
engine's threaded copies and products, or the CUDA kernels kernels/im2col.cu and col2im.cu with cuBLAS), so no new
kernels: per group
    col = w_g^T (C_out/G*KH*KW, C_in/G) @ x_g (C_in/G, H*W),   y = col2im(col)
    dcol = im2col(dy),   dx_g = w_g @ dcol_g,   dw_g = sum_n x_g @ dcol_g^T
Cache: (path, x, w, has_bias, stride, pad, groups): the path of the Columns that made it, which backward takes.
"""
import numpy as np

from minidream.engine.ops.im2col import check_groups, columns_for, columns_of


def output_size(size, kernel, stride, pad):
    """Caffe's deconvolution output size: stride * (size - 1) + kernel - 2 * pad."""
    return stride * (size - 1) + kernel - 2 * pad


def output_shape(in_shape, w_shape, stride=(1, 1), pad=(0, 0), groups=1):
    """(N, C_out, OH, OW) for x of in_shape and w of w_shape = (C_in, C_out/G, KH, KW); ValueError if they disagree."""
    n, c_in, h, w = in_shape
    w_in, cg_out, kh, kw = w_shape
    check_groups(c_in, groups, "input channels")
    if w_in != c_in:
        raise ValueError(f"deconvolution shapes disagree: input has {c_in} channels, weights (C_in, C_out/G, KH, KW) = "
                         f"{tuple(w_shape)} expect {w_in}")
    oh, ow = output_size(h, kh, stride[0], pad[0]), output_size(w, kw, stride[1], pad[1])
    if oh < 1 or ow < 1:
        raise ValueError(f"a {kh}x{kw} deconvolution with pad {tuple(pad)} leaves no output for a {h}x{w} input; "
                         "reduce the padding")
    return n, cg_out * groups, oh, ow


def forward(x, w, b, stride=(1, 1), pad=(0, 0), groups=1):
    """y = conv^T(x, w) + b. Returns (y, cache)."""
    n, c_out, oh, ow = output_shape(x.shape, w.shape, stride, pad, groups)
    cols = columns_for(x)
    c_in, cg_out, kh, kw = w.shape
    x_mat = x.reshape(n, groups, c_in // groups, x.shape[2] * x.shape[3])
    w_mat = w.reshape(groups, c_in // groups, cg_out * kh * kw)
    col = cols.matmul(w_mat.transpose(0, 2, 1), x_mat)  # w^T as a view, as in conv.backward
    y = cols.col2im(col.reshape(n, c_out * kh * kw, -1), (n, c_out, oh, ow), kh, kw, stride, pad)
    if b is not None:
        y += b.reshape(1, c_out, 1, 1)
    return y, (cols.path, x, w, b is not None, stride, pad, groups)


def backward(dy, cache, weight_grads=True):
    """Returns (dx, dw, db); dw and db are None when weight_grads is False (dreams need only dx)."""
    path, x, w, has_bias, stride, pad, groups = cache
    n, c_in, h, wd = x.shape
    _, cg_out, kh, kw = w.shape
    cols = columns_of(path)
    col = cols.im2col(dy, kh, kw, stride, pad).reshape(n, groups, cg_out * kh * kw, h * wd)
    w_mat = w.reshape(groups, c_in // groups, cg_out * kh * kw)
    dx = cols.matmul(w_mat, col).reshape(x.shape)
    dw = None
    if weight_grads:
        x_mat = x.reshape(n, groups, c_in // groups, h * wd)
        dw = cols.matmul(x_mat, col.transpose(0, 1, 3, 2)).sum(axis=0).reshape(w.shape)
    db = dy.sum(axis=(0, 2, 3)) if weight_grads and has_bias else None
    return dx, dw, db


def forward_naive(x, w, b, stride=(1, 1), pad=(0, 0), groups=1):
    """Loop version: every input pixel adds its weighted filter into the padded output."""
    n, c_out, oh, ow = output_shape(x.shape, w.shape, stride, pad, groups)
    c_in, cg_out, kh, kw = w.shape
    (sh, sw), (ph, pw) = stride, pad
    cg_in = c_in // groups
    ypad = np.zeros((n, c_out, oh + 2 * ph, ow + 2 * pw), dtype=x.dtype)
    for i_n in range(n):
        for c in range(c_in):
            outs = slice(c // cg_in * cg_out, (c // cg_in + 1) * cg_out)
            for i in range(x.shape[2]):
                for j in range(x.shape[3]):
                    ypad[i_n, outs, i * sh:i * sh + kh, j * sw:j * sw + kw] += w[c] * x[i_n, c, i, j]
    y = ypad[:, :, ph:ph + oh, pw:pw + ow] + (b.reshape(1, c_out, 1, 1) if b is not None else 0)
    return y, ("naive", x, w, b is not None, stride, pad, groups)


def backward_naive(dy, cache, weight_grads=True):
    """Loop version: each input pixel reads dy back through the same window it wrote."""
    _, x, w, has_bias, (sh, sw), (ph, pw), groups = cache
    c_in, cg_out, kh, kw = w.shape
    cg_in = c_in // groups
    dypad = np.pad(dy, ((0, 0), (0, 0), (ph, ph), (pw, pw)))
    dx, dw = np.zeros_like(x), np.zeros_like(w)
    for i_n in range(x.shape[0]):
        for c in range(c_in):
            outs = slice(c // cg_in * cg_out, (c // cg_in + 1) * cg_out)
            for i in range(x.shape[2]):
                for j in range(x.shape[3]):
                    window = dypad[i_n, outs, i * sh:i * sh + kh, j * sw:j * sw + kw]
                    dx[i_n, c, i, j] = np.sum(window * w[c])
                    dw[c] += window * x[i_n, c, i, j]
    if not weight_grads:
        return dx, None, None
    return dx, dw, dy.sum(axis=(0, 2, 3)) if has_bias else None
