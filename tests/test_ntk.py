"""The NTK closed form and depth recursion against sympy, Monte Carlo and wide networks; the empirical NTK against its definition."""

import numpy as np
import pytest
import sympy

from lib import data, mlp, ntk

ANGLES = np.linspace(0.0, np.pi, 7)


def test_two_layer_closed_form_matches_sympy():
    t = sympy.symbols("t")
    h = (sympy.sqrt(1 - t**2) + t * (sympy.pi - sympy.acos(t))) / sympy.pi
    derived = h + t * sympy.diff(h, t)
    closed = (sympy.sqrt(1 - t**2) + 2 * t * (sympy.pi - sympy.acos(t))) / sympy.pi

    assert sympy.simplify(derived - closed) == 0
    grid = np.linspace(-0.999, 0.999, 41)
    np.testing.assert_allclose(ntk.ntk_two_layer(grid), sympy.lambdify(t, derived, "numpy")(grid), rtol=1e-12, atol=1e-14)


def test_two_layer_matches_gaussian_expectations():
    rng = np.random.default_rng(0)
    n_samples = 400_000

    for t in np.cos(ANGLES):
        u = rng.standard_normal(n_samples)
        v = t * u + np.sqrt(max(1 - t**2, 0.0)) * rng.standard_normal(n_samples)
        # phi(u) phi(v) from the output weights plus t phi'(u) phi'(v) from the hidden weights, phi = sqrt(2) relu.
        terms = 2 * np.maximum(u, 0) * np.maximum(v, 0) + t * 2 * (u > 0) * (v > 0)
        se = terms.std() / np.sqrt(n_samples)
        assert abs(terms.mean() - ntk.ntk_two_layer(t)) <= 4 * se + 1e-15, f"t = {t}: {terms.mean()} vs {ntk.ntk_two_layer(t)}, SE {se}"


def test_recursion_diagonal_equals_depth():
    for L in range(1, 21):
        sigma, theta = ntk.ntk_recursion(1.0, L)
        assert sigma == 1.0
        assert theta == L


def test_recursion_first_steps():
    t = np.linspace(-1, 1, 101)

    sigma_1, theta_1 = ntk.ntk_recursion(t, 1)
    np.testing.assert_array_equal(sigma_1, t)
    np.testing.assert_array_equal(theta_1, t)
    np.testing.assert_allclose(ntk.ntk_recursion(t, 2)[1], ntk.ntk_two_layer(t), rtol=1e-12, atol=1e-15)


def test_recursion_third_layer_by_hand():
    t = np.linspace(-0.9, 0.9, 19)
    theta_2 = ntk.ntk_two_layer(t)
    h = lambda s: (np.sqrt(1 - s**2) + s * (np.pi - np.arccos(s))) / np.pi
    h_prime = lambda s: 1 - np.arccos(s) / np.pi

    expected = h(h(t)) + h_prime(h(t)) * theta_2
    np.testing.assert_allclose(ntk.ntk_recursion(t, 3)[1], expected, rtol=1e-12)


def inputs_at_angles(angles):
    """Return inputs sqrt(2) (cos a, sin a) of norm sqrt(d0) = sqrt(2)."""
    return np.sqrt(2) * np.column_stack([np.cos(angles), np.sin(angles)])


@pytest.mark.parametrize("L", [2, 3, 4])
def test_recursion_matches_wide_networks(L):
    rng = np.random.default_rng(L)
    X = inputs_at_angles(ANGLES)
    n_networks = 40

    samples = np.array([ntk.empirical_ntk(mlp.init_weights([2, 256] + [256] * (L - 2) + [1], rng), X)[0]
                        for _ in range(n_networks)])
    mean = samples.mean(axis=0)
    se = samples.std(axis=0, ddof=1) / np.sqrt(n_networks)
    theory = ntk.ntk_recursion(np.cos(ANGLES), L)[1]
    for angle, m, s, th in zip(ANGLES, mean, se, theory):
        # At the antipodal input no unit is active for both inputs at depth 2, so every sample is exactly 0.
        assert abs(m - th) <= 4 * s + 1e-12, f"L = {L}, angle {angle:.3f}: mean {m:.4f} vs {th:.4f}, SE {s:.4f}"


def test_ntk_gram_matches_recursion():
    rng = np.random.default_rng(1)
    X = rng.standard_normal((5, 6))
    Y = rng.standard_normal((3, 6))
    unit_x, unit_y = data.normalise_rows(X), data.normalise_rows(Y)

    K = ntk.ntk_gram(X, 3)
    np.testing.assert_allclose(K, K.T, rtol=0, atol=0)
    np.testing.assert_allclose(np.diag(K), 3.0, rtol=1e-12)
    np.testing.assert_allclose(ntk.ntk_gram(X, 3, Y), ntk.ntk_recursion(unit_x @ unit_y.T / 6, 3)[1], rtol=1e-12)
    assert np.linalg.eigvalsh(K)[0] > 0


