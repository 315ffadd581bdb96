"""GP posterior and log marginal likelihood against the joint precision matrix, scikit-learn and scipy."""

import numpy as np
import pytest
import scipy.stats
from sklearn.kernel_ridge import KernelRidge

from lib import gp, kernels


def joint_kernel(n_train, n_test, seed):
    """Return (K_train, K_cross, K_test) of an NNGP kernel on random inputs."""
    rng = np.random.default_rng(seed)
    K = kernels.nngp_gram(rng.standard_normal((n_train + n_test, 6)), 3)
    return K[:n_train, :n_train], K[n_train:, :n_train], K[n_train:, n_train:]


@pytest.mark.parametrize("noise_var", [1e-3, 0.1, 2.0])
@pytest.mark.parametrize("outputs", [None, 3])
def test_posterior_matches_joint_precision(noise_var, outputs):
    K_train, K_cross, K_test = joint_kernel(7, 4, seed=1)
    rng = np.random.default_rng(2)
    y = rng.standard_normal(7 if outputs is None else (7, outputs))

    mean, cov = gp.posterior(K_train, K_cross, K_test, y, noise_var)

    # Conditioning through the precision matrix of (y, f_test): cov = inv(P_tt), mean = -cov P_ty y.
    joint = np.block([[K_train + noise_var * np.eye(7), K_cross.T], [K_cross, K_test]])
    precision = np.linalg.inv(joint)
    expected_cov = np.linalg.inv(precision[7:, 7:])
    expected_mean = -expected_cov @ precision[7:, :7] @ y
    np.testing.assert_allclose(cov, expected_cov, rtol=1e-8, atol=1e-10)
    np.testing.assert_allclose(mean, expected_mean, rtol=1e-8, atol=1e-10)


def test_posterior_mean_matches_kernel_ridge():
    K_train, K_cross, K_test = joint_kernel(20, 6, seed=3)
    y = np.random.default_rng(4).standard_normal((20, 2))

    mean, _ = gp.posterior(K_train, K_cross, K_test, y, 0.05)
    ridge = KernelRidge(alpha=0.05, kernel="precomputed").fit(K_train, y)
    np.testing.assert_allclose(mean, ridge.predict(K_cross), rtol=1e-9, atol=1e-12)


def test_posterior_interpolates_without_noise():
    K_train, _, _ = joint_kernel(5, 1, seed=5)
    y = np.arange(5.0)

    mean, cov = gp.posterior(K_train, K_train, K_train, y, 0.0)
    np.testing.assert_allclose(mean, y, rtol=1e-9, atol=1e-9)
    np.testing.assert_allclose(cov, 0.0, atol=1e-9)


def test_posterior_covariance_is_psd():
    K_train, K_cross, K_test = joint_kernel(15, 10, seed=6)

    _, cov = gp.posterior(K_train, K_cross, K_test, np.zeros(15), 0.01)
    assert np.array_equal(cov, cov.T)
    assert np.linalg.eigvalsh(cov).min() >= -1e-12


@pytest.mark.parametrize("noise_var", [1e-2, 0.5])
def test_log_marginal_likelihood_matches_scipy(noise_var):
    K_train, _, _ = joint_kernel(9, 1, seed=7)
    y = np.random.default_rng(8).standard_normal((9, 3))
    covariance = K_train + noise_var * np.eye(9)

    expected = sum(scipy.stats.multivariate_normal(np.zeros(9), covariance).logpdf(y[:, k]) for k in range(3))
    assert gp.log_marginal_likelihood(K_train, y, noise_var) == pytest.approx(expected, rel=1e-12)
    single = scipy.stats.multivariate_normal(np.zeros(9), covariance).logpdf(y[:, 0])
    assert gp.log_marginal_likelihood(K_train, y[:, 0], noise_var) == pytest.approx(single, rel=1e-12)


def test_singular_kernel_needs_noise():
    X = np.ones((3, 4))
    K = kernels.nngp_gram(X, 2)

    with pytest.raises(ValueError, match="positive noise_var"):
        gp.log_marginal_likelihood(K, np.zeros(3), 0.0)
    assert np.isfinite(gp.log_marginal_likelihood(K, np.zeros(3), 0.1))


def test_gp_rejects_bad_arguments():
    K_train, K_cross, K_test = joint_kernel(4, 2, seed=9)
    y = np.zeros(4)

    with pytest.raises(ValueError, match="K_train must be a square"):
        gp.posterior(K_train[:3], K_cross, K_test, y, 0.1)
    with pytest.raises(ValueError, match="K_cross must have shape"):
        gp.posterior(K_train, K_cross.T, K_test, y, 0.1)
    with pytest.raises(ValueError, match="y must have shape"):
        gp.posterior(K_train, K_cross, K_test, np.zeros(5), 0.1)
    with pytest.raises(ValueError, match="noise_var must be >= 0"):
        gp.log_marginal_likelihood(K_train, y, -0.1)
    with pytest.raises(ValueError, match="finite"):
        gp.log_marginal_likelihood(K_train, np.full(4, np.nan), 0.1)
