"""minidream.tune_cpu(): two process-wide settings that make the NumPy engine faster, applied only when asked.

Importing minidream changes nothing in the process. The CLI (`python -m minidream`), the benchmarks and the first
dream() call tune_cpu(); a script gets the full effect by calling it itself before NumPy is first imported:

    import minidream
    minidream.tune_cpu()      # before `import numpy` anywhere
    import numpy as np

1. Keep freed array memory in the process (glibc only). Every dream step allocates and frees the same large
   arrays: activations, convolution columns, gradients. glibc serves big allocations with mmap and hands them
   back to the kernel on free, so each step page-faults them in again and the kernel zeroes every page — a fifth
   of an AlexNet step on a 2-core machine (sys time 32 of 163 ms; 134 ms with this). Raising glibc's mmap and
   trim thresholds keeps that memory in the heap for reuse, as PyTorch's caching allocator does for its tensors.
   The peak memory of a step does not change; the process simply keeps its peak. MINIDREAM_KEEP_MEMORY=0 opts out.
2. OPENBLAS_THREAD_TIMEOUT=4 (unless set): OpenBLAS's worker threads spin for ~2^28 cycles after each matrix
   product before they sleep, holding a core that our elementwise layer threads (minidream.layers.parallel)
   need; 2^4 cycles makes them yield at once (~10% on a default dream). OpenBLAS reads it when NumPy loads,
   so it only takes effect if NumPy is not imported yet.
"""
import ctypes
import ctypes.util
import os
import sys

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
    """Apply both settings (once per process); returns {"keep_freed_memory": bool, "openblas_thread_timeout": bool}
    saying which took effect."""
    if not _applied:
        numpy_loaded = "numpy" in sys.modules
        if not numpy_loaded:
            os.environ.setdefault("OPENBLAS_THREAD_TIMEOUT", "4")
        _applied.update(keep_freed_memory=keep_freed_memory(),
                        openblas_thread_timeout=not numpy_loaded and os.environ["OPENBLAS_THREAD_TIMEOUT"] == "4")
    return dict(_applied)
