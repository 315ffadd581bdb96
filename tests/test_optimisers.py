"""Each update rule of lib.optimisers checked against its defining property."""

import numpy as np
import pytest
from scipy import optimize

from lib import optimisers, quadratic

SHAPES = [(3, 4), (8, 5), (16, 16), (1, 7)]
ETAS = [1e-3, 0.01, 0.1, 0.5, 2.0]


def random_pair(shape, seed):
    rng = np.random.default_rng(seed)
    return rng.standard_normal(shape), rng.standard_normal(shape)


def orthogonal_to(W, g):
    """Return g minus its projection on W (Frobenius inner product)."""
    return g - np.sum(g * W) / np.sum(W * W) * W


def test_gradient_descent_matches_formula():
    W, g = random_pair((4, 3), 0)
    W_new, state = optimisers.gradient_descent(W, g, eta=0.3)
    np.testing.assert_allclose(W_new, W - 0.3 * g, rtol=1e-15)
    assert state is None


@pytest.mark.parametrize("kappa", [1.0, 4.0, 50.0])
def test_gradient_descent_quadratic_stability_limit(kappa):
    A = quadratic.quadratic_matrix(kappa, lambda_max=3.0)
    eta_critical = 2 / 3.0
    for factor, converges in [(0.97, True), (1.03, False)]:
        x = np.array([1.0, -0.5])
        for _ in range(400):
            x, _ = optimisers.gradient_descent(x, A @ x, eta=factor * eta_critical)
        assert (np.linalg.norm(x) < 1e-3) == converges, f"kappa={kappa}, eta={factor} * 2/lambda_max"


def test_rprop_step_sizes_grow_and_shrink():
    W = np.zeros(3)
    state = None
    deltas = []
    for _ in range(4):
        W, state = optimisers.rprop(W, np.array([1.0, -2.0, 0.5]), state)
        deltas.append(state["delta"].copy())
    np.testing.assert_allclose(deltas, [[0.1] * 3] + [[0.1 * 1.2**k] * 3 for k in range(1, 4)], rtol=1e-14)

    W_before = W.copy()
    W, state = optimisers.rprop(W, np.array([-1.0, 2.0, 0.5]), state)
    np.testing.assert_allclose(state["delta"], [0.1 * 1.2**3 * 0.5, 0.1 * 1.2**3 * 0.5, 0.1 * 1.2**4], rtol=1e-14)
    np.testing.assert_array_equal(W[:2], W_before[:2])


def test_rprop_moves_against_gradient_sign():
    W, state = optimisers.rprop(np.zeros(3), np.array([3.0, -1e-9, 0.0]), None, delta_0=0.25)
    np.testing.assert_array_equal(W, [-0.25, 0.25, 0.0])


def test_rprop_step_sizes_stay_in_bounds():
    state = None
    W = np.zeros(1)
    for k in range(60):
        W, state = optimisers.rprop(W, np.array([1.0]), state, delta_max=2.0)
    assert state["delta"][0] == 2.0
    for k in range(60):
        W, state = optimisers.rprop(W, np.array([(-1.0) ** k]), state, delta_min=1e-3)
    assert state["delta"][0] == pytest.approx(1e-3, rel=1e-12)


def test_rmsprop_constant_gradient_closed_form():
    g = np.array([2.0, -0.5, 1e-3])
    W, state = np.zeros(3), None
    for t in range(1, 8):
        W_old = W
        W, state = optimisers.rmsprop(W, g, state, eta=0.01, rho=0.9, eps=0.0)
        expected_step = -0.01 * np.sign(g) / np.sqrt(1 - 0.9**t)
        np.testing.assert_allclose(W - W_old, expected_step, rtol=1e-12)


@pytest.mark.parametrize("shape", SHAPES)
def test_adam_first_step_is_sign(shape):
    W, g = random_pair(shape, 1)
    W_new, state = optimisers.adam(W, g, eta=0.01)
    np.testing.assert_allclose(W_new - W, -0.01 * g / (np.abs(g) + 1e-8), rtol=1e-12)
    # |eta g / (|g| + eps) - eta sign(g)| = eta eps / (|g| + eps) <= eta eps / |g|.
    assert np.max(np.abs(W_new - W + 0.01 * np.sign(g))) <= 0.01 * 1e-8 / np.min(np.abs(g)) + 1e-15
    assert state["t"] == 1


