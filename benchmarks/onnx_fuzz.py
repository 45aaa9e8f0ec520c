"""Fuzz the ONNX reader: mutated .onnx files (and external data) through weights_tools.onnx.read_onnx, counted.

    python -m benchmarks.onnx_fuzz                 # 2,000 cases
    python -m benchmarks.onnx_fuzz --cases 300 --seed 1

Sources: the real exports in /work/shared/real_onnx (when present; mobilenet_v3_small with its .onnx.data) and two
models weights_tools.onnx.writer writes (every attribute kind, typed and float16 tensors; one with external data).
Mutations are structure-aware (the file parsed into fields by onnx.proto's numbers, one field changed, deleted or
doubled, and the file written again with its lengths right: hostile varints in dims, data types, locations and
opsets; hostile strings in names and raw data; NaN in weights; external locations '../x', absolute, a symlink
out, a FIFO; offsets and lengths past the end) or raw (bit flips, cuts, inserted bytes, a 10-byte varint), and a
data file cut short. Outcomes: "read", or the exception's type; OnnxModelError and FileNotFoundError are the
documented ones. Memory: tracemalloc's peak during read_onnx against the bytes it reads (the model file, plus its
data file when it has one): at most twice that plus SLACK.
"""
import argparse
import collections
import os
import shutil
import tempfile
import time
import tracemalloc

import numpy as np

from weights_tools.onnx import read_onnx, schema
from weights_tools.onnx.writer import make_model, make_node, make_tensor
from weights_tools.wire import LEN, VARINT, read_varint

REAL = "/work/shared/real_onnx"
DOCUMENTED = {"OnnxModelError", "FileNotFoundError"}
HOSTILE_INTS = (0, 1, -1, 3, 7, 10, 13, 16, 22, 2**31, 2**32 + 1, 2**40, 2**63 - 1, -2**63)
HOSTILE_STRINGS = (b"", b"\0", b"\xff\xfe", b"a\0b", b"x" * 5000, b"../x", b"/etc/passwd", b"link.data",
                   b"pipe.data", b"sub", b"missing.data", b"sub/../model.onnx.data", b"-1", b"1e3",
                   b"99999999999999999999", b"18446744073709551615", b"4", b"com.microsoft")
SLACK = 64 << 10  # the Python objects of any model (dicts, node tuples, messages): most of a small file's peak
KINDS = ("varint", "varint", "string", "string", "delete", "double", "nan", "external", "flip", "cut", "insert",
         "huge varint", "short data")


def parse(buf, message_schema, start=0, end=None):
    """A valid message as a list of [field, wire type, value]: value an int (varint), bytes, or such a list (a
    sub-message the schema names)."""
    end, fields, pos = len(buf) if end is None else end, [], start
    while pos < end:
        key, pos = read_varint(buf, pos, end)
        field, wire_type = key >> 3, key & 7
        if wire_type == VARINT:
            value, pos = read_varint(buf, pos, end)
        elif wire_type == LEN:
            size, pos = read_varint(buf, pos, end)
            kind = message_schema.get(field, (None, None))[1]
            kind = kind[0] if isinstance(kind, list) else kind
            value = parse(buf, kind, pos, pos + size) if isinstance(kind, dict) else bytes(buf[pos:pos + size])
            pos += size
        else:
            size = 8 if wire_type == 1 else 4
            value, pos = bytes(buf[pos:pos + size]), pos + size
        fields.append([field, wire_type, value])
    return fields


def _varint(value):
    value &= (1 << 64) - 1
    out = bytearray()
    while value >= 0x80:
        out.append((value & 0x7F) | 0x80)
        value >>= 7
    return bytes(out + bytes([value]))


def serialize(fields, changes, path=()):
    """The message's bytes, with changes {path: new value, None to delete it, "double" to write it twice}."""
    out = bytearray()
    for i, (field, wire_type, value) in enumerate(fields):
        here = path + (i,)
        change = changes.get(here, value)
        if change is None:
            continue
        value = value if change == "double" else change
        body = serialize(value, changes, here) if isinstance(value, list) else value
        if wire_type == VARINT and isinstance(body, int):
            encoded = _varint(field << 3) + _varint(body)
        else:
            encoded = _varint((field << 3) | wire_type) + (_varint(len(body)) if wire_type == LEN else b"") + body
        out += encoded * (2 if change == "double" else 1)
    return bytes(out)


