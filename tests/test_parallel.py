"""The threaded paths of minidream.engine.speed.parallel (for_blocks, matmul): inputs large enough to be split over the
cores give what the naive loop versions (and np.matmul) give."""
import os
import threading
import time

import numpy as np
import pytest

from minidream.engine.ops import conv, lrn, max_pool, relu
from minidream.engine.speed import blas, parallel
from minidream.engine.speed import lrn as fast_lrn, max_pool as fast_max_pool, relu as fast_relu
from tests.gradcheck import rel_error, tie_free


@pytest.fixture
def split(monkeypatch):
    """Force 3 worker blocks (even on a 1-core machine; SLICE_SHARE 0: a slice per worker once the work is cut at
    all) and count the elementwise calls that really ran in blocks (matrix products' blocks, from for_blas_blocks,
    are left out of the count)."""
    monkeypatch.setattr(parallel, "WORKERS", 3)
    monkeypatch.setattr(parallel, "SLICE_SHARE", 0)
    calls = []
    original = parallel.for_blocks

    def counting(work, length, elements, min_elements=parallel.MIN_ELEMENTS):
        if min_elements != parallel.MIN_PRODUCT:
            calls.append(parallel.block_count(length, elements, min_elements) >= 2)
        return original(work, length, elements, min_elements)

    for module in (parallel, fast_lrn, fast_max_pool):  # conv's im2col and col2im: through parallel.for_channel_parts
        monkeypatch.setattr(module, "for_blocks", counting)
    return calls


def test_max_pool_in_blocks_matches_naive(split):
    rng = np.random.default_rng(0)
    x = tie_free((2, 9, 45, 47), rng)  # 38,070 elements, 9 channels over 3 blocks; stride 1: dy as large
    y, cache = max_pool.forward(x, (3, 3), (1, 1), (1, 1))
    y_ref, cache_ref = max_pool.forward_naive(x, (3, 3), (1, 1), (1, 1))
    dy = rng.standard_normal(y.shape)
    assert rel_error(y, y_ref) == 0 and rel_error(max_pool.backward(dy, cache), max_pool.backward_naive(dy, cache_ref)) < 1e-12
    assert all(split) and len(split) == 2


def test_lrn_in_blocks_matches_naive(split):
    rng = np.random.default_rng(1)
    x = rng.standard_normal((1, 10, 61, 63))
    y, cache = lrn.forward(x, 5, 1.0, 0.75, 2.0)
    y_ref, cache_ref = lrn.forward_naive(x, 5, 1.0, 0.75, 2.0)
    dy = rng.standard_normal(y.shape)
    assert rel_error(y, y_ref) < 1e-12 and rel_error(lrn.backward(dy, cache), lrn.backward_naive(dy, cache_ref)) < 1e-12
    assert all(split) and len(split) == 2


@pytest.mark.parametrize("x_shape, w_shape, stride, pad, weight_grads, splits", [
    ((1, 6, 33, 35), (3, 6, 3, 3), (1, 1), (1, 1), True, 3),  # col: 62,370 elements; im2col, col2im, im2col (dw)
    # First convolutions: an RGB input's 3 channels over 3 blocks of (channel, filter row); im2col and col2im.
    ((1, 3, 71, 69), (4, 3, 7, 7), (2, 2), (3, 3), False, 2),
    ((1, 3, 71, 69), (4, 3, 11, 11), (4, 4), (0, 0), False, 2),
])
def test_conv_im2col_and_col2im_in_blocks_match_naive(split, x_shape, w_shape, stride, pad, weight_grads, splits):
    rng = np.random.default_rng(2)
    x = rng.standard_normal(x_shape)
    w = rng.standard_normal(w_shape)
    b = rng.standard_normal(w_shape[0])
    y, cache = conv.forward(x, w, b, stride, pad)
    y_ref, cache_ref = conv.forward_naive(x, w, b, stride, pad)
    dy = rng.standard_normal(y.shape)
    assert rel_error(y, y_ref) < 1e-12
    for fast, naive in zip(conv.backward(dy, cache, weight_grads), conv.backward_naive(dy, cache_ref, weight_grads)):
        assert (fast is None and naive is None) or rel_error(fast, naive) < 1e-12  # dw, db: None without weight_grads
    assert all(split) and len(split) == splits


