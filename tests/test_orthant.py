import numpy as np
import pytest
from scipy.stats import multivariate_normal

from lib import orthant


def random_covariance(rng, d):
    A = rng.normal(size=(d, d + 1))
    return A @ A.T


def test_sheppard_known_values():
    assert orthant.sheppard_orthant_probability(np.eye(1)) == 0.5
    assert orthant.sheppard_orthant_probability(np.eye(2)) == pytest.approx(0.25, rel=1e-12)
    assert orthant.sheppard_orthant_probability(np.eye(3)) == pytest.approx(0.125, rel=1e-12)
    # Equicorrelation 1/2 gives 1/(d + 1): arcsin(1/2) = pi/6.
    assert orthant.sheppard_orthant_probability(0.5 * np.eye(3) + 0.5) == pytest.approx(0.25, rel=1e-12)
    assert orthant.sheppard_orthant_probability(np.array([[1.0, 1.0], [1.0, 1.0 + 1e-15]])) == pytest.approx(0.5, rel=1e-6)


def test_monte_carlo_matches_sheppard():
    rng = np.random.default_rng(0)
    for d in (2, 3):
        for _ in range(4):
            cov = random_covariance(rng, d)
            signs = rng.choice([-1.0, 1.0], size=d)
            exact = orthant.sheppard_orthant_probability(cov, signs)
            estimate, standard_error = orthant.orthant_probability_mc(cov, 40_000, rng, signs)
            assert abs(estimate - exact) < 4 * standard_error, (d, exact, estimate, standard_error)


def test_ghk_matches_sheppard():
    rng = np.random.default_rng(1)
    for d in (2, 3):
        for _ in range(4):
            cov = random_covariance(rng, d)
            signs = rng.choice([-1.0, 1.0], size=d)
            exact = orthant.sheppard_orthant_probability(cov, signs)
            log_p, log_se = orthant.log_orthant_probability_ghk(cov, 5000, rng, signs)
            assert abs(np.exp(log_p) - exact) < 4 * np.exp(log_p) * log_se, (d, exact, np.exp(log_p), log_se)


def test_ghk_exact_for_independent_coordinates():
    # With a diagonal covariance every GHK weight equals 2^-d, so the estimate has no variance.
    log_p, log_se = orthant.log_orthant_probability_ghk(np.diag([1.0, 4.0, 0.5, 2.0, 9.0]), 100, np.random.default_rng(2))
    assert log_p == pytest.approx(-5 * np.log(2), rel=1e-12)
    assert log_se < 1e-12


def test_ghk_matches_equicorrelated_formula():
    rng = np.random.default_rng(3)
    for d in (4, 8, 16):
        log_p, log_se = orthant.log_orthant_probability_ghk(0.5 * np.eye(d) + 0.5, 4000, rng)
        assert abs(log_p - np.log(1 / (d + 1))) < 4 * log_se, (d, log_p, log_se)


def test_ghk_matches_plain_monte_carlo():
    rng = np.random.default_rng(4)
    cov = random_covariance(rng, 5) + 2 * np.eye(5)
    signs = np.array([1.0, -1.0, 1.0, 1.0, -1.0])
    log_p, log_se = orthant.log_orthant_probability_ghk(cov, 20_000, rng, signs)
    estimate, standard_error = orthant.orthant_probability_mc(cov, 200_000, rng, signs)
    combined = np.hypot(np.exp(log_p) * log_se, standard_error)
    assert abs(np.exp(log_p) - estimate) < 4 * combined


def test_ghk_matches_scipy_genz():
    # scipy's multivariate normal CDF uses Genz's quasi-Monte Carlo algorithm, an independent route.
    # P(z > 0) = P(-z < 0) and -z has the same covariance.
    rng = np.random.default_rng(5)
    cov = random_covariance(rng, 8) + np.eye(8)
    reference = multivariate_normal(np.zeros(8), cov, abseps=1e-6, releps=1e-6).cdf(np.zeros(8), rng=rng)
    log_p, log_se = orthant.log_orthant_probability_ghk(cov, 20_000, rng)
    assert abs(np.exp(log_p) - reference) < 4 * np.exp(log_p) * log_se + 1e-5


def test_genz_bretz_order_is_permutation():
    rng = np.random.default_rng(7)
    cov = random_covariance(rng, 12)
    order = orthant.genz_bretz_order(cov)
    assert sorted(order.tolist()) == list(range(12))
    # The first pick is the coordinate with the smallest marginal probability, 1/2 for all here,
    # so ties go to the first; afterwards the order follows the conditional probabilities.
    assert order[0] == 0


def test_ghk_matches_monte_carlo_in_40_dimensions():
    # A strongly correlated case whose probability (about 0.09) plain Monte Carlo resolves well.
    rng = np.random.default_rng(8)
    B = rng.normal(size=(40, 3))
    cov = 0.85 + np.diag(rng.uniform(0.1, 0.3, 40)) + 0.05 * B @ B.T
    log_p, log_se = orthant.log_orthant_probability_ghk(cov, 4000, rng)
    estimate, standard_error = orthant.orthant_probability_mc(cov, 200_000, rng)
    assert abs(np.exp(log_p) - estimate) < 4 * np.hypot(np.exp(log_p) * log_se, standard_error), (np.exp(log_p), estimate)


def test_signs_flip_correlations():
    rng = np.random.default_rng(6)
    cov = random_covariance(rng, 3)
    signs = np.array([1.0, -1.0, 1.0])
    flipped = cov * np.outer(signs, signs)
    assert orthant.sheppard_orthant_probability(cov, signs) == pytest.approx(orthant.sheppard_orthant_probability(flipped), rel=1e-12)


@pytest.mark.parametrize(
    "call",
    [
        lambda: orthant.sheppard_orthant_probability(np.eye(4)),
        lambda: orthant.sheppard_orthant_probability(np.array([[1.0, 0.5], [0.2, 1.0]])),
        lambda: orthant.sheppard_orthant_probability(np.eye(2), signs=np.array([1.0, 0.5])),
        lambda: orthant.sheppard_orthant_probability(np.zeros((2, 2))),
        lambda: orthant.orthant_probability_mc(np.eye(2), 0, np.random.default_rng(0)),
        lambda: orthant.orthant_probability_mc(np.eye(2), 10, 0),
        lambda: orthant.log_orthant_probability_ghk(np.ones((2, 2)), 10, np.random.default_rng(0)),
        lambda: orthant.log_orthant_probability_ghk(np.eye(2), 1, np.random.default_rng(0)),
        lambda: orthant.log_orthant_probability_ghk(np.eye(3), 10, np.random.default_rng(0), signs=np.ones(2)),
    ],
)
def test_bad_arguments_raise(call):
    with pytest.raises(ValueError):
        call()
