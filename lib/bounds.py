"""PAC-Bayes bounds, the Bernoulli kl and its inverse, Gaussian KL and the change of measure.

Every bound is on the true error e(Q) of the Gibbs (stochastic) classifier, given its empirical
error q = e_S(Q) on m i.i.d. training examples, KL = KL(Q || P) in nats, and the confidence
1 - delta over the draw of the sample. The prior P must not depend on the sample.

Sources of the constants:
- McAllester's square-root form, e <= q + sqrt((KL + ln(m / delta)) / (2 (m - 1))), as stated in
  Shalev-Shwartz and Ben-David, "Understanding Machine Learning" (2014), Theorem 31.1.
- Langford and Seeger, "Bounds for averaging classifiers" (2001): kl(q || e) <= (KL + ln((m + 1) / delta)) / m.
- Maurer, "A note on the PAC Bayesian theorem" (2004): kl(q || e) <= (KL + ln(2 sqrt(m) / delta)) / m for m >= 8.
"""

import numpy as np
from scipy.special import logsumexp, xlogy

from lib import _checks


def _probabilities(value, name):
    """Return ``value`` as a float array after checking that every entry lies in [0, 1]."""
    array = _checks.as_array(value, name)
    if np.any(array < 0) or np.any(array > 1):
        raise ValueError(f"{name} must lie in [0, 1], got values from {array.min()} to {array.max()}")
    return array


def _complexity_inputs(kl, m, delta):
    """Check the shared arguments of the bounds and return (kl, m, delta)."""
    kl = _checks.as_array(kl, "kl")
    if np.any(kl < 0):
        raise ValueError(f"kl must be >= 0 (a KL divergence in nats), got minimum {kl.min()}")
    m = _checks.as_array(m, "m")
    if np.any(m < 1) or np.any(m != np.round(m)):
        raise ValueError("m must be a positive whole number of training examples")
    delta = _checks.finite_scalar(delta, "delta", low=0.0, high=1.0)
    if delta == 0:
        raise ValueError("delta must be in (0, 1], got 0")
    return kl, m, delta


def kl_bernoulli(q, p):
    """Return kl(q || p) = q ln(q / p) + (1 - q) ln((1 - q) / (1 - p)) in nats, with 0 ln 0 = 0 (inf if p is 0 or 1 and q differs)."""
    q = _probabilities(q, "q")
    p = _probabilities(p, "p")
    with np.errstate(divide="ignore"):
        return xlogy(q, q) - xlogy(q, p) + xlogy(1 - q, 1 - q) - xlogy(1 - q, 1 - p)


def kl_inverse(q, c, tol=1e-12):
    """Return the largest p in [q, 1] with kl(q || p) <= c, found by bisection to within ``tol``.

    The value returned is the upper end of the final bracket, so it is never below the true inverse.
    """
    q = _probabilities(q, "q")
    c = np.asarray(c, dtype=float)
    if np.any(np.isnan(c)) or np.any(c < 0):
        raise ValueError("c must be >= 0 (inf is allowed and gives 1)")
    tol = _checks.finite_scalar(tol, "tol", low=1e-15)
    q, c = np.broadcast_arrays(q, c)

    low = q.astype(float).copy()
    high = np.ones_like(low)
    while np.any(high - low > tol):
        middle = (low + high) / 2
        inside = kl_bernoulli(q, middle) <= c
        low = np.where(inside, middle, low)
        high = np.where(inside, high, middle)
    return high if high.ndim else float(high)


def pinsker_bound(emp_error, complexity):
    """Return q + sqrt(c / 2): the relaxation of kl(q || e) <= c by Pinsker's inequality kl(q || e) >= 2 (e - q)^2."""
    q = _probabilities(emp_error, "emp_error")
    return q + np.sqrt(np.asarray(complexity, dtype=float) / 2)


def langford_seeger_complexity(kl, m, delta):
    """Return (KL + ln((m + 1) / delta)) / m, the right-hand side of the Langford-Seeger kl bound."""
    kl, m, delta = _complexity_inputs(kl, m, delta)
    return (kl + np.log((m + 1) / delta)) / m