def test_block_count_cuts_a_slice_past_the_second_only_for_slice_share_times_the_threshold(monkeypatch):
    monkeypatch.setattr(parallel, "WORKERS", 16)
    threshold, share = 1000, parallel.SLICE_SHARE
    assert share > 1
    assert parallel.block_count(100, threshold - 1, threshold) == 1  # too little work to cut
    assert parallel.block_count(100, threshold, threshold) == 2  # cut: in two at least, as 2 cores cut it
    assert parallel.block_count(100, 3 * share * threshold - 1, threshold) == 2
    assert parallel.block_count(100, 3 * share * threshold, threshold) == 3
    assert parallel.block_count(100, 10 ** 9, threshold) == 16  # a slice per worker at most
    assert parallel.block_count(5, 10 ** 9, threshold) == 5  # and an item per slice at most
    assert parallel.block_count(100, 10, 0) == 10  # no threshold: every item its own slice, up to the workers
    monkeypatch.setattr(parallel, "WORKERS", 2)
    assert [parallel.block_count(100, n, threshold) for n in (999, 1000, 10 ** 9)] == [1, 2, 2]
    monkeypatch.setattr(parallel, "WORKERS", 1)
    assert parallel.block_count(100, 10 ** 9, threshold) == 1


def test_for_blocks_on_many_workers_cuts_a_small_layer_in_few_slices(monkeypatch):
    monkeypatch.setattr(parallel, "WORKERS", 16)
    seen = []
    parallel.for_blocks(seen.append, 64, 2 * parallel.SLICE_SHARE * 1000, 1000)
    assert seen and sorted(s.start for s in seen) == [0, 32] and sum(s.stop - s.start for s in seen) == 64


def test_for_blocks_runs_the_first_block_on_the_caller_and_waits_for_every_worker(monkeypatch):
    monkeypatch.setattr(parallel, "WORKERS", 3)
    caller, seen = threading.get_ident(), {}
    parallel.for_blocks(lambda s: seen.setdefault((s.start, s.stop), threading.get_ident()), 10, 10, 0)
    assert sorted(seen) == [(0, 3), (3, 6), (6, 10)]
    assert seen[0, 3] == caller and caller not in (seen[3, 6], seen[6, 10])

    finished = []

    def work(s):
        if s.start == 0:
            raise ValueError("the caller's block failed")
        time.sleep(0.05)
        finished.append(s.start)

    with pytest.raises(ValueError, match="caller's block"):
        parallel.for_blocks(work, 9, 9, 0)
    assert sorted(finished) == [3, 6]  # nobody is still writing when the error reaches the caller

    def worker_fails(s):
        if s.start == 6:
            raise KeyError("a worker's block failed")

    with pytest.raises(KeyError, match="worker's block"):
        parallel.for_blocks(worker_fails, 9, 9, 0)


def test_for_channel_parts_covers_every_pair_once_in_few_calls(monkeypatch):
    monkeypatch.setattr(parallel, "WORKERS", 3)
    for channels, parts in [(3, 7), (3, 2), (10, 4), (1, 5), (64, 1)]:
        calls = []
        parallel.for_channel_parts(lambda ch, ps: calls.append((ch, ps)), channels, parts, 1 << 20)
        pairs = sorted((c, p) for ch, ps in calls for c in range(ch.start, ch.stop) for p in ps)
        assert pairs == [(c, p) for c in range(channels) for p in range(parts)]
        assert len(calls) <= 3 * 3  # a block: whole channels in one call, a partial channel at either end


@pytest.fixture
def blas_count(monkeypatch):
    """A stand-in for OpenBLAS's thread count setter (set(n) -> previous n), starting at 4 threads."""
    state = {"threads": 4, "seen_by_products": []}

    def setter(n):
        previous, state["threads"] = state["threads"], n
        return previous

    original = np.matmul

    def recording(*args, **kwargs):
        state["seen_by_products"].append(state["threads"])
        return original(*args, **kwargs)

    monkeypatch.setattr(parallel, "WORKERS", 3)
    monkeypatch.setattr(parallel, "SLICE_SHARE", 0)  # a slice per worker once a product is cut at all
    monkeypatch.setattr(parallel, "_blas_threads", lambda: setter)
    monkeypatch.setattr(parallel.np, "matmul", recording)
    return state


