"""A step's CPU work split over the cores: elementwise layers and the big matrix products, in one pool of threads.

NumPy's elementwise loops (pooling, im2col, LRN) run on one core. NumPy releases the GIL inside them, so threads that
work on separate slices of an array really do run at once. A layer keeps its work as a plain function of one slice
(of channels, or of rows) and hands it to `for_blocks`, which calls it on a few slices that together cover the
whole range.

Matrix products (`matmul`) go through the same pool, each worker's piece on one BLAS thread
(minidream.engine.speed.blas). Left to OpenBLAS's own threads they were as fast alone, but those threads spin for a
while after each product on the cores that the next layer's threads need: unless OPENBLAS_THREAD_TIMEOUT was set
before NumPy loaded, that cost a large share of a step on few cores (docs/speed.md). Now the import order does not
matter.

A layer that makes many passes over its data (max pooling: about ten) walks its slice in `cache_pieces`: when a
piece's arrays fit in the core's L2 cache, the later passes read them from there instead of from main memory
(docs/speed.md). One-pass work
(im2col) gains nothing from it, and LRN's row slices lose their long contiguous runs.

Inside `serial()` a thread cuts nothing: its layers run whole on it, while other threads walk other pictures of the
batch (minidream.engine.speed.picture_parts). Its matrix products still run in the bands they would run in outside:
OpenBLAS rounds a band of columns by its shape, and a picture must get the same bits in a part as alone.
"""
import contextlib
import functools
import os
import threading

import numpy as np

from minidream.engine.speed import blas, workers

WORKERS = len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else (os.cpu_count() or 1)
MIN_ELEMENTS = 1 << 15  # below this, starting threads costs more than it saves
MIN_PRODUCT = 1 << 21  # multiply-adds: a smaller matrix product takes less time than handing it to the pool
SLICE_SHARE = 16  # see block_count; 2 cores cut as before (measured on 16 cores: docs/speed.md, round 9)
PIECE_ELEMENTS = 1 << 18  # 1 MB of float32: smaller pieces cost more in per-piece overhead (docs/speed.md)
_this_thread = threading.local()  # .serial: inside serial()


@functools.cache
def _blas_threads():
    """blas.thread_count_setter(), looked up at the first product (NumPy has loaded its BLAS by then)."""
    return blas.thread_count_setter()


@contextlib.contextmanager
def serial():
    """Within the block, this thread's for_blocks calls work once on the whole range, on this thread."""
    outer = getattr(_this_thread, "serial", False)
    _this_thread.serial = True
    try:
        yield
    finally:
        _this_thread.serial = outer


def for_blocks(work, length, elements, min_elements=MIN_ELEMENTS):
    """Call work(slice) for consecutive slices covering range(length); in parallel when `elements` (the size of
    the work) is at least min_elements, in as many slices as block_count gives. The caller works on the first
    slice itself (one thread fewer to wake, and it stays busy), the pool in minidream.engine.speed.workers on the
    others; returns when all are done, and re-raises an exception from any of them. Inside serial(): one call."""
    pieces = _slices(length, elements, min_elements)
    if len(pieces) < 2 or getattr(_this_thread, "serial", False):
        work(slice(0, length))
        return
    workers.run(work, pieces, max(1, WORKERS - 1))


