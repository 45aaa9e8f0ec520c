"""minidream.engine.speed.workers: the pool of threads that takes a layer's slices."""
import multiprocessing
import threading
import time

import numpy as np
import pytest

from minidream.engine.speed import parallel, workers


def _sum_in_slices(queue):
    """Runs in a forked child: a threaded sum through the pool, put on the queue."""
    data = np.arange(3000.0)
    partial = {}
    parallel.for_blocks(lambda s: partial.__setitem__(s.start, data[s].sum()), 3000, 3000, 0)
    queue.put(sum(partial.values()))


@pytest.mark.filterwarnings("ignore:This process .* is multi-threaded")  # Python 3.12+: the case under test
def test_a_forked_child_starts_its_own_threads(monkeypatch):
    """multiprocessing's default on Linux forks; the child has none of the parent's threads. With a pool that still
    counted them as idle, the child's first threaded layer waited forever."""
    monkeypatch.setattr(parallel, "WORKERS", 2)  # a pool of one thread, which the parent has started and used
    parallel.for_blocks(lambda s: None, 9, 9, 0)
    context = multiprocessing.get_context("fork")
    queue = context.Queue()
    child = context.Process(target=_sum_in_slices, args=(queue,))
    child.start()
    child.join(60)
    if child.is_alive():
        child.kill()
    assert child.exitcode == 0, "the forked child hung or failed in its threaded layer"
    assert queue.get(timeout=5) == np.arange(3000.0).sum()


def test_more_pieces_than_threads_are_all_done_once():
    seen = []
    workers.run(seen.append, list(range(20)), threads=2)
    assert sorted(seen) == list(range(20))


def test_the_callers_error_wins_and_is_raised_only_after_every_worker_is_done():
    finished = []

    def work(piece):
        if piece == 0:
            raise ValueError("the caller's piece")
        time.sleep(0.02)
        finished.append(piece)
        raise KeyError("a worker's piece")

    with pytest.raises(ValueError, match="caller's piece"):
        workers.run(work, [0, 1, 2, 3], threads=3)
    assert sorted(finished) == [1, 2, 3]


def test_callers_in_two_threads_share_the_pool_and_get_their_own_answers():
    results, errors = {}, []

    def caller(name):
        try:
            for _ in range(50):
                out = np.zeros(8)
                workers.run(lambda i: out.__setitem__(i, i * name), list(range(8)), threads=2)
                assert np.array_equal(out, np.arange(8) * name)
            results[name] = True
        except BaseException as exc:
            errors.append(exc)

    threads = [threading.Thread(target=caller, args=(name,)) for name in (1, 2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(60)
    assert not errors and results == {1: True, 2: True}
