"""Neurons, relu moments and wiring constraints against sympy and Monte Carlo."""

import numpy as np
import pytest
import sympy as sp

from lib import neurons


def test_relu_moments_match_sympy():
    n, sigma = sp.symbols("n"), sp.Rational(3, 2)
    density = sp.exp(-n**2 / (2 * sigma**2)) / (sigma * sp.sqrt(2 * sp.pi))
    mean = sp.integrate(n * density, (n, 0, sp.oo))
    second = sp.integrate(n**2 * density, (n, 0, sp.oo))

    expected = [float(mean), float(second), float(second - mean**2)]
    assert np.allclose(neurons.relu_gaussian_moments(1.5), expected, rtol=1e-12, atol=0)


def test_relu_moments_match_monte_carlo():
    rng = np.random.default_rng(0)
    samples = neurons.relu(0.7 * rng.standard_normal(400_000))
    mean, second, variance = neurons.relu_gaussian_moments(0.7)

    # Tolerance: 4 standard errors of each sample average.
    assert abs(samples.mean() - mean) < 4 * samples.std() / np.sqrt(samples.size)
    assert abs(np.mean(samples**2) - second) < 4 * np.std(samples**2) / np.sqrt(samples.size)


def test_alpha_star_gives_unit_variance():
    alpha = sp.symbols("alpha", positive=True)
    (exact,) = sp.solve(sp.Eq(alpha**2 * (1 - 1 / sp.pi) / 2, 1), alpha)

    assert abs(neurons.alpha_star() - float(exact)) < 1e-12
    assert abs(neurons.alpha_star() - 1.7128585504) < 1e-10
    assert abs(neurons.alpha_star() ** 2 * neurons.relu_gaussian_moments()[2] - 1) < 1e-12


def test_neuron_is_half_space_gate():
    rng = np.random.default_rng(1)
    w, x = rng.standard_normal(3), rng.standard_normal((100, 3))
    y = neurons.neuron(w, x)

    assert np.all(y[x @ w <= 0] == 0)
    assert np.allclose(y[x @ w > 0], (x @ w)[x @ w > 0], rtol=1e-15)


def test_balance_rows_satisfies_constraints():
    W = neurons.balance_rows(np.random.default_rng(2).standard_normal((5, 7)))

    assert np.allclose(W.sum(axis=1), 0, atol=1e-14)
    assert np.allclose((W**2).sum(axis=1), 1, rtol=1e-14)


def test_wiring_constraints_monte_carlo():
    rng = np.random.default_rng(3)
    w = neurons.balance_rows(rng.standard_normal((1, 20)))[0]
    x = 5.0 + np.sqrt(3.0) * rng.uniform(-np.sqrt(3), np.sqrt(3), size=(200_000, 20))
    y = x @ w
    mean, variance = neurons.wiring_constrained_output_moments(5.0, 3.0)

    # Tolerance: 4 standard errors; the variance's uses the sample fourth moment.
    assert abs(y.mean() - mean) < 4 * y.std() / np.sqrt(y.size)
    assert abs(y.var() - variance) < 4 * np.sqrt(np.mean((y - y.mean()) ** 4) - y.var() ** 2) / np.sqrt(y.size)


@pytest.mark.parametrize("bad", [np.ones((2, 3)), np.array([[1.0, np.nan]]), np.ones(4), np.ones((2, 1))])
def test_balance_rows_rejects_bad_input(bad):
    with pytest.raises(ValueError, match="W"):
        neurons.balance_rows(bad)


def test_neuron_rejects_mismatched_shapes():
    with pytest.raises(ValueError, match="x must have last dimension 3"):
        neurons.neuron(np.ones(3), np.ones((4, 2)))