def maurer_complexity(kl, m, delta):
    """Return (KL + ln(2 sqrt(m) / delta)) / m, the right-hand side of Maurer's kl bound (valid for m >= 8)."""
    kl, m, delta = _complexity_inputs(kl, m, delta)
    if np.any(m < 8):
        raise ValueError(f"m must be >= 8 for Maurer's bound, got minimum {m.min()}")
    return (kl + np.log(2 * np.sqrt(m) / delta)) / m


def mcallester_bound(emp_error, kl, m, delta):
    """Return q + sqrt((KL + ln(m / delta)) / (2 (m - 1))), McAllester's square-root bound (needs m >= 2 and may exceed 1)."""
    q = _probabilities(emp_error, "emp_error")
    kl, m, delta = _complexity_inputs(kl, m, delta)
    if np.any(m < 2):
        raise ValueError(f"m must be >= 2 for McAllester's bound, got minimum {m.min()}")
    return q + np.sqrt((kl + np.log(m / delta)) / (2 * (m - 1)))


def langford_seeger_bound(emp_error, kl, m, delta):
    """Return kl^{-1}(q, (KL + ln((m + 1) / delta)) / m), the Langford-Seeger bound on the Gibbs error."""
    return kl_inverse(emp_error, langford_seeger_complexity(kl, m, delta))


def maurer_bound(emp_error, kl, m, delta):
    """Return kl^{-1}(q, (KL + ln(2 sqrt(m) / delta)) / m), Maurer's bound on the Gibbs error (m >= 8)."""
    return kl_inverse(emp_error, maurer_complexity(kl, m, delta))


def realizable_bound(kl, m, delta):
    """Return 1 - exp(-c) with c = (KL + ln((m + 1) / delta)) / m: the Langford-Seeger bound at q = 0, since kl(0 || e) = -ln(1 - e)."""
    return 1 - np.exp(-langford_seeger_complexity(kl, m, delta))


def compute_bound_curves(kl, m, emp_error, delta=0.05):
    """Return the four bounds against the empirical error (at this KL and m) and against m (at this KL and q), for the slider figure."""
    kl = _checks.finite_scalar(kl, "kl", low=0.0)
    m = _checks.positive_int(m, "m")
    if m < 8:
        raise ValueError(f"m must be >= 8 so that Maurer's bound applies, got {m}")
    q = _checks.finite_scalar(emp_error, "emp_error", low=0.0, high=1.0)

    q_grid = np.linspace(0.0, 0.5, 51)
    m_grid = np.unique(np.round(np.geomspace(8, 100_000, 60)))
    curves = {"q_grid": q_grid, "m_grid": m_grid, "kl": kl, "m": m, "emp_error": q, "delta": delta}
    for axis, q_values, m_values in (("q", q_grid, m), ("m", q, m_grid)):
        curves[f"mcallester_{axis}"] = np.minimum(1.0, mcallester_bound(q_values, kl, m_values, delta))
        curves[f"pinsker_{axis}"] = np.minimum(1.0, pinsker_bound(q_values, langford_seeger_complexity(kl, m_values, delta)))
        curves[f"langford_seeger_{axis}"] = langford_seeger_bound(q_values, kl, m_values, delta)
        curves[f"maurer_{axis}"] = maurer_bound(q_values, kl, m_values, delta)
    curves["realizable_m"] = realizable_bound(kl, m_grid, delta)
    return curves


def gaussian_kl(mu_q, cov_q, mu_p, cov_p):
    """Return KL(N(mu_q, cov_q) || N(mu_p, cov_p)) in nats for full covariance matrices.

    KL = (tr(cov_p^{-1} cov_q) + (mu_p - mu_q)^T cov_p^{-1} (mu_p - mu_q) - k + ln det cov_p - ln det cov_q) / 2.
    """
    mu_q = _checks.as_array(mu_q, "mu_q", ndim=1)
    k = mu_q.shape[0]
    mu_p = _checks.as_array(mu_p, "mu_p", shape=(k,))
    cov_q = _checks.as_array(cov_q, "cov_q", shape=(k, k))
    cov_p = _checks.as_array(cov_p, "cov_p", shape=(k, k))
    try:
        chol_q = np.linalg.cholesky(cov_q)
        chol_p = np.linalg.cholesky(cov_p)
    except np.linalg.LinAlgError:
        raise ValueError("cov_q and cov_p must be symmetric positive definite") from None

    whitened_q = np.linalg.solve(chol_p, chol_q)
    whitened_diff = np.linalg.solve(chol_p, mu_p - mu_q)
    log_det_p = 2 * np.sum(np.log(np.diag(chol_p)))
    log_det_q = 2 * np.sum(np.log(np.diag(chol_q)))
    return 0.5 * (np.sum(whitened_q**2) + whitened_diff @ whitened_diff - k + log_det_p - log_det_q)