@pytest.mark.parametrize("widths", [[3, 1], [3, 5, 1], [4, 6, 5, 1], [2, 3, 4, 3, 1]])
def test_empirical_ntk_matches_gradient_definition(widths):
    rng = np.random.default_rng(len(widths))
    W = mlp.init_weights(widths, rng)
    X = rng.standard_normal((5, widths[0]))

    gradients = ntk.output_gradients(W, X)
    by_definition = sum(np.einsum("iab,jab->ij", g, g) / g.shape[2] for g in gradients)
    np.testing.assert_allclose(ntk.empirical_ntk(W, X), by_definition, rtol=1e-12, atol=1e-14)
    np.testing.assert_allclose(ntk.empirical_ntk(W, X, per_layer=True).sum(axis=0), by_definition, rtol=1e-12, atol=1e-14)


def test_output_gradients_match_finite_differences():
    rng = np.random.default_rng(2)
    W = mlp.init_weights([3, 4, 3, 1], rng)
    X = rng.standard_normal((2, 3))
    step = 1e-6

    gradients = ntk.output_gradients(W, X)
    for l, W_l in enumerate(W):
        for index in np.ndindex(W_l.shape):
            up = [w.copy() for w in W]
            down = [w.copy() for w in W]
            up[l][index] += step
            down[l][index] -= step
            central = (mlp.forward(up, X)[0][-1][:, 0] - mlp.forward(down, X)[0][-1][:, 0]) / (2 * step)
            np.testing.assert_allclose(gradients[l][(slice(None),) + index], central, rtol=1e-6, atol=1e-8)


def test_input_gradient_matches_finite_differences():
    rng = np.random.default_rng(3)
    W = mlp.init_weights([4, 6, 5, 1], rng)
    X = rng.standard_normal((3, 4))
    step = 1e-6

    gradient = ntk.input_gradient(W, X)
    for j in range(4):
        shift = np.zeros(4)
        shift[j] = step
        central = (mlp.forward(W, X + shift)[0][-1][:, 0] - mlp.forward(W, X - shift)[0][-1][:, 0]) / (2 * step)
        np.testing.assert_allclose(gradient[:, j], central, rtol=1e-6, atol=1e-8)


def test_training_step_uses_fan_in_scaling():
    rng = np.random.default_rng(4)
    W = mlp.init_weights([3, 5, 1], rng)
    X = rng.standard_normal((4, 3))
    y = rng.standard_normal(4)
    eta = 0.1

    W_after, losses = ntk.train_ntk_parametrisation(W, X, y, eta, n_steps=1)
    _, grads = mlp.gradient(W, X, y[:, None])
    for l in range(2):
        np.testing.assert_allclose(W_after[l], W[l] - eta / W[l].shape[1] * grads[l], rtol=1e-14)
    assert losses.shape == (2,)
    assert losses[1] < losses[0]


def test_lazy_training_moves_less_when_wider():
    rng = np.random.default_rng(5)
    X = rng.standard_normal((6, 8))
    y = np.sign(X[:, 0])

    result = ntk.compute_lazy_training(X, y, L=2, widths=[16, 2048], n_networks=3, n_steps=60, rng=rng)
    assert np.all(result["final_loss"] < 0.1 * result["start_loss"])
    narrow, wide = result["weight_change"].mean(axis=1)
    assert np.all(wide < narrow / 4), f"64 times wider should move about 8 times less: {narrow} vs {wide}"
    assert result["ntk_change"][1].mean() < result["ntk_change"][0].mean() / 4


def test_width_study_and_panel():
    study = ntk.compute_ntk_width_study(L=3, n_networks=2, rng=np.random.default_rng(6), widths=[8, 32], n_angles=5)
    assert study["kernels"].shape == (2, 2, 5)
    assert study["deviation"].shape == (2, 2)
    np.testing.assert_allclose(study["theory"][0], 3.0, rtol=1e-12)

    panel = ntk.compute_ntk_width_panel(study, 32)
    np.testing.assert_array_equal(panel["kernels"], study["kernels"][1])
    with pytest.raises(ValueError, match="width must be one of"):
        ntk.compute_ntk_width_panel(study, 64)


def test_log_log_slope_of_power_law():
    x = np.array([1.0, 10.0, 100.0])
    assert ntk.log_log_slope(x, 3 * x**-0.5) == pytest.approx(-0.5, rel=1e-12)


def test_ntk_bad_arguments_raise():
    rng = np.random.default_rng(7)
    W = mlp.init_weights([3, 4, 1], rng)
    with pytest.raises(ValueError, match="t must"):
        ntk.ntk_two_layer(1.5)
    with pytest.raises(ValueError, match="t must"):
        ntk.ntk_recursion(np.nan, 3)
    with pytest.raises(ValueError, match="L must"):
        ntk.ntk_recursion(0.5, 0)
    with pytest.raises(ValueError, match="X must have shape"):
        ntk.empirical_ntk(W, np.ones((2, 5)))
    with pytest.raises(ValueError, match="one row"):
        ntk.empirical_ntk(mlp.init_weights([3, 4, 2], rng), np.ones((2, 3)))
    with pytest.raises(ValueError, match="Y must have shape"):
        ntk.ntk_gram(np.ones((2, 3)), 2, np.ones((2, 4)))
    with pytest.raises(ValueError, match="L must be at least 2"):
        ntk.compute_ntk_width_study(L=1, n_networks=2, rng=rng)
    with pytest.raises(ValueError, match="rng must"):
        ntk.compute_ntk_width_study(L=2, n_networks=2, rng=0)
    with pytest.raises(ValueError, match="y must have shape"):
        ntk.train_ntk_parametrisation(W, np.ones((2, 3)), np.ones(3), 0.1, 1)
