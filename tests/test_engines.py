"""The two engines (minidream/engine/engines.py): every op with a fast implementation against its textbook path, to
1e-5 in float32 (forward and input gradient); a cache undone on the path that made it; a whole textbook dream and
GoogLeNet step in a fresh process that loads no op machinery; set_engine as a context manager; a clear error for an
unknown engine. (tests/layers runs every layer test under both engines.)"""
import json
import os
import subprocess
import sys

import numpy as np
import pytest

import minidream
from minidream.engine import engines
from minidream.engine.net import Net
from minidream.engine.ops import avg_pool, conv, deconvolution, inner_product, lrn, max_pool, relu
from minidream.models.random_weights import random_model
from tests.gradcheck import rel_l2, tie_free

RNG = np.random.default_rng(0)
ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))


def _normal(*shape):
    return RNG.standard_normal(shape).astype(np.float32)


def _conv(x_shape, w_shape, stride, pad, groups=1):
    w, b = _normal(*w_shape), _normal(w_shape[0])
    return (_normal(*x_shape), lambda x: conv.forward(x, w, b, stride, pad, groups),
            lambda dy, cache: conv.backward(dy, cache, weight_grads=False)[0])


def _pool(op, x_shape, kernel, stride, pad):
    return (tie_free(x_shape, RNG).astype(np.float32), lambda x: op.forward(x, kernel, stride, pad), op.backward)


CASES = {  # name -> (x, forward(x) -> (y, cache), backward(dy, cache) -> dx)
    "conv winograd": _conv((2, 16, 12, 12), (16, 16, 3, 3), (1, 1), (1, 1)),
    "conv shifted rows": _conv((1, 16, 22, 22), (8, 16, 5, 5), (1, 1), (2, 2)),
    "conv strided": _conv((2, 3, 17, 17), (8, 3, 7, 7), (2, 2), (3, 3)),
    "conv groups": _conv((1, 8, 9, 9), (6, 4, 3, 3), (1, 1), (1, 1), 2),
    "conv 1x1": _conv((2, 8, 6, 6), (12, 8, 1, 1), (1, 1), (0, 0)),
    "deconvolution": (_normal(1, 4, 5, 5), lambda x, w=_normal(4, 3, 4, 4): deconvolution.forward(x, w, None, (2, 2),
                                                                                                   (1, 1)),
                      lambda dy, cache: deconvolution.backward(dy, cache, weight_grads=False)[0]),
    "inner product": (_normal(3, 4, 3, 3), lambda x, w=_normal(5, 36), b=_normal(5): inner_product.forward(x, w, b),
                      lambda dy, cache: inner_product.backward(dy, cache, weight_grads=False)[0]),
    "max pool ceil": _pool(max_pool, (2, 3, 9, 9), (3, 3), (2, 2), (0, 0)),
    "max pool padded": _pool(max_pool, (1, 4, 8, 7), (3, 3), (2, 2), (1, 1)),
    "avg pool": _pool(avg_pool, (2, 3, 9, 9), (3, 3), (2, 2), (1, 1)),
    "relu": (_normal(2, 3, 5, 5), relu.forward, relu.backward),
    "relu split over the cores": (_normal(1, 8, 256, 256), relu.forward, relu.backward),
    "lrn": (_normal(2, 10, 4, 5) * 3, lambda x: lrn.forward(x, 5, 1.0, 0.75, 2.0), lrn.backward),
}


def _path(cache):
    return cache.path if hasattr(cache, "path") else cache[0]


def _run(engine, x, forward, backward):
    with engines.set_engine(engine):
        y, cache = forward(x.copy())
        dy = np.random.default_rng(1).standard_normal(y.shape).astype(np.float32)
        return y.copy(), backward(dy, cache), _path(cache)


