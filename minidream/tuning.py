"""minidream.tune_cpu(): the one process-wide setting that makes the NumPy engine faster, applied only when asked.

Importing minidream changes nothing in the process. The CLI (`python -m minidream`), the benchmarks and the first
dream() call tune_cpu(); a script may call it itself, at any time (before or after NumPy is imported).

Keep freed array memory in the process (glibc only). Every dream step allocates and frees the same large arrays:
activations, convolution columns, gradients. glibc serves big allocations with mmap and hands them back to the
kernel on free, so each step page-faults them in again and the kernel zeroes every page — a fifth of an AlexNet
step on a 2-core machine (sys time 32 of 163 ms; 134 ms with this). Raising glibc's mmap and trim thresholds keeps
that memory in the heap for reuse, as PyTorch's caching allocator does for its tensors. The peak memory of a step
does not change; the process simply keeps its peak. MINIDREAM_KEEP_MEMORY=0 opts out.

(BLAS threads need no setting: the engine runs its matrix products on its own threads, each on one OpenBLAS thread,
so OpenBLAS's threads never spin on the cores the layers need — minidream/layers/parallel.py.)
"""
import ctypes
import ctypes.util
import os

_M_TRIM_THRESHOLD, _M_MMAP_THRESHOLD = -1, -3  # glibc <malloc.h>
_applied = {}


def keep_freed_memory():
    """Ask glibc to serve large arrays from its heap and not to trim it; returns True when it did."""
    if os.environ.get("MINIDREAM_KEEP_MEMORY", "1") == "0":
        return False
    name = ctypes.util.find_library("c")
    try:
        mallopt = ctypes.CDLL(name).mallopt if name else None
    except (OSError, AttributeError):  # not glibc (macOS, Windows, musl builds without mallopt)
        return False
    if mallopt is None:
        return False
    return bool(mallopt(_M_MMAP_THRESHOLD, 1 << 30)) and bool(mallopt(_M_TRIM_THRESHOLD, 1 << 31))


def tune_cpu():
    """Apply the setting (once per process); returns {"keep_freed_memory": bool} saying whether it took effect."""
    if not _applied:
        _applied["keep_freed_memory"] = keep_freed_memory()
    return dict(_applied)
