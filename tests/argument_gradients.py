"""Every argument's gradient of a multi-input op, checked at once (the ONNX ops' tests use it)."""
import numpy as np

from tests.gradcheck import numerical_gradient, rel_error


def check_argument_gradients(forward, args, grads, grads_ref, dy, naive_tolerance=1e-12, **kwargs):
    """grads (the op's backward) against grads_ref (its naive twin's) and against centered differences of
    forward(*args, **kwargs) in each float64 argument in turn; a None argument must get a None gradient."""
    for position, (value, grad, grad_ref) in enumerate(zip(args, grads, grads_ref)):
        if value is None:
            assert grad is None and grad_ref is None
            continue

        def f(v, position=position):
            varied = list(args)
            varied[position] = v
            return forward(*varied, **kwargs)[0]

        assert grad.shape == np.shape(value) and rel_error(grad, grad_ref) < naive_tolerance
        assert rel_error(grad, numerical_gradient(f, np.array(value, copy=True), dy)) < 1e-8


def check_one_input_op(op, x, *args, naive_tolerance=1e-13, **kwargs):
    """op.forward and op.backward on float64 x against op's naive twins and against centered differences, with a
    random dy; the other arguments are held fixed. Returns y."""
    y, cache = op.forward(x, *args, **kwargs)
    y_ref, cache_ref = op.forward_naive(x, *args, **kwargs)
    assert y.shape == y_ref.shape and rel_error(y, y_ref) < naive_tolerance
    dy = np.asarray(np.random.default_rng(7).standard_normal(y.shape))
    dx = op.backward(dy, cache)
    assert dx.shape == x.shape and rel_error(dx, op.backward_naive(dy, cache_ref)) < naive_tolerance
    assert rel_error(dx, numerical_gradient(lambda v: op.forward(v, *args, **kwargs)[0], x.copy(), dy)) < 1e-8
    return y