@pytest.mark.parametrize("name", CASES)
def test_fast_engine_matches_the_textbook_to_1e_5(name):
    x, forward, backward = CASES[name]
    y_fast, dx_fast, fast_path = _run("fast", x, forward, backward)
    y_book, dx_book, book_path = _run("textbook", x, forward, backward)
    assert (fast_path, book_path) != ("textbook", "textbook") and book_path == "textbook"
    assert y_fast.dtype == y_book.dtype == dx_fast.dtype == dx_book.dtype == np.float32
    assert rel_l2(y_fast, y_book) < 1e-5 and rel_l2(dx_fast, dx_book) < 1e-5


def test_a_cache_is_undone_on_the_path_that_made_it():
    x, forward, backward = CASES["conv winograd"]
    y, cache = forward(x)
    dy = np.ones_like(y)
    with engines.set_engine("textbook"):
        dx = backward(dy, cache)  # a Winograd cache, undone by Winograd
    assert cache.path == "winograd" and np.array_equal(dx, backward(dy, cache))


def test_set_engine_sets_and_as_a_context_manager_puts_the_previous_back():
    assert engines.engine() == "fast"
    with minidream.set_engine("textbook"):
        assert engines.engine() == "textbook"
        with engines.set_engine("fast"):
            assert engines.engine() == "fast"
        assert engines.engine() == "textbook"
    assert engines.engine() == "fast"
    engines.set_engine("textbook")
    try:
        assert engines.engine() == "textbook"
    finally:
        engines.set_engine("fast")
    with pytest.raises(ValueError, match="unknown engine 'textbok' \\(did you mean 'textbook'\\?\\)"):
        engines.set_engine("textbok")
    assert engines.engine() == "fast"


def _python(code, engine, cwd):
    env = dict(os.environ, MINIDREAM_ENGINE=engine, PYTHONPATH=ROOT)
    return subprocess.run([sys.executable, "-c", code], env=env, cwd=cwd, capture_output=True, text=True, timeout=300)


def test_an_unknown_engine_in_the_environment_is_a_one_line_error(tmp_path):
    done = _python("import minidream.engine.ops.conv", "turbo", tmp_path)
    assert done.returncode != 0
    assert done.stderr.strip().splitlines()[-1] == ("ValueError: MINIDREAM_ENGINE: unknown engine 'turbo'; choose one "
                                                    "of fast, textbook")


TEXTBOOK_RUN = """
import json, sys
import numpy as np
import minidream
from minidream.engine import engines
from minidream.engine.net import Net
from tests.test_engines import googlenet_step

assert engines.engine() == "textbook"
picture = (np.random.default_rng(0).random((40, 48, 3)) * 255).astype(np.uint8)
minidream.dream(picture, model="mini", octaves=1, steps=2, progress=False)
np.savez("textbook.npz", *googlenet_step())
print(json.dumps(sorted(name for name in sys.modules if name.startswith("minidream.engine.speed"))))
"""


def googlenet_step():
    """A random GoogLeNet's output at inception_4c (float32), and in float64 its output and input gradient (the
    gradient of 0.5*||y||^2, a dream step's)."""
    net = random_model("googlenet")
    net64 = Net(net.specs, blobs=net.params, meta=net.meta, dtype=np.float64)
    x = np.random.default_rng(0).standard_normal((1, 3, 160, 160)) * 50
    y64 = net64.forward(x, end="inception_4c/output")
    return net.forward(x, end="inception_4c/output"), y64, net64.backward(y64)


def test_a_textbook_dream_and_googlenet_step_load_no_machinery_and_match_the_fast_engine(tmp_path):
    done = _python(TEXTBOOK_RUN, "textbook", tmp_path)
    assert done.returncode == 0, done.stderr
    # No module of the speed machinery loads (dream() applies the memory setting of engine/tuning.py, which is not one).
    assert json.loads(done.stdout.splitlines()[-1]) == []
    textbook = np.load(tmp_path / "textbook.npz")
    # The float32 gradient is compared in float64: in float32 the engines' last-bit differences flip the winners of
    # near-tied max-pool windows (post-ReLU zeros), which moves whole gradient entries (docs/speed.md).
    for fast, book in zip(googlenet_step(), (textbook[f"arr_{i}"] for i in range(3))):
        assert rel_l2(fast, book) < 1e-5
