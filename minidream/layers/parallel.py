"""Elementwise layer work split over the CPU cores.

NumPy's BLAS already runs matrix products on every core, but its elementwise loops (pooling, im2col, LRN) run on
one. NumPy releases the GIL inside those loops, so threads that work on separate slices of an array really do run
at once. A layer keeps its work as a plain function of one slice (of channels, or of rows) and hands it to
`for_blocks`, which calls it on a few slices that together cover the whole range.

A layer that makes many passes over its data (max pooling: about ten) walks its slice in `cache_pieces`: when a
piece's arrays fit in the core's L2 cache, the later passes read them from there instead of from main memory
(pool1 of GoogLeNet at 640x480 on one core: forward 16.6 -> 9.0 ms, backward 20.2 -> 11.0 ms). One-pass work
(im2col) gains nothing from it, and LRN's row slices lose their long contiguous runs.
"""
import os
from concurrent.futures import ThreadPoolExecutor

WORKERS = len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else (os.cpu_count() or 1)
MIN_ELEMENTS = 1 << 15  # below this, starting threads costs more than it saves
PIECE_ELEMENTS = 1 << 18  # 1 MB of float32: measured best on 2 cores (1 << 16 cost 2x at 224x224 in per-piece overhead)
_executor = None


def for_blocks(work, length, elements):
    """Call work(slice) for consecutive slices covering range(length); in parallel when `elements` is large."""
    global _executor
    blocks = min(WORKERS, length)
    if blocks < 2 or elements < MIN_ELEMENTS:
        work(slice(0, length))
        return
    if _executor is None:
        _executor = ThreadPoolExecutor(WORKERS, thread_name_prefix="minidream")
    bounds = [length * i // blocks for i in range(blocks + 1)]
    for future in [_executor.submit(work, slice(a, b)) for a, b in zip(bounds, bounds[1:])]:
        future.result()  # re-raises an exception from the worker


def cache_pieces(block, item_elements):
    """Consecutive sub-slices of `block` (a slice from for_blocks) of about PIECE_ELEMENTS elements each, at least
    one item each; item_elements: the elements of one item (one channel, one row)."""
    step = max(1, PIECE_ELEMENTS // max(item_elements, 1))
    return [slice(a, min(a + step, block.stop)) for a in range(block.start, block.stop, step)]
