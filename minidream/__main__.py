"""`python -m minidream ...`: see minidream.cli. Ctrl-C exits 130 with one line from the first statement on
(minidream/interrupts.py); the CPU settings go in before anything imports NumPy."""
import sys

from minidream.interrupts import at_start, run

at_start("minidream")

from minidream.tuning import tune_cpu  # noqa: E402

tune_cpu()

from minidream.cli import main  # noqa: E402  (after tune_cpu: OpenBLAS reads its setting when NumPy loads)

if __name__ == "__main__":
    sys.exit(run(main, "minidream"))