def gaussian_kl_diagonal(mu_q, var_q, mu_p, var_p):
    """Return KL(N(mu_q, diag var_q) || N(mu_p, diag var_p)) = sum_i (var_q/var_p + (mu_p - mu_q)^2/var_p - 1 + ln(var_p/var_q)) / 2.

    Variances may be scalars (isotropic) or arrays of the same length as the means.
    """
    mu_q = _checks.as_array(mu_q, "mu_q", ndim=1)
    mu_p = _checks.as_array(mu_p, "mu_p", shape=mu_q.shape)
    var_q = np.broadcast_to(_checks.as_array(var_q, "var_q"), mu_q.shape)
    var_p = np.broadcast_to(_checks.as_array(var_p, "var_p"), mu_q.shape)
    if np.any(var_q <= 0) or np.any(var_p <= 0):
        raise ValueError("var_q and var_p must be positive variances")

    ratio = var_q / var_p
    return 0.5 * float(np.sum(ratio + (mu_p - mu_q) ** 2 / var_p - 1 - np.log(ratio)))


def _distribution(value, name):
    """Return ``value`` as a 1-D probability vector, checking that it is non-negative and sums to 1."""
    array = _checks.as_array(value, name, ndim=1)
    if np.any(array < 0) or not np.isclose(array.sum(), 1.0, rtol=0, atol=1e-9):
        raise ValueError(f"{name} must be a probability vector (non-negative, summing to 1), got sum {array.sum()}")
    return array


def kl_discrete(q, p):
    """Return KL(Q || P) = sum_i q_i ln(q_i / p_i) in nats, which is inf when Q puts mass where P has none."""
    q = _distribution(q, "q")
    p = _distribution(p, "p")
    if p.shape != q.shape:
        raise ValueError(f"q and p must have the same length, got {q.shape[0]} and {p.shape[0]}")

    with np.errstate(divide="ignore"):
        return float(np.sum(xlogy(q, q) - xlogy(q, p)))


def gibbs_distribution(p, h, beta):
    """Return the Gibbs distribution Q_i proportional to p_i exp(beta h_i)."""
    p = _distribution(p, "p")
    h = _checks.as_array(h, "h", shape=p.shape)
    beta = _checks.finite_scalar(beta, "beta")

    with np.errstate(divide="ignore"):
        log_weights = np.log(p) + beta * h
    return np.exp(log_weights - logsumexp(log_weights))


def change_of_measure_bound(q, p, h, beta):
    """Return (KL(Q || P) + ln E_P[exp(beta h)]) / beta, the Donsker-Varadhan upper bound on E_Q[h] for beta > 0."""
    q = _distribution(q, "q")
    p = _distribution(p, "p")
    h = _checks.as_array(h, "h", shape=p.shape)
    beta = _checks.finite_scalar(beta, "beta")
    if beta <= 0:
        raise ValueError(f"beta must be > 0, got {beta}")

    log_moment = logsumexp(beta * h, b=p)
    return (kl_discrete(q, p) + log_moment) / beta


def compute_change_of_measure(p, h, beta, lambdas):
    """Return E_Q[h] and the Donsker-Varadhan bound at beta for the Gibbs family Q_lambda proportional to p exp(lambda h). They meet at lambda = beta."""
    lambdas = _checks.as_array(lambdas, "lambdas", ndim=1)
    expectations, upper = [], []
    for lam in lambdas:
        q = gibbs_distribution(p, h, lam)
        expectations.append(float(q @ h))
        upper.append(change_of_measure_bound(q, p, h, beta))
    return {"lambdas": lambdas, "beta": beta, "expectation": np.array(expectations), "bound": np.array(upper)}
