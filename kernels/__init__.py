"""Our CUDA kernels (kernels/*.cu) and the one place that loads and launches them.

Each ``kernels/<op>.cu`` holds ``extern "C" __global__`` kernels. The ops in minidream/engine/ops call
``launcher()`` for the one :class:`Launcher` of this process and run ``launch(name, grid, block, *args)``;
the first launch of a kernel compiles the file that defines it (``cupy.RawModule``, memoized per file).
Matrix products are not here: the ops use ``cupy.matmul`` (cuBLAS).

Installed, this folder is the ``minidream.kernels`` package (pyproject.toml; in a checkout
``minidream/kernels`` links here), so no generic top-level ``kernels`` package lands in site-packages.
It imports nothing from minidream, and CuPy only when a kernel is first compiled.

Every launch is checked against the kernel's C signature, parsed from its source: ``float*`` and
``int*`` parameters take C-contiguous float32 / int32 arrays, ``int`` and ``float`` take numbers
that fit the C type (converted to np.int32 / np.float32 here). A mismatch is an error here rather
than garbage on the device.
"""
import functools
import pathlib
import re
from typing import NamedTuple

import numpy as np

KERNEL_DIR = pathlib.Path(__file__).resolve().parent
THREADS = 256  # threads per block for every 1-D launch; a multiple of the 32-thread warp

# C parameter type -> ("array" | "scalar", NumPy dtype)
C_TYPES = {
    "float*": ("array", np.float32),
    "int*": ("array", np.int32),
    "float": ("scalar", np.float32),
    "int": ("scalar", np.int32),
}
INT32_MAX = 2**31 - 1

_KERNEL_RE = re.compile(r'extern\s+"C"\s+__global__\s+void\s+(\w+)\s*\(([^)]*)\)')
_COMMENT_RE = re.compile(r"//[^\n]*|/\*.*?\*/", re.S)


class Param(NamedTuple):
    decl: str  # as written in the source, e.g. "const float* x"
    name: str
    kind: str  # "array" or "scalar"
    dtype: type


class Kernel(NamedTuple):
    name: str
    source: pathlib.Path
    params: tuple
    # Its file calls __syncthreads (per file, since a __device__ helper may sync for a kernel): a CPU
    # emulation must then run each block's threads together.
    uses_barrier: bool


def sources():
    """The kernel sources, kernels/*.cu, sorted by name."""
    return sorted(KERNEL_DIR.glob("*.cu"))


def parse_kernels(path):
    """{name: Kernel} for every ``extern "C" __global__ void`` kernel in one .cu file."""
    text = _COMMENT_RE.sub("", pathlib.Path(path).read_text())
    uses_barrier = "__syncthreads" in text
    found = {}
    for name, params in _KERNEL_RE.findall(text):
        found[name] = Kernel(name, pathlib.Path(path), tuple(_parse_param(p, name) for p in params.split(",")),
                             uses_barrier)
    return found


def _parse_param(decl, kernel):
    decl = " ".join(decl.split())
    match = re.fullmatch(r"(?:const )?(\w+)\s*(\*?)\s*(?:__restrict__ )?(\w+)", decl)
    c_type = match and match.group(1) + match.group(2)
    if c_type not in C_TYPES:
        raise ValueError(f"kernel {kernel}: parameter {decl!r} has a type the launcher cannot pass; "
                         f"use one of {sorted(C_TYPES)}")
    return Param(decl, match.group(3), *C_TYPES[c_type])


@functools.cache
def kernel_table(paths=None):
    """{name: Kernel} over the given .cu files (default: kernels/*.cu); names must be unique."""
    table = {}
    for path in paths or sources():
        for name, kernel in parse_kernels(path).items():
            if name in table:
                raise ValueError(f"kernel {name} is defined in both {table[name].source} and {path}")
            table[name] = kernel
    return table


