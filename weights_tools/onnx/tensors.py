"""ONNX tensors (TensorProto) as NumPy arrays: from raw bytes, from a typed field, or from an external data file.

Sizes are checked before anything is allocated: dims non-negative, at most limits.MAX_BLOB_ELEMENTS values, and
the bytes the data holds (raw_data, a typed field, a range of an external file) exactly the values' count times
their size. raw_data is read in place (a read-only view into the model's bytes); float16 is widened to float32
(minidream computes in float32), float64 is kept (the converter decides); float values must be finite and within
limits.MAX_ABS_VALUE, as a .caffemodel's weights.
"""
import math
import os
import re
import stat

import numpy as np

from minidream.errors import OnnxModelError
from minidream.io import limits

# TensorProto.DataType -> dtype, little-endian as raw_data is; BOOL's bytes are read as uint8 and compared with 0
DTYPES = {1: "<f4", 2: "u1", 3: "i1", 4: "<u2", 5: "<i2", 6: "<i4", 7: "<i8", 9: "u1", 10: "<f2", 11: "<f8",
          12: "<u4", 13: "<u8"}
BOOL, FLOAT16 = 9, 10
UNREAD = {0: "UNDEFINED", 8: "STRING", 14: "COMPLEX64", 15: "COMPLEX128", 16: "BFLOAT16", 17: "FLOAT8E4M3FN",
          18: "FLOAT8E4M3FNUZ", 19: "FLOAT8E5M2", 20: "FLOAT8E5M2FNUZ", 21: "UINT4", 22: "INT4", 23: "FLOAT4E2M1"}
# The typed field each data type's values are in when there is no raw_data (onnx.proto's comments on each field)
TYPED_FIELD = {1: "float_data", 7: "int64_data", 11: "double_data", 12: "uint64_data", 13: "uint64_data"}
EXTERNAL = 1  # TensorProto.DataLocation
DAMAGED = "the file is damaged: use another copy of it, or export the model again"


def dtype_of(code):
    """The dtype of a TensorProto.DataType code as minidream holds it (float16 declared stays float16), or None."""
    return np.dtype(bool) if code == BOOL else (np.dtype(DTYPES[code]).newbyteorder("=") if code in DTYPES else None)


def tensor_array(tensor, what, external):
    """The decoded TensorProto ``tensor`` as an array of its dims (what: its name in messages; external: the
    ExternalData of the model's folder, or None when the model came as bytes). Raises OnnxModelError."""
    code = tensor.get("data_type", 0)
    if code not in DTYPES:
        raise OnnxModelError(f"{what} has data type {code} ({UNREAD.get(code, 'unknown')}), which minidream does "
                             "not read; export the model in float32")
    dtype, dims = np.dtype(DTYPES[code]), tensor.get("dims", [])
    count = math.prod(dims)
    if min(dims, default=0) < 0 or count > limits.MAX_BLOB_ELEMENTS:
        raise OnnxModelError(f"{what} has dims {dims}: negative, or more than {limits.MAX_BLOB_ELEMENTS:,} values; "
                             + DAMAGED)
    if "segment" in tensor:
        raise OnnxModelError(f"{what} is one segment of a tensor, which minidream does not read; export the model "
                             "again with each tensor whole")
    location = tensor.get("data_location", 0)
    if location == EXTERNAL:
        if external is None:
            raise OnnxModelError(f"{what} is stored in an external data file: read the model from its path, with "
                                 "that file beside it")
        data = np.frombuffer(external.read(tensor, count * dtype.itemsize, what), dtype)
    elif location != 0:
        raise OnnxModelError(f"{what} has data_location {location}, neither DEFAULT (0) nor EXTERNAL (1); {DAMAGED}")
    elif "raw_data" in tensor:
        raw = tensor["raw_data"]
        if len(raw) != count * dtype.itemsize:
            raise OnnxModelError(f"{what} holds {len(raw):,} bytes of raw_data for dims {dims} ({count:,} values of "
                                 f"{dtype.itemsize} bytes); {DAMAGED}")
        data = np.frombuffer(raw, dtype)
    else:
        data = _typed_values(tensor, code, dtype, count, what)
    array = data.reshape(dims)
    if code == BOOL:
        array = array != 0
    elif code == FLOAT16:
        array = array.astype(np.float32)
    if array.dtype.kind == "f":
        problem = limits.value_problem(array)
        if problem:
            raise OnnxModelError(f"{what} {problem}; the file is damaged (or the net diverged while training): use "
                                 "another copy of it")
    return array


