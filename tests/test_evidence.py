import math

import numpy as np
import pytest
from scipy.special import gammaln
from scipy.stats import multivariate_normal

from lib import evidence

CASES = [(0, 5, 1.0, 0.3), (1, 8, 2.0, 0.1), (3, 12, 0.5, 0.05), (6, 20, 1.0, 0.2)]


def regression_data(rng, n, noise_var=0.05):
    x = rng.uniform(-1, 1, n)
    return x, 0.3 - x + 1.2 * x**2 + math.sqrt(noise_var) * rng.standard_normal(n)


def test_polynomial_features_columns():
    Phi = evidence.polynomial_features(np.array([2.0, -1.0]), 3)
    assert np.array_equal(Phi, np.array([[1.0, 2.0, 4.0, 8.0], [1.0, -1.0, 1.0, -1.0]]))


def test_evidence_matches_scipy_density():
    rng = np.random.default_rng(0)
    for degree, n, prior_var, noise_var in CASES:
        x, y = regression_data(rng, n)
        Phi = evidence.polynomial_features(x, degree)
        cov = prior_var * Phi @ Phi.T + noise_var * np.eye(n)
        expected = multivariate_normal(np.zeros(n), cov).logpdf(y)
        assert evidence.linear_gaussian_log_evidence(Phi, y, prior_var, noise_var) == pytest.approx(expected, rel=1e-10)


def test_evidence_against_prior_monte_carlo():
    # p(y) = E_{w ~ prior}[p(y | w)]. Few points and a wide noise keep the variance small.
    rng = np.random.default_rng(1)
    for degree, n in [(0, 3), (1, 4), (2, 4)]:
        x, y = regression_data(rng, n)
        Phi = evidence.polynomial_features(x, degree)
        w = rng.standard_normal((200_000, degree + 1))
        residuals = y - w @ Phi.T
        likelihood = np.exp(-0.5 * np.sum(residuals**2, axis=1) / 0.5) / (2 * np.pi * 0.5) ** (n / 2)
        estimate, standard_error = likelihood.mean(), likelihood.std(ddof=1) / math.sqrt(len(likelihood))
        exact = math.exp(evidence.linear_gaussian_log_evidence(Phi, y, 1.0, 0.5))
        assert abs(estimate - exact) < 4 * standard_error, (degree, estimate, exact, standard_error)


def test_importance_sampling_matches_exact():
    rng = np.random.default_rng(2)
    for degree, n, prior_var, noise_var in CASES:
        x, y = regression_data(rng, n)
        Phi = evidence.polynomial_features(x, degree)
        estimate, standard_error = evidence.log_evidence_importance(Phi, y, prior_var, noise_var, 4000, rng)
        exact = evidence.linear_gaussian_log_evidence(Phi, y, prior_var, noise_var)
        assert abs(estimate - exact) < 4 * standard_error, (degree, estimate, exact, standard_error)


def test_posterior_matches_gaussian_conditioning():
    # Independent route: condition the joint Gaussian of (w, y) on y.
    rng = np.random.default_rng(3)
    for degree, n, prior_var, noise_var in CASES:
        x, y = regression_data(rng, n)
        Phi = evidence.polynomial_features(x, degree)
        mean, cov = evidence.linear_gaussian_posterior(Phi, y, prior_var, noise_var)
        gain = prior_var * Phi.T @ np.linalg.inv(prior_var * Phi @ Phi.T + noise_var * np.eye(n))
        assert np.allclose(mean, gain @ y, rtol=1e-8, atol=1e-10)
        assert np.allclose(cov, prior_var * np.eye(degree + 1) - gain @ Phi * prior_var, rtol=1e-8, atol=1e-10)


def test_laplace_exact_for_linear_gaussian():
    rng = np.random.default_rng(4)
    for degree, n, prior_var, noise_var in CASES:
        x, y = regression_data(rng, n)
        Phi = evidence.polynomial_features(x, degree)
        mean, _ = evidence.linear_gaussian_posterior(Phi, y, prior_var, noise_var)
        log_joint = evidence.log_likelihood(mean, Phi, y, noise_var) + evidence.log_prior(mean, prior_var)
        hessian = Phi.T @ Phi / noise_var + np.eye(degree + 1) / prior_var
        exact = evidence.linear_gaussian_log_evidence(Phi, y, prior_var, noise_var)
        assert evidence.laplace_log_evidence(log_joint, hessian) == pytest.approx(exact, rel=1e-12)
        best_fit, log_occam = evidence.laplace_terms(Phi, y, prior_var, noise_var)
        assert best_fit + log_occam == pytest.approx(exact, rel=1e-12)
        assert log_occam < 0


def test_laplace_gamma_integral_error():
    # ln Gamma(a + 1) = ln int w^a e^{-w} dw. Laplace at w* = a with H = 1/a gives Stirling,
    # whose relative error is 1/(12 a) to leading order.
    for a in [20.0, 50.0, 200.0]:
        laplace = evidence.laplace_log_evidence(a * math.log(a) - a, np.array([[1 / a]]))
        relative_error = math.exp(gammaln(a + 1) - laplace) - 1
        assert relative_error == pytest.approx(1 / (12 * a), rel=0.05)


def test_evidence_curve_peaks_at_truth():
    rng = np.random.default_rng(5)
    x, y = regression_data(rng, 30, noise_var=0.0625)
    curve = evidence.compute_evidence_curve(x, y, range(8), 1.0, 0.0625, 500, rng)
    assert int(np.argmax(curve["log_evidence"])) == 2
    assert np.all(np.diff(curve["train_error"]) <= 1e-12)
    assert np.allclose(curve["best_fit"] + curve["log_occam"], curve["log_evidence"], rtol=1e-12, atol=0)
    assert curve["fits"].shape == (8, curve["x_grid"].shape[0])


@pytest.mark.parametrize(
    "call",
    [
        lambda: evidence.polynomial_features(np.zeros(3), -1),
        lambda: evidence.polynomial_features(np.zeros((3, 2)), 2),
        lambda: evidence.linear_gaussian_log_evidence(np.ones((3, 2)), np.ones(4), 1.0, 1.0),
        lambda: evidence.linear_gaussian_log_evidence(np.ones((3, 2)), np.ones(3), 0.0, 1.0),
        lambda: evidence.linear_gaussian_log_evidence(np.ones((3, 2)), np.array([1.0, np.nan, 0.0]), 1.0, 1.0),
        lambda: evidence.laplace_log_evidence(0.0, -np.eye(2)),
        lambda: evidence.laplace_log_evidence(0.0, np.ones((2, 3))),
        lambda: evidence.log_evidence_importance(np.ones((3, 1)), np.ones(3), 1.0, 1.0, 0, np.random.default_rng(0)),
        lambda: evidence.log_evidence_importance(np.ones((3, 1)), np.ones(3), 1.0, 1.0, 10, 0),
    ],
)
def test_bad_arguments_raise(call):
    with pytest.raises(ValueError):
        call()