def test_adam_constant_gradient_steps_equal():
    W, g = random_pair((5,), 2)
    state = None
    for _ in range(6):
        W_old = W
        W, state = optimisers.adam(W, g, state, eta=0.05, eps=0.0)
        np.testing.assert_allclose(W - W_old, -0.05 * np.sign(g), rtol=1e-12)


def test_mirror_descent_euclidean_is_gradient_descent():
    W, g = random_pair((4, 4), 3)
    identity = lambda U: U
    W_mirror, _ = optimisers.mirror_descent(W, g, eta=0.2, grad_h=identity, grad_h_inverse=identity)
    W_gd, _ = optimisers.gradient_descent(W, g, eta=0.2)
    np.testing.assert_allclose(W_mirror, W_gd, rtol=1e-14)


@pytest.mark.parametrize("eta", ETAS)
def test_entropic_mirror_descent_is_multiplicative(eta):
    rng = np.random.default_rng(4)
    W, g = rng.uniform(0.1, 2.0, (3, 5)), 5 * rng.standard_normal((3, 5))
    W_entropic, _ = optimisers.entropic_mirror_descent(W, g, eta=eta)
    W_general, _ = optimisers.mirror_descent(W, g, eta=eta, grad_h=optimisers.entropy_grad,
                                             grad_h_inverse=optimisers.entropy_grad_inverse)
    np.testing.assert_allclose(W_entropic, W * np.exp(-eta * g), rtol=1e-14)
    np.testing.assert_allclose(W_general, W_entropic, rtol=1e-12)
    assert np.all(W_entropic > 0)


def test_entropic_step_minimises_bregman_model():
    rng = np.random.default_rng(5)
    W, g, eta = rng.uniform(0.2, 1.5, 4), rng.standard_normal(4), 0.7
    h = lambda V: np.sum(V * np.log(V))

    def model(V):
        return eta * g @ (V - W) + h(V) - h(W) - optimisers.entropy_grad(W) @ (V - W)

    numerical = optimize.minimize(model, W, bounds=[(1e-9, None)] * 4, tol=1e-14).x
    exact, _ = optimisers.entropic_mirror_descent(W, g, eta=eta)
    np.testing.assert_allclose(numerical, exact, rtol=1e-5)


@pytest.mark.parametrize("shape", SHAPES)
@pytest.mark.parametrize("eta", ETAS)
def test_lars_relative_update_is_eta(shape, eta):
    W, g = random_pair(shape, 6)
    W_new, _ = optimisers.lars(W, g, eta=eta)
    assert np.linalg.norm(W_new - W) / np.linalg.norm(W) == pytest.approx(eta, rel=1e-12)


def test_lars_weight_decay_and_momentum():
    W, g = random_pair((3, 3), 7)
    rate = 0.5 * np.linalg.norm(W) / (np.linalg.norm(g) + 0.1 * np.linalg.norm(W))
    W1, state = optimisers.lars(W, g, eta=0.01, trust_coefficient=0.5, beta=0.1, momentum=0.9)
    # W - W1 loses digits to cancellation, so the tolerance is absolute at the scale of W.
    np.testing.assert_allclose(W - W1, 0.01 * rate * (g + 0.1 * W), rtol=0, atol=1e-15)
    W2, _ = optimisers.lars(W1, g, state, eta=0.01, trust_coefficient=0.5, beta=0.1, momentum=0.9)
    rate1 = 0.5 * np.linalg.norm(W1) / (np.linalg.norm(g) + 0.1 * np.linalg.norm(W1))
    np.testing.assert_allclose(W1 - W2, 0.9 * (W - W1) + 0.01 * rate1 * (g + 0.1 * W1), rtol=0, atol=1e-15)


