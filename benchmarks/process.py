"""Process settings and measurements every benchmark child shares: how many cores it uses, the CPU tuning, and the
peak memory of the work it times; and how a parent runs a child and keeps its runs. Import this module before NumPy
(it imports neither NumPy nor minidream's engine).

BENCH_THREADS=k restricts the process to its first k CPUs before NumPy loads, so OpenBLAS, minidream's layer threads
(minidream.engine.speed.parallel) and PyTorch (torch.set_num_threads) all see k cores. BENCH_NUMPY_FIRST=1 imports NumPy
before tune_cpu(), as most scripts start: the import order should not matter, and the NumPy-first column checks it.
"""
import ctypes
import json
import os
import subprocess
import sys

from minidream.engine.tuning import tune_cpu


def limit_threads():
    """Apply BENCH_THREADS (when set); returns the number of CPUs the process may use."""
    cpus = sorted(os.sched_getaffinity(0))
    k = int(os.environ.get("BENCH_THREADS") or len(cpus))
    if k < len(cpus):
        os.sched_setaffinity(0, cpus[:k])
    return len(os.sched_getaffinity(0))


THREADS = limit_threads()
if os.environ.get("BENCH_NUMPY_FIRST"):  # how most scripts start: NumPy loaded before minidream's tuning
    import numpy  # noqa: F401
tune_cpu()  # as `python -m minidream` does (minidream/engine/tuning.py)


def fewer_threads(threads):
    """The thread counts the sweep runs the steps at beside the main run's: 1, 2, 4, ... below `threads`. How both
    engines scale with cores (on a 16-core VM minidream once ran slower on 16 than on 4: docs/speed.md, round 9)."""
    return [1 << i for i in range(max(threads - 1, 0).bit_length())]


def status_kb(field):
    with open("/proc/self/status") as f:
        for line in f:
            if line.startswith(field + ":"):
                return int(line.split()[1])
    raise RuntimeError(f"no {field} in /proc/self/status")


def reset_peak_memory():
    """Give freed heap memory back to the OS and restart the peak-RSS counter; returns the RSS now (kB).

    What the next steps add on top of this (the model and the input already count here) is their peak memory.
    Linux only: /proc/self/clear_refs "5" resets VmHWM.
    """
    ctypes.CDLL("libc.so.6").malloc_trim(0)
    with open("/proc/self/clear_refs", "w") as f:
        f.write("5")
    return status_kb("VmRSS")


def peak_memory_since(base_kb):
    """MB the peak RSS rose above base_kb (from reset_peak_memory)."""
    return (status_kb("VmHWM") - base_kb) / 1024


def child_result(module, args, env=None):
    """Run `python -m module --child ARGS...` in a fresh process; returns the JSON object on its last line of output
    (a RuntimeError with its stderr when it fails)."""
    cmd = [sys.executable, "-m", module, "--child", *(str(a) for a in args)]
    out = subprocess.run(cmd, capture_output=True, text=True, check=False, env=env)
    if out.returncode != 0:
        raise RuntimeError(f"benchmark child {' '.join(cmd[2:])} failed:\n{out.stderr}")
    return json.loads(out.stdout.strip().splitlines()[-1])


def median_run(runs):
    """Of several runs of one case (results with "median_s"), the one a table keeps: the run of median time."""
    return sorted(runs, key=lambda r: r["median_s"])[len(runs) // 2]
