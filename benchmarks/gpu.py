"""CPU vs GPU: one dream step, and each layer in it, for GoogLeNet and AlexNet at 224x224 and 640x480.

    python -m benchmarks.gpu              # both sizes, per-layer tables at 640x480
    python -m benchmarks.gpu --quick      # 224x224 only, no per-layer tables

and the microscope's channels per minute, one at a time vs a batch of 8 (benchmarks/batch_render.py), on the GPU
(and on the CPU beside it unless --no-cpu).

A step is the one minidream.dream runs per iteration, minidream.dreaming.octaves.make_step: the image
seen shifted by a random jitter inside mirrored context (odd reflection, as wide as the layer's receptive
radius plus the jitter), forward to the layer, backward of the L2 objective (dtop = the activation) to
the window, the gradient cropped back to the image and checked finite, normalized update with the clip.
Columns: minidream on NumPy, minidream on CuPy (our kernels + cuBLAS), and when torch is importable the
same step in PyTorch on the CPU and on CUDA (cuDNN) -- benchmarks/torch_reference.py.
Everything runs in full float32: TF32 is off for PyTorch, as it is by default for CuPy.

GPU times are CUDA events around the work, after two warm-up steps (kernel compilation, cuBLAS
and cuDNN autotuning), medians of --repeats; CPU times are perf_counter medians. Memory for the
step is the peak the step adds above the loaded weights and input: CuPy's memory pool growth (it
keeps freed blocks, so its size after the step is about the step's peak), and for PyTorch
torch.cuda.max_memory_allocated.

``rows(quick=False)`` returns the results as a list of dicts (benchmarks/run.py calls it);
``markdown(rows)`` renders them.
"""
import argparse
import statistics
import time

import numpy as np

from benchmarks import batch_render
from benchmarks.cases import CASES, DREAM_JITTER, LayerTimes, add_options, input_image, per_layer, sizes
from minidream.dreaming.octaves import make_step
from minidream.dreaming.jitter import margin_for, min_input_side, window_settings
from minidream.dreaming.objectives import L2
from minidream.dreaming.settings import DreamSettings
from minidream.engine.backend import GPUUnavailableError, get_cupy
from minidream.models.random_weights import random_model

STEP_SIZE = 1.5


def _minidream_step(net, end, lo, hi):
    """make_step set up as run_octaves sets it up for one octave; NumPy or CuPy by where net and x live. Each call
    moves x in place, as in a dream."""
    settings = DreamSettings(step_size=STEP_SIZE, jitter=DREAM_JITTER)
    objective = L2(end).bind(net)
    tile = window_settings(net, objective, settings, min_input_side(net, objective))[2]
    rng = np.random.default_rng(0)

    def step(x):
        make_step(net, objective, x, rng, settings, tile, lo, hi)
        return x

    return step


def _torch_step(net, end, device):
    """The same step in PyTorch: the window (the image with margin + jitter pixels of odd reflection on every side,
    the unshifted case of make_step's), L2's backward, the crop, the finite checks, the update with the clip."""
    import torch
    import torch.nn.functional as F

    from benchmarks.torch_reference import TorchNet

    tnet = TorchNet(net, device)
    mean = torch.tensor(net.meta["mean_bgr"], dtype=torch.float32, device=device).reshape(1, 3, 1, 1)
    pad = margin_for(net, [end]) + DREAM_JITTER

    def odd_reflection(x, pads):
        """x[-i] = 2 x[0] - x[i] beyond each edge: twice the edge-replicated border minus the mirrored one."""
        return 2 * F.pad(x, pads, mode="replicate") - F.pad(x, pads, mode="reflect")

    def step(x):
        # rows, then columns of the result, as numpy.pad (minidream.dreaming.jitter.extend) pads axis by axis
        window = odd_reflection(odd_reflection(x, (0, 0, pad, pad)), (pad, pad, 0, 0)).requires_grad_(True)
        y = tnet.forward(window, [end])[end]
        value = 0.5 * (y * y).sum()
        value.backward()
        with torch.no_grad():
            g = window.grad[:, :, pad:-pad, pad:-pad]
            if not (torch.isfinite(value) and torch.isfinite(g).all()):
                raise FloatingPointError("the PyTorch step's objective or gradient is not finite")
            x = x + (STEP_SIZE / g.abs().mean()) * g
            return torch.minimum(torch.maximum(x, -mean), 255 - mean)

    return step


def _median_ms(times):
    return 1000 * statistics.median(times)


def _cpu_ms(step, x, repeats):
    step(x)  # warm-up
    times = []
    for _ in range(repeats):
        t = time.perf_counter()
        step(x)
        times.append(time.perf_counter() - t)
    return _median_ms(times)


