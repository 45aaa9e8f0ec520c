"""What handing work to minidream's threads costs on this machine, at 1, 2, 4, ... threads: the numbers that decide
how finely a layer is worth cutting (minidream.engine.speed.parallel.block_count).

    python -m benchmarks.dispatch          # every thread count up to the CPUs the process may use
    python -m benchmarks.dispatch --json dispatch.json

Each thread count runs in a fresh process limited to that many CPUs (BENCH_THREADS), its work cut into one slice per
thread (parallel.for_blocks), timed over many calls:

- empty: slices that do nothing: waking the threads and waiting for them;
- short calls: 40 NumPy calls on 256 floats per slice, which hold the GIL for most of their time, as the many small
  calls of a layer's transforms do;
- 64 MB pass: one multiply over 16 M floats into another 64 MB array: memory-bound work, so its time shows how far the
  memory bandwidth grows with threads.

Measured on two 16-core VMs (docs/speed.md, round 9): empty 30 and 39 µs on 2 threads, 192 and 301 on 16; the 64 MB
pass 5.1 ms on 2 threads and 10.3 on 16 on the first (its memory bandwidth stopped at 2 threads), 6.4 and 1.6 on the
second.
"""
import argparse
import json
import os
import time

from benchmarks.process import THREADS, child_result, fewer_threads  # first: threads, CPU tuning

import numpy as np  # noqa: E402

from benchmarks.json_output import check_json_path, write_json  # noqa: E402
from minidream.engine.speed.parallel import for_blocks  # noqa: E402

SLICES = 64  # items to cut: one slice per thread at any thread count here


def child():
    """Runs in a subprocess: {thread count, µs per call for the empty and short-call slices, ms per 64 MB pass}."""
    small = np.ones(256, np.float32)
    source = np.ones((SLICES, 1 << 18), np.float32)
    target = np.empty_like(source)

    def empty(rows):
        pass

    def short_calls(rows):
        for _ in range(40):
            np.add(small, 1, out=small)

    def memory_pass(rows):
        np.multiply(source[rows], 1.5, out=target[rows])

    row = {"threads": THREADS}
    for label, work, calls, unit in (("empty_us", empty, 2000, 1e6), ("short_calls_us", short_calls, 300, 1e6),
                                     ("pass_64mb_ms", memory_pass, 30, 1e3)):
        for_blocks(work, SLICES, SLICES, 0)  # threads started, pages touched
        start = time.perf_counter()
        for _ in range(calls):
            for_blocks(work, SLICES, SLICES, 0)
        row[label] = (time.perf_counter() - start) / calls * unit
    return row


def rows():
    """child() at 1, 2, 4, ... threads and at all the CPUs the process may use, each in a fresh process."""
    return [child_result("benchmarks.dispatch", [], env={**os.environ, "BENCH_THREADS": str(k)})
            for k in fewer_threads(THREADS) + [THREADS]]


def markdown(results):
    lines = ["| threads | empty slices µs | 40 short calls per slice µs | 64 MB pass ms |", "|---|---|---|---|"]
    lines += [f"| {r['threads']} | {r['empty_us']:.1f} | {r['short_calls_us']:.1f} | {r['pass_64mb_ms']:.1f} |"
              for r in results]
    return "\n".join(lines)


def main(argv=None):
    parser = argparse.ArgumentParser(prog="python -m benchmarks.dispatch", description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--json", help="also write the rows to this JSON file")
    parser.add_argument("--child", nargs="*", help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.child is not None:
        print(json.dumps(child()))
        return
    check_json_path(parser, args.json)
    results = rows()
    print(markdown(results))
    if args.json:
        write_json(args.json, results, indent=1)


if __name__ == "__main__":
    main()
