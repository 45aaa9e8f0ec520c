import numpy as np
import pytest

from weights_tools import writer as pw
from weights_tools import CaffeModelError
from weights_tools.wire import decode, read_varint

SCHEMA = {1: ("n", "int"), 2: ("text", "string"), 3: ("values", "floats"), 4: ("dims", "ints"),
          5: ("flag", "bool"), 6: ("x", "float"), 7: ("d", "doubles"), 8: ("sub", {1: ("n", "int")}),
          9: ("subs", [{1: ("n", "int")}]), 10: ("names", "strings"), 11: ("gone", "skip")}


@pytest.mark.parametrize("value", [0, 1, 127, 128, 300, 2**32, 2**63 - 1])
def test_varint_round_trip(value):
    data = pw.varint(value)
    assert read_varint(data, 0, len(data)) == (value, len(data))


def test_negative_int64_is_ten_bytes_and_decodes_signed():
    data = pw.f_varint(1, -5)
    assert len(data) == 11
    assert decode(data, SCHEMA) == {"n": -5}


def test_scalar_kinds_and_last_value_wins():
    data = (pw.f_varint(1, 3) + pw.f_string(2, "conv1/7x7_s2") + pw.f_varint(5, 1) + pw.f_float(6, 0.75)
            + pw.f_varint(1, 9) + pw.f_bytes(8, pw.f_varint(1, 4)) + pw.f_bytes(9, pw.f_varint(1, 1))
            + pw.f_bytes(9, pw.f_varint(1, 2)) + pw.f_string(10, "a") + pw.f_string(10, "b"))
    out = decode(data, SCHEMA)
    assert out == {"n": 9, "text": "conv1/7x7_s2", "flag": True, "x": 0.75, "sub": {"n": 4},
                   "subs": [{"n": 1}, {"n": 2}], "names": ["a", "b"]}


def test_packed_and_unpacked_floats_give_the_same_array():
    values = np.random.default_rng(0).standard_normal(1000).astype(np.float32)
    packed = decode(pw.f_packed_floats(3, values), SCHEMA)["values"]
    unpacked = decode(pw.f_varint(1, 1) + pw.f_unpacked(3, values) + pw.f_varint(1, 2), SCHEMA)
    np.testing.assert_array_equal(packed, values)
    np.testing.assert_array_equal(unpacked["values"], values)
    assert unpacked["n"] == 2  # the field after the run is still read


def test_packed_floats_are_a_view_into_the_buffer():
    values = np.arange(10, dtype=np.float32)
    data = pw.f_packed_floats(3, values)
    out = decode(data, SCHEMA)["values"]
    assert out.base is not None and not out.flags.writeable  # a view of the bytes, not a copy


def test_split_packed_chunks_and_mixed_forms_concatenate():
    data = pw.f_packed_floats(3, [1, 2]) + pw.f_unpacked(3, [3]) + pw.f_packed_floats(3, [4])
    np.testing.assert_array_equal(decode(data, SCHEMA)["values"], [1, 2, 3, 4])


def test_doubles_packed_and_unpacked():
    values = np.array([1.5, -2.25, 1e300])
    np.testing.assert_array_equal(decode(pw.f_packed_floats(7, values, "<f8"), SCHEMA)["d"], values)
    np.testing.assert_array_equal(decode(pw.f_unpacked(7, values, "<f8"), SCHEMA)["d"], values)


def test_ints_packed_and_unpacked():
    assert decode(pw.f_packed_varints(4, [1, 3, 224, 224]), SCHEMA)["dims"] == [1, 3, 224, 224]
    assert decode(pw.f_varint(4, 7) + pw.f_varint(4, 5), SCHEMA)["dims"] == [7, 5]


def test_unknown_fields_of_every_wire_type_are_skipped():
    group = pw.key(20, 3) + pw.f_varint(1, 5) + pw.key(21, 3) + pw.key(21, 4) + pw.key(20, 4)
    unknown = (pw.f_varint(30, 99) + pw.key(31, 1) + b"\0" * 8 + pw.f_bytes(32, b"xyz") + pw.key(33, 5)
               + b"\0" * 4 + group + pw.f_bytes(1000, pw.f_varint(1, 1)))
    assert decode(unknown + pw.f_varint(1, 42) + unknown, SCHEMA) == {"n": 42}


def test_skip_kind_steps_over_packed_and_unpacked_diffs():
    data = pw.f_packed_floats(11, np.ones(50)) + pw.f_unpacked(11, np.ones(50)) + pw.f_varint(1, 1)
    assert decode(data, SCHEMA) == {"n": 1}


def test_wrong_wire_type_for_known_field_is_skipped_like_unknown():
    assert decode(pw.f_bytes(1, b"ab") + pw.f_varint(2, 3), SCHEMA) == {}


@pytest.mark.parametrize("data, message", [
    (pw.key(1, 0) + b"\x80", "varint"),  # varint cut short
    (pw.key(1, 0) + b"\xff" * 11, "longer than 10 bytes"),
    (pw.key(2, 2) + pw.varint(100) + b"abc", "runs past"),  # length beyond the message
    (pw.key(3, 2) + pw.varint(6) + b"\0" * 6, "multiple of 4"),  # packed floats of 6 bytes
    (pw.key(3, 5) + b"\0\0", "runs past"),
    (pw.key(2, 2) + pw.varint(2) + b"\xff\xfe", "UTF-8"),
    (pw.key(40, 7), "wire type 7"),
    (pw.key(40, 3) + pw.f_varint(1, 1), "varint"),  # group never closed
    (pw.key(40, 3) + pw.key(41, 4), "unbalanced"),
    (b"\x00", "field number 0"),
    (pw.f_bytes(4, b"\x01" * 700), "implausibly many"),
])
def test_corrupt_messages_raise_caffe_model_error(data, message):
    with pytest.raises(CaffeModelError, match=message):
        decode(data, SCHEMA)


def test_long_packed_varint_runs_decode_across_the_chunk_borders():
    """_packed_varints decodes VARINT_CHUNK bytes at a time: values of 1 to 10 bytes, many chunks, every border
    falling inside some varint, decode to the very values (the uint64 bits, as the "varints" kind gives them)."""
    from weights_tools.wire import VARINT_CHUNK, _packed_varints

    rng = np.random.default_rng(0)
    values = np.concatenate([rng.integers(0, 2 ** bits, 400, dtype=np.uint64) for bits in (7, 14, 35, 63)])
    values = np.append(rng.permutation(values), np.uint64(2 ** 64 - 1))  # a 10-byte varint at the very end
    payload = b"".join(pw.varint(int(v)) for v in values)
    assert len(payload) > 8 * VARINT_CHUNK
    assert np.array_equal(_packed_varints(payload, 0, len(payload), 7), values)
