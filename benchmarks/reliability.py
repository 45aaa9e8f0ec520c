"""Rerun issue 12's attacks and print a table of the figures.

    python -m benchmarks.reliability                     # this checkout
    python -m benchmarks.reliability --tree /work/base   # another checkout (e.g. before the fixes)
    python -m benchmarks.reliability --quick             # 200 caffemodels, 50 .h5 files, no big cases

Attacks: mutated caffemodels through convert (tests/weights_tools/mutations.py; outcomes by exception type, the
slowest case, the largest allocation over the file size), mutated .h5 files through Net.load, NaN weights through
a dream, a 9000x9000 PNG through `python -m minidream dream`, 30,000 in-place ReLUs through convert, and an
existing output's file mode after an overwrite. The mutation corpus is the fuzz tests' data, so this script reads
it from tests/weights_tools by path (the one benchmark that touches tests/); the files are written with
weights_tools/writer.py, so --tree takes a checkout that has it.
"""
import argparse
import collections
import os
import resource
import subprocess
import sys
import tempfile
import time
import tracemalloc

DOCUMENTED = {"CaffeModelError", "ModelFileError", "ImageError"}
HERE = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))


def _mutations():
    """This checkout's tests/weights_tools/mutations.py (the attacked tree may predate it)."""
    import importlib.util

    spec = importlib.util.spec_from_file_location("mutations", os.path.join(HERE, "tests", "weights_tools",
                                                                             "mutations.py"))
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def _run_cli(tree, args, timeout):
    """(exit code or 'timeout', seconds, peak RSS MB, last stderr line) of `python -m ...` in tree."""
    env = dict(os.environ, PYTHONPATH=tree, MINIDREAM_HOME=tempfile.mkdtemp())
    start = time.perf_counter()
    script = ("import resource, subprocess, sys; p = subprocess.run(sys.argv[1:], capture_output=True, text=True);"
              "print(p.returncode); print(resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss);"
              "print((p.stderr.strip().splitlines() or [''])[-1][:160])")
    try:
        out = subprocess.run([sys.executable, "-c", script, sys.executable, "-m", *args], cwd=tree, env=env,
                             capture_output=True, text=True, timeout=timeout).stdout.splitlines()
    except subprocess.TimeoutExpired:
        return "timeout", time.perf_counter() - start, None, ""
    return int(out[0]), time.perf_counter() - start, int(out[1]) / 1024, out[2] if len(out) > 2 else ""


def _outcomes(cases, run):
    """Counter of outcomes, slowest case (s), largest peak allocation / (file + 1 MiB).

    Each case runs in a forked child, so a case that crashes the interpreter (HDF5 on a damaged file can) is
    counted as "crash (signal N)" instead of ending the census."""
    counts, slowest, ratio = collections.Counter(), 0.0, 0.0
    try:  # warm up in the parent: the children inherit the imports, so their figures are the case's own
        run(cases[0][1])
    except Exception:  # noqa: BLE001
        pass
    for data_size, call in cases:
        read, write = os.pipe()
        pid = os.fork()
        if pid == 0:  # the child: one case, its figures down the pipe
            os.close(read)
            tracemalloc.start()
            start = time.perf_counter()
            try:
                outcome = run(call)
            except MemoryError:
                outcome = "MemoryError"
            except Exception as exc:  # noqa: BLE001 - the census is the point
                outcome = type(exc).__name__
            seconds, peak = time.perf_counter() - start, tracemalloc.get_traced_memory()[1]
            os.write(write, f"{outcome} {seconds} {peak}".encode())
            os._exit(0)
        os.close(write)
        with os.fdopen(read) as pipe:
            text = pipe.read()
        _, status = os.waitpid(pid, 0)
        if not text:
            counts[f"crash (signal {os.WTERMSIG(status)})" if os.WIFSIGNALED(status) else "crash"] += 1
            continue
        outcome, seconds, peak = text.rsplit(" ", 2)
        counts[outcome] += 1
        slowest = max(slowest, float(seconds))
        ratio = max(ratio, int(peak) / (data_size + (1 << 20)))
    return counts, slowest, ratio


def caffemodels(count, folder):
    import numpy as np

    from weights_tools.convert import convert

    caffemodel_case = _mutations().caffemodel_case

    rng = np.random.default_rng(12)
    cases = []
    for i in range(count):
        _, data = caffemodel_case(rng)
        src = os.path.join(folder, f"case{i}.caffemodel")
        with open(src, "wb") as f:
            f.write(data)
        cases.append((len(data), src))

    def run(src):
        convert(src, src + ".h5")
        return "converted"
    return _outcomes(cases, run)


def h5_files(count, folder):
    import numpy as np

    from minidream.models.loading import load_net, save_model
    from tests.weights_tools.conftest import small_model

    h5_case = _mutations().h5_case

    good = os.path.join(folder, "good.h5")
    save_model(small_model()[2], good)
    rng = np.random.default_rng(12)
    cases = []
    for i in range(count):
        dst = os.path.join(folder, f"case{i}.h5")
        h5_case(rng, good, dst)
        cases.append((os.path.getsize(dst), dst))

    def run(path):
        net = load_net(path)
        finite = all(np.isfinite(a).all() for arrays in net.params.values() for a in arrays)
        return "loaded" if finite else "loaded NaN"
    return _outcomes(cases, run)