@pytest.mark.parametrize("a_shape, b_shape", [
    ((2, 40, 300), (1, 2, 300, 700)),   # forward, two groups: M < K, bands of columns
    ((1, 300, 40), (1, 1, 40, 700)),    # a late layer's backward w^T @ dy, tall: bands of rows
    ((1, 150, 64), (1, 1, 64, 3000)),   # conv1's backward, M >= K but wide: bands of columns
    ((5, 4000), (4000, 7)),             # a fully connected layer with the transposed weights as a view
])
def test_matmul_in_bands_matches_numpy_on_one_blas_thread(blas_count, a_shape, b_shape):
    rng = np.random.default_rng(3)
    a, b = rng.standard_normal(a_shape), rng.standard_normal(b_shape[::-1]).T.reshape(b_shape)
    pieces = 3 if a.shape[-2] * a.shape[-1] * b.shape[-1] >= parallel.MIN_PRODUCT else 1  # small: one product
    product = parallel.matmul(a, b)
    assert blas_count["seen_by_products"] == [1] * pieces and blas_count["threads"] == 4  # one BLAS thread, put back
    assert rel_error(product, np.matmul(a, b)) < 1e-14


@pytest.mark.parametrize("with_gemm", [True, False])
@pytest.mark.parametrize("a_shape, b_shape, bias_shape", [
    ((2, 40, 300), (3, 2, 300, 700), (2, 40)),   # two groups, a batch of 3: bands of columns, one bias per group
    ((300, 40), (40, 700), (300,)),              # tall: bands of rows
    ((4, 30, 20), (4, 20, 50), (4, 30)),         # a stack split between its products
    ((1, 5, 30), (1, 30, 1), (1, 5)),            # one column: any stride on a length-1 axis
])
def test_matmul_adds_a_bias_per_row_in_every_band(monkeypatch, a_shape, b_shape, bias_shape, with_gemm):
    """With OpenBLAS's gemm the bias is written first and the product added to it; without, added after."""
    monkeypatch.setattr(parallel, "WORKERS", 3)
    monkeypatch.setattr(parallel, "MIN_PRODUCT", 0)
    if not with_gemm:
        monkeypatch.setattr(blas, "_gemms", {"sgemm": None, "dgemm": None})
    rng = np.random.default_rng(4)
    a, b, bias = (rng.standard_normal(shape) for shape in (a_shape, b_shape, bias_shape))
    expected = np.matmul(a, b) + bias[..., None]
    assert rel_error(parallel.matmul(a, b, bias), expected) < 1e-14
    assert rel_error(parallel.matmul(a.swapaxes(-1, -2).copy().swapaxes(-1, -2), b, bias), expected) < 1e-14  # a
    #                                                  transposed in memory: no gemm for it, the bias added after


def test_matmul_without_thread_control_is_numpy(monkeypatch):
    monkeypatch.setattr(parallel, "_blas_threads", lambda: None)
    a, b = np.ones((64, 512)), np.ones((512, 512))
    assert np.array_equal(parallel.matmul(a, b), np.full((64, 512), 512.0))


def test_numpys_openblas_thread_count_is_found_and_put_back():
    setter = blas.thread_count_setter()
    if setter is None:
        pytest.skip("NumPy here is not linked to an OpenBLAS with openblas_set_num_threads_local")
    before = setter(2)
    try:
        a = np.random.default_rng(4).standard_normal((256, 256), dtype=np.float32)
        parallel.matmul(a, np.ascontiguousarray(a.T))
        assert setter(2) == 2
    finally:
        setter(before)


class FakeOpenBLAS:
    """The three functions of a DYNAMIC_ARCH OpenBLAS that prefer_avx2_kernels uses, recording the calls."""

    def __init__(self, core):
        self.core, self.calls = core, []
        self.gotoblas_corename = lambda: self.core.encode()
        self.gotoblas_dynamic_quit = lambda: self.calls.append("quit")
        self.gotoblas_dynamic_init = self._select

    def _select(self):
        self.calls.append("init")
        self.core = os.environ.get("OPENBLAS_CORETYPE", "SkylakeX")


