"""Every CUDA source compiles for the GPU (nvcc -ptx) and parses into launchable kernels."""
import pathlib
import shutil
import subprocess

import pytest

from minidream import kernels

CUDA_SOURCES = kernels.sources() + [pathlib.Path(__file__).with_name("shim_check.cu")]


@pytest.mark.skipif(shutil.which("nvcc") is None, reason="nvcc is not on the PATH (install the CUDA toolkit)")
@pytest.mark.parametrize("source", CUDA_SOURCES, ids=lambda p: p.name)
def test_compiles_to_ptx_for_sm_90(source, tmp_path):
    ptx = tmp_path / (source.stem + ".ptx")
    done = subprocess.run(["nvcc", "-arch=sm_90", "-ptx", "-Werror", "all-warnings", str(source), "-o", str(ptx)],
                          capture_output=True, text=True)
    assert done.returncode == 0, done.stderr
    text = ptx.read_text()
    for name in kernels.parse_kernels(source):
        assert f".entry {name}(" in text  # extern "C": the PTX entry keeps the plain name


@pytest.mark.skipif(shutil.which("g++") is None, reason="g++ is not on the PATH")
@pytest.mark.parametrize("source", CUDA_SOURCES, ids=lambda p: p.name)
def test_compiles_warning_free_as_cpp(source):
    # The emulation's view of the same source; -Wextra catches e.g. signed/unsigned index compares.
    done = subprocess.run(["g++", "-std=c++17", "-Wall", "-Wextra", "-Werror", "-fsyntax-only", "-include",
                           str(pathlib.Path(__file__).with_name("emulate.h")), "-x", "c++", str(source)],
                          capture_output=True, text=True)
    assert done.returncode == 0, done.stderr


def test_sources_need_no_headers():
    # CuPy compiles with NVRTC, which has no host headers: a kernel file must not #include.
    for source in kernels.sources():
        assert "#include" not in source.read_text(), source.name


def test_every_op_kernel_is_found_with_its_c_types():
    table = kernels.kernel_table()
    assert set(table) == {"im2col", "col2im", "max_pool_forward", "max_pool_backward", "avg_pool_forward",
                          "avg_pool_backward", "lrn_forward", "lrn_backward", "relu_forward", "relu_backward",
                          "abs_sum", "dream_update"}
    relu = table["relu_forward"]
    assert [(p.name, p.kind, p.dtype) for p in relu.params] == [
        ("x", "array", kernels.np.float32), ("y", "array", kernels.np.float32),
        ("n", "scalar", kernels.np.int32), ("negative_slope", "scalar", kernels.np.float32)]
    assert table["abs_sum"].uses_barrier and not relu.uses_barrier


def test_unsupported_parameter_type_is_named(tmp_path):
    source = tmp_path / "bad.cu"
    source.write_text('extern "C" __global__ void k(double* x, int n) {}\n')
    with pytest.raises(ValueError, match=r"kernel k: parameter 'double\* x'"):
        kernels.parse_kernels(source)
