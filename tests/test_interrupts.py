"""minidream.interrupts.run beyond what tests/test_reliability.py's Ctrl-C test reaches by timing."""
import signal

from minidream import interrupts


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
