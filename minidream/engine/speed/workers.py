"""The worker threads that minidream.engine.speed.parallel hands slices of a layer's work to.

A pool of n threads waits on one queue of tasks (work, piece, answers). `run` puts a task for every piece but the
first, works on the first itself, then takes one answer per task from its own `answers` queue: None, or the
exception that piece raised. Callers in several threads (two Nets at once) share a pool; each waits only for its
own answers.

Two reasons this is not concurrent.futures.ThreadPoolExecutor, which minidream used until round 9 (docs/speed.md):
- A hand-off costs less. The executor builds a Future (a Condition around a lock) per piece and notifies it when
  the piece is done, all of it Python that holds the GIL while the other threads wait for it (measured with
  benchmarks.dispatch: docs/speed.md).
- A forked child can use it. After a fork (multiprocessing's default on Linux) the executor's threads are gone
  from the child, but it still counts them as idle. It hands them the child's first threaded layer, and the
  child waits forever. Here a forked child forgets the parent's pools and starts its own.
"""
import os
import queue
import threading

_pools = {}  # thread count -> the task queue those threads wait on
_starting = threading.Lock()  # two callers starting a pool at once start one


def _serve(tasks):
    while True:
        work, piece, answers = tasks.get()
        try:
            work(piece)
        except BaseException as exc:  # handed to the caller, which raises it
            answers.put(exc)
        else:
            answers.put(None)


def _tasks(threads):
    """The task queue of the pool of `threads` threads, started on first use."""
    with _starting:
        if threads not in _pools:
            tasks = queue.SimpleQueue()
            for i in range(threads):
                threading.Thread(target=_serve, args=(tasks,), name=f"minidream-{i}", daemon=True).start()
            _pools[threads] = tasks
    return _pools[threads]


def run(work, pieces, threads):
    """work(piece) for every piece: the first on the calling thread, the others on a pool of `threads` threads.
    Returns once every piece is done. If any raised, raises the caller's own exception, else the first from a
    worker. Nobody is still working on a piece when it returns or raises (unless a Ctrl-C lands while it waits:
    then it raises at once, and the process is on its way out)."""
    answers = queue.SimpleQueue()
    tasks = _tasks(threads)
    for piece in pieces[1:]:
        tasks.put((work, piece, answers))
    error = None
    try:
        work(pieces[0])
    except BaseException as exc:
        error = exc
    worker_errors = [answers.get() for _ in pieces[1:]]
    error = error or next((exc for exc in worker_errors if exc is not None), None)
    if error is not None:
        raise error


def _forget_pools():
    """In a forked child: the parent's threads did not come along; the next run starts new ones."""
    global _starting
    _pools.clear()
    _starting = threading.Lock()


if hasattr(os, "register_at_fork"):  # POSIX; elsewhere there is no fork
    os.register_at_fork(after_in_child=_forget_pools)
