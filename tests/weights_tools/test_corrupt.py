"""Damaged files: every truncation and random byte flip gives CaffeModelError or a valid net, nothing else."""
import time
import tracemalloc

import numpy as np
import pytest

from weights_tools import writer as pw
from tests.weights_tools.conftest import small_model
from weights_tools import CaffeModelError
from weights_tools.convert import load_caffemodel
from weights_tools.wire import read_varint, skip_field


def _convert(data):
    return load_caffemodel(data)


def _top_level_ends(data):
    """Byte offsets where a top-level NetParameter field ends (a cut there is a valid, shorter file)."""
    ends, pos = {0}, 0
    while pos < len(data):
        key, pos = read_varint(data, pos, len(data))
        pos = skip_field(data, pos, len(data), key & 7, key >> 3)
        ends.add(pos)
    return ends


def _files():
    specs, blobs, _ = small_model()
    return {
        "V1 packed": pw.snapshot(specs, blobs, "V1", crop=13),
        "V1 unpacked": pw.snapshot(specs, blobs, "V1", crop=13, blob_options={"packed": False}),
        "current": pw.snapshot(specs, blobs, "current", crop=13),
    }


def _outcome(data, limit_bytes):
    """'ok' or 'error'; fails the test on another exception, a slow parse or a large allocation."""
    tracemalloc.start()
    start = time.perf_counter()
    try:
        _convert(data)
        result = "ok"
    except CaffeModelError:
        result = "error"
    finally:
        peak = tracemalloc.get_traced_memory()[1]
        tracemalloc.stop()
    assert time.perf_counter() - start < 2.0
    assert peak < limit_bytes, f"parsing allocated {peak} bytes"
    return result


@pytest.mark.parametrize("kind", sorted(_files()))
def test_truncations(kind):
    data = _files()[kind]
    ends = _top_level_ends(data)
    cuts = sorted(set(np.linspace(0, len(data) - 1, 120).astype(int)) | {len(data) - 1, 1, 2, 3})
    errors = 0
    for cut in cuts:
        result = _outcome(data[:cut], limit_bytes=20 * len(data) + (2 << 20))
        if result == "ok":
            assert cut in ends, f"a cut at byte {cut} inside a field was accepted"
        errors += result == "error"
    assert errors >= len(cuts) * 0.8


@pytest.mark.parametrize("kind", sorted(_files()))
def test_random_byte_flips(kind):
    data = _files()[kind]
    rng = np.random.default_rng(sum(map(ord, kind)))
    outcomes = []
    for _ in range(120):
        damaged = bytearray(data)
        for pos in rng.integers(0, len(data), size=rng.integers(1, 4)):
            damaged[pos] = int(rng.integers(0, 256))
        outcomes.append(_outcome(bytes(damaged), limit_bytes=20 * len(data) + (2 << 20)))
    assert "error" in outcomes  # flips in headers are caught; flips inside float data stay valid


def test_huge_length_prefix_is_refused_before_allocating():
    data = pw.key(2, 2) + pw.varint(2**62) + b"\0" * 16
    assert _outcome(data, limit_bytes=1 << 20) == "error"
    blob = pw.f_varint(1, 2**40) + pw.f_varint(2, 2**40) + pw.f_packed_floats(5, [1.0])
    layer = (pw.f_string(1, "fc") + pw.f_string(2, "InnerProduct") + pw.f_string(3, "data") + pw.f_string(4, "fc")
             + pw.f_bytes(7, blob) + pw.f_bytes(117, pw.f_varint(1, 2**40)))
    assert _outcome(pw.f_string(3, "data") + pw.f_bytes(100, layer), limit_bytes=1 << 20) == "error"


def test_full_size_googlenet_truncated_and_flipped(googlenet_v1):
    """The 53.5 MB snapshot: cuts and header flips fail cleanly, within ~2x the file in memory."""
    path, _ = googlenet_v1
    data = path.read_bytes()
    ends = _top_level_ends(data)
    rng = np.random.default_rng(11)
    for cut in sorted(rng.integers(1, len(data), size=20)):
        result = _outcome(data[:cut], limit_bytes=2 * len(data) + (4 << 20))
        assert result == "error" or cut in ends
    for _ in range(20):
        damaged = bytearray(data)
        damaged[int(rng.integers(0, 4096))] = int(rng.integers(0, 256))  # the header: names, params, dims
        _outcome(bytes(damaged), limit_bytes=2 * len(data) + (4 << 20))