def _slices(length, elements, min_elements):
    """The consecutive slices for_blocks cuts range(length) into (block_count of them)."""
    blocks = block_count(length, elements, min_elements)
    bounds = [length * i // blocks for i in range(blocks + 1)]
    return [slice(a, b) for a, b in zip(bounds, bounds[1:])]


def block_count(length, elements, min_elements):
    """How many slices for_blocks cuts range(length) into: 1 (no cutting) below min_elements of work; else one per
    worker, but a slice past the second must bring SLICE_SHARE * min_elements of work with it. Every slice costs
    the same dispatch and Python (GIL-held) time however small it is, so on many cores a small layer cut into one
    slice per core waits on that more than it computes."""
    if elements < min_elements:
        return 1
    return min(WORKERS, length, max(2, elements // max(1, SLICE_SHARE * min_elements)))


def for_channel_parts(work, channels, parts, elements):
    """Call work(channel slice, range of parts) over every (channel, part) pair, split over the cores by pairs, so
    that an RGB input's 3 channels split evenly too (im2col's filter rows, col2im's stride phases). A block gets
    whole channels in one call, with at most a partial channel at each end."""
    def block(pairs):
        first, first_part = divmod(pairs.start, parts)
        last, last_part = divmod(pairs.stop, parts)
        if first == last:
            work(slice(first, first + 1), range(first_part, last_part))
            return
        if first_part:
            work(slice(first, first + 1), range(first_part, parts))
            first += 1
        if last > first:
            work(slice(first, last), range(parts))
        if last_part:
            work(slice(last, last + 1), range(last_part))

    for_blocks(block, channels * parts, elements)


def for_blas_blocks(work, length, multiply_adds):
    """for_blocks for work that makes BLAS calls: each block's calls run on one BLAS thread (OpenBLAS's own threads
    are never woken), in parallel when the work has at least MIN_PRODUCT multiply-adds. Where the BLAS is not an
    OpenBLAS whose thread count can be set, one call of work on the whole range, on the BLAS's own threads.
    Inside serial(): the same blocks one after another on this thread (their products round as they do outside)."""
    setter = _blas_threads()
    if setter is None:
        work(slice(0, length))
        return
    with blas.one_thread(setter):
        if getattr(_this_thread, "serial", False):
            for piece in _slices(length, multiply_adds, MIN_PRODUCT):
                work(piece)
        else:
            for_blocks(work, length, multiply_adds, MIN_PRODUCT)


def matmul(a, b, row_bias=None):
    """a (..., M, K) @ b (..., K, P) -> (..., M, P), as np.matmul, on this pool's threads only; row_bias (..., M),
    broadcast like a, is added to every column (a convolution's bias).

    A large product is split into one band of the output per worker. A stack of products (Winograd's 16) is split
    between its products, which share nothing. A single product is split into bands of columns (every worker reads
    all of a, a part of b), or of rows (all of b) when it is tall: M >= K and M >= P / 4 (the backward of late
    layers, w^T @ dy with few pixels; fully connected layers), whichever was faster (docs/speed.md).
    Every piece, and a product too small to split, runs on one BLAS thread (for_blas_blocks).

    A stack along a batch's pictures (the first axis: im2col's columns of N pictures against one filter matrix) is
    cut into bands as each picture's product alone would be, and the pieces are (band, pictures) pairs: OpenBLAS
    rounds a band by its shape, and a picture must come out of a batch as it comes out alone.
    """
    m, k, p = a.shape[-2], a.shape[-1], b.shape[-1]
    stack = np.broadcast_shapes(a.shape[:-2], b.shape[:-2])
    out = np.empty(stack + (m, p), dtype=np.result_type(a, b))
    bias = None if row_bias is None else np.broadcast_to(row_bias[..., None], out.shape)  # sliced as out is
    total = int(np.prod(stack)) * m * k * p

    def stack_band(s):
        pick = (lambda array: array[s] if len(array) > 1 else array)
        _product(pick(a), pick(b), out[s], None if bias is None else bias[s])

    if a.ndim == b.ndim > 2 and stack[0] >= WORKERS:
        for_blas_blocks(stack_band, stack[0], total)
        return out
    rows = m >= k and 4 * m >= p
    items = stack[0] if stack else 1
    cuts = _slices(m if rows else p, total // items, MIN_PRODUCT)  # one item's bands

    def at(array, its):
        """array's part for the items its (array itself where it has no first stack axis of its own)."""
        return array[its] if stack and array.ndim == len(stack) + 2 and array.shape[0] > 1 else array

    def band(cut, its):
        where = (Ellipsis, cut, slice(None)) if rows else (Ellipsis, cut)
        a_part, b_part = (at(a, its)[where], at(b, its)) if rows else (at(a, its), at(b, its)[where])
        _product(a_part, b_part, at(out, its)[where], None if bias is None else at(bias, its)[where])

    def pairs(flat):  # flat index: band * items + item
        for c in range(flat.start // items, (flat.stop - 1) // items + 1):
            band(cuts[c], slice(max(flat.start - c * items, 0), min(flat.stop - c * items, items)))

    for_blas_blocks(pairs, len(cuts) * items, total)
    return out


def _product(a, b, out, bias):
    """out = a @ b, plus bias (out's shape, a broadcast view) when given: written into out first, and the BLAS adds
    the product to it (beta = 1), which saves a pass over out (docs/speed.md)."""
    product = None if bias is None else blas.gemm(out.dtype)
    if product is None or not all(x.dtype == out.dtype and blas.leading_dimension(x) is not None
                                     for x in (a, b, out)):
        np.matmul(a, b, out=out)
        if bias is not None:
            out += bias
        return
    out[...] = bias
    stack = out.shape[:-2]
    a, b = np.broadcast_to(a, stack + a.shape[-2:]), np.broadcast_to(b, stack + b.shape[-2:])
    for i in np.ndindex(stack):
        product(a[i], b[i], out[i], 1.0)


def cache_pieces(block, item_elements):
    """Consecutive sub-slices of `block` (a slice from for_blocks) of about PIECE_ELEMENTS elements each, at least
    one item each; item_elements: the elements of one item (one channel, one row)."""
    step = max(1, PIECE_ELEMENTS // max(item_elements, 1))
    return [slice(a, min(a + step, block.stop)) for a in range(block.start, block.stop, step)]
