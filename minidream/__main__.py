"""`python -m minidream ...`: see minidream.cli. The CPU settings go in before anything imports NumPy."""
import sys

from minidream.tuning import tune_cpu

tune_cpu()

from minidream.cli import main  # noqa: E402  (after tune_cpu: OpenBLAS reads its setting when NumPy loads)

if __name__ == "__main__":
    sys.exit(main())
