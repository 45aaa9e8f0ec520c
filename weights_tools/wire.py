"""Protocol-buffer wire format, read without the protobuf library.

A message is a run of fields. Each field starts with a varint key

    key = (field_number << 3) | wire_type

    wire type 0 VARINT  base-128 varint, 7 bits a byte, least significant group first
              1 I64     8 bytes little-endian (double, fixed64)
              2 LEN     varint byte count, then that many bytes (string, bytes, message, packed)
              3/4       start/end of a group (proto2's deprecated nesting; skipped here)
              5 I32     4 bytes little-endian (float, fixed32)

A repeated scalar may be *packed* (one LEN field holding the values back to back) or
not (the field simply repeated); a proto2 reader must accept both. Fields the schema
does not name are skipped by their wire type, as protobuf does.

``decode(buf, schema)`` turns one message into a dict using a small declarative
schema: ``{field_number: (name, kind)}`` where kind is one of the strings below or
a nested schema dict (a sub-message). Repeated kinds always give a list (numpy array
for floats/doubles); scalar kinds keep the last value seen, as protobuf does.

    "int"     varint read as a signed 64-bit value (int32/int64/uint64/enum)
    "bool"    varint != 0
    "float"   one I32 float             "double"  one I64 double
    "string"  UTF-8 text
    "ints"    repeated varint, packed or not (few values: shapes, kernel sizes)
    "strings" repeated string
    "floats"  repeated float  -> float32 array, packed or not, no per-value Python
    "doubles" repeated double -> float64 array, likewise
    "varints" repeated varint -> uint64 array of the raw 64 bits (the caller casts), packed
              (decoded with numpy, up to MAX_VARINTS values) or not (up to MAX_INTS fields)
    "bytes"   bytes -> a memoryview of buf (no copy, no UTF-8 check)
    "repeated bytes"  likewise, a list of them
    "skip"    a repeated float/double field to step over cheaply (Caffe's diffs)
    {..}      sub-message (decoded dict);  [{..}] repeated sub-message (list of dicts)

Memory: packed arrays are numpy views into ``buf`` (no copy); unpacked runs are
gathered into one new array. Every length is checked against the bytes that remain
before anything is allocated, so a corrupt file raises an error instead of hanging or
allocating far beyond its own size: CaffeModelError, or the type a ``with raising(...)``
block names (the ONNX reader's OnnxModelError), so each format keeps its one error type.
"""
import contextlib
import contextvars
import struct

import numpy as np

from minidream.errors import CaffeModelError

VARINT, I64, LEN, SGROUP, EGROUP, I32 = 0, 1, 2, 3, 4, 5

# Shapes and kernel sizes hold a handful of values; a longer packed run is corruption
# and decoding it varint by varint in Python would be slow.
MAX_INTS = 64
# Nested groups deeper than this are corruption (caffe.proto has none at all).
MAX_GROUP_DEPTH = 32
# Tensor data in typed varint fields (ONNX's int64_data ...): exporters put large tensors in raw bytes, so a longer
# run is corruption; the bound also keeps the 8-byte values within a few times the field's own size in memory.
MAX_VARINTS = 1 << 16
VARINT_CHUNK = 1 << 8  # bytes of a packed varint run decoded at once (_packed_varints)
_RUN_CHUNK = 1 << 20  # records checked per numpy step when measuring an unpacked run

_FIXED = {"floats": (I32, "<f4"), "doubles": (I64, "<f8")}
_ERROR = contextvars.ContextVar("wire_error", default=CaffeModelError)


@contextlib.contextmanager
def raising(error):
    """Within the block, corrupt data raises ``error`` (the reading format's documented type)."""
    token = _ERROR.set(error)
    try:
        yield
    finally:
        _ERROR.reset(token)


def _corrupt(message):
    return _ERROR.get()(message)


