"""The BLAS library NumPy runs its matrix products on, and how many threads it uses.

minidream.engine.speed.parallel splits a convolution's big matrix product over its own worker threads, as it does the
elementwise layers, so that one pool of threads does all of a step's work. Each piece must then run on ONE BLAS
thread: otherwise every worker would wake BLAS threads of its own (more threads than cores), and those would spin
on the cores the next layer needs once the product is done. OpenBLAS (NumPy's wheels bundle it) has
openblas_set_num_threads_local(n), which sets its thread count and returns the previous one, so a caller can put
it back; despite the name the count is process-wide.

thread_count_setter() finds that function in the OpenBLAS the process has loaded (Linux: /proc/self/maps); with
other BLAS libraries or systems it returns None and the products keep the BLAS's own threading.

prefer_avx2_kernels() (called by minidream.tune_cpu) makes OpenBLAS use its AVX2 kernels on AMD Zen 4, where they
are faster than the AVX-512 ones it picks by itself.

gemm(dtype) is that OpenBLAS's own matrix product, out = a @ b + beta * out: NumPy's matmul cannot add into its
output, which a sum of products (minidream.engine.speed.shifted_rows) needs.
"""
import ctypes
import os
import threading
from contextlib import contextmanager

SETTERS = ("openblas_set_num_threads_local", "scipy_openblas_set_num_threads_local64_")
GEMM_NAMES = (("", ""), ("scipy_", "64_"), ("", "64_"), ("scipy_", ""))  # (prefix, suffix) of OpenBLAS's symbols
ROW_MAJOR, NO_TRANSPOSE = 101, 111  # CBLAS's enums
AVX512_KERNELS = ("SkylakeX", "Cooperlake", "SapphireRapids")  # OpenBLAS's names for its AVX-512 kernel tables


def loaded_libraries(maps="/proc/self/maps"):
    """Paths of the shared libraries mapped into this process (empty where /proc is missing)."""
    try:
        with open(maps) as f:
            return sorted({fields[5].strip() for fields in (line.split(None, 5) for line in f)
                           if len(fields) > 5 and ".so" in fields[5]})
    except OSError:
        return []


def openblas_libraries():
    """The OpenBLAS libraries this process has loaded, as ctypes libraries (NumPy's wheels bundle one)."""
    for path in loaded_libraries():
        if "openblas" in path.rsplit("/", 1)[-1].lower():
            try:
                yield ctypes.CDLL(path)
            except OSError:
                continue


def thread_count_setter():
    """OpenBLAS's set(n) -> previous n, or None when the process has no OpenBLAS that offers it."""
    for library in openblas_libraries():
        for name in SETTERS:
            setter = getattr(library, name, None)
            if setter is not None:
                setter.argtypes, setter.restype = [ctypes.c_int], ctypes.c_int
                return setter
    return None


_gemms = {}  # dtype name -> gemm function or None, looked up once


def gemm(dtype):
    """OpenBLAS's product for float32 or float64 as f(a, b, out, beta): out = a @ b + beta * out, all 2-D of that
    dtype with unit steps along rows (views with a row stride are fine: no copies); None when the process has no
    OpenBLAS or the dtype has no BLAS product. Like any ctypes call it releases the GIL, so workers run at once."""
    name = {"float32": "sgemm", "float64": "dgemm"}.get(str(dtype))
    if name is None:
        return None
    if name not in _gemms:
        _gemms[name] = _find_gemm(name)
    return _gemms[name]


def _find_gemm(name):
    for library in openblas_libraries():
        for prefix, suffix in GEMM_NAMES:
            function = getattr(library, f"{prefix}cblas_{name}{suffix}", None)
            config = getattr(library, f"{prefix}openblas_get_config{suffix}", None)
            if function is None or config is None:
                continue
            config.restype = ctypes.c_char_p
            index = ctypes.c_int64 if b"USE64BITINT" in config() else ctypes.c_int  # NumPy's wheels: 64-bit
            scalar = ctypes.c_float if name == "sgemm" else ctypes.c_double
            pointer = ctypes.c_void_p
            function.argtypes = ([ctypes.c_int] * 3 + [index] * 3  # order, transposes; m, n, k
                                 + [scalar, pointer, index, pointer, index, scalar, pointer, index])  # alpha a b beta c
            function.restype = None
            return lambda a, b, out, beta, _f=function: _row_major_product(_f, a, b, out, beta)
    return None


