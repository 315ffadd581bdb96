"""Gaussian orthant probabilities P(s_i z_i > 0 for all i) for z ~ N(0, cov) and signs s_i = +-1.

Exact values in two and three dimensions come from Sheppard's formula. In more dimensions the
probability is estimated by plain Monte Carlo or, for small probabilities, by the GHK importance
sampler (Geweke, Hajivassiliou and Keane), each with its standard error.
"""

import numpy as np
from scipy.special import log_ndtr, logsumexp, ndtri

from lib import _checks


def _signed_covariance(cov, signs):
    """Return S cov S for S = diag(signs), after checking that cov is square and signs are +-1."""
    cov = _checks.as_array(cov, "cov", ndim=2)
    d = cov.shape[0]
    if cov.shape != (d, d) or not np.allclose(cov, cov.T, rtol=0, atol=1e-12 * np.abs(cov).max()):
        raise ValueError(f"cov must be a symmetric square matrix, got shape {cov.shape}")
    if np.any(np.diag(cov) <= 0):
        raise ValueError("cov must have a positive diagonal")
    if signs is None:
        return cov
    signs = _checks.as_array(signs, "signs", shape=(d,))
    if not np.all(np.abs(signs) == 1):
        raise ValueError("signs must contain only +1 and -1")
    return cov * np.outer(signs, signs)


def _cholesky(cov):
    """Return the lower Cholesky factor of cov, raising ValueError when cov is not positive definite."""
    try:
        return np.linalg.cholesky(cov)
    except np.linalg.LinAlgError:
        raise ValueError("cov must be positive definite: add a small multiple of the identity (jitter) if it is singular") from None


def correlation(cov):
    """Return the correlation matrix cov_ij / sqrt(cov_ii cov_jj)."""
    scale = np.sqrt(np.diag(cov))
    return cov / np.outer(scale, scale)


def sheppard_orthant_probability(cov, signs=None):
    """Return the exact orthant probability in d <= 3 dimensions by Sheppard's formula.

    P_1 = 1/2, P_2 = 1/4 + arcsin(rho) / (2 pi), P_3 = 1/8 + (arcsin rho_12 + arcsin rho_13 + arcsin rho_23) / (4 pi).
    """
    rho = correlation(_signed_covariance(cov, signs))
    d = rho.shape[0]
    if d > 3:
        raise ValueError(f"Sheppard's formula covers d <= 3 dimensions, got d = {d}. Use a Monte Carlo estimate")

    arcsines = np.arcsin(np.clip(rho[np.triu_indices(d, 1)], -1, 1))
    return 0.5**d + np.sum(arcsines) / (2 ** (d - 1) * np.pi)


def orthant_probability_mc(cov, n_samples, rng, signs=None):
    """Return (p, standard error) of the orthant probability by plain Monte Carlo: the fraction of draws z ~ N(0, cov) with every s_i z_i > 0."""
    cov = _signed_covariance(cov, signs)
    n_samples = _checks.positive_int(n_samples, "n_samples")
    rng = _checks.generator(rng)

    eigenvalues, eigenvectors = np.linalg.eigh(cov)
    if eigenvalues.min() < -1e-10 * eigenvalues.max():
        raise ValueError("cov must be positive semi-definite")
    factor = eigenvectors * np.sqrt(np.clip(eigenvalues, 0, None))
    z = rng.standard_normal((n_samples, cov.shape[0])) @ factor.T

    p = float(np.mean(np.all(z > 0, axis=1)))
    return p, float(np.sqrt(p * (1 - p) / n_samples))


def genz_bretz_order(cov):
    """Return an ordering of the coordinates for the GHK sampler: the most constrained coordinate first.

    Greedy ordering of Genz and Bretz: at each step pick the remaining coordinate whose conditional
    probability of z_j > 0 is smallest, given the earlier coordinates at their truncated means. It
    does not change the probability, only the variance of the estimate.
    """
    cov = np.array(cov, dtype=float)
    d = cov.shape[0]
    order = np.arange(d)
    chol = np.zeros((d, d))
    means = np.zeros(d)
    for i in range(d):
        rest = np.arange(i, d)
        scales = np.sqrt(np.maximum(np.diag(cov)[rest] - np.sum(chol[rest, :i] ** 2, axis=1), 1e-300))
        lower = -(chol[rest, :i] @ means[:i]) / scales
        pick = i + int(np.argmin(log_ndtr(-lower)))

        # Swap coordinate `pick` into position i in the covariance, the factor and the ordering.
        cov[[i, pick]] = cov[[pick, i]]
        cov[:, [i, pick]] = cov[:, [pick, i]]
        chol[[i, pick]] = chol[[pick, i]]
        order[[i, pick]] = order[[pick, i]]

        chol[i, i] = np.sqrt(max(cov[i, i] - chol[i, :i] @ chol[i, :i], 1e-300))
        chol[i + 1 :, i] = (cov[i + 1 :, i] - chol[i + 1 :, :i] @ chol[i, :i]) / chol[i, i]
        lower_i = -(chol[i, :i] @ means[:i]) / chol[i, i]
        # Mean of a standard normal truncated to (lower_i, inf): phi(lower_i) / Phi(-lower_i).
        means[i] = np.exp(-0.5 * lower_i**2 - 0.5 * np.log(2 * np.pi) - log_ndtr(-lower_i))
    return order


def log_orthant_probability_ghk(cov, n_samples, rng, signs=None):
    """Return (ln p, standard error of ln p) of the orthant probability by the GHK importance sampler.

    With cov = L L^T and z = L e, the constraint z_i > 0 reads e_i > a_i = -(sum_{j<i} L_ij e_j) / L_ii.
    Each draw samples e_i from N(0, 1) truncated to (a_i, inf) in turn and carries the weight
    prod_i P(e_i > a_i), and the mean weight is an unbiased estimate of p. The coordinates are
    first put in the order of genz_bretz_order, which lowers the variance. The standard error of ln p
    is the delta-method value se(p) / p.
    """
    signed = _signed_covariance(cov, signs)
    _cholesky(signed)
    order = genz_bretz_order(signed)
    chol = _cholesky(signed[np.ix_(order, order)])
    n_samples = _checks.positive_int(n_samples, "n_samples")
    if n_samples < 2:
        raise ValueError("n_samples must be >= 2 to estimate a standard error")
    rng = _checks.generator(rng)

    d = chol.shape[0]
    e = np.zeros((n_samples, d))
    log_weights = np.zeros(n_samples)
    for i in range(d):
        lower = -(e[:, :i] @ chol[i, :i]) / chol[i, i]
        log_tail = log_ndtr(-lower)
        log_weights += log_tail

        # Inverse-CDF draw from the tail above `lower`: e = -Phi^{-1}(u P(e > lower)), u ~ U(0, 1).
        tail = np.maximum(rng.uniform(size=n_samples) * np.exp(log_tail), 1e-300)
        e[:, i] = -ndtri(tail)

    log_p = logsumexp(log_weights) - np.log(n_samples)
    relative = np.exp(log_weights - log_p)
    return float(log_p), float(np.std(relative, ddof=1) / np.sqrt(n_samples))