def _fmt(counts):
    bad = sum(n for k, n in counts.items() if k not in DOCUMENTED | {"converted", "loaded"})
    return bad, ", ".join(f"{k} {n}" for k, n in counts.most_common())


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--tree", default=os.getcwd(), help="the checkout to attack (default: here)")
    parser.add_argument("--quick", action="store_true")
    parser.add_argument("--stages", default="caffemodel,h5,cli", help="which attacks (default: all three)")
    args = parser.parse_args(argv)
    tree = os.path.abspath(args.tree)
    sys.path.insert(0, tree)
    for name in [m for m in sys.modules if m.split(".")[0] in ("minidream", "weights_tools", "tests", "kernels")]:
        del sys.modules[name]
    resource.setrlimit(resource.RLIMIT_AS, (8 << 30, 8 << 30))  # a bad case fails here instead of swapping
    print(f"reliability attacks on {tree}", flush=True)
    with tempfile.TemporaryDirectory() as folder:
        stages = args.stages.split(",")
        file_attacks = [("caffemodel", caffemodels, (200, 2000), "mutated caffemodels: undocumented exceptions"),
                        ("h5", h5_files, (50, 500), "mutated .h5 files: undocumented exceptions or NaN accepted")]
        for stage, attack, (quick_n, full_n), label in file_attacks:
            if stage in stages:
                n = quick_n if args.quick else full_n
                counts, slowest, ratio = attack(n, folder)
                bad, text = _fmt(counts)
                _row(f"{n} {label}", bad, text)
                _row("  slowest case (s) / peak allocation / (file + 1 MiB)", f"{slowest:.2f} / {ratio:.1f}x")
        if "cli" in stages:
            _cli_attacks(tree, folder, args.quick)


def _row(label, value, detail=""):
    print(f"{label:<64}  {value!s:>14}  {detail}", flush=True)


def _cli_attacks(tree, folder, quick):
    import numpy as np
    from PIL import Image

    from minidream.models.loading import load_net, save_model
    from weights_tools import writer as pw

    net = load_net(os.path.join(tree, "minidream", "data", "mini.h5"))
    for arrays in net.params.values():
        arrays[0][...] = np.nan
    nan_model = os.path.join(folder, "nan.h5")
    save_model(net, nan_model)
    photo = os.path.join(folder, "photo.png")
    Image.fromarray(np.random.default_rng(0).integers(0, 255, (96, 96, 3), np.uint8)).save(photo)
    out = os.path.join(folder, "nan-out.png")
    code, secs, _, line = _run_cli(tree, ["minidream", "dream", photo, "-o", out, "--model", nan_model,
                                          "--octaves", "1", "--steps", "2", "--no-progress"], 120)
    _row("NaN weights: dream exit code / output written", f"{code} / {os.path.exists(out)}", line)
    net = load_net(os.path.join(tree, "minidream", "data", "mini.h5"))
    for arrays in net.params.values():
        arrays[0] *= np.float32(1e9)  # finite weights whose activations overflow float32
    save_model(net, nan_model)
    out = os.path.join(folder, "overflow-out.png")
    code, secs, _, line = _run_cli(tree, ["minidream", "dream", photo, "-o", out, "--model", nan_model,
                                          "--octaves", "1", "--steps", "2", "--no-progress"], 120)
    _row("overflowing weights (x1e9): dream exit code / output written", f"{code} / {os.path.exists(out)}", line)
    code, secs, _, line = _run_cli(tree, ["minidream", "classify", photo, "--model", nan_model], 120)
    _row("overflowing weights: classify exit code", code, line)
    if not quick:
        big = os.path.join(folder, "big.png")
        Image.new("RGB", (9000, 9000), (120, 130, 140)).save(big)
        code, secs, rss, line = _run_cli(tree, ["minidream", "dream", big, "-o", os.path.join(folder, "b.png"),
                                                "--model", "mini", "--octaves", "1", "--steps", "1",
                                                "--no-progress"], 60)
        _row("9000x9000 PNG (%d KB): exit / s / peak MB" % (os.path.getsize(big) // 1024),
             f"{code} / {secs:.1f} / {rss or 0:.0f}", line)
        relus = [{"name": "conv", "type": "Convolution", "bottoms": ["data"], "tops": ["conv"],
                  "params": {"num_output": 2, "kernel_size": [1, 1]}}]
        relus += [{"name": f"relu{i}", "type": "ReLU", "bottoms": ["conv"], "tops": ["conv"], "params": {}}
                  for i in range(30000)]
        deep = os.path.join(folder, "deep.caffemodel")
        with open(deep, "wb") as f:
            f.write(pw.deploy(relus, {"conv": [np.ones((2, 3, 1, 1), np.float32), np.zeros(2, np.float32)]},
                              input_size=(8, 8)))
        code, secs, rss, line = _run_cli(tree, ["weights_tools", "convert", deep, deep + ".h5"], 150)
        _row("30,000 in-place ReLUs (%d KB): exit / s / peak MB" % (os.path.getsize(deep) // 1024),
             f"{code} / {secs:.1f} / {rss or 0:.0f}", line)
    from minidream.io.images import save_image

    target = os.path.join(folder, "private.png")
    save_image(np.zeros((4, 4, 3), np.uint8), target)
    os.chmod(target, 0o600)
    save_image(np.zeros((4, 4, 3), np.uint8), target)
    _row("overwrite a 0600 output: mode after", oct(os.stat(target).st_mode & 0o777))


if __name__ == "__main__":
    main()