def _row_major_product(function, a, b, out, beta):
    (m, k), (k_b, n) = a.shape, b.shape
    steps = [leading_dimension(array) for array in (a, b, out)]
    if out.shape != (m, n) or k_b != k or None in steps or any(x.dtype != out.dtype for x in (a, b)):
        raise ValueError(f"gemm needs a (m, k) @ (k, n) -> (m, n) of one dtype, rows of unit steps that do not "
                         f"overlap, got {a.shape} {a.dtype}, {b.shape} {b.dtype} -> {out.shape} {out.dtype}")
    function(ROW_MAJOR, NO_TRANSPOSE, NO_TRANSPOSE, m, n, k, 1.0, a.ctypes.data, steps[0], b.ctypes.data, steps[1],
             beta, out.ctypes.data, steps[2])


def leading_dimension(matrix):
    """The row step in elements of a matrix (the last two axes of an array), as gemm takes it (at least the row's
    length), or None when its columns are not one element apart or its rows overlap. An axis of length 1 may have
    any stride."""
    rows, columns = matrix.shape[-2:]
    row_step, column_step = (stride // matrix.itemsize for stride in matrix.strides[-2:])
    if columns > 1 and column_step != 1:
        return None
    if rows > 1:
        return row_step if row_step >= columns else None
    return max(columns, 1)


def prefer_avx2_kernels(libraries=None, cpuinfo="/proc/cpuinfo"):
    """On AMD Zen 4, run OpenBLAS's AVX2 (Haswell) kernels instead of the AVX-512 (SkylakeX) ones it picks there.

    Zen 4 executes AVX-512 in two 256-bit halves, so the wider kernels gain nothing, and their blocking costs (GEMM
    rates and dream steps measured both ways: docs/speed.md). OpenBLAS reads its choice from OPENBLAS_CORETYPE when
    it loads; a DYNAMIC_ARCH build (NumPy's) exports the selection itself, gotoblas_dynamic_quit / _init, so it can
    be made again after NumPy has loaded, with OPENBLAS_CORETYPE=Haswell (which stays set for child processes).

    Only safe while no thread of the process is inside a BLAS call (the kernel table changes under it): call it at
    start, as tune_cpu() is. Does nothing when OPENBLAS_CORETYPE is set (the user's choice), on other CPUs (Zen 5
    runs AVX-512 at full width; Intel's AVX-512 kernels are its best), or when OpenBLAS already uses other kernels.
    Returns the name of the kernels now in use when it changed them, else None.
    """
    if "OPENBLAS_CORETYPE" in os.environ or not _is_zen4(cpuinfo):
        return None
    for library in openblas_libraries() if libraries is None else libraries:
        functions = [getattr(library, name, None) for name in ("gotoblas_corename", "gotoblas_dynamic_quit",
                                                                "gotoblas_dynamic_init")]
        if None in functions:
            continue
        corename, quit_selection, select = functions
        corename.restype = ctypes.c_char_p
        if corename().decode() not in AVX512_KERNELS:
            return None
        # Left set: processes started from here on (dask workers) load the same kernels, so their float32 sums
        # round as this process's do and a batch's frames come out bit for bit as in one process.
        os.environ["OPENBLAS_CORETYPE"] = "Haswell"
        quit_selection()
        select()
        return corename().decode()
    return None


def _is_zen4(cpuinfo):
    """An AMD CPU of family 25 (0x19: Zen 3 and Zen 4; only Zen 4 has the AVX-512 that makes OpenBLAS pick it)."""
    try:
        with open(cpuinfo) as f:
            fields = dict(line.split(":", 1) for line in f.read().split("\n\n")[0].splitlines() if ":" in line)
    except OSError:
        return False
    fields = {key.strip(): value.strip() for key, value in fields.items()}
    return fields.get("vendor_id") == "AuthenticAMD" and fields.get("cpu family") == "25"


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
