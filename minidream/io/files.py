"""Atomic file writes: a crash or Ctrl-C leaves either the old file or the new one, never half of one.

The new contents go to a temp file in the destination's own folder (``.tmp-minidream-<pid>-<random><ext>``),
which is renamed over the destination when complete, so the rename is atomic (same filesystem). What that means
for the destination:

- mode: an existing file keeps its permission bits (0600 stays 0600); a new file gets 0666 minus the umask, as
  ``open()`` would give it. A read-only destination (no owner write bit) is refused, not replaced.
- symlinks are followed: the file the link points to is replaced and the link stays a link (a dangling link
  creates its target).
- hard links: the rename gives the destination name a new file, so other names of the old file keep the old
  contents (as with every rename-based editor); the write never changes a file behind another name.
- temp files that a killed process (kill -9, power loss) left behind in that folder are removed on the next
  write there; only ours (the prefix above, with a process id that is no longer running) are touched.

``check_writable`` checks the folder and the extension before long work, so a wrong output fails first.
"""
import contextlib
import os
import re
import stat
import tempfile

from minidream.io import interrupts

PREFIX = ".tmp-minidream-"
_OURS = re.compile(re.escape(PREFIX) + r"(\d+)-")


def _umask_mode():
    umask = os.umask(0)
    os.umask(umask)
    return 0o666 & ~umask


def _alive(pid):
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except OSError:  # exists, owned by someone else
        return True
    return True


def clean_stale(folder):
    """Remove temp files that dead processes of ours left in folder; returns how many."""
    removed = 0
    try:
        names = os.listdir(folder)
    except OSError:
        return 0
    for name in names:
        match = _OURS.match(name)
        if match and int(match.group(1)) != os.getpid() and not _alive(int(match.group(1))):
            with contextlib.suppress(OSError):
                os.remove(os.path.join(folder, name))
                removed += 1
    return removed


def destination(path):
    """The path a write to `path` replaces: symlinks followed (see the module doc)."""
    return os.path.realpath(os.fspath(path))


def check_writable(path, extensions=None, what="output"):
    """Raise (OSError or ValueError, one line with the fix) unless a file can be written at path.

    extensions: the lower-case extensions the writer supports (e.g. (".h5",)), or None for any."""
    path = os.fspath(path)
    target = destination(path)
    ext = os.path.splitext(path)[1].lower()
    if extensions is not None and ext not in extensions:
        raise ValueError(f"{what} {path!r}: unsupported extension {ext or '(none)'!r}; use {' or '.join(extensions)}")
    folder = os.path.dirname(target)
    if not os.path.isdir(folder):
        raise FileNotFoundError(f"{what} folder does not exist: {folder} (create it first)")
    if os.path.isdir(target):
        raise IsADirectoryError(f"{what} {path} is a folder; give a file name")
    if not os.access(folder, os.W_OK | os.X_OK):
        raise PermissionError(f"cannot write in {folder}: permission denied (choose another {what} folder)")
    if os.path.exists(target) and not os.stat(target).st_mode & stat.S_IWUSR:
        raise PermissionError(f"{what} {path} is read-only; make it writable (chmod u+w) or choose another name")
    return target


@contextlib.contextmanager
def atomic_path(path):
    """Yield a temp path beside the destination; on success it is renamed over it, on any error removed."""
    target = check_writable(path)
    folder = os.path.dirname(target)
    clean_stale(folder)
    mode = stat.S_IMODE(os.stat(target).st_mode) if os.path.exists(target) else _umask_mode()
    tmp = None
    try:
        # A Ctrl-C between mkstemp's open and the assignment would leave a temp file no one knows of: it waits
        # for the block's end (minidream.io.interrupts).
        with interrupts.deferred():
            fd, tmp = tempfile.mkstemp(prefix=f"{PREFIX}{os.getpid()}-", suffix=os.path.splitext(target)[1],
                                       dir=folder)
            os.close(fd)
        yield tmp
        os.chmod(tmp, mode)  # mkstemp makes files private (0600)
        os.replace(tmp, target)
    except BaseException:
        if tmp is not None:
            with contextlib.suppress(OSError):
                os.remove(tmp)
        raise


def atomic_write(path, write):
    """Call write(binary file object) on a temp file beside `path`, then rename it into place."""
    with atomic_path(path) as tmp, open(tmp, "wb") as f:
        write(f)
