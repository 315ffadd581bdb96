"""The arc-cosine map h, its depth recursion and NNGP Gram matrices against sympy and Monte Carlo."""

import numpy as np
import pytest
import sympy

from lib import data, kernels, sampling

ANGLES = np.array([0.0, np.pi / 6, np.pi / 3, np.pi / 2, 2 * np.pi / 3, 5 * np.pi / 6, np.pi])
T_GRID = np.cos(ANGLES)


def inputs_at_angles(angles, d0):
    """Return inputs of norm sqrt(d0): row 0 along e_1, row j at angle angles[j] from it in the (e_1, e_2) plane."""
    X = np.zeros((len(angles), d0))
    X[:, 0], X[:, 1] = np.cos(angles), np.sin(angles)
    return np.sqrt(d0) * X


def test_h_special_values():
    assert kernels.h(1.0) == pytest.approx(1.0, rel=1e-15)
    assert kernels.h(-1.0) == pytest.approx(0.0, abs=1e-15)
    assert kernels.h(0.0) == pytest.approx(1 / np.pi, rel=1e-15)
    assert kernels.h_prime(1.0) == pytest.approx(1.0, rel=1e-15)
    assert kernels.h_prime(-1.0) == pytest.approx(0.0, abs=1e-15)


def test_h_clips_rounding_overshoot():
    t = np.array([1 + 1e-15, 1 + 1e-9, -1 - 1e-15])

    for function in (kernels.h, kernels.h_prime, lambda t: kernels.h_depth(t, 4)):
        values = function(t)
        assert np.all(np.isfinite(values)), function
    assert np.array_equal(kernels.h(t), [1.0, 1.0, 0.0])
    assert np.array_equal(kernels.h_prime(t), [1.0, 1.0, 0.0])
    assert np.array_equal(kernels.h_depth(t, 1), [1.0, 1.0, -1.0])


def test_h_rejects_unnormalised_overlap():
    for bad in (1.5, -3.0, [0.2, 40.0], np.nan):
        with pytest.raises(ValueError, match="t must"):
            kernels.h(bad)
        with pytest.raises(ValueError, match="t must"):
            kernels.h_depth(bad, 3)


def test_h_prime_matches_sympy():
    t = sympy.symbols("t")
    h_expression = (sympy.sqrt(1 - t**2) + t * (sympy.pi - sympy.acos(t))) / sympy.pi
    derivative = sympy.diff(h_expression, t)

    assert sympy.simplify(derivative - (1 - sympy.acos(t) / sympy.pi)) == 0
    grid = np.linspace(-0.999, 0.999, 41)
    symbolic = sympy.lambdify(t, derivative, "numpy")(grid)
    np.testing.assert_allclose(kernels.h_prime(grid), symbolic, rtol=1e-12, atol=1e-14)


def test_h_prime_matches_finite_differences():
    grid = np.linspace(-0.95, 0.95, 39)
    step = 1e-6

    central = (kernels.h(grid + step) - kernels.h(grid - step)) / (2 * step)
    np.testing.assert_allclose(kernels.h_prime(grid), central, rtol=1e-8, atol=1e-9)


def test_h_matches_monte_carlo():
    rng = np.random.default_rng(11)
    n_samples = 400_000

    for t in T_GRID:
        u = rng.standard_normal(n_samples)
        v = t * u + np.sqrt(max(1 - t**2, 0.0)) * rng.standard_normal(n_samples)
        products = 2 * np.maximum(u, 0) * np.maximum(v, 0)
        se = products.std() / np.sqrt(n_samples)
        assert abs(products.mean() - kernels.h(t)) <= 4 * se, f"t = {t}: {products.mean()} vs {kernels.h(t)}, SE {se}"


def test_h_depth_composes_h():
    t = np.linspace(-1, 1, 21)

    np.testing.assert_array_equal(kernels.h_depth(t, 1), t)
    np.testing.assert_allclose(kernels.h_depth(t, 2), kernels.h(t), rtol=1e-15)
    np.testing.assert_allclose(kernels.h_depth(t, 4), kernels.h(kernels.h(kernels.h(t))), rtol=1e-15)


@pytest.mark.parametrize("L", [1, 2, 3, 4])
def test_h_depth_matches_wide_networks(L):
    # Finite width 512 biases E[f f'] by O(1/width) for L >= 3, far below the standard error of 2500 networks.
    X = inputs_at_angles(ANGLES, d0=5)
    rng = np.random.default_rng(20 + L)
    n_networks = 2500

    f = sampling.sample_outputs(X, [5] + [512] * (L - 1) + [1], n_networks, rng)
    products = f[:, :1] * f
    se = products.std(axis=0, ddof=1) / np.sqrt(n_networks)
    deviation = np.abs(products.mean(axis=0) - kernels.h_depth(T_GRID, L))
    assert np.all(deviation <= 4 * se), f"L = {L}: deviations {deviation} exceed 4 SE {4 * se}"


@pytest.mark.parametrize("order", [0, 1, 2])
def test_arccos_kernel_matches_monte_carlo(order):
    rng = np.random.default_rng(30 + order)
    x = np.array([1.3, 0.0, 0.0])
    n_samples = 300_000
    W = rng.standard_normal((n_samples, 3))

    for angle in ANGLES:
        y = 0.7 * np.array([np.cos(angle), np.sin(angle), 0.0])
        a, b = W @ x, W @ y
        values = (a > 0) * (b > 0) * np.abs(a) ** order * np.abs(b) ** order
        se = values.std() / np.sqrt(n_samples)
        expected = kernels.arccos_kernel(x, y, order)
        # At angle pi both sides are 0 and SE is 0, so allow rounding in the closed form.
        assert abs(values.mean() - expected) <= 4 * se + 1e-12, f"order {order}, angle {angle}: {values.mean()} vs {expected}"