def _cpuinfo(tmp_path, vendor, family):
    path = tmp_path / "cpuinfo"
    path.write_text(f"processor\t: 0\nvendor_id\t: {vendor}\ncpu family\t: {family}\nmodel\t\t: 17\n\n"
                    f"processor\t: 1\nvendor_id\t: {vendor}\n")
    return str(path)


def test_avx2_kernels_are_chosen_on_zen4_only(tmp_path, monkeypatch):
    monkeypatch.delenv("OPENBLAS_CORETYPE", raising=False)
    zen4 = _cpuinfo(tmp_path, "AuthenticAMD", 25)
    library = FakeOpenBLAS("SkylakeX")
    assert blas.prefer_avx2_kernels([library], zen4) == "Haswell"
    assert library.calls == ["quit", "init"] and os.environ["OPENBLAS_CORETYPE"] == "Haswell"  # for child processes
    monkeypatch.delenv("OPENBLAS_CORETYPE")
    for core in ("Haswell", "Zen"):  # OpenBLAS already runs AVX2 kernels
        library = FakeOpenBLAS(core)
        assert blas.prefer_avx2_kernels([library], zen4) is None and library.calls == []
    for vendor, family in (("GenuineIntel", 6), ("AuthenticAMD", 26)):  # Intel's AVX-512 kernels; Zen 5
        library = FakeOpenBLAS("SkylakeX")
        assert blas.prefer_avx2_kernels([library], _cpuinfo(tmp_path, vendor, family)) is None
        assert library.calls == []
    assert blas.prefer_avx2_kernels([library], str(tmp_path / "no-such-file")) is None
    monkeypatch.setenv("OPENBLAS_CORETYPE", "SkylakeX")  # the user's choice wins
    assert blas.prefer_avx2_kernels([library], zen4) is None and library.calls == []


def test_loaded_libraries_reads_the_memory_map(tmp_path):
    maps = tmp_path / "maps"
    maps.write_text("7f00-7f01 r-xp 00000000 08:01 42 /usr/lib/libscipy_openblas64_-ab.so\n"
                    "7f01-7f02 rw-p 00000000 00:00 0 \n"
                    "7f02-7f03 r--p 00000000 08:01 43 /opt/my libs/libm.so.6\n")
    assert blas.loaded_libraries(str(maps)) == ["/opt/my libs/libm.so.6", "/usr/lib/libscipy_openblas64_-ab.so"]
    assert blas.loaded_libraries(str(tmp_path / "missing")) == []


def test_relu_in_flat_ranges_and_pieces_matches_naive(monkeypatch):
    monkeypatch.setattr(parallel, "WORKERS", 3)
    monkeypatch.setattr(parallel, "PIECE_ELEMENTS", 1000)
    monkeypatch.setattr(fast_relu, "MIN_SPLIT", 10_000)
    rng = np.random.default_rng(8)
    x = rng.standard_normal((1, 7, 41, 43))  # 12,341 values: three ranges, each in several pieces
    dy = rng.standard_normal(x.shape)
    y_ref, cache_ref = relu.forward_naive(x)
    y, cache = relu.forward(x)
    assert np.array_equal(y, y_ref) and np.array_equal(relu.backward(dy, cache), relu.backward_naive(dy, cache_ref))
    in_place = x.copy()
    assert relu.forward(in_place, out=in_place)[0] is in_place and np.array_equal(in_place, y_ref)
    strided = x[:, ::2]  # not contiguous: one np.maximum over the view
    assert np.array_equal(relu.forward(strided)[0], relu.forward_naive(strided)[0])


def test_overlapping_one_thread_blocks_put_back_the_first_count():
    """Two Nets in two threads: the inner block must not restore its 1, the last one out restores the 4."""
    state = {"threads": 4}

    def setter(n):
        previous, state["threads"] = state["threads"], n
        return previous

    first, second = blas.one_thread(setter), blas.one_thread(setter)
    first.__enter__()
    second.__enter__()
    first.__exit__(None, None, None)
    assert state["threads"] == 1  # the second block still runs its products
    second.__exit__(None, None, None)
    assert state["threads"] == 4
