"""ONNX exports checked and timed: each model's worst forward error against onnxruntime, its input gradient against
PyTorch's float64 one (beside the float32 floor: minidream's float32 dx against its own float64 one, where ReLU and
max-pool near-ties flip), and a step at 640x480 (forward to the output and back to the input) against PyTorch CPU's.

    python -m benchmarks.onnx_models DIR [--models resnet50,inception_v3] [--repeats 3] [--json out.json]
                                         [--torch-python /path/to/venv/bin/python]

DIR holds <model>.<exporter>.onnx (+ .onnx.data) files with a <model>.<exporter>.ref.npz beside each, made as
../shared/real_onnx/README.md describes (x, out/<tensor>, end, g, dx: onnxruntime's outputs and PyTorch's float64
gradient); files of any other form are left out. --torch-python: a Python with torch and torchvision (never
minidream's own environment) that times torchvision's model of the same name, the same step, in turns with
minidream's, on the same cores (benchmarks/process.py); without it the PyTorch column is empty.
"""
import argparse
import glob
import os
import subprocess
import time

import numpy as np

from benchmarks.json_output import check_json_path, write_json
from minidream.engine.net import Net
from minidream.engine.tuning import tune_cpu
from minidream.errors import OnnxModelError
from weights_tools.onnx.convert import load_onnx

STEP_SIZE = (480, 640)  # (H, W)


def check(path, repeats):
    """{model, exporter, forward error, dx error, step ms, ...} of one export (see the module doc)."""
    stem = os.path.basename(path)[:-len(".onnx")]
    model, _, exporter = stem.partition(".")
    row = {"model": model, "exporter": exporter}
    try:
        specs, blobs, meta = load_onnx(path, quiet=True)
    except OnnxModelError as exc:
        return dict(row, error=str(exc).split(": ", 1)[-1])
    net = Net(specs, blobs, meta)
    ref = np.load(os.path.join(os.path.dirname(path), stem + ".ref.npz"))
    compared = [k[4:] for k in ref.files if k.startswith("out/") and k[4:] in net.graph.index]
    got = net.forward(ref["x"], end=compared)
    row["forward_error"] = max(float(np.abs(got[k] - ref["out/" + k]).max() / np.abs(ref["out/" + k]).max())
                               for k in compared)
    row["compared"] = len(compared)
    dx, dx64 = input_gradient(net, ref), input_gradient(Net(specs, blobs, meta, dtype=np.float64), ref)
    row["dx_error"], row["dx_floor"] = _relative(dx, ref["dx"]), _relative(dx, dx64)
    row["fixed_size"] = bool(meta["extra"].get("fixed_input_size"))
    if not row["fixed_size"]:
        row["step_ms"] = step_ms(net, str(ref["end"]), repeats)
    return row


def input_gradient(net, ref):
    """dL/dx for L = sum(g * output) at the reference input, in the net's float type."""
    net.forward(ref["x"].astype(net.dtype), end=str(ref["end"]))
    return net.backward(ref["g"].astype(net.dtype))


def _relative(a, b):
    return float(np.linalg.norm(a - b) / np.linalg.norm(b))


def step_ms(net, end, repeats):
    """Median ms of forward to `end` and backward to the input at 640x480, after one warm-up."""
    x = np.random.default_rng(0).standard_normal((1, 3, *STEP_SIZE)).astype(np.float32)
    times = []
    with net.frozen():
        for _ in range(repeats + 1):
            start = time.perf_counter()
            y = net.forward(x, end=end)
            net.backward(np.ones_like(y))
            times.append((time.perf_counter() - start) * 1000)
    return float(np.median(times[1:]))


# Runs in the torch environment: torchvision's model (random weights), the same step, median ms of `repeats`.
_TORCH_STEP = """
import sys, time, torch, torchvision
name, h, w, repeats = sys.argv[1], int(sys.argv[2]), int(sys.argv[3]), int(sys.argv[4])
torch.set_num_threads(len(__import__("os").sched_getaffinity(0)))
kw = {"aux_logits": False, "init_weights": True} if name in ("inception_v3", "googlenet") else {}
model = getattr(torchvision.models, name)(weights=None, **kw).eval()
x = torch.randn(1, 3, h, w, requires_grad=True)
times = []
for _ in range(repeats + 1):
    start = time.perf_counter()
    y = model(x)
    y.backward(torch.ones_like(y))
    times.append((time.perf_counter() - start) * 1000)
print(sorted(times[1:])[len(times[1:]) // 2])
"""


def torch_ms(python, model, repeats):
    """PyTorch CPU's step for torchvision's `model` in the environment of `python` (None when it cannot run it)."""
    done = subprocess.run([python, "-c", _TORCH_STEP, model, *map(str, STEP_SIZE), str(repeats)],
                          capture_output=True, text=True)
    return float(done.stdout.split()[-1]) if done.returncode == 0 and done.stdout.strip() else None


def table(rows):
    lines = ["| model | exporter | worst forward error | dx error | float32 floor | step 640x480 ms | PyTorch CPU ms | "
             "ratio |", "|---|---|---|---|---|---|---|---|"]
    for r in rows:
        if "error" in r:
            lines.append(f"| {r['model']} | {r['exporter']} | refused: {r['error'][:90]} | | | | | |")
            continue
        step = "fixed size" if r["fixed_size"] else f"{r['step_ms']:.0f}"
        torch_ms = r.get("pytorch_ms")
        ratio = f"{r['step_ms'] / torch_ms:.2f}" if torch_ms and not r["fixed_size"] else "-"
        lines.append(f"| {r['model']} | {r['exporter']} | {r['forward_error']:.1e} | {r['dx_error']:.1e} | "
                     f"{r['dx_floor']:.1e} | {step} | {f'{torch_ms:.0f}' if torch_ms else '-'} | {ratio} |")
    return "\n".join(lines)


def main(argv=None):
    parser = argparse.ArgumentParser(prog="python -m benchmarks.onnx_models", description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("folder", metavar="DIR")
    parser.add_argument("--models", type=lambda t: t.split(","), help="only these models (default: all in DIR)")
    parser.add_argument("--repeats", type=int, default=3, help="timed steps per model (default: 3)")
    parser.add_argument("--json", metavar="OUT.json", help="also write the rows as JSON")
    parser.add_argument("--torch-python", metavar="PYTHON", help="a Python with torch and torchvision (see above)")
    args = parser.parse_args(argv)
    check_json_path(parser, args.json)
    tune_cpu()
    paths = sorted(p for p in glob.glob(os.path.join(args.folder, "*.*.onnx"))
                   if os.path.exists(p[:-len(".onnx")] + ".ref.npz")
                   and (not args.models or os.path.basename(p).split(".")[0] in args.models))
    if not paths:
        parser.error(f"no <model>.<exporter>.onnx with a .ref.npz beside it in {args.folder}")
    rows = []
    for path in paths:
        rows.append(check(path, args.repeats))
        if args.torch_python and rows[-1].get("step_ms"):
            rows[-1]["pytorch_ms"] = torch_ms(args.torch_python, rows[-1]["model"], args.repeats)
        print(table(rows[-1:]).splitlines()[-1], flush=True)
    print("\n" + table(rows))
    if args.json:
        write_json(args.json, rows)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
