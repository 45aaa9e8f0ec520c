"""Winograd's minimal filtering F(2x2, 3x3): the CPU path of conv.forward and conv.backward for 3x3, stride-1
convolutions (VGG, GoogLeNet's 3x3 branches and conv2, AlexNet's conv3-5, ResNet's bottlenecks).

A 2x2 block of a 3x3 filter's outputs reads a 4x4 tile d of the (padded) input. Directly that is 2*2*9 = 36
multiply-adds per pair of channels; Winograd (Lavin & Gray 2015) needs 16:

    Y (2x2) = A^T [ (G g G^T) (.) (B^T d B) ] A          (.) elementwise, g the 3x3 filter

    B^T = [1  0 -1  0]    G = [ 1    0    0 ]    A^T = [1  1  1  0]
          [0  1  1  0]        [1/2  1/2  1/2]          [0  1 -1 -1]
          [0 -1  1  0]        [1/2 -1/2  1/2]
          [0  1  0 -1]        [ 0    0    1 ]

Summed over the input channels, the elementwise product becomes 16 matrix products, one per tile position (a, b):

    U[a, b] = (G g G^T)[a, b]    (F, C)   filters, transformed once per call
    V[a, b] = (B^T d B)[a, b]    (C, T)   T = number of 2x2 output tiles
    M[a, b] = U[a, b] @ V[a, b]  (F, T),  y = A^T M A, tile by tile

so a convolution costs 16*F*C*T = 4*F*C*OH*OW multiply-adds instead of im2col's 9*F*C*OH*OW (2.25x fewer), plus
the transforms: additions and halvings over arrays about as large as im2col's columns. Rounding: every transform is
a sum of at most four terms with coefficients 0, +-1/2, +-1, so float32 results differ from im2col + GEMM by about
the same few ulps as any other order of the sums.

Backward of a stride-1 convolution is again one: dx = conv(dy, w'), where w'[c, f] = w[f, c] turned by 180
degrees and the padding is 2 - pad (dy's border reaches every input pixel a window covered).
Shapes follow conv: x (N, C, H, W), w (F, C/G, 3, 3), groups G; y (N, F, OH, OW).
"""
import numpy as np

from minidream.engine.speed import parallel
from minidream.engine.speed.padding import place
from minidream.engine.speed.parallel import cache_pieces, for_blocks

BAND_ELEMENTS = 1 << 24  # V (or M) of one band of tile rows: 64 MB of float32, allocated band after band
MIN_CHANNELS = 8  # per group: below this the 16 products are too thin for BLAS (depthwise convolutions)
MIN_OUTPUTS = 100  # per channel: below about 10x10 the filter transform costs more than the products save
#                    (docs/speed.md)
MIN_THREADED = 1 << 19  # elements of V or M: smaller transforms (~40 NumPy calls a piece) run on one thread, where
#                         two threads would mostly wait for each other's GIL (docs/speed.md)
G = np.array([[1, 0, 0], [0.5, 0.5, 0.5], [0.5, -0.5, 0.5], [0, 0, 1]])
G_KRON_G = np.kron(G, G)  # (16, 9): U[a, b] = sum_ij G[a, i] G[b, j] g[i, j] is row 4a + b on the taps 3i + j


