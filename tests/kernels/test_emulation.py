"""The CPU emulation itself: faithful shared memory, barriers and atomics; launches checked."""
import pathlib
import shutil

import numpy as np
import pytest

from minidream.kernels import THREADS, grid_1d

SHIM_CHECK = pathlib.Path(__file__).with_name("shim_check.cu")


@pytest.fixture(scope="module")
def shim_check():
    if shutil.which("g++") is None:
        pytest.skip("emulating the kernels needs g++ on the PATH")
    from tests.kernels.emulation import EmulatedLauncher

    return EmulatedLauncher([SHIM_CHECK])


def test_block_threads_share_memory_and_meet_at_the_barrier(shim_check, rng):
    x = rng.standard_normal(64 * 5).astype(np.float32)
    y = shim_check.empty(x.shape)
    shim_check("reverse_in_block", (5,), (64,), x, y)
    np.testing.assert_array_equal(y, x.reshape(5, 64)[:, ::-1].ravel())


def test_atomic_add_from_concurrent_threads(shim_check, rng):
    x = rng.standard_normal(1000).astype(np.float32)
    count = np.zeros(1, np.int32)
    shim_check("count_positive", (4,), (THREADS,), x, count, np.int32(x.size))
    assert count[0] == np.count_nonzero(x > 0)


def test_a_grid_too_small_leaves_nan_in_the_output(emulated, rng):
    # Fresh outputs are NaN-filled, so a launch that misses elements cannot pass a comparison.
    x = rng.standard_normal(3 * THREADS).astype(np.float32)
    y = emulated.empty(x.shape)
    emulated("relu_forward", (2,), (THREADS,), x, y, np.int32(x.size), np.float32(0))
    assert not np.isnan(y[:2 * THREADS]).any() and np.isnan(y[2 * THREADS:]).all()
    assert grid_1d(x.size) == ((3,), (THREADS,))


@pytest.mark.parametrize("args, message", [
    ((np.zeros(4, np.float32), np.zeros(4, np.float32), 4.5, np.float32(0)), "an int that fits int32, got 4.5"),
    ((np.zeros(4, np.float32), np.zeros(4, np.float32), 2**31, np.float32(0)), "fits int32, got 2147483648"),
    ((np.zeros(4, np.float32), np.zeros(4, np.float32), np.int64(-2**31 - 1), 0.0),
     r"fits int32, got np.int64\(-2147483649\)"),
    ((np.zeros(4, np.float32), np.zeros(4, np.float32), True, np.float32(0)), "fits int32, got True"),
    (([0.0] * 4, np.zeros(4, np.float32), 4, np.float32(0)), "parameter 'const float\\* x': pass a numpy array"),
    ((np.zeros(4), np.zeros(4, np.float32), np.int32(4), np.float32(0)), "C-contiguous float32 array, got float64"),
    ((np.zeros(8, np.float32)[::2], np.zeros(4, np.float32), np.int32(4), np.float32(0)), "contiguous: False"),
    ((np.zeros(4, np.float32),), "takes 4 arguments"),
])
def test_launch_arguments_must_match_the_c_signature(emulated, args, message):
    with pytest.raises(TypeError, match=message):
        emulated("relu_forward", (1,), (THREADS,), *args)


def test_unknown_kernel_lists_the_known_ones(emulated):
    with pytest.raises(KeyError, match="relu_forward"):
        emulated("relu_fwd", (1,), (1,))


def test_library_is_cached_by_source_hash(tmp_path, monkeypatch):
    if shutil.which("g++") is None:
        pytest.skip("emulating the kernels needs g++ on the PATH")
    from tests.kernels import emulation

    monkeypatch.setenv("MINIDREAM_KERNEL_CACHE", str(tmp_path))
    first = emulation.build([SHIM_CHECK])
    assert emulation.build([SHIM_CHECK]) == first and list(tmp_path.glob("*.so")) == [first]
    edited = tmp_path / "shim_check.cu"
    edited.write_text(SHIM_CHECK.read_text() + "\n// edited\n")
    assert emulation.build([edited]) != first
