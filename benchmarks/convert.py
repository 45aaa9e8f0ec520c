"""Conversion speed and memory on full-size synthetic BVLC files.

    python -m benchmarks.convert            # GoogLeNet (53.5 MB) and AlexNet (~244 MB), V1 snapshots
    python -m benchmarks.convert --only googlenet

Each file is written by the tests' protobuf writer (weights_tools/writer.py) in the
structure of the real 2014 snapshots: V1 layers, a Data layer, Caffe's Split layers, losses,
legacy 4-D blob dims, He-initialized random weights (GoogLeNet with its loss1/loss2 branches).
Every conversion runs in a fresh subprocess so its wall time and peak resident memory are its
own; the memory columns are the peak resident-set growth (Linux VmHWM) over the interpreter with
numpy/h5py/minidream loaded, and that divided by the file size (the target is at most ~2x).
Targets: GoogLeNet < 10 s, AlexNet < 30 s.
"""
import argparse
import os
import subprocess
import sys
import tempfile
import time

import numpy as np

from minidream.formats import h5format
from minidream.architectures.builtin import architecture
from minidream.models.random_weights import he_init
from minidream.engine.net import Net
from weights_tools import writer as pw

TARGETS_S = {"googlenet": 10.0, "alexnet": 30.0}

# Runs in the subprocess: imports first (their memory is the baseline), then the conversion.
# VmHWM (peak resident set, Linux) rather than ru_maxrss, which a child can inherit from its parent.
CHILD = """
import sys, time
import h5py, numpy
import minidream.models.random_weights, minidream.engine.net
from weights_tools.convert import convert
def high_water():
    status = open("/proc/self/status").read()
    return int(status.split("VmHWM:")[1].split()[0]) * 1024
base = high_water()
start = time.perf_counter()
convert(sys.argv[1], sys.argv[2])
seconds = time.perf_counter() - start
print(seconds, high_water() - base)
"""


def write_snapshot(name, path):
    """Write a full-size synthetic V1 training snapshot of a BVLC model; returns the reference Net."""
    specs, meta = architecture(name)
    if name == "googlenet":
        specs = pw.with_aux_classifiers(specs)
    net = he_init(Net(specs, meta=meta), seed=0)
    crop = meta["input_size"][0]
    data = pw.snapshot(net.specs, net.params, "V1", name={"googlenet": "GoogleNet", "alexnet": "AlexNet"}[name],
                       crop=crop)
    with open(path, "wb") as f:
        f.write(data)
    return net


def run(name, folder):
    src = os.path.join(folder, f"bvlc_{name}.caffemodel")
    dst = os.path.join(folder, f"{name}.h5")
    start = time.perf_counter()
    reference = write_snapshot(name, src)
    written_s = time.perf_counter() - start
    root = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
    env = dict(os.environ, PYTHONPATH=root + os.pathsep + os.environ.get("PYTHONPATH", ""))
    out = subprocess.run([sys.executable, "-c", CHILD, src, dst], capture_output=True, text=True, env=env,
                         check=True).stdout.split()
    seconds, peak = float(out[0]), int(out[1])
    _, blobs, meta = h5format.load(dst)
    exact = all(np.array_equal(a, b) for layer, arrays in reference.params.items()
                for a, b in zip(arrays, blobs[layer]))
    size = os.path.getsize(src)
    os.remove(src)
    os.remove(dst)
    return {"model": name, "file_mb": size / 1e6, "write_s": written_s, "convert_s": seconds,
            "target_s": TARGETS_S[name], "peak_mb": peak / 1e6, "peak_x_file": peak / size,
            "weights_exact": exact, "layers": len(blobs)}


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--only", choices=sorted(TARGETS_S), help="benchmark one model")
    args = parser.parse_args(argv)
    names = [args.only] if args.only else ["googlenet", "alexnet"]
    rows = []
    with tempfile.TemporaryDirectory(prefix="minidream-convert-") as folder:
        for name in names:
            rows.append(run(name, folder))
    print(f"{'model':10s} {'file MB':>8s} {'convert s':>10s} {'target s':>9s} {'peak MB':>8s} "
          f"{'peak/file':>9s} {'weights exact':>13s}")
    for r in rows:
        ok = "ok" if r["convert_s"] < r["target_s"] else "SLOW"
        print(f"{r['model']:10s} {r['file_mb']:8.1f} {r['convert_s']:10.2f} {r['target_s']:9.0f} "
              f"{r['peak_mb']:8.1f} {r['peak_x_file']:9.2f} {str(r['weights_exact']):>13s}  {ok}")
    return 0 if all(r["convert_s"] < r["target_s"] and r["weights_exact"] for r in rows) else 1


if __name__ == "__main__":
    sys.exit(main())