def _cuda_ms(step, x, repeats, event, elapsed_ms, synchronize):
    """Median ms of step(x) between two CUDA events; event() -> a recorded event."""
    for _ in range(2):
        step(x)
    synchronize()
    times = []
    for _ in range(repeats):
        start = event()
        step(x)
        stop = event()
        stop.synchronize()
        times.append(elapsed_ms(start, stop) / 1000)
    return _median_ms(times)


def _cupy_event():
    import cupy

    event = cupy.cuda.Event()
    event.record()
    return event


def _torch_event():
    import torch

    event = torch.cuda.Event(enable_timing=True)
    event.record()
    return event


def gpu_step(name, end, size, repeats):
    """(ms, step memory MB, GPU name) for minidream on CuPy."""
    cp = get_cupy()
    net = random_model(name, device="gpu")
    mean = cp.asarray(np.asarray(net.meta["mean_bgr"], np.float32))
    step = _minidream_step(net, end, -mean, 255 - mean)
    x = cp.asarray(input_image(size))
    with net.frozen():  # as in a dream
        ms = _cuda_ms(step, x, repeats, _cupy_event, cp.cuda.get_elapsed_time, cp.cuda.Device().synchronize)
        pool = cp.get_default_memory_pool()
        cp.cuda.Device().synchronize()
        pool.free_all_blocks()
        before = pool.used_bytes()
        step(x)
        cp.cuda.Device().synchronize()
        memory = (pool.total_bytes() - before) / 2**20
    name = cp.cuda.runtime.getDeviceProperties(cp.cuda.Device().id)["name"]
    return ms, memory, name.decode() if isinstance(name, bytes) else name


def cpu_step(name, end, size, repeats):
    net = random_model(name)
    mean = np.asarray(net.meta["mean_bgr"], np.float32).reshape(1, 3, 1, 1)
    with net.frozen():
        return _cpu_ms(_minidream_step(net, end, -mean, 255 - mean), input_image(size), repeats)


def torch_steps(name, end, size, repeats):
    """{"torch_cpu_ms", and with CUDA "torch_cuda_ms", "torch_cuda_mem_mb"}; {} without torch."""
    try:
        import torch
    except ImportError:
        return {}
    net = random_model(name)
    x = torch.from_numpy(input_image(size))
    result = {"torch_cpu_ms": _cpu_ms(_torch_step(net, end, "cpu"), x, repeats)}
    if torch.cuda.is_available():
        torch.backends.cudnn.benchmark = True
        # Full float32 like minidream (PyTorch's cuDNN would otherwise use TF32's 10-bit mantissas).
        torch.backends.cudnn.allow_tf32 = torch.backends.cuda.matmul.allow_tf32 = False
        step = _torch_step(net, end, "cuda")
        xg = x.cuda()
        result["torch_cuda_ms"] = _cuda_ms(step, xg, repeats, _torch_event, lambda a, b: a.elapsed_time(b),
                                           torch.cuda.synchronize)
        torch.cuda.synchronize()
        torch.cuda.reset_peak_memory_stats()
        before = torch.cuda.memory_allocated()
        step(xg)
        torch.cuda.synchronize()
        result["torch_cuda_mem_mb"] = (torch.cuda.max_memory_allocated() - before) / 2**20
    return result


def gpu_layers(name, end, size, repeats):
    """{layer: (forward ms, backward ms)} on the GPU: CUDA events around each step of the Net's walk (the calls
    stay asynchronous; the events are read after a synchronize)."""
    cp = get_cupy()
    net = random_model(name, device="gpu")
    x = cp.asarray(input_image(size))
    with net.frozen():  # as in a dream
        for _ in range(2):
            net.backward(net.forward(x, end=end))
        cp.cuda.Device().synchronize()
        with LayerTimes(net, clock=_cupy_event, elapsed=lambda a, b: cp.cuda.get_elapsed_time(a, b) / 1000) as times:
            for _ in range(repeats):
                net.backward(net.forward(x, end=end))
            cp.cuda.Device().synchronize()
    return times.medians_ms()