def read_varint(buf, pos, end):
    """Decode a varint starting at buf[pos]; returns (value, position after it)."""
    result = 0
    shift = 0
    while True:
        if pos >= end:
            raise _corrupt(f"truncated data: a varint runs past byte {end}")
        byte = buf[pos]
        pos += 1
        result |= (byte & 0x7F) << shift
        if byte < 0x80:
            return result, pos
        shift += 7
        if shift >= 70:
            raise _corrupt(f"corrupt data: varint longer than 10 bytes at byte {pos}")


def _signed64(value):
    """Varints carry int64 as two's complement in 64 bits (proto's int32/int64)."""
    value &= (1 << 64) - 1
    return value - (1 << 64) if value >= 1 << 63 else value


def _length(buf, pos, end):
    """Read a LEN prefix; returns (start, stop) of the payload, checked against end."""
    size, pos = read_varint(buf, pos, end)
    if size > end - pos:
        raise _corrupt(
            f"truncated or corrupt data: a field of {size} bytes at byte {pos} "
            f"runs past the end of its message ({end - pos} bytes left)"
        )
    return pos, pos + size


def skip_field(buf, pos, end, wire_type, field):
    """Step over one field's value whose key has been read; returns the new position."""
    if wire_type == VARINT:
        _, pos = read_varint(buf, pos, end)
    elif wire_type == I64:
        pos += 8
    elif wire_type == I32:
        pos += 4
    elif wire_type == LEN:
        _, pos = _length(buf, pos, end)
    elif wire_type == SGROUP:
        pos = _skip_group(buf, pos, end, field)
    else:
        raise _corrupt(f"corrupt data: wire type {wire_type} for field {field} at byte {pos}")
    if pos > end:
        raise _corrupt(f"truncated data: field {field} runs past byte {end}")
    return pos


def _skip_group(buf, pos, end, field):
    """Skip a proto2 group up to its matching end-group key (iterative, depth-limited)."""
    stack = [field]
    while stack:
        key, pos = read_varint(buf, pos, end)
        number, wire_type = key >> 3, key & 7
        if wire_type == EGROUP:
            if number != stack.pop():
                raise _corrupt(f"corrupt data: unbalanced group end at byte {pos}")
        elif wire_type == SGROUP:
            stack.append(number)
            if len(stack) > MAX_GROUP_DEPTH:
                raise _corrupt(f"corrupt data: groups nested too deeply at byte {pos}")
        else:
            pos = skip_field(buf, pos, end, wire_type, number)
    return pos


def _encode_key(field, wire_type):
    key, out = (field << 3) | wire_type, bytearray()
    while key >= 0x80:
        out.append((key & 0x7F) | 0x80)
        key >>= 7
    out.append(key)
    return bytes(out)


