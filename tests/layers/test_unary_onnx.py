"""The elementwise ONNX ops (Erf, Gelu, HardSigmoid, HardSwish, Softplus, Sqrt, Neg, Clip, and the Caffe-era Sigmoid
and TanH on any rank): fast vs naive, finite differences, and the forward against onnxruntime."""
import math
import sys
import types

import numpy as np
import pytest

from minidream.engine.ops import clip, erf, gelu, hard_sigmoid, hard_swish, neg, sigmoid, softplus, sqrt, tanh
from tests.argument_gradients import check_one_input_op
from tests.gradcheck import rel_error
from tests.onnx_single_node import run_node


def clear_of(x, kinks, margin=0.05):
    """x with every value nearer than `margin` to a kink moved 2·margin away: finite differences across a kink
    measure neither side's slope."""
    for kink in kinks:
        x = np.where(np.abs(x - kink) < margin, x + 2 * margin, x)
    return x


def spread(rng, shape):
    return rng.uniform(-5, 5, shape)


# (name, op, its keyword arguments, ONNX op type, the extra ONNX inputs and attributes, inputs for it)
CASES = [
    ("erf", erf, {}, "Erf", ([], {}), spread),
    ("gelu", gelu, {}, "Gelu", ([], {}), spread),
    ("gelu_tanh", gelu, {"approximate": "tanh"}, "Gelu", ([], {"approximate": "tanh"}), spread),
    ("hard_sigmoid", hard_sigmoid, {"alpha": 0.3, "beta": 0.4}, "HardSigmoid", ([], {"alpha": 0.3, "beta": 0.4}),
     lambda rng, shape: clear_of(spread(rng, shape), [-0.4 / 0.3, 0.6 / 0.3])),
    ("hard_swish", hard_swish, {}, "HardSwish", ([], {}), lambda rng, shape: clear_of(spread(rng, shape), [-3, 3])),
    ("softplus", softplus, {}, "Softplus", ([], {}), lambda rng, shape: 6 * spread(rng, shape)),
    ("sqrt", sqrt, {}, "Sqrt", ([], {}), lambda rng, shape: rng.uniform(0.2, 9, shape)),
    ("neg", neg, {}, "Neg", ([], {}), spread),
    ("clip", clip, {"low": -0.5, "high": 0.7}, "Clip", ([-0.5, 0.7], {}),
     lambda rng, shape: clear_of(rng.uniform(-2, 2, shape), [-0.5, 0.7])),
    ("clip_low", clip, {"low": 0.25}, "Clip", ([0.25], {}), lambda rng, shape: clear_of(spread(rng, shape), [0.25])),
    ("clip_high", clip, {"high": 0.25}, "Clip", ([None, 0.25], {}),
     lambda rng, shape: clear_of(spread(rng, shape), [0.25])),
    ("sigmoid", sigmoid, {}, "Sigmoid", ([], {}), spread),
    ("tanh", tanh, {}, "Tanh", ([], {}), spread),
]
IDS = [case[0] for case in CASES]


@pytest.mark.parametrize("shape", [(7,), (2, 3, 4), (1, 2, 1, 3, 2)])
@pytest.mark.parametrize("case", CASES, ids=IDS)
def test_fast_naive_and_finite_differences(case, shape):
    _, op, kwargs, _, _, make = case
    assert check_one_input_op(op, make(np.random.default_rng(0), shape), **kwargs).shape == shape


@pytest.mark.parametrize("case", CASES, ids=IDS)
def test_forward_matches_onnxruntime_in_float32(case):
    _, op, kwargs, op_type, (extra, attributes), make = case
    x = make(np.random.default_rng(1), (2, 5, 16)).astype(np.float32)
    y, cache = op.forward(x, **kwargs)
    extra = [None if v is None else np.array(v, np.float32) for v in extra]
    # onnxruntime's Gelu forms 1 + erf(x/√2) (or 1 + tanh(u)) in float32, which cancels for x < -3: it is off by up
    # to 6e-7 there against float64; ours is not as far off (test_gelu_is_accurate_where_one_plus_erf_cancels)
    atol = 6e-7 if op_type == "Gelu" else 1e-7
    np.testing.assert_allclose(y, run_node(op_type, [x, *extra], **attributes), rtol=1e-6, atol=atol)
    assert y.dtype == np.float32 and op.backward(np.ones_like(y), cache).dtype == np.float32


