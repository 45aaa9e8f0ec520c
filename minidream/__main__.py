"""`python -m minidream ...`: see minidream.cli (which applies the CPU settings, tune_cpu). Ctrl-C
exits 130 with one line from the first statement on (minidream/io/interrupts.py)."""
import sys

from minidream.io.interrupts import at_start, run

at_start("minidream")

from minidream.cli import main  # noqa: E402

if __name__ == "__main__":
    sys.exit(run(main, "minidream"))
