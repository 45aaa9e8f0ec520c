import numpy as np
import pytest

from minidream.training.optimizers import OPTIMIZERS, SGD, Adagrad, Adam, Nesterov, learning_rate, make_optimizer


def fc_layer():
    """One layer {"fc": [W, b]} in float64, so hand-computed steps compare to ~1e-12."""
    return {"fc": [np.array([1.0, -2.0]), np.array([0.5])]}


def test_sgd_matches_the_momentum_formula_without_decay_on_biases():
    params = fc_layer()
    w, b = params["fc"]
    solver = SGD(params, momentum=0.9, weight_decay=0.1, lr_mult={"fc": 2.0})
    g = [np.array([0.2, 0.4]), np.array([1.0])]
    solver.step({"fc": g}, lr=0.1)
    v_w = -0.2 * (g[0] + 0.1 * np.array([1.0, -2.0]))
    np.testing.assert_allclose(w, np.array([1.0, -2.0]) + v_w)
    np.testing.assert_allclose(b, [0.5 - 0.2 * 1.0])
    w_before = w.copy()
    solver.step({"fc": g}, lr=0.1)
    np.testing.assert_allclose(w, w_before + 0.9 * v_w - 0.2 * (g[0] + 0.1 * w_before))


def test_nesterov_two_steps_by_hand():
    # g_W = dW + 0.1 W; v' = 0.9 v - 0.1 g; W += 1.9 v' - 0.9 v.
    # Step 1: g_W = [0.3, 0.2], v' = [-0.03, -0.02], W = [1 - 0.057, -2 - 0.038]; b: v' = -0.1, b = 0.5 - 0.19.
    # Step 2: g_W = [0.2943, 0.1962], v'' = [-0.05643, -0.03762], W = W + 1.9 v'' - 0.9 v'.
    params = fc_layer()
    solver = Nesterov(params, momentum=0.9, weight_decay=0.1)
    g = {"fc": [np.array([0.2, 0.4]), np.array([1.0])]}
    solver.step(g, lr=0.1)
    np.testing.assert_allclose(params["fc"][0], [0.943, -2.038], rtol=1e-12)
    np.testing.assert_allclose(params["fc"][1], [0.31], rtol=1e-12)
    solver.step(g, lr=0.1)
    np.testing.assert_allclose(params["fc"][0], [0.862783, -2.091478], rtol=1e-12)


def test_adagrad_two_steps_by_hand():
    # h = g^2 = [0.04, 0.16]: the first step is lr * sign(g); then h = [0.08, 0.32], steps 0.1 * g / sqrt(h).
    params = fc_layer()
    solver = Adagrad(params, weight_decay=0.0)
    g = {"fc": [np.array([0.2, 0.4]), np.array([1.0])]}
    solver.step(g, lr=0.1)
    np.testing.assert_allclose(params["fc"][0], [0.9, -2.1], rtol=1e-7)
    np.testing.assert_allclose(params["fc"][1], [0.4], rtol=1e-7)
    solver.step(g, lr=0.1)
    np.testing.assert_allclose(params["fc"][0], [0.9 - 0.02 / np.sqrt(0.08), -2.1 - 0.04 / np.sqrt(0.32)], rtol=1e-7)
    assert params["fc"][0][0] == pytest.approx(0.8292893, abs=1e-7)


def test_adam_two_steps_by_hand():
    # Step 1: m = [0.02, 0.04], v = [4e-5, 1.6e-4]; m_hat = g, v_hat = g^2: W -= 0.1 * sign(g).
    # Step 2, g = [-0.1, 0.4]: m = [0.008, 0.076], v = [4.996e-5, 3.1984e-4];
    # m_hat = m / 0.19 = [0.0421053, 0.4], v_hat = v / 0.001999 = [0.0249925, 0.16];
    # W -= 0.1 * m_hat / sqrt(v_hat) = [0.0266336, 0.1].
    params = fc_layer()
    solver = Adam(params, weight_decay=0.0)
    solver.step({"fc": [np.array([0.2, 0.4]), np.array([1.0])]}, lr=0.1)
    np.testing.assert_allclose(params["fc"][0], [0.9, -2.1], rtol=1e-7)
    solver.step({"fc": [np.array([-0.1, 0.4]), np.array([1.0])]}, lr=0.1)
    np.testing.assert_allclose(params["fc"][0], [0.8733664, -2.2], rtol=1e-6)
    assert solver.t == 2


@pytest.mark.parametrize("name", sorted(OPTIMIZERS))
def test_weight_decay_spares_biases_and_lr_mult_scales(name):
    params = fc_layer()
    solver = make_optimizer(name, params, weight_decay=0.5, lr_mult={"fc": 0.0})
    solver.step({"fc": [np.zeros(2), np.zeros(1)]}, lr=0.1)
    np.testing.assert_array_equal(params["fc"][0], [1.0, -2.0])  # lr_mult 0: nothing moves
    solver = make_optimizer(name, params, weight_decay=0.5)
    solver.step({"fc": [np.zeros(2), np.zeros(1)]}, lr=0.1)
    assert abs(params["fc"][0][0]) < 1.0 and abs(params["fc"][0][1]) < 2.0  # decay pulls weights toward 0
    np.testing.assert_array_equal(params["fc"][1], [0.5])  # ... but never biases


@pytest.mark.parametrize("name", sorted(OPTIMIZERS))
def test_state_dict_round_trip_continues_identically(name):
    rng = np.random.default_rng(0)
    grads = [{"fc": [rng.normal(size=2), rng.normal(size=1)]} for _ in range(4)]
    a, b = fc_layer(), fc_layer()
    first = make_optimizer(name, a)
    for g in grads[:2]:
        first.step(g, lr=0.05)
    b["fc"] = [x.copy() for x in a["fc"]]
    second = make_optimizer(name, b)
    second.load_state_dict(first.state_dict())
    for g in grads[2:]:
        first.step(g, lr=0.05)
        second.step(g, lr=0.05)
    for x, y in zip(a["fc"], b["fc"]):
        np.testing.assert_array_equal(x, y)
    with pytest.raises(ValueError, match="does not fit this network"):
        make_optimizer(name, {"fc": [np.zeros(3), np.zeros(1)]}).load_state_dict(first.state_dict())


def test_unknown_optimizer_names_the_choices():
    with pytest.raises(ValueError, match="sgd, nesterov, adagrad, adam"):
        make_optimizer("rmsprop", fc_layer())


def test_learning_rate_schedules():
    assert learning_rate(0.1, "cosine", 0.0) == pytest.approx(0.1)
    assert learning_rate(0.1, "cosine", 0.5) == pytest.approx(0.05)
    assert learning_rate(0.1, "cosine", 1.0) == pytest.approx(0.0)
    assert [learning_rate(1.0, "step", t) for t in (0.1, 0.6, 0.8)] == pytest.approx([1.0, 0.1, 0.01])
    with pytest.raises(ValueError, match="cosine"):
        learning_rate(0.1, "linear", 0.5)