def sites(fields, path=(), parent=None):
    """(path, wire type, value, parent's fields) of every field, depth first."""
    for i, (_, wire_type, value) in enumerate(fields):
        yield path + (i,), wire_type, value, fields
        if isinstance(value, list):
            yield from sites(value, path + (i,), fields)


def _written_models():
    """(name, model bytes, data name, data bytes) of the two written sources."""
    rng = np.random.default_rng(0)
    weights = {"w": rng.standard_normal((8, 3, 3, 3)).astype(np.float32), "b": np.zeros(8, np.float32),
               "g": make_tensor(rng.standard_normal(8).astype(np.float16), "g", typed=True),
               "d": make_tensor(np.arange(4, dtype=np.int64), "d", typed=True),
               "fc": rng.standard_normal((8, 300)).astype(np.float32)}
    nodes = [make_node("Conv", ["x", "w", "b"], ["c"], name="conv", kernel_shape=[3, 3], pads=[1, 1, 1, 1],
                       auto_pad="NOTSET", alpha=0.5, value=np.ones(3, np.float64), names=["a", "b"], scales=[1.5],
                       tensors=[np.ones(2, np.int32)]),
             make_node("Mul", ["c", "g"], ["y"], name="mul")]
    args = (nodes, [("x", ("N", 3, 8, 8))], [("y", ("N", 8, 8, 8))], weights)
    external = make_model(*args, external_data="model.onnx.data")
    return [("written", make_model(*args), None, None), ("written external", external[0], "model.onnx.data",
                                                         external[1])]


def sources():
    """(name, model bytes, parsed fields, data name or None, data bytes or None) of every source."""
    found = [(name, model, data_name, data) for name, model, data_name, data in _written_models()]
    for name in ("squeezenet1_1", "shufflenet_v2_x0_5", "mobilenet_v3_small", "vit_tiny"):
        path = os.path.join(REAL, f"{name}.onnx")
        if os.path.exists(path):
            data_path = path + ".data"
            data = open(data_path, "rb").read() if os.path.exists(data_path) else None
            found.append((name, open(path, "rb").read(), os.path.basename(data_path) if data else None, data))
    return [(name, model, parse(model, schema.MODEL), data_name, data) for name, model, data_name, data in found]