def applies(w_shape, stride, pad, groups, out_size):
    """Whether Winograd runs this convolution: 3x3 filters, stride 1, pad at most 2 (so that backward is one too),
    enough channels per group on both sides for the products to pay, and an output (OH, OW) large enough."""
    f, cg, kh, kw = w_shape
    return ((kh, kw) == (3, 3) and tuple(stride) == (1, 1) and max(pad) <= 2
            and min(cg, f // groups) >= MIN_CHANNELS and out_size[0] * out_size[1] >= MIN_OUTPUTS)


def forward(x, w, pad, groups=1, b=None):
    """y = conv(x, w) + b for a 3x3 filter, stride 1: x (N, C, H, W), w (F, C/G, 3, 3), pad (ph, pw), b (F,) or
    None -> y (N, F, OH, OW)."""
    return _convolve(x, filter_transform(w, groups), pad, b)


def backward_dx(dy, w, x_shape, pad, groups=1):
    """dx (x_shape) of forward: a stride-1 3x3 convolution of dy with w' and padding 2 - pad.

    w'[c, f] = w[f, c] turned by 180 degrees, group by group: its transform is w's taps in reverse order, and each
    (F/G, C/G) matrix read transposed, which the products take as a view (no copy of w or U)."""
    u_turned = filter_transform(w, groups, turned=True).transpose(0, 1, 2, 4, 3)  # (4, 4, G, C/G, F/G)
    dx = _convolve(dy, u_turned, (2 - pad[0], 2 - pad[1]))
    assert dx.shape == tuple(x_shape), (dx.shape, x_shape)
    return dx


def _convolve(x, u, pad, b=None):
    """The convolution with transformed filters u (4, 4, G, F/G, C/G), in bands of tile rows."""
    n, c, h, wd = x.shape
    groups, fg, cg = u.shape[2:]
    f = groups * fg
    (ph, pw) = pad
    oh, ow = h + 2 * ph - 2, wd + 2 * pw - 2
    th, tw = -(-oh // 2), -(-ow // 2)  # tiles down and across; the last may stick out (zero input beyond)
    y = np.empty((n, f, oh, ow), dtype=x.dtype)
    rows = max(1, BAND_ELEMENTS // (16 * n * max(c, f) * tw))  # tile rows per band
    for i0 in range(0, th, rows):  # a band of tile rows at a time: V and M stay small and warm
        i1 = min(i0 + rows, th)
        top = 2 * i0 - ph  # the band's first input row (negative: in the padding)
        v = input_transform(x[:, :, max(top, 0):max(2 * i1 + 2 - ph, 0)], (max(-top, 0), pw), i1 - i0, tw)
        m = parallel.matmul(u[:, :, None], v.reshape(4, 4, n, groups, cg, -1))  # (4, 4, N, G, F/G, T)
        m = m.reshape(4, 4, n, f, i1 - i0, tw)
        if b is not None:
            m[1, 1] += b.reshape(1, f, 1, 1)  # A^T's column 1 is all ones: M[1, 1] reaches every output once
        output_transform(m, y[:, :, 2 * i0:2 * i1])
    return y


def filter_transform(w, groups, turned=False):
    """U = G g G^T for every filter: w (F, C/G, 3, 3) -> (4, 4, G, F/G, C/G), in w's dtype; turned: of every filter
    turned by 180 degrees. On the 9 taps of g (row by row) G g G^T is the 16 x 9 matrix G (x) G (Kronecker;
    entries 0, +-1/4, +-1/2, 1, exact in floats), so all filters take one product, (G (x) G) @ taps^T, written
    straight in U's layout. Turning a filter reverses its taps: the same product with the columns reversed."""
    f, cg = w.shape[:2]
    taps = w.reshape(f * cg, 9)
    u = parallel.matmul((G_KRON_G[:, ::-1] if turned else G_KRON_G).astype(w.dtype), taps.T)  # (16, F * C/G)
    return u.reshape(4, 4, groups, f // groups, cg)


def input_transform(x, pad, th, tw):
    """V = B^T d B for every 4x4 input tile (stride 2 in both directions): x (N, C, H, W) -> (4, 4, N, C, th*tw).

    Tile (i, j) reads padded rows 2i..2i+3 and columns 2j..2j+3. The padded image splits into four phases by row and
    column parity, each copied once into a contiguous (th + 1, tw + 1) array; tile column v of every tile is then
    the view of phase (row parity, v % 2) from column v // 2 on. Later steps read those views, runs of tw contiguous
    values, not the image's stride-2 columns (NumPy's strided loops cost several times more), and x is gathered once
    (a phase per tile column, 8 copies, was slower; both measured: docs/speed.md). Columns first (B^T along v, for
    both row parities), then rows (row u is parity u % 2, from row u // 2 on).
    """
    n, c = x.shape[:2]
    v = np.empty((4, 4, n, c, th, tw), dtype=x.dtype)

    def channels(block):
        for ch in cache_pieces(block, 4 * n * (th + 1) * tw):  # a piece's ~12 temporaries stay in cache
            columns = []
            for r in range(2):
                phases = [_phase(x[:, ch], pad, r, q, th + 1, tw + 1) for q in range(2)]
                columns.append(_apply_bt([phases[start % 2][..., start // 2:start // 2 + tw] for start in range(4)]))
            for b in range(4):
                rows = tuple(columns[u % 2][b][:, :, u // 2:u // 2 + th] for u in range(4))  # tile rows 0..3
                _apply_bt(rows, out=[v[a, b, :, ch] for a in range(4)])

    for_blocks(channels, c, v.size, MIN_THREADED)
    return v.reshape(4, 4, n, c, th * tw)


def _phase(x, pad, row, column, rows, cols):
    """Rows row, row + 2, ... and columns column, column + 2, ... of x zero-padded by pad (zeros past its end too),
    as a contiguous (N, C, rows, cols) array (padding.place: only the border that falls in the padding is zeroed)."""
    ph, pw = pad
    i0, j0 = max(0, (ph - row + 1) // 2), max(0, (pw - column + 1) // 2)  # the first row / column inside x
    source = x[:, :, row + 2 * i0 - ph::2, column + 2 * j0 - pw::2][:, :, :rows - i0, :cols - j0]
    return place(source, np.empty(x.shape[:2] + (rows, cols), dtype=x.dtype), i0, j0)


def _apply_bt(d, out=(None,) * 4):
    """B^T applied along one axis to its four slices d0..d3: (d0 - d2, d1 + d2, d2 - d1, d1 - d3)."""
    d0, d1, d2, d3 = d
    return (np.subtract(d0, d2, out=out[0]), np.add(d1, d2, out=out[1]),
            np.subtract(d2, d1, out=out[2]), np.subtract(d1, d3, out=out[3]))


def output_transform(m, y):
    """y = A^T M A for every tile: m (4, 4, N, F, th, tw) into y (N, F, oh, ow), the tiles sticking out cut off."""
    n, f, th, tw = m.shape[2:]
    oh, ow = y.shape[2:]
    ohs, ows = (th, oh // 2), (tw, ow // 2)  # rows (columns) of the even and the odd output phase

    def filters(block):
        for fs in cache_pieces(block, 4 * n * th * tw):  # a quarter of m's planes: the temporaries stay in cache
            p = [_apply_at([m[a, b, :, fs] for a in range(4)]) for b in range(4)]  # p[b][r]: A^T along a
            for r in range(2):
                for s, phase in enumerate(_apply_at([p[b][r] for b in range(4)])):
                    y[:, fs, r::2, s::2] = phase[:, :, :ohs[r], :ows[s]]

    for_blocks(filters, f, m.size, MIN_THREADED)


def _apply_at(m):
    """A^T applied along one axis to its four slices m0..m3: (m0 + m1 + m2, m1 - m2 - m3)."""
    m0, m1, m2, m3 = m
    return (m0 + m1 + m2, m1 - m2 - m3)


def forward_naive(x, w, pad):
    """Winograd tile by tile with the 4x4 matrices above (one group): the textbook version the fast one is checked
    against. x (N, C, H, W), w (F, C, 3, 3) -> y (N, F, OH, OW)."""
    bt = np.array([[1, 0, -1, 0], [0, 1, 1, 0], [0, -1, 1, 0], [0, 1, 0, -1]], dtype=np.float64)
    at = np.array([[1, 1, 1, 0], [0, 1, -1, -1]], dtype=np.float64)
    n, c, h, wd = x.shape
    f = w.shape[0]
    oh, ow = h + 2 * pad[0] - 2, wd + 2 * pad[1] - 2
    th, tw = -(-oh // 2), -(-ow // 2)
    xpad = np.zeros((n, c, 2 * th + 2, 2 * tw + 2))
    xpad[:, :, pad[0]:pad[0] + h, pad[1]:pad[1] + wd] = x[:, :, :2 * th + 2 - pad[0], :2 * tw + 2 - pad[1]]
    y = np.zeros((n, f, 2 * th, 2 * tw))
    for i_n in range(n):
        for i_f in range(f):
            for i in range(th):
                for j in range(tw):
                    m = np.zeros((4, 4))
                    for i_c in range(c):
                        d = xpad[i_n, i_c, 2 * i:2 * i + 4, 2 * j:2 * j + 4]
                        m += (G @ w[i_f, i_c] @ G.T) * (bt @ d @ bt.T)
                    y[i_n, i_f, 2 * i:2 * i + 2, 2 * j:2 * j + 2] = at @ m @ at.T
    return y[:, :, :oh, :ow].astype(x.dtype)