def _typed_values(tensor, code, dtype, count, what):
    """The values of a tensor without raw_data, from its typed field (wire gives varint fields as uint64 bits)."""
    field = TYPED_FIELD.get(code, "int32_data")
    values = tensor.get(field)
    if values is None:
        values = np.zeros(0, dtype)
    if len(values) != count:
        raise OnnxModelError(f"{what} holds {len(values):,} values in {field} for dims {tensor.get('dims', [])} "
                             f"({count:,} values); {DAMAGED}")
    if code == FLOAT16:  # int32_data holds the float16 bit patterns
        return values.astype(np.uint16).view(np.float16)
    return values.astype(dtype) if values.dtype.kind == "u" and dtype.kind != "f" else values


class ExternalData:
    """The files beside a model that hold its external tensors (data_location EXTERNAL, as PyTorch's dynamo exporter
    writes <model>.onnx.data).

    A location is a relative path that must resolve, links followed (os.path.realpath), to a regular file inside
    the model's folder: no absolute path, no '..' or link out of it, no FIFO or device. The range (offset, length)
    must lie inside the file and length must be the tensor's size. Every byte of a file is read at most once (else a
    small file could stand for many large tensors), with one seek and one read per tensor.
    """

    def __init__(self, folder):
        self.folder = os.path.realpath(folder)
        self.bytes_read = {}  # real path -> bytes read from it so far

    def read(self, tensor, nbytes, what):
        """The nbytes bytes of the decoded TensorProto ``tensor`` (what: its name in messages)."""
        entries = {entry.get("key", ""): entry.get("value", "") for entry in tensor.get("external_data", [])}
        location = entries.get("location", "")
        path, size = self._resolve(location, what)
        offset, length = _number(entries, "offset", 0, what), _number(entries, "length", nbytes, what)
        if length != nbytes:
            raise OnnxModelError(f"{what}: its external data is {length:,} bytes long, not the {nbytes:,} bytes of "
                                 f"its values; {DAMAGED}")
        if offset + length > size:
            raise OnnxModelError(f"{what}: its external data, bytes {offset:,} to {offset + length:,}, runs past the "
                                 f"end of {location!r} ({size:,} bytes): the data file is truncated or comes from "
                                 "another export")
        self.bytes_read[path] = self.bytes_read.get(path, 0) + length
        if self.bytes_read[path] > size:
            raise OnnxModelError(f"{what}: the tensors' external data ranges overlap (more bytes read from "
                                 f"{location!r} than it holds); {DAMAGED}")
        try:
            with open(path, "rb") as f:
                f.seek(offset)
                data = f.read(length)
        except OSError as exc:
            raise OnnxModelError(f"{what}: cannot read its external data file {location!r}: {exc.strerror or exc}")
        if len(data) != length:
            raise OnnxModelError(f"{what}: {location!r} became shorter while it was read")
        return data

    def _resolve(self, location, what):
        """(real path, size) of an external data location, confined to the model's folder."""
        if not location or "\0" in location:
            raise OnnxModelError(f"{what} is stored externally but names no usable file (location {location!r}); "
                                 + DAMAGED)
        if os.path.isabs(location) or re.match(r"[A-Za-z]:|[/\\]", location):
            raise OnnxModelError(f"{what}: its external data location {location!r} is an absolute path; a model's "
                                 "data must be named relative to its folder (export it again)")
        path = os.path.realpath(os.path.join(self.folder, location))
        if os.path.commonpath([path, self.folder]) != self.folder:
            raise OnnxModelError(f"{what}: its external data location {location!r} leads outside the model's folder "
                                 f"{self.folder}; keep the data file beside the model")
        try:
            status = os.stat(path)
        except FileNotFoundError:
            raise OnnxModelError(f"{what}: its external data file {location!r} is missing: keep it beside the model, "
                                 "under the name it was exported with") from None
        except OSError as exc:
            raise OnnxModelError(f"{what}: cannot read its external data file {location!r}: "
                                 f"{exc.strerror or exc}") from None
        if not stat.S_ISREG(status.st_mode):
            raise OnnxModelError(f"{what}: its external data location {location!r} is not a regular file")
        return path, status.st_size


def _number(entries, key, default, what):
    """An external_data entry's integer (offset, length): decimal digits, at most 2**63."""
    text = entries.get(key)
    if text is None:
        return default
    if not re.fullmatch(r"[0-9]{1,19}", text):
        raise OnnxModelError(f"{what}: its external data {key} {text[:40]!r} is not a byte count; {DAMAGED}")
    return int(text)
