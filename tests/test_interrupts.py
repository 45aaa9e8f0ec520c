"""minidream.io.interrupts (run, deferred) beyond what tests/test_reliability.py's Ctrl-C test reaches by timing."""
import os
import signal
import subprocess
import sys
import textwrap

from minidream.io import interrupts

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))


def test_once_the_work_is_done_a_ctrl_c_is_ignored():
    """A Ctrl-C landing after main returned, in the exit itself, ended the process by SIGINT (return code -2, no
    line): seen once in test_sigint_anywhere_exits_130_with_one_line. From then on it is ignored; the work is
    complete, and the tool exits with main's code."""
    previous = signal.getsignal(signal.SIGINT)
    try:
        assert interrupts.run(lambda: 3, "tool") == 3
        assert signal.getsignal(signal.SIGINT) is signal.SIG_IGN
    finally:
        signal.signal(signal.SIGINT, previous)


def _tool(tmp_path, body):
    """Run `body` as main() under interrupts.run in a fresh interpreter (the handler leaves by os._exit)."""
    script = ("import os, signal, sys, tempfile\n"
              "from minidream.io import files, interrupts\n"
              f"out = {str(tmp_path / 'out.bin')!r}\n"
              "def main():\n" + textwrap.indent(textwrap.dedent(body), "    ") + "\n"
              "sys.exit(interrupts.run(main, 'tool'))\n")
    return subprocess.run([sys.executable, "-c", script], cwd=ROOT, env=dict(os.environ, PYTHONPATH=ROOT),
                          capture_output=True, text=True, timeout=60)


def test_a_ctrl_c_inside_deferred_is_raised_at_its_end(tmp_path):
    proc = _tool(tmp_path, """
        with interrupts.deferred():
            signal.raise_signal(signal.SIGINT)
            print("the block went on", flush=True)
        print("past the block", flush=True)
        return 0
    """)
    assert (proc.returncode, proc.stdout, proc.stderr) == (130, "the block went on\n", "tool: interrupted\n")


def test_a_ctrl_c_as_the_temp_file_is_made_leaves_no_temp_file(tmp_path):
    """Before deferred(), an interrupt between mkstemp and the cleanup's try left the temp file behind."""
    proc = _tool(tmp_path, """
        real = tempfile.mkstemp
        def mkstemp(*args, **kwargs):
            made = real(*args, **kwargs)
            signal.raise_signal(signal.SIGINT)
            return made
        files.tempfile.mkstemp = mkstemp
        files.atomic_write(out, lambda f: f.write(b"new"))
        return 0
    """)
    assert (proc.returncode, proc.stderr) == (130, "tool: interrupted\n")
    assert os.listdir(tmp_path) == []
