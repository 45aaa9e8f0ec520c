"""minidream.tune_cpu(): the process-wide settings that make the NumPy engine faster, applied only when asked.

Importing minidream changes nothing in the process. The CLI (`python -m minidream`) and the benchmarks call
tune_cpu() at start; a script may call it itself, before or after NumPy is imported. The first dream() call applies
the first setting only (the second must not run while another thread is inside a matrix product).

1. Keep freed array memory in the process (glibc only). Every dream step allocates and frees the same large arrays:
   activations, convolution columns, gradients. glibc serves big allocations with mmap and hands them back to the
   kernel on free, so each step page-faults them in again and the kernel zeroes every page, a large share of a step
   on few cores (docs/speed.md). Raising glibc's mmap and trim thresholds
   keeps that memory in the heap for reuse, as PyTorch's caching allocator does for its tensors. The peak memory of
   a step does not change; the process simply keeps its peak. MINIDREAM_KEEP_MEMORY=0 opts out.
2. On AMD Zen 4, OpenBLAS's AVX2 kernels instead of the AVX-512 ones it picks there, which are slower on it
   (docs/speed.md; minidream.engine.speed.blas.prefer_avx2_kernels); OPENBLAS_CORETYPE=Haswell is left set, so that
   processes started afterwards (dask workers) round their sums alike. Setting OPENBLAS_CORETYPE yourself opts out.

(BLAS threads need no setting: the engine runs its matrix products on its own threads, each on one OpenBLAS thread,
so OpenBLAS's threads never spin on the cores the layers need — minidream/engine/speed/parallel.py.)
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


def tune_cpu(blas_kernels=True):
    """Apply the settings, each once per process; returns {"keep_freed_memory": bool, "blas_kernels": the OpenBLAS
    kernels it switched to, or None} (None also when not asked for). blas_kernels=False skips the kernel choice,
    which must not run while another thread is inside a matrix product (dream() calls it so)."""
    if "keep_freed_memory" not in _applied:
        _applied["keep_freed_memory"] = keep_freed_memory()
    if blas_kernels and "blas_kernels" not in _applied:
        import numpy  # noqa: F401  (loads NumPy's OpenBLAS, whose kernels are chosen next)

        # Here, not at the top: a dream asks for the memory setting only, and under the textbook engine
        # (minidream/engine/engines.py) it loads none of the BLAS machinery.
        from minidream.engine.speed import blas
        _applied["blas_kernels"] = blas.prefer_avx2_kernels()
    return {"keep_freed_memory": _applied["keep_freed_memory"], "blas_kernels": _applied.get("blas_kernels")}