def grid_1d(n):
    """(grid, block) for one thread per element of n: ceil(n / THREADS) blocks of THREADS."""
    return ((n + THREADS - 1) // THREADS,), (THREADS,)


class Launcher:
    """Launches kernels by name; a subclass says where (CuPy here, a CPU emulation in the tests).

    ``xp`` is the array module of the arrays this launcher takes; ``empty`` allocates outputs.
    """

    xp = np

    def __init__(self, table):
        self.table = table

    def empty(self, shape, dtype=np.float32):
        return self.xp.empty(shape, dtype=dtype)

    def contiguous(self, a):
        """a as a C-contiguous float32 array of this launcher's module (a copy only when needed)."""
        return self.xp.ascontiguousarray(a, dtype=np.float32)

    def __call__(self, name, grid, block, *args):
        """Run kernel ``name`` on ``grid`` blocks of ``block`` threads (tuples of 1-3 ints)."""
        kernel = self.table.get(name)
        if kernel is None:
            raise KeyError(f"no kernel named {name!r}; kernels/*.cu define {sorted(self.table)}")
        self.launch(kernel, _dim3(grid), _dim3(block), self.checked_args(kernel, args))

    def checked_args(self, kernel, args):
        """args converted to the kernel's C types; TypeError/ValueError where one cannot be."""
        if len(args) != len(kernel.params):
            raise TypeError(f"kernel {kernel.name} takes {len(kernel.params)} arguments "
                            f"({', '.join(p.decl for p in kernel.params)}), got {len(args)}")
        return [_scalar(arg, param, kernel) if param.kind == "scalar" else self._array(arg, param, kernel)
                for param, arg in zip(kernel.params, args)]

    def _array(self, arg, param, kernel):
        if not isinstance(arg, self.xp.ndarray):
            raise TypeError(f"{_where(kernel, param)}: pass a {self.xp.__name__} array, got {type(arg).__name__}")
        if arg.dtype != param.dtype or not arg.flags.c_contiguous:
            raise TypeError(f"{_where(kernel, param)}: pass a C-contiguous {np.dtype(param.dtype).name} array, "
                            f"got {arg.dtype} (contiguous: {arg.flags.c_contiguous})")
        if arg.size > INT32_MAX:
            raise ValueError(f"{_where(kernel, param)}: {arg.size} elements is more than the kernels' int "
                             "indexing reaches (2**31 - 1); use a smaller batch or image")
        return arg

    def launch(self, kernel, grid, block, args):
        raise NotImplementedError


def _where(kernel, param):
    """A parameter's name for an error message (made only when one is raised: launches are many)."""
    return f"kernel {kernel.name}, parameter {param.decl!r}"


def _scalar(value, param, kernel):
    """value as the parameter's C type: np.float32, or np.int32 from an int (Python's or NumPy's) that fits."""
    if param.dtype is not np.int32:
        return np.float32(value)
    exact = value if type(value) is int else _as_int(value)
    if exact is None or not -INT32_MAX - 1 <= exact <= INT32_MAX:
        raise TypeError(f"{_where(kernel, param)}: pass an int that fits int32, got {value!r}")
    return np.int32(exact)


def _as_int(value):
    """A NumPy (or other integral) value as an int; None for bools, floats and values with a fraction."""
    if isinstance(value, (bool, float, np.floating)) or int(value) != value:
        return None
    return int(value)


def _dim3(dims):
    dims = tuple(map(int, dims))
    if not 1 <= len(dims) <= 3 or min(dims) < 1:
        raise ValueError(f"grid and block sizes are 1-3 positive ints, got {dims}")
    return dims + (1,) * (3 - len(dims))


@functools.cache
def get_module(path):
    """The compiled ``cupy.RawModule`` for one kernel source (memoized per process)."""
    import cupy  # only ever reached with CuPy arrays in hand, so CuPy is installed

    return cupy.RawModule(code=pathlib.Path(path).read_text())


@functools.cache
def get_function(path, name):
    """One kernel of a compiled source (memoized: looking it up again on every launch costs microseconds)."""
    return get_module(path).get_function(name)


class CupyLauncher(Launcher):
    """Launches on the current CUDA device through CuPy."""

    def __init__(self):
        import cupy

        super().__init__(kernel_table())
        self.xp = cupy

    def launch(self, kernel, grid, block, args):
        get_function(kernel.source, kernel.name)(grid, block, args)


@functools.cache
def launcher():
    """The process's launcher: CUDA through CuPy (the tests substitute a CPU emulation)."""
    return CupyLauncher()