def mutate(rng, source):
    """(kind, model bytes, data bytes or None) of one mutation of source."""
    _, model, fields, data_name, data = source
    kind = KINDS[int(rng.integers(len(KINDS)))]
    if kind == "short data" and data is not None:
        return kind, model, data[:int(rng.integers(len(data)))]
    if kind in ("flip", "cut", "insert", "huge varint"):
        buf, pos = bytearray(model), int(rng.integers(len(model)))
        if kind == "flip":
            for at in rng.integers(0, len(buf), size=int(rng.integers(1, 9))):
                buf[at] ^= 1 << int(rng.integers(8))
        elif kind == "cut":
            del buf[pos:]
        else:
            buf[pos:pos] = b"\xff" * 9 + b"\x01" if kind == "huge varint" else rng.bytes(int(rng.integers(1, 17)))
        return kind, bytes(buf), None
    every = list(sites(fields))
    wanted = {"varint": lambda s: s[1] == VARINT, "string": lambda s: isinstance(s[2], bytes) and s[1] == LEN,
              "nan": lambda s: isinstance(s[2], bytes) and len(s[2]) >= 4 and s[1] == LEN,
              "external": lambda s: isinstance(s[2], bytes) and s[3] is not fields and len(s[3]) == 2 and
              s[3][0][0] == 1 and s[3][1][0] == 2}.get(kind, lambda s: True)
    chosen = [s for s in every if wanted(s)] or every
    path, _, value, _ = chosen[int(rng.integers(len(chosen)))]
    if kind == "varint":
        change = HOSTILE_INTS[int(rng.integers(len(HOSTILE_INTS)))]
    elif kind in ("string", "external"):
        change = HOSTILE_STRINGS[int(rng.integers(len(HOSTILE_STRINGS)))]
    elif kind == "nan":
        floats = bytearray(value)
        at = 4 * int(rng.integers(len(floats) // 4))
        floats[at:at + 4] = np.float32((np.nan, np.inf, -np.inf)[int(rng.integers(3))]).tobytes()
        change = bytes(floats)
    else:
        change = None if kind == "delete" else "double"
    return kind, serialize(fields, {path: change}), None


def _folder_with_traps(folder):
    """The case folder: a subfolder, a symlink pointing out of it, a FIFO, a file outside it."""
    outside = folder + "-outside.data"
    with open(outside, "wb") as f:
        f.write(b"\0" * 4096)
    os.makedirs(os.path.join(folder, "sub"))
    os.symlink(outside, os.path.join(folder, "link.data"))
    os.mkfifo(os.path.join(folder, "pipe.data"))
    return outside


def run(count, seed=12, progress=False):
    """{outcome: count}, {source kind outcome: undocumented outcomes}, slowest case (s), {source: largest peak /
    bytes read}, cases over the memory budget (2x the bytes read, plus SLACK of Python objects)."""
    rng, found = np.random.default_rng(seed), sources()
    outcomes, bad_kinds, slowest, ratios, over = collections.Counter(), collections.Counter(), 0.0, {}, 0
    folder = tempfile.mkdtemp(prefix="onnx-fuzz-")
    outside = _folder_with_traps(folder)
    path = os.path.join(folder, "model.onnx")
    try:
        for i in range(count):
            source = found[int(rng.integers(len(found)))]
            kind, model, data = mutate(rng, source)
            data_name = source[3]
            data = source[4] if data is None else data
            with open(path, "wb") as f:
                f.write(model)
            if data_name:
                with open(os.path.join(folder, data_name), "wb") as f:
                    f.write(data)
            tracemalloc.start()
            start = time.perf_counter()
            try:
                read_onnx(path)
                outcome = "read"
            except Exception as exc:  # noqa: BLE001 - the census is the point
                outcome = type(exc).__name__
            seconds, peak = time.perf_counter() - start, tracemalloc.get_traced_memory()[1]
            tracemalloc.stop()
            outcomes[outcome] += 1
            if outcome not in DOCUMENTED | {"read"}:
                bad_kinds[f"{source[0]} {kind} {outcome}"] += 1
            slowest = max(slowest, seconds)
            size = len(model) + (len(data) if data_name else 0)
            ratios[source[0]] = max(ratios.get(source[0], 0.0), peak / size)
            over += peak > 2 * size + SLACK
            if data_name:
                os.remove(os.path.join(folder, data_name))
            if progress and (i + 1) % 250 == 0:
                print(f"  {i + 1} cases", flush=True)
    finally:
        shutil.rmtree(folder)
        os.remove(outside)
    return outcomes, bad_kinds, slowest, ratios, over


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--cases", type=int, default=2000)
    parser.add_argument("--seed", type=int, default=12)
    args = parser.parse_args(argv)
    start = time.perf_counter()
    outcomes, bad_kinds, slowest, ratios, over = run(args.cases, args.seed, progress=True)
    bad = sum(n for k, n in outcomes.items() if k not in DOCUMENTED | {"read"})
    print(f"{args.cases} mutated .onnx files (seed {args.seed}), {time.perf_counter() - start:.0f} s")
    print(f"  outcomes: {', '.join(f'{k} {n}' for k, n in outcomes.most_common())}")
    print(f"  undocumented exceptions: {bad}" + (f" ({dict(bad_kinds)})" if bad else ""))
    print(f"  slowest case {slowest:.2f} s; cases above 2x the bytes read + {SLACK >> 10} KiB: {over}")
    print("  largest peak memory / bytes read (model + data file), by source: "
          + ", ".join(f"{name} {ratio:.2f}x" for name, ratio in ratios.items()))


if __name__ == "__main__":
    main()
