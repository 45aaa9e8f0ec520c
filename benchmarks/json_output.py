"""The --json option of the benchmark commands: its path checked before the runs (a bad path found after a
15-minute suite loses the run), the results written atomically after them (no half-written file)."""
import json

from minidream.io.files import atomic_write, check_writable


def check_json_path(parser, path):
    """A parser error now when --json's path (None: no --json) cannot be written."""
    if path:
        try:
            check_writable(path, what="--json")
        except (OSError, ValueError) as exc:
            parser.error(str(exc))


def write_json(path, data, indent=None):
    """data as JSON into path, atomically."""
    atomic_write(path, lambda f: f.write(json.dumps(data, indent=indent).encode()))
