"""Our CUDA kernels (kernels/*.cu) and the one place that loads and launches them.

Each ``kernels/<op>.cu`` holds ``extern "C" __global__`` kernels. On a GPU, ``get_function(name)``
compiles the file that defines ``name`` once per process (``cupy.RawModule``, memoized) and
returns the kernel. Ops never call CuPy's kernel objects directly: they ask ``launcher_for(x)``
for a :class:`Launcher` and call ``run(name, grid, block, *args)``. For CuPy arrays that
launches on the GPU; for NumPy arrays it runs the same kernel compiled for the CPU by
``kernels.emulation`` (g++ with ``emulate.h``). The grid, block and arguments come from the
same lines of ``kernels/ops.py`` either way, so the CPU tests check the launch geometry too.

Every launch is checked against the kernel's C signature, parsed from its source: float* and
int* parameters take C-contiguous float32 / int32 arrays, int and float take np.int32 /
np.float32 scalars. A mismatch is an error here rather than garbage on the device.
"""
import functools
import pathlib
import re
from typing import NamedTuple

import numpy as np

from minidream.backend import get_cupy, is_gpu

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
    # Its file calls __syncthreads (per file, since a __device__ helper may sync for a kernel):
    # the emulation must then run each block's threads together.
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
    """Launches kernels by name; subclasses say where (GPU or CPU emulation).

    xp is the array module of the arrays this launcher takes; ``empty`` allocates outputs.
    """

    xp = np

    def __init__(self, table):
        self.table = table

    def empty(self, shape, dtype=np.float32):
        return self.xp.empty(shape, dtype=dtype)

    def __call__(self, name, grid, block, *args):
        """Run kernel ``name`` on ``grid`` blocks of ``block`` threads (tuples of 1-3 ints)."""
        kernel = self.table.get(name)
        if kernel is None:
            raise KeyError(f"no kernel named {name!r}; kernels/*.cu define {sorted(self.table)}")
        self.check_args(kernel, args)
        self.launch(kernel, _dim3(grid), _dim3(block), args)

    def check_args(self, kernel, args):
        if len(args) != len(kernel.params):
            raise TypeError(f"kernel {kernel.name} takes {len(kernel.params)} arguments "
                            f"({', '.join(p.decl for p in kernel.params)}), got {len(args)}")
        for param, arg in zip(kernel.params, args):
            where = f"kernel {kernel.name}, parameter {param.decl!r}"
            if param.kind == "scalar":
                if type(arg) is not param.dtype:
                    raise TypeError(f"{where}: pass np.{param.dtype.__name__}, got {type(arg).__name__}")
                continue
            if not isinstance(arg, self.xp.ndarray):
                raise TypeError(f"{where}: pass a {self.xp.__name__} array, got {type(arg).__name__}")
            if arg.dtype != param.dtype or not arg.flags.c_contiguous:
                raise TypeError(f"{where}: pass a C-contiguous {np.dtype(param.dtype).name} array, "
                                f"got {arg.dtype} (contiguous: {arg.flags.c_contiguous})")
            if arg.size > INT32_MAX:
                raise ValueError(f"{where}: {arg.size} elements is more than the kernels' int "
                                 "indexing reaches (2**31 - 1); use a smaller batch or image")

    def launch(self, kernel, grid, block, args):
        raise NotImplementedError


def _dim3(dims):
    dims = tuple(int(d) for d in dims)
    if not 1 <= len(dims) <= 3 or min(dims) < 1:
        raise ValueError(f"grid and block sizes are 1-3 positive ints, got {dims}")
    return dims + (1,) * (3 - len(dims))


@functools.cache
def get_module(path):
    """The compiled ``cupy.RawModule`` for one kernel source (memoized per process)."""
    cupy = get_cupy()
    return cupy.RawModule(code=pathlib.Path(path).read_text())


def get_function(name):
    """The CUDA kernel ``name`` from whichever kernels/*.cu defines it."""
    kernel = kernel_table().get(name)
    if kernel is None:
        raise KeyError(f"no kernel named {name!r}; kernels/*.cu define {sorted(kernel_table())}")
    return get_module(kernel.source).get_function(name)


class CupyLauncher(Launcher):
    """Launches on the current CUDA device through CuPy."""

    def __init__(self):
        super().__init__(kernel_table())
        self.xp = get_cupy()

    def launch(self, kernel, grid, block, args):
        get_function(kernel.name)(grid, block, args)


@functools.cache
def cupy_launcher():
    return CupyLauncher()


def launcher_for(*arrays):
    """The GPU launcher when any array is a CuPy array, else the CPU emulation."""
    if any(is_gpu(a) for a in arrays):
        return cupy_launcher()
    from kernels.emulation import emulated_launcher

    return emulated_launcher()
