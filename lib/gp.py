"""Gaussian-process regression with a given kernel: posterior and log marginal likelihood.

Observations are y = f(X) + noise with f ~ GP(0, k) and noise ~ N(0, noise_var I). A target array
y of shape (n, k) contains k independent outputs that share the kernel (one column per class, say).
"""

import numpy as np
import scipy.linalg

from lib import _checks


def _factor(K, noise_var, name):
    """Return the Cholesky factor of K + noise_var I, raising ValueError if it is not positive definite."""
    noise_var = _checks.finite_scalar(noise_var, "noise_var", low=0.0)
    try:
        return scipy.linalg.cho_factor(K + noise_var * np.eye(K.shape[0]), lower=True)
    except np.linalg.LinAlgError:
        raise ValueError(
            f"{name} + noise_var I is not positive definite (noise_var = {noise_var!r}); "
            "use a positive noise_var for a singular kernel matrix"
        ) from None


def _square_matrix(K, name):
    """Return K as a finite square float array."""
    K = _checks.as_array(K, name, ndim=2)
    if K.shape[0] != K.shape[1]:
        raise ValueError(f"{name} must be a square matrix, got shape {K.shape}")
    return K


def _targets(y, n):
    """Return y as a finite (n,) or (n, k) float array."""
    y = _checks.as_array(y, "y")
    if y.ndim not in (1, 2) or y.shape[0] != n:
        raise ValueError(f"y must have shape ({n},) or ({n}, k) to match the kernel matrix, got {y.shape}")
    return y


def posterior(K_train, K_cross, K_test, y, noise_var):
    """Return the GP posterior (mean, cov) at the test inputs.

    mean = K_cross (K_train + noise_var I)^-1 y and cov = K_test - K_cross (K_train + noise_var I)^-1 K_cross^T,
    with K_train (n, n) between training inputs, K_cross (m, n) from test to training inputs and
    K_test (m, m) between test inputs. mean has shape (m,) or (m, k) like y; cov is (m, m).
    """
    K_train = _square_matrix(K_train, "K_train")
    K_test = _square_matrix(K_test, "K_test")
    n, m = K_train.shape[0], K_test.shape[0]
    K_cross = _checks.as_array(K_cross, "K_cross", shape=(m, n))
    y = _targets(y, n)
    factor = _factor(K_train, noise_var, "K_train")

    mean = K_cross @ scipy.linalg.cho_solve(factor, y)
    cov = K_test - K_cross @ scipy.linalg.cho_solve(factor, K_cross.T)
    return mean, (cov + cov.T) / 2


def log_marginal_likelihood(K, y, noise_var):
    """Return log N(y | 0, K + noise_var I) = -y^T (K + s^2 I)^-1 y / 2 - log det(K + s^2 I) / 2 - n log(2 pi) / 2.

    For y of shape (n, k) the k columns are independent outputs and their terms are summed.
    """
    K = _square_matrix(K, "K")
    n = K.shape[0]
    y = _targets(y, n)
    factor = _factor(K, noise_var, "K")
    outputs = 1 if y.ndim == 1 else y.shape[1]

    fit = np.sum(y * scipy.linalg.cho_solve(factor, y))
    log_det = 2 * np.sum(np.log(np.diag(factor[0])))
    return float(-fit / 2 - outputs * log_det / 2 - outputs * n * np.log(2 * np.pi) / 2)