@pytest.mark.parametrize("eta", ETAS)
def test_lamb_relative_update_is_eta(eta):
    rng = np.random.default_rng(8)
    W, state = rng.standard_normal((6, 4)), None
    for _ in range(5):
        W_new, state = optimisers.lamb(W, rng.standard_normal((6, 4)), state, eta=eta, lam=0.01)
        assert np.linalg.norm(W_new - W) / np.linalg.norm(W) == pytest.approx(eta, rel=1e-12)
        W = W_new


@pytest.mark.parametrize("shape", SHAPES)
@pytest.mark.parametrize("eta", ETAS)
def test_fromage_keeps_norm_orthogonal_gradient(shape, eta):
    W, g = random_pair(shape, 9)
    g = orthogonal_to(W, g)
    W_new, _ = optimisers.fromage(W, g, eta=eta)
    assert np.linalg.norm(W_new) == pytest.approx(np.linalg.norm(W), rel=1e-12)
    turn = np.arccos(np.sum(W_new * W) / np.linalg.norm(W) ** 2)
    assert turn == pytest.approx(np.arctan(eta), rel=1e-9)


def test_fromage_matches_formula_and_zero_gradient():
    W, g = random_pair((5, 3), 10)
    W_new, _ = optimisers.fromage(W, g, eta=0.1)
    expected = (W - 0.1 * np.linalg.norm(W) / np.linalg.norm(g) * g) / np.sqrt(1.01)
    np.testing.assert_allclose(W_new, expected, rtol=1e-14)
    np.testing.assert_array_equal(optimisers.fromage(W, np.zeros_like(W), eta=0.1)[0], W)


def test_madam_never_flips_sign():
    rng = np.random.default_rng(11)
    W = rng.standard_normal((20, 20))
    W[0, :3] = 0.0
    signs, state = np.sign(W), None
    for _ in range(50):
        W, state = optimisers.madam(W, 100 * rng.standard_normal(W.shape) * np.sign(W), state, eta=0.5)
        np.testing.assert_array_equal(np.sign(W), signs)


def test_madam_first_step_is_exp_eta():
    W, g = random_pair((4, 6), 12)
    W_new, _ = optimisers.madam(W, g, eta=0.05)
    np.testing.assert_allclose(W_new / W, np.exp(-0.05 * np.sign(W) * np.sign(g)), rtol=1e-12)


def test_madam_bounds_step_and_weights():
    rng = np.random.default_rng(13)
    W, state = rng.uniform(-1.0, 1.0, 50), None
    for _ in range(20):
        W_old = W
        g = rng.standard_normal(50) * rng.choice([1e-3, 1e3], size=50)
        W, state = optimisers.madam(W, g, state, eta=0.1, g_bound=2.0)
        assert np.all(np.abs(np.log(W / W_old)) <= 0.1 * 2.0 + 1e-12)
    W_clipped, _ = optimisers.madam(3 * W, np.ones(50), state, eta=0.1, w_max=1.5)
    assert np.max(np.abs(W_clipped)) == 1.5


def balanced(shape, seed):
    rng = np.random.default_rng(seed)
    W = rng.standard_normal(shape)
    W -= W.mean(axis=1, keepdims=True)
    return W / np.linalg.norm(W, axis=1, keepdims=True)


@pytest.mark.parametrize("shape", [(3, 4), (8, 5), (16, 16), (1, 7)])
def test_nero_rows_stay_balanced(shape):
    rng = np.random.default_rng(14)
    W, state = rng.standard_normal(shape), None
    for _ in range(10):
        W, state = optimisers.nero(W, rng.standard_normal(shape), state, eta=0.3)
        np.testing.assert_allclose(W.mean(axis=1), 0.0, atol=1e-15)
        np.testing.assert_allclose(np.linalg.norm(W, axis=1), 1.0, rtol=1e-14)