def test_arccos_kernel_gives_h_in_course_normalisation():
    d0 = 7
    X = inputs_at_angles(ANGLES, d0)

    # phi = sqrt(2) relu and w ~ N(0, I / d0): E[phi(w.x) phi(w.y)] = (2 / d0) * arccos_kernel(x, y, 1).
    np.testing.assert_allclose(2 / d0 * kernels.arccos_kernel(X[0], X, 1), kernels.h(T_GRID), rtol=1e-12, atol=1e-15)
    np.testing.assert_allclose(kernels.arccos_kernel(X[0], X, 0), (np.pi - ANGLES) / (2 * np.pi), rtol=1e-12, atol=1e-15)


def test_arccos_kernel_shapes():
    rng = np.random.default_rng(4)
    X, Y = rng.standard_normal((3, 5)), rng.standard_normal((4, 5))

    assert isinstance(kernels.arccos_kernel(X[0], Y[0], 1), float)
    assert kernels.arccos_kernel(X, Y, 1).shape == (3, 4)
    assert kernels.arccos_kernel(X[0], Y, 1).shape == (4,)
    assert kernels.arccos_kernel(X, Y[0], 1).shape == (3,)
    np.testing.assert_allclose(kernels.arccos_kernel(X, Y, 2)[1, 2], kernels.arccos_kernel(X[1], Y[2], 2), rtol=1e-14)


def test_arccos_kernel_zero_input():
    x = np.array([0.0, 0.0])

    assert kernels.arccos_kernel(x, np.array([1.0, 2.0]), 1) == 0.0
    with pytest.raises(ValueError, match="non-zero"):
        kernels.arccos_kernel(x, np.array([1.0, 2.0]), 0)


def test_nngp_gram_positive_semidefinite():
    X, _ = data.load_digits()
    X = np.vstack([X[:40], X[:3], X[:3] + 1e-9])

    for L in range(1, 7):
        K = kernels.nngp_gram(X, L)
        assert np.array_equal(K, K.T)
        np.testing.assert_allclose(np.diag(K), 1.0, rtol=1e-12)
        assert np.all(np.abs(K) <= 1.0)
        assert np.linalg.eigvalsh(K).min() >= -1e-12 * len(X), f"L = {L}"


def test_nngp_gram_normalises_rows():
    rng = np.random.default_rng(5)
    X, Y = rng.standard_normal((6, 9)), rng.standard_normal((4, 9))
    scales = rng.uniform(0.1, 10, size=(6, 1))

    np.testing.assert_allclose(kernels.nngp_gram(scales * X, 3), kernels.nngp_gram(X, 3), rtol=1e-12)
    joint = kernels.nngp_gram(np.vstack([X, Y]), 3)
    np.testing.assert_allclose(kernels.nngp_gram(X, 3, Y), joint[:6, 6:], rtol=1e-12)
    unit = data.normalise_rows(X)
    np.testing.assert_allclose(kernels.nngp_gram(X, 1), unit @ unit.T / 9, rtol=1e-12)


def test_empirical_gram_matches_nngp_mean():
    # At depth 2, E[A A^T / width] = h(X X^T / d0) exactly at any width.
    rng = np.random.default_rng(6)
    X, _ = data.load_digits()
    X = X[:5]
    draws = np.array([kernels.empirical_nngp_gram(X, 2, 16, rng) for _ in range(400)])

    se = draws.std(axis=0, ddof=1) / np.sqrt(len(draws))
    deviation = np.abs(draws.mean(axis=0) - kernels.nngp_gram(X, 2))
    assert np.all(deviation <= 4 * se + 1e-15)
    unit = data.normalise_rows(X)
    np.testing.assert_allclose(kernels.empirical_nngp_gram(X, 1, 16, rng), unit @ unit.T / 64, rtol=1e-12)


def test_kernels_reject_bad_arguments():
    X = np.ones((3, 4))
    rng = np.random.default_rng(0)

    with pytest.raises(ValueError, match="L must"):
        kernels.h_depth(0.5, 0)
    with pytest.raises(ValueError, match="L must"):
        kernels.nngp_gram(X, 1.5)
    with pytest.raises(ValueError, match="X must"):
        kernels.nngp_gram(np.ones(4), 2)
    with pytest.raises(ValueError, match="Y must"):
        kernels.nngp_gram(X, 2, np.ones((2, 5)))
    with pytest.raises(ValueError, match="norm"):
        kernels.nngp_gram(np.zeros((2, 4)), 2)
    with pytest.raises(ValueError, match="order must"):
        kernels.arccos_kernel(X, X, 3)
    with pytest.raises(ValueError, match="same d"):
        kernels.arccos_kernel(X, np.ones(5), 1)
    with pytest.raises(ValueError, match="width must"):
        kernels.empirical_nngp_gram(X, 2, 0, rng)
    with pytest.raises(ValueError, match="rng must"):
        kernels.empirical_nngp_gram(X, 2, 8, 0)
