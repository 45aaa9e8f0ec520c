import ctypes.util
import sys

import pytest

from minidream.engine.tuning import keep_freed_memory


def test_can_be_switched_off(monkeypatch):
    monkeypatch.setenv("MINIDREAM_KEEP_MEMORY", "0")
    assert keep_freed_memory() is False


@pytest.mark.skipif(not sys.platform.startswith("linux") or ctypes.util.find_library("c") != "libc.so.6",
                    reason="mallopt tuning is for glibc")
def test_glibc_accepts_the_thresholds(monkeypatch):
    monkeypatch.delenv("MINIDREAM_KEEP_MEMORY", raising=False)
    assert keep_freed_memory() is True