@pytest.mark.parametrize("eta", ETAS)
def test_nero_first_step_turns_arctan_eta(eta):
    W = balanced((6, 9), 15)
    rng = np.random.default_rng(16)
    g = rng.standard_normal(W.shape)
    g -= g.mean(axis=1, keepdims=True)
    g -= np.sum(g * W, axis=1, keepdims=True) * W
    W_new, _ = optimisers.nero(W, g, eta=eta)
    turns = np.arccos(np.clip(np.sum(W_new * W, axis=1), -1, 1))
    np.testing.assert_allclose(turns, np.arctan(eta), rtol=1e-9)


def test_agc_clips_rows_to_bound():
    rng = np.random.default_rng(17)
    W = rng.standard_normal((5, 4))
    g = rng.standard_normal((5, 4)) * np.array([[1e-4], [1e-4], [10.0], [10.0], [0.0]])
    clipped = optimisers.adaptive_gradient_clip(W, g, lam=0.01)
    bound = 0.01 * np.linalg.norm(W, axis=1)
    np.testing.assert_array_equal(clipped[:2], g[:2])
    np.testing.assert_allclose(np.linalg.norm(clipped[2:4], axis=1), bound[2:4], rtol=1e-13)
    np.testing.assert_allclose(clipped[2:4] / np.linalg.norm(clipped[2:4], axis=1, keepdims=True),
                               g[2:4] / np.linalg.norm(g[2:4], axis=1, keepdims=True), rtol=1e-13)
    np.testing.assert_array_equal(clipped[4], 0.0)


def test_agc_uses_eps_for_zero_rows():
    W = np.zeros((2, 3))
    g = np.ones((2, 3))
    clipped = optimisers.adaptive_gradient_clip(W, g, lam=0.1, eps=1e-3)
    np.testing.assert_allclose(np.linalg.norm(clipped, axis=1), 1e-4, rtol=1e-13)


RULES = [optimisers.gradient_descent, optimisers.rprop, optimisers.rmsprop, optimisers.adam,
         optimisers.entropic_mirror_descent, optimisers.lars, optimisers.lamb, optimisers.fromage,
         optimisers.madam, optimisers.nero]


STATEFUL_RULES = [optimisers.rprop, optimisers.rmsprop, optimisers.adam, optimisers.lars, optimisers.lamb,
                  optimisers.madam, optimisers.nero]


@pytest.mark.parametrize("rule", RULES, ids=lambda rule: rule.__name__)
def test_rules_reject_bad_arrays(rule):
    W = np.ones((2, 3)) + np.arange(3)
    with pytest.raises(ValueError, match="g must have the shape"):
        rule(W, np.ones((3, 2)))
    with pytest.raises(ValueError, match="finite"):
        rule(W, np.full((2, 3), np.nan))


@pytest.mark.parametrize("rule", STATEFUL_RULES, ids=lambda rule: rule.__name__)
def test_rules_reject_foreign_state(rule):
    W = np.ones((2, 3)) + np.arange(3)
    with pytest.raises(ValueError, match="state must be None"):
        rule(W, np.ones((2, 3)), {"unexpected": 1})


@pytest.mark.parametrize("rule", [optimisers.gradient_descent, optimisers.adam, optimisers.fromage, optimisers.nero],
                         ids=lambda rule: rule.__name__)
def test_rules_reject_negative_eta(rule):
    with pytest.raises(ValueError, match="eta"):
        rule(np.ones((2, 3)) + np.arange(3), np.ones((2, 3)), eta=-0.1)


def test_rules_reject_bad_hyperparameters():
    W, g = random_pair((2, 3), 18)
    with pytest.raises(ValueError, match="beta2"):
        optimisers.adam(W, g, beta2=1.0)
    with pytest.raises(ValueError, match="strictly positive"):
        optimisers.entropic_mirror_descent(-np.abs(W), g)
    with pytest.raises(ValueError, match="2-D"):
        optimisers.nero(np.ones(4), np.ones(4))
    with pytest.raises(ValueError, match="grad_h"):
        optimisers.mirror_descent(W, g, eta=0.1, grad_h=None, grad_h_inverse=None)
    with pytest.raises(ValueError, match="2-D"):
        optimisers.adaptive_gradient_clip(np.ones(3), np.ones(3))
