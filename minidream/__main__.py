"""`python -m minidream ...`: see minidream.cli."""
import sys

from minidream.cli import main

if __name__ == "__main__":
    sys.exit(main())