def rows(quick=False, repeats=5, cpu=True, torch=True, layers=True):
    """Benchmark rows (dicts). Raises GPUUnavailableError without CuPy and a CUDA device.

    {"kind": "step", "net", "end", "size" [H, W], "gpu_ms", "gpu_mem_mb", "device", and "cpu_ms",
     "speedup" (cpu / gpu), "torch_cpu_ms", "torch_cuda_ms", "torch_cuda_mem_mb", "vs_torch_cuda"
     (gpu / torch cuda, < 1 is faster) when measured}
    {"kind": "layer", "net", "end", "size", "layer", "gpu_forward_ms", "gpu_backward_ms",
     "cpu_forward_ms", "cpu_backward_ms"} at 640x480 (not with quick).
    {"kind": "channels", ...}: batch_render.row on the GPU, and on the CPU when cpu.
    """
    get_cupy()
    out = []
    for name, end in CASES:
        for size in sizes(quick):
            gpu_ms, memory, device = gpu_step(name, end, size, repeats)
            row = {"kind": "step", "net": name, "end": end, "size": list(size), "gpu_ms": gpu_ms,
                   "gpu_mem_mb": memory, "device": device}
            if cpu:
                row["cpu_ms"] = cpu_step(name, end, size, repeats)
                row["speedup"] = row["cpu_ms"] / gpu_ms
            if torch:
                row.update(torch_steps(name, end, size, repeats))
                if "torch_cuda_ms" in row:
                    row["vs_torch_cuda"] = gpu_ms / row["torch_cuda_ms"]
            out.append(row)
    if layers and not quick:
        for name, end in CASES:
            size = sizes()[-1]
            on_gpu = gpu_layers(name, end, size, repeats)
            on_cpu = per_layer(name, end, size, repeats=min(repeats, 3)) if cpu else {}
            for layer, (f, b) in on_gpu.items():
                row = {"kind": "layer", "net": name, "end": end, "size": list(size), "layer": layer,
                       "gpu_forward_ms": f, "gpu_backward_ms": b}
                if layer in on_cpu:
                    row["cpu_forward_ms"], row["cpu_backward_ms"] = on_cpu[layer]
                out.append(row)
    out += [batch_render.row(device, quick) for device in (("gpu", "cpu") if cpu else ("gpu",))]
    return out


def _fmt(value, spec=".1f"):
    return "–" if value is None else format(value, spec)


def markdown(results):
    steps = [r for r in results if r["kind"] == "step"]
    lines = []
    if steps:
        lines += [f"GPU: {steps[0]['device']}", "",
                  "| network | size | CPU ms | GPU ms | speedup | GPU step mem MB | PyTorch CPU ms "
                  "| PyTorch CUDA ms | PyTorch CUDA mem MB | GPU / PyTorch CUDA |",
                  "|---|---|---|---|---|---|---|---|---|---|"]
        for r in steps:
            cells = [f"{r['net']}→{r['end']}", f"{r['size'][1]}×{r['size'][0]}", _fmt(r.get("cpu_ms"), ".0f"),
                     _fmt(r["gpu_ms"], ".2f"), _fmt(r.get("speedup"), ".0f"), _fmt(r["gpu_mem_mb"], ".0f"),
                     _fmt(r.get("torch_cpu_ms"), ".0f"), _fmt(r.get("torch_cuda_ms"), ".2f"),
                     _fmt(r.get("torch_cuda_mem_mb"), ".0f"), _fmt(r.get("vs_torch_cuda"), ".2f")]
            lines.append("| " + " | ".join(cells) + " |")
    tables = {}
    for r in results:
        if r["kind"] == "layer":
            tables.setdefault(f"{r['net']}→{r['end']} {r['size'][1]}×{r['size'][0]}", []).append(r)
    for key, table in tables.items():
        lines += ["", f"Per layer, {key} (ms):", "",
                  "| layer | CPU forward | CPU backward | GPU forward | GPU backward |", "|---|---|---|---|---|"]
        lines += [f"| {r['layer']} | {_fmt(r.get('cpu_forward_ms'))} | {_fmt(r.get('cpu_backward_ms'))} "
                  f"| {_fmt(r['gpu_forward_ms'], '.3f')} | {_fmt(r['gpu_backward_ms'], '.3f')} |" for r in table]
    channels = [r for r in results if r["kind"] == "channels"]
    if channels:
        lines += ["", batch_render.markdown(channels)]
    return "\n".join(lines)


def main(argv=None):
    parser = argparse.ArgumentParser(prog="python -m benchmarks.gpu", description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    add_options(parser)
    parser.add_argument("--no-cpu", action="store_true", help="skip the (slow) NumPy columns")
    args = parser.parse_args(argv)
    try:
        results = rows(quick=args.quick, repeats=args.repeats, cpu=not args.no_cpu, torch=not args.no_torch)
    except GPUUnavailableError as exc:
        parser.exit(1, f"benchmarks.gpu: {exc}\n")
    print(markdown(results))


if __name__ == "__main__":
    main()
