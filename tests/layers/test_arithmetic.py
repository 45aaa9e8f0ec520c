"""Broadcasting arithmetic (ONNX Add, Sub, Mul, Div, Pow): fast vs naive, finite differences through every
broadcast, integer semantics, and the forward against onnxruntime."""
import numpy as np
import pytest

from minidream.engine.ops import arithmetic
from tests.argument_gradients import check_argument_gradients
from tests.gradcheck import rel_error
from tests.onnx_single_node import run_node

SHAPES = [((2, 3, 4), (2, 3, 4)), ((2, 3, 4), (4,)), ((2, 1, 4), (3, 1)), ((5,), ()), ((1, 3, 1, 2), (2, 1, 4, 1))]
ONNX_TYPES = {"add": "Add", "sub": "Sub", "mul": "Mul", "div": "Div", "pow": "Pow"}


def operands(kind, a_shape, b_shape, rng):
    """a and b for `kind`: a base > 0 for pow (its db needs log a), a divisor clear of 0 for div."""
    a, b = rng.standard_normal(a_shape), rng.standard_normal(b_shape)
    if kind == "pow":
        a, b = rng.uniform(0.5, 2, a_shape), rng.uniform(-1.5, 1.5, b_shape)
    if kind == "div":
        b = rng.choice([-1, 1], b_shape) * rng.uniform(0.5, 2, b_shape)
    return np.asarray(a), np.asarray(b)  # arrays even for shape (): NumPy's generators give those as floats


@pytest.mark.parametrize("a_shape, b_shape", SHAPES)
@pytest.mark.parametrize("kind", arithmetic.KINDS)
def test_fast_naive_and_finite_differences(kind, a_shape, b_shape):
    rng = np.random.default_rng(0)
    for a, b in [operands(kind, a_shape, b_shape, rng), operands(kind, b_shape, a_shape, rng)]:
        y, cache = arithmetic.forward(a, b, kind)
        y_ref, cache_ref = arithmetic.forward_naive(a, b, kind)
        assert y.shape == np.broadcast_shapes(a.shape, b.shape) and rel_error(y, y_ref) < 1e-14
        dy = rng.standard_normal(y.shape)
        check_argument_gradients(arithmetic.forward, (a, b), arithmetic.backward(dy, cache),
                                 arithmetic.backward_naive(dy, cache_ref), dy, kind=kind)


@pytest.mark.parametrize("kind", arithmetic.KINDS)
def test_forward_matches_onnxruntime_in_float32(kind):
    a, b = (v.astype(np.float32) for v in operands(kind, (2, 1, 5, 3), (4, 1, 3), np.random.default_rng(1)))
    y, cache = arithmetic.forward(a, b, kind)
    np.testing.assert_allclose(y, run_node(ONNX_TYPES[kind], [a, b]), rtol=1e-6)
    assert y.dtype == np.float32 and all(g.dtype == np.float32 for g in arithmetic.backward(np.ones_like(y), cache))


@pytest.mark.parametrize("kind", arithmetic.KINDS)
def test_integers_keep_integer_semantics(kind):
    """Shape arithmetic: ONNX Div truncates toward zero (NumPy's // floors), Pow stays integral; no gradients."""
    a = np.array([[-7, 7, -8, 9, 0, 3]], np.int64)
    b = np.array([[2], [-2], [3]], np.int64)
    if kind == "pow":
        b = np.abs(b)
    y, cache = arithmetic.forward(a, b, kind)
    assert y.dtype == np.int64 and np.array_equal(y, run_node(ONNX_TYPES[kind], [a, b]))
    assert np.array_equal(arithmetic.forward_naive(a, b, kind)[0], y)
    assert arithmetic.backward(np.ones(y.shape), cache) == (None, None)
    assert arithmetic.backward_naive(np.ones(y.shape), arithmetic.forward_naive(a, b, kind)[1]) == (None, None)


def test_div_truncates_toward_zero():
    y, _ = arithmetic.forward(np.array([-7, 7, -7, 7]), np.array([2, 2, -2, -2]), "div")
    assert list(y) == [-3, 3, 3, -3]
    with pytest.raises(ZeroDivisionError):
        arithmetic.forward(np.array([1]), np.array([0]), "div")


def test_integer_operand_beside_a_float_one_has_no_gradient():
    a, b = np.array([[1.5, -2.0, 3.0]]), np.array([[2], [3]])
    y, cache = arithmetic.forward(a, b, "mul")
    da, db = arithmetic.backward(np.ones(y.shape), cache)
    assert db is None and list(da[0]) == [5.0, 5.0, 5.0]


def test_pow_gradient_in_the_exponent_is_zero_where_the_base_is_not_positive():
    a, b = np.array([-2.0, 0.0, 2.0]), np.array([2.0, 2.0, 2.0])
    y, cache = arithmetic.forward(a, b, "pow")
    da, db = arithmetic.backward(np.ones(3), cache)
    assert list(y) == [4.0, 0.0, 4.0] and list(da) == [-4.0, 0.0, 4.0]
    assert list(db) == [0.0, 0.0, pytest.approx(4 * np.log(2))]


def test_unknown_kind_names_the_kinds():
    with pytest.raises(ValueError, match="add, sub, mul, div, pow"):
        arithmetic.forward(np.ones(2), np.ones(2), "mod")