def _fixed_run(buf, pos, end, field, wire_type, dtype, keep=True):
    """Read an unpacked run: value, key, value, key, value ... of one fixed-size field.

    pos is the first value (its key already read). Protobuf writers emit repeated
    unpacked fields back to back, so the run is measured with numpy, stride
    len(key)+size, instead of one Python step per value. Returns (array or None, pos).
    """
    size = np.dtype(dtype).itemsize
    if size > end - pos:
        raise _corrupt(f"truncated data: field {field} runs past byte {end}")
    key = np.frombuffer(_encode_key(field, wire_type), np.uint8)
    stride = len(key) + size
    first = pos
    pos += size
    count = 1
    while True:
        records = min((end - pos) // stride, _RUN_CHUNK)
        if records == 0:
            break
        block = np.frombuffer(buf, np.uint8, records * stride, pos).reshape(records, stride)
        match = (block[:, : len(key)] == key).all(axis=1)
        run = records if match.all() else int(np.argmin(match))
        count += run
        pos += run * stride
        if run < records:
            break
    if not keep:
        return None, pos
    raw = np.empty((count, size), np.uint8)
    raw[0] = np.frombuffer(buf, np.uint8, size, first)
    if count > 1:
        rest = np.frombuffer(buf, np.uint8, (count - 1) * stride, first + size)
        raw[1:] = rest.reshape(count - 1, stride)[:, len(key):]
    return raw.reshape(-1).view(dtype), pos


def _packed_fixed(buf, start, stop, dtype, field):
    size = np.dtype(dtype).itemsize
    if (stop - start) % size:
        raise _corrupt(
            f"corrupt data: packed field {field} has {stop - start} bytes, not a multiple of {size}"
        )
    return np.frombuffer(buf, dtype, (stop - start) // size, start)


def _packed_ints(buf, start, stop, field):
    if stop - start > 10 * MAX_INTS:
        raise _corrupt(f"corrupt data: packed field {field} holds implausibly many integers")
    values, pos = [], start
    while pos < stop:
        value, pos = read_varint(buf, pos, stop)
        values.append(_signed64(value))
    return values


def _packed_varints(buf, start, stop, field):
    """A packed run of varints as uint64, decoded with numpy: each varint ends at its first byte below 0x80, and
    byte k of it holds bits 7k..7k+6 (the bits past 64 of a 10-byte varint fall off, as in protobuf). Decoded
    VARINT_CHUNK bytes at a time, so that the index arrays stay small beside the values (memory: about the values'
    8 bytes each, whatever the run's length)."""
    raw = np.frombuffer(buf, np.uint8, stop - start, start)
    count = int(np.count_nonzero(raw < 0x80))
    if count > MAX_VARINTS:
        raise _corrupt(f"corrupt data: packed field {field} holds more than {MAX_VARINTS:,} integers")
    if raw.size and raw[-1] >= 0x80:
        raise _corrupt(f"truncated data: a varint runs past byte {stop}")
    values, done, pos = np.zeros(count, np.uint64), 0, 0
    while pos < raw.size:
        piece = raw[pos:pos + VARINT_CHUNK]
        ends = np.flatnonzero(piece < 0x80).astype(np.int32)
        if not ends.size:
            raise _corrupt(f"corrupt data: varint longer than 10 bytes in packed field {field}")
        starts = np.concatenate((np.zeros(1, np.int32), ends[:-1] + 1))
        lengths = ends - starts + 1
        if lengths.max() > 10:
            raise _corrupt(f"corrupt data: varint longer than 10 bytes in packed field {field}")
        out = values[done:done + ends.size]
        for k in range(int(lengths.max())):
            rows = np.flatnonzero(lengths > k)
            out[rows] |= (piece[starts[rows] + k] & 0x7F).astype(np.uint64) << np.uint64(7 * k)
        done, pos = done + ends.size, pos + int(ends[-1]) + 1
    return values


def _varints(buf, pos, end, field, wire_type, name, chunks):
    """One packed run or one unpacked value of a "varints" field, added to chunks[name]; returns the position."""
    if wire_type == LEN:
        start, pos = _length(buf, pos, end)
        values = _packed_varints(buf, start, pos, field)
    elif wire_type == VARINT:
        value, pos = read_varint(buf, pos, end)
        values = np.array([value & ((1 << 64) - 1)], np.uint64)
    else:
        return skip_field(buf, pos, end, wire_type, field)
    parts = chunks.setdefault(name, [])
    parts.append(values)
    if len(parts) > MAX_INTS:  # writers pack these fields; many unpacked values would each cost an array
        raise _corrupt(f"corrupt data: field {field} holds implausibly many unpacked integers")
    return pos


def decode(buf, schema, start=0, end=None):
    """Decode the message buf[start:end] with ``schema``; returns a dict (see module doc)."""
    end = len(buf) if end is None else end
    out, chunks = {}, {}
    pos = start
    while pos < end:
        key, pos = read_varint(buf, pos, end)
        field, wire_type = key >> 3, key & 7
        if field == 0:
            raise _corrupt(f"corrupt data: field number 0 at byte {pos}")
        spec = schema.get(field)
        if spec is None:
            pos = skip_field(buf, pos, end, wire_type, field)
            continue
        name, kind = spec
        pos = _decode_field(buf, pos, end, field, wire_type, name, kind, out, chunks)
    for name, parts in chunks.items():
        out[name] = parts[0] if len(parts) == 1 else np.concatenate(parts)
    return out


def _decode_field(buf, pos, end, field, wire_type, name, kind, out, chunks):
    """Decode one field into ``out`` (arrays collect in ``chunks``); returns the new position."""
    if isinstance(kind, (dict, list)) or kind in ("string", "strings", "bytes", "repeated bytes"):
        return _decode_len(buf, pos, end, field, wire_type, name, kind, out)
    if kind == "varints":
        return _varints(buf, pos, end, field, wire_type, name, chunks)
    if kind in _FIXED or kind == "skip":
        fixed_type, dtype = _FIXED.get(kind, (wire_type, "<f8" if wire_type == I64 else "<f4"))
        if wire_type == LEN:
            start, pos = _length(buf, pos, end)
            if kind != "skip":
                chunks.setdefault(name, []).append(_packed_fixed(buf, start, pos, dtype, field))
        elif wire_type == fixed_type or (kind == "skip" and wire_type in (I32, I64)):
            values, pos = _fixed_run(buf, pos, end, field, wire_type, dtype, keep=kind != "skip")
            if values is not None:
                chunks.setdefault(name, []).append(values)
        else:
            pos = skip_field(buf, pos, end, wire_type, field)
        return pos
    if kind == "ints":
        if wire_type == LEN:
            start, pos = _length(buf, pos, end)
            values = out.setdefault(name, [])
            values.extend(_packed_ints(buf, start, pos, field))
        elif wire_type == VARINT:
            value, pos = read_varint(buf, pos, end)
            values = out.setdefault(name, [])
            values.append(_signed64(value))
        else:
            return skip_field(buf, pos, end, wire_type, field)
        if len(values) > MAX_INTS:
            raise _corrupt(f"corrupt data: field {field} holds implausibly many integers")
        return pos
    if kind in ("int", "bool"):
        if wire_type != VARINT:
            return skip_field(buf, pos, end, wire_type, field)
        value, pos = read_varint(buf, pos, end)
        out[name] = bool(value) if kind == "bool" else _signed64(value)
        return pos
    if kind in ("float", "double"):
        fmt, size, expected = ("<f", 4, I32) if kind == "float" else ("<d", 8, I64)
        if wire_type != expected:
            return skip_field(buf, pos, end, wire_type, field)
        if size > end - pos:
            raise _corrupt(f"truncated data: field {field} runs past byte {end}")
        out[name] = struct.unpack_from(fmt, buf, pos)[0]
        return pos + size
    raise ValueError(f"schema error: unknown kind {kind!r} for field {field}")


def _decode_len(buf, pos, end, field, wire_type, name, kind, out):
    """A sub-message (kind a schema dict, or [schema] when repeated) or text field."""
    if wire_type != LEN:
        return skip_field(buf, pos, end, wire_type, field)
    start, pos = _length(buf, pos, end)
    if isinstance(kind, dict):
        out[name] = decode(buf, kind, start, pos)
    elif isinstance(kind, list):
        out.setdefault(name, []).append(decode(buf, kind[0], start, pos))
    elif kind == "bytes":
        out[name] = memoryview(buf)[start:pos]
    elif kind == "repeated bytes":
        out.setdefault(name, []).append(memoryview(buf)[start:pos])
    else:
        try:
            text = bytes(buf[start:pos]).decode("utf-8")
        except UnicodeDecodeError:
            raise _corrupt(f"corrupt data: field {field} is not UTF-8 text") from None
        if kind == "string":
            out[name] = text
        else:
            out.setdefault(name, []).append(text)
    return pos
