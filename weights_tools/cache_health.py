"""Keeping the cache trustworthy: verify what is cached, set damaged files aside, one fetch of a model at a time.

    problem(path)          why a cached model file does not load (h5format's full checks, checksum included), or None
    set_aside(path)        rename a damaged file to <file>.damaged (replacing an older one), so it is fetched again
                           and stays there to look at
    locked(path)           an exclusive lock on <path>.lock (fcntl.flock) for the duration of the block: a second
                           `fetch` of the same model waits for the first, then finds the model ready; the lock
                           is the kernel's, so a killed process never leaves it held
    download_cap(size)     the most bytes a download of a registry entry of `size` may have: SIZE_TOLERANCE times
                           the size plus 1 MiB (registry sizes are estimates); side files get SIDE_FILE_CAP
"""
import contextlib
import os

from minidream.formats.h5format import ModelFileError, load
from weights_tools.zoo import SIZE_TOLERANCE

SIDE_FILE_CAP = 256 << 20  # prototxt, mean file, class list


def problem(path):
    try:
        load(path)
    except ModelFileError as exc:
        return str(exc)
    return None


def set_aside(path):
    path = os.fspath(path)
    os.replace(path, path + ".damaged")
    return path + ".damaged"


def download_cap(size):
    return int(size * SIZE_TOLERANCE) + (1 << 20) if size else None


@contextlib.contextmanager
def locked(path):
    import fcntl

    lock = os.fspath(path) + ".lock"
    os.makedirs(os.path.dirname(os.path.abspath(lock)), exist_ok=True)
    with open(lock, "a") as f:
        fcntl.flock(f, fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(f, fcntl.LOCK_UN)
