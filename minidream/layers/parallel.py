"""Elementwise layer work split over the CPU cores.

NumPy's BLAS already runs matrix products on every core, but its elementwise loops (pooling, im2col, LRN) run on
one. NumPy releases the GIL inside those loops, so threads that work on separate slices of an array really do run
at once. A layer keeps its work as a plain function of one slice (of channels, or of rows) and hands it to
`for_blocks`, which calls it on a few slices that together cover the whole range.
"""
import os
from concurrent.futures import ThreadPoolExecutor

WORKERS = len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else (os.cpu_count() or 1)
MIN_ELEMENTS = 1 << 15  # below this, starting threads costs more than it saves
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