@pytest.mark.parametrize("ours, reference, ulps", [(erf.erf, math.erf, 4), (erf.erfc, math.erfc, 8)])
def test_erf_and_erfc_are_accurate_to_the_last_bits(ours, reference, ulps):
    """Against the C library's (math.erf, math.erfc) on a dense range, each interval's joins and tiny values:
    float64 within a few ulps (measured: erf 4, erfc 7), float32 rounded exactly as the C library's value rounds."""
    x = np.concatenate([np.linspace(-27, 27, 270001), [0.46875, np.nextafter(0.46875, 1), 4.0, np.nextafter(4.0, 5)],
                        np.geomspace(1e-300, 1e-2, 300), -np.geomspace(1e-30, 1e-2, 30)])
    expected = np.array([reference(v) for v in x])
    assert np.all(np.abs(ours(x) - expected) <= ulps * np.spacing(np.abs(expected)))
    x32 = x.astype(np.float32)
    assert np.array_equal(ours(x32), np.array([reference(v) for v in x32.astype(np.float64)], np.float32))
    assert list(erf.erf(np.array([np.inf, -np.inf, 0.0]))) == [1.0, -1.0, 0.0] and np.isnan(erf.erf(np.array(np.nan)))
    assert list(erf.erfc(np.array([np.inf, -np.inf]))) == [0.0, 2.0]


def test_gelu_is_accurate_where_one_plus_erf_cancels():
    x = np.linspace(-8, 8, 16001).astype(np.float32)
    truth = np.array([0.5 * v * math.erfc(-v / math.sqrt(2)) for v in x.astype(np.float64)])
    y = gelu.forward(x)[0].astype(np.float64)
    # float32 rounding of x/√2, magnified by d log Φ / d log x ≈ x² for negative x, is what remains
    assert np.all(np.abs(y - truth) <= 3e-6 * np.abs(truth) + np.spacing(np.float32(8)))


def test_erf_on_device_is_cupyx(fake_device, monkeypatch):
    """On CuPy arrays erf and erfc are cupyx.scipy.special's (stand-ins here: the CPU path, re-wrapped as on
    device)."""
    def on_device(f):
        return lambda a: fake_device.asarray(f(np.asarray(a)))

    special = types.SimpleNamespace(erf=on_device(erf.erf), erfc=on_device(erf.erfc))
    monkeypatch.setitem(sys.modules, "cupyx", types.SimpleNamespace(scipy=types.SimpleNamespace(special=special)))
    monkeypatch.setitem(sys.modules, "cupyx.scipy", types.SimpleNamespace(special=special))
    monkeypatch.setitem(sys.modules, "cupyx.scipy.special", special)
    x = fake_device.asarray(np.linspace(-3, 3, 13, dtype=np.float32))
    y, cache = gelu.forward(x)
    assert isinstance(y, fake_device.ndarray)
    assert rel_error(np.asarray(y), gelu.forward(np.asarray(x))[0]) < 1e-7


def test_clip_passes_the_gradient_on_its_bounds_and_works_on_integers():
    x = np.array([-1.0, -0.5, 0.0, 0.7, 2.0])
    y, cache = clip.forward(x, -0.5, 0.7)
    assert list(y) == [-0.5, -0.5, 0.0, 0.7, 0.7] and list(clip.backward(np.ones(5), cache)) == [0, 1, 1, 1, 0]
    assert list(clip.forward_naive(x, -0.5, 0.7)[1]) == list(cache)
    y, _ = clip.forward(np.array([-3, 5, 9]), 0, np.int64(6))
    assert list(y) == [0, 5, 6] and y.dtype == np.int64
    assert list(clip.forward(x, 1.0, 0.0)[0]) == [0.0] * 5  # low > high: high everywhere, as ONNX says
    unbounded, _ = clip.forward(x)
    assert unbounded is not x and np.array_equal(unbounded, x)


def test_hard_swish_and_hard_sigmoid_slopes_at_their_corners():
    x = np.array([-3.0, 3.0])
    assert list(hard_swish.backward(np.ones(2), hard_swish.forward(x)[1])) == [0.0, 1.0]
    assert list(hard_swish.backward_naive(np.ones(2), hard_swish.forward_naive(x)[1])) == [0.0, 1.0]
    assert list(hard_sigmoid.backward(np.ones(2), hard_sigmoid.forward(np.array([-2.5, 2.5]))[1])) == [0.0, 0.0]


def test_softplus_is_finite_and_exact_at_the_extremes():
    with np.errstate(over="raise", under="ignore"):
        y, _ = softplus.forward(np.array([-1000.0, -40.0, 0.0, 1000.0]))
    assert y[0] == 0 and y[1] == pytest.approx(math.exp(-40), rel=1e-12)
    assert y[2] == pytest.approx(math.log(2)) and y[3] == 1000.0


def test_gelu_rejects_an_unknown_approximation():
    with pytest.raises(ValueError, match="'none' or 'tanh'"):
        gelu.forward(np.zeros(2), approximate="sigmoid")


def test_neg_on_integers():
    y, cache = neg.forward(np.array([2, -3]))
    assert list(y) == [-2, 3] and y.dtype.kind == "i"
