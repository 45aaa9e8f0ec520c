"""Ctrl-C in the command-line tools: exit 130 with one line, wherever it lands, never swallowed.

    at_start(prog)     first thing in __main__: an interrupt during the imports prints one line and leaves at
                       once (os._exit(130)): nothing is written yet, and a half-done import needs no unwinding
    run(main, prog)    the work: an interrupt raises KeyboardInterrupt (so `with` blocks run and atomic writes
                       remove their temp files); a second one while that cleanup runs leaves at once. Whatever
                       main returns, run returns 130 once an interrupt was seen, even when a library swallowed
                       the KeyboardInterrupt (one raised inside a __del__ or a C callback is printed as
                       "ignored" and the work goes on): a tool never reports success after Ctrl-C.

Only the `python -m` entry points call these; importing minidream or weights_tools installs no handler.
"""
import os
import signal
import sys

_seen = []


def _line(prog):
    sys.stderr.write(f"{prog}: interrupted\n")
    sys.stderr.flush()


def at_start(prog):
    def leave(signum, frame):
        _line(prog)
        os._exit(130)
    signal.signal(signal.SIGINT, leave)


def run(main, prog):
    """main() under the work-phase handler; returns its exit code, or 130 after any interrupt."""
    def interrupt(signum, frame):
        if _seen:
            _line(prog)
            os._exit(130)
        _seen.append(signum)
        raise KeyboardInterrupt
    signal.signal(signal.SIGINT, interrupt)
    try:
        code = main()
    except KeyboardInterrupt:
        _line(prog)
        return 130
    if _seen:  # main caught it (and returned 130) or a library swallowed it: either way, report it here
        _line(prog)
        return 130
    return code
