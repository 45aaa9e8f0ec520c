"""Run kernels/*.cu on the CPU for the tests: the same CUDA source, compiled by g++ through emulate.h.

``build(paths)`` compiles the .cu files as they are (``g++ -O2 -shared -fPIC -include
emulate.h``) together with a generated file holding one extern "C" entry point per kernel,
``emu_<name>(gx, gy, gz, bx, by, bz, args...)``, which walks the grid with ``emu::launch``.
The library is cached under a hash of everything that goes into it, so a session compiles
once. ``EmulatedLauncher`` calls those entry points through ctypes with NumPy arrays.

This exists for tests: each thread runs one after another (or, for kernels with
``__syncthreads``, a block's threads run as std::threads), so use small inputs.
"""
import ctypes
import functools
import hashlib
import os
import pathlib
import shutil
import subprocess
import tempfile

import numpy as np

from minidream.kernels import KERNEL_DIR, Launcher, kernel_table, sources

SHIM = pathlib.Path(__file__).with_name("emulate.h")
CXX_FLAGS = ("-O2", "-std=c++17", "-shared", "-fPIC", "-pthread")
_CTYPES = {("array", np.float32): ctypes.c_void_p, ("array", np.int32): ctypes.c_void_p,
           ("scalar", np.float32): ctypes.c_float, ("scalar", np.int32): ctypes.c_int}


class EmulationUnavailableError(RuntimeError):
    """No C++ compiler, or the kernels do not compile as C++."""


def cache_dir():
    """$MINIDREAM_KERNEL_CACHE, else a per-user folder under the system temp dir."""
    default = pathlib.Path(tempfile.gettempdir()) / f"minidream-kernels-{os.getuid()}"
    return pathlib.Path(os.environ.get("MINIDREAM_KERNEL_CACHE", default))


def entry_points(table):
    """C++ source with one ``emu_<name>`` launch entry point per kernel in table."""
    lines = ['#include "emulate.h"']
    for kernel in table.values():
        decls = ", ".join(p.decl for p in kernel.params)
        names = ", ".join(p.name for p in kernel.params)
        lines += [
            f'extern "C" void {kernel.name}({decls});',
            f'extern "C" void emu_{kernel.name}(unsigned gx, unsigned gy, unsigned gz, '
            f"unsigned bx, unsigned by, unsigned bz, {decls}) {{",
            f"    emu::launch({{gx, gy, gz}}, {{bx, by, bz}}, {str(kernel.uses_barrier).lower()}, "
            f"[=] {{ {kernel.name}({names}); }});",
            "}",
        ]
    return "\n".join(lines) + "\n"


def build(paths):
    """Compile the .cu files at paths into one shared library; return its path (cached)."""
    compiler = shutil.which(os.environ.get("CXX", "g++"))
    if compiler is None:
        raise EmulationUnavailableError("emulating kernels needs g++ on the PATH (or $CXX)")
    paths = [pathlib.Path(p).resolve() for p in paths]
    glue = entry_points(kernel_table(tuple(paths)))
    digest = hashlib.sha256(compiler.encode() + " ".join(CXX_FLAGS).encode() + SHIM.read_bytes()
                            + glue.encode())
    for path in paths:
        digest.update(str(path).encode() + path.read_bytes())
    target = cache_dir() / f"kernels-{digest.hexdigest()[:16]}.so"
    if target.exists():
        return target
    target.parent.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory(dir=target.parent) as work:
        glue_path = pathlib.Path(work) / "entry_points.cpp"
        glue_path.write_text(glue)
        partial = pathlib.Path(work) / target.name
        command = [compiler, *CXX_FLAGS, f"-I{KERNEL_DIR}", f"-I{SHIM.parent}", "-include", str(SHIM), "-x", "c++",
                   *map(str, paths), str(glue_path), "-o", str(partial)]
        done = subprocess.run(command, capture_output=True, text=True)
        if done.returncode != 0:
            raise EmulationUnavailableError(f"g++ could not compile the kernels for emulation:\n"
                                            f"{' '.join(command)}\n{done.stderr}")
        os.replace(partial, target)  # atomic: a concurrent session sees all of it or nothing
    return target


class EmulatedLauncher(Launcher):
    """Launches kernels on the CPU through the g++-compiled library; takes NumPy arrays.

    Fresh outputs from ``empty`` are filled with NaN (int arrays with -1), so an element that
    no thread writes, say because the grid is too small, shows up in the results.
    """

    def __init__(self, paths):
        table = kernel_table(tuple(pathlib.Path(p).resolve() for p in paths))
        super().__init__(table)
        self.library = ctypes.CDLL(str(build(paths)))
        self.entries = {}
        for kernel in table.values():
            entry = getattr(self.library, f"emu_{kernel.name}")
            entry.argtypes = [ctypes.c_uint] * 6 + [_CTYPES[p.kind, p.dtype] for p in kernel.params]
            entry.restype = None
            self.entries[kernel.name] = entry

    def empty(self, shape, dtype=np.float32):
        return np.full(shape, np.nan if np.dtype(dtype).kind == "f" else -1, dtype=dtype)

    def launch(self, kernel, grid, block, args):
        c_args = [a.ctypes.data if isinstance(a, np.ndarray) else a.item() for a in args]
        self.entries[kernel.name](*grid, *block, *c_args)


@functools.cache
def emulated_launcher():
    """The emulation of kernels/*.cu (compiled once per source version, loaded once per process)."""
    return EmulatedLauncher(sources())
