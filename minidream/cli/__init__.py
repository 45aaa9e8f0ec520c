"""`python -m minidream COMMAND ...`: dream, zoom, atlas, classes, classify, layers, models, video, batch, microscope,
train, finetune, curate.

Every subcommand handler takes the parsed args and returns an exit code. Any error is printed as one line,
`minidream: error: ...`, with exit code 2 (set MINIDREAM_TRACEBACK=1 to see the traceback instead). The handlers
import the engine when they run, so `--help` stays fast; main() applies the CPU settings (tune_cpu)
before the subcommand runs.
"""
import os
import sys
import warnings

from minidream import __version__
from minidream.cli import dream, dreams, jobs, microscope, models, training
from minidream.cli.common import EPILOG, Parser
from minidream.engine.tuning import tune_cpu


def build_parser():
    parser = Parser(prog="python -m minidream", description="DeepDream with a hand-written CNN.", epilog=EPILOG)
    parser.add_argument("--version", action="version", version=f"minidream {__version__}")
    sub = parser.add_subparsers(dest="command", metavar="COMMAND", parser_class=Parser)
    sub.required = True
    for commands in (dream, dreams, models, jobs, microscope, training):
        commands.add_commands(sub)
    return parser


def main(argv=None):
    argv = sys.argv[1:] if argv is None else list(argv)
    args = build_parser().parse_args(argv)
    tune_cpu()  # the process-wide CPU settings (minidream/engine/tuning.py), before any work starts
    args.argv = argv
    if getattr(args, "max_pixels", None):
        os.environ["MINIDREAM_MAX_PIXELS"] = str(args.max_pixels)  # read by minidream.io.limits.max_pixels
    try:
        with warnings.catch_warnings():
            warnings.showwarning = _show_warning
            return args.func(args) or 0
    except KeyboardInterrupt:
        return 130  # minidream.io.interrupts prints the one line
    except Exception as exc:
        if os.environ.get("MINIDREAM_TRACEBACK"):
            raise
        print(f"minidream: error: {one_line(exc)}", file=sys.stderr)
        return 2


def _show_warning(message, category, filename, lineno, file=None, line=None):
    print(f"minidream: note: {message}", file=sys.stderr)


def one_line(exc):
    text = str(exc).strip() or type(exc).__name__
    if isinstance(exc, (ValueError, OSError, LookupError, RuntimeError, TypeError)):
        return " ".join(text.split())
    return f"{type(exc).__name__}: {' '.join(text.split())}"
