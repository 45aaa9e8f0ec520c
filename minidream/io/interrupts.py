"""Ctrl-C in the command-line tools: exit 130 with one line, wherever it lands, never swallowed.

    at_start(prog)     first thing in __main__: an interrupt during the imports prints one line and leaves at
                       once (os._exit(130)): nothing is written yet, and a half-done import needs no unwinding
    run(main, prog)    the work: an interrupt raises KeyboardInterrupt (so `with` blocks run and atomic writes
                       remove their temp files); a second one while that cleanup runs leaves at once. Whatever
                       main returns, the process exits 130 (os._exit, past the interpreter's shutdown) once an
                       interrupt was seen, even when a library swallowed
                       the KeyboardInterrupt (one raised inside a __del__ or a C callback is printed as
                       "ignored" and the work goes on) or turned it into another error (NumPy's import turns it
                       into an ImportError): a tool never reports success or a traceback after Ctrl-C. Once
                       main has returned, its work is complete and a Ctrl-C is ignored: landing in the exit itself
                       it would end the process by SIGINT, with neither 0 nor 130.
    deferred()         a few statements that must not be cut apart (files.atomic_path: a temp file's creation
                       and the record its cleanup needs): under run(), a Ctrl-C landing inside is raised as the
                       block ends, not in the middle. Elsewhere (another thread, no run()) it changes nothing.

Only the `python -m` entry points call these; importing minidream or weights_tools installs no handler.
"""
import contextlib
import os
import signal
import sys
import threading

_seen = []
_held = []  # per open deferred() block of the main thread: whether an interrupt waits for its end


def _line(prog):
    sys.stderr.write(f"{prog}: interrupted\n")
    sys.stderr.flush()


def _leave(prog):
    """One line, then exit 130 at once: the interpreter's shutdown after an interrupt can still meet it (a
    KeyboardInterrupt surfacing at exit ends the process by SIGINT) or crash in an extension's cleanup."""
    _line(prog)
    sys.stdout.flush()
    os._exit(130)


def at_start(prog):
    signal.signal(signal.SIGINT, lambda signum, frame: _leave(prog))


def run(main, prog):
    """main() under the work-phase handler; returns its exit code (after an interrupt the process exits 130)."""
    def interrupt(signum, frame):
        if _seen:
            _leave(prog)
        _seen.append(signum)
        if _held:
            _held[-1] = True  # deferred() raises it when its block ends
            return
        raise KeyboardInterrupt
    signal.signal(signal.SIGINT, interrupt)
    try:
        code = main()
        signal.signal(signal.SIGINT, signal.SIG_IGN)  # too late to stop anything (the module doc)
    except BaseException as exc:
        # An interrupt inside a C extension's import comes back as another error (NumPy turns it into an
        # ImportError): once Ctrl-C was seen, whatever escaped is its doing.
        if not (_seen or isinstance(exc, KeyboardInterrupt)):
            raise
        _leave(prog)
    if _seen:  # main caught it (and returned 130) or a library swallowed it: either way, report it here
        _leave(prog)
    return code


@contextlib.contextmanager
def deferred():
    """Hold a Ctrl-C that lands inside the block (see the module doc) and raise it when the block ends."""
    if threading.current_thread() is not threading.main_thread():  # Python runs signal handlers in the main one
        yield
        return
    _held.append(False)
    try:
        yield
    finally:
        if _held.pop():
            raise KeyboardInterrupt
