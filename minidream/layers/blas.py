"""The BLAS library NumPy runs its matrix products on, and how many threads it uses.

minidream.layers.parallel splits a convolution's big matrix product over its own worker threads, as it does the
elementwise layers, so that one pool of threads does all of a step's work. Each piece must then run on ONE BLAS
thread: otherwise every worker would wake BLAS threads of its own (more threads than cores), and those would spin
on the cores the next layer needs once the product is done. OpenBLAS (NumPy's wheels bundle it) has
openblas_set_num_threads_local(n), which sets its thread count and returns the previous one, so a caller can put
it back; despite the name the count is process-wide.

thread_count_setter() finds that function in the OpenBLAS the process has loaded (Linux: /proc/self/maps); with
other BLAS libraries or systems it returns None and the products keep the BLAS's own threading.
"""
import ctypes
import threading
from contextlib import contextmanager

SETTERS = ("openblas_set_num_threads_local", "scipy_openblas_set_num_threads_local64_")


def loaded_libraries(maps="/proc/self/maps"):
    """Paths of the shared libraries mapped into this process (empty where /proc is missing)."""
    try:
        with open(maps) as f:
            return sorted({fields[5].strip() for fields in (line.split(None, 5) for line in f)
                           if len(fields) > 5 and ".so" in fields[5]})
    except OSError:
        return []


def thread_count_setter():
    """OpenBLAS's set(n) -> previous n, or None when the process has no OpenBLAS that offers it."""
    for path in loaded_libraries():
        if "openblas" not in path.rsplit("/", 1)[-1].lower():
            continue
        try:
            library = ctypes.CDLL(path)
        except OSError:
            continue
        for name in SETTERS:
            setter = getattr(library, name, None)
            if setter is not None:
                setter.argtypes, setter.restype = [ctypes.c_int], ctypes.c_int
                return setter
    return None


_lock = threading.Lock()
_inside = 0  # blocks open now, in any thread (two Nets may run at once)
_previous = None  # the count the first of them found


@contextmanager
def one_thread(setter):
    """Within the block, OpenBLAS runs each call on the thread that makes it; the last block to close puts back the
    count the first one found (the count is process-wide, so overlapping blocks must not restore each other's 1)."""
    global _inside, _previous
    with _lock:
        if _inside == 0:
            _previous = setter(1)
        _inside += 1
    try:
        yield
    finally:
        with _lock:
            _inside -= 1
            if _inside == 0:
                setter(_previous)
