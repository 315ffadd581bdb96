"""Bayesian model comparison: the evidence p(y | model), its Laplace approximation and the Occam factor.

The worked model is Bayesian polynomial regression, y = Phi w + noise with Phi[i, k] = x_i^k,
prior w ~ N(0, prior_var I) and noise ~ N(0, noise_var I). Its evidence is the Gaussian density
y ~ N(0, prior_var Phi Phi^T + noise_var I), so every quantity here has a closed form.
"""

import numpy as np

from lib import _checks


def polynomial_features(x, degree):
    """Return the design matrix Phi of shape (n, degree + 1) with Phi[i, k] = x_i^k."""
    x = _checks.as_array(x, "x", ndim=1)
    if isinstance(degree, bool) or not isinstance(degree, (int, np.integer)) or degree < 0:
        raise ValueError(f"degree must be a whole number >= 0, got {degree!r}")
    return x[:, None] ** np.arange(degree + 1)


def _regression_inputs(Phi, y, prior_var, noise_var):
    """Check the shared arguments of the linear-Gaussian model and return them as floats and arrays."""
    Phi = _checks.as_array(Phi, "Phi", ndim=2)
    y = _checks.as_array(y, "y", shape=(Phi.shape[0],))
    prior_var = _checks.finite_scalar(prior_var, "prior_var")
    noise_var = _checks.finite_scalar(noise_var, "noise_var")
    if prior_var <= 0 or noise_var <= 0:
        raise ValueError(f"prior_var and noise_var must be > 0, got {prior_var} and {noise_var}")
    return Phi, y, prior_var, noise_var


def gaussian_log_density(y, cov):
    """Return ln N(y; 0, cov) through a Cholesky factor of cov."""
    y = _checks.as_array(y, "y", ndim=1)
    cov = _checks.as_array(cov, "cov", shape=(y.shape[0], y.shape[0]))
    try:
        chol = np.linalg.cholesky(cov)
    except np.linalg.LinAlgError:
        raise ValueError("cov must be symmetric positive definite") from None

    whitened = np.linalg.solve(chol, y)
    log_det = 2 * np.sum(np.log(np.diag(chol)))
    return -0.5 * (whitened @ whitened + log_det + y.shape[0] * np.log(2 * np.pi))


def linear_gaussian_log_evidence(Phi, y, prior_var, noise_var):
    """Return the exact log evidence ln p(y) = ln N(y; 0, prior_var Phi Phi^T + noise_var I)."""
    Phi, y, prior_var, noise_var = _regression_inputs(Phi, y, prior_var, noise_var)
    return gaussian_log_density(y, prior_var * Phi @ Phi.T + noise_var * np.eye(y.shape[0]))


def linear_gaussian_posterior(Phi, y, prior_var, noise_var):
    """Return the posterior (mean, cov) of w: cov = (Phi^T Phi / noise_var + I / prior_var)^{-1}, mean = cov Phi^T y / noise_var."""
    Phi, y, prior_var, noise_var = _regression_inputs(Phi, y, prior_var, noise_var)
    precision = Phi.T @ Phi / noise_var + np.eye(Phi.shape[1]) / prior_var
    cov = np.linalg.inv(precision)
    return cov @ Phi.T @ y / noise_var, cov


def log_likelihood(w, Phi, y, noise_var):
    """Return ln p(y | w) = ln N(y; Phi w, noise_var I)."""
    residual = y - Phi @ w
    return -0.5 * (residual @ residual / noise_var + y.shape[0] * np.log(2 * np.pi * noise_var))


def log_prior(w, prior_var):
    """Return ln p(w) = ln N(w; 0, prior_var I)."""
    return -0.5 * (w @ w / prior_var + w.shape[0] * np.log(2 * np.pi * prior_var))


def laplace_log_evidence(log_joint_at_mode, hessian):
    """Return Laplace's approximation ln p(y) ~ ln p(y, w*) + (k / 2) ln(2 pi) - ln det(H) / 2.

    ``hessian`` is H = -grad^2 ln p(y, w) at the mode w*, a k x k positive definite matrix. The
    approximation is exact when ln p(y, w) is quadratic in w, as in the linear-Gaussian model.
    """
    log_joint_at_mode = _checks.finite_scalar(log_joint_at_mode, "log_joint_at_mode")
    hessian = np.atleast_2d(_checks.as_array(hessian, "hessian"))
    k = hessian.shape[0]
    if hessian.shape != (k, k):
        raise ValueError(f"hessian must be a square matrix, got shape {hessian.shape}")
    try:
        chol = np.linalg.cholesky(hessian)
    except np.linalg.LinAlgError:
        raise ValueError("hessian must be positive definite: the point is not a strict maximum of ln p(y, w)") from None

    return log_joint_at_mode + 0.5 * k * np.log(2 * np.pi) - np.sum(np.log(np.diag(chol)))


def laplace_terms(Phi, y, prior_var, noise_var):
    """Return (best-fit ln p(y | w*), ln Occam factor) for the linear-Gaussian model. Their sum is the log evidence.

    The Occam factor p(w*) (2 pi)^{k/2} det(H)^{-1/2} is the ratio of posterior to prior volume at the mode w*.
    """
    Phi, y, prior_var, noise_var = _regression_inputs(Phi, y, prior_var, noise_var)
    mean, _ = linear_gaussian_posterior(Phi, y, prior_var, noise_var)
    hessian = Phi.T @ Phi / noise_var + np.eye(Phi.shape[1]) / prior_var

    best_fit = log_likelihood(mean, Phi, y, noise_var)
    log_occam = laplace_log_evidence(log_prior(mean, prior_var), hessian)
    return best_fit, log_occam


def log_evidence_importance(Phi, y, prior_var, noise_var, n_samples, rng, inflation=2.0):
    """Return (ln p(y) estimate, its standard error) by importance sampling p(y) = E_r[p(y | w) p(w) / r(w)].

    The proposal r is the posterior with its covariance multiplied by ``inflation`` (> 1 keeps the
    weights bounded). This Monte Carlo route is independent of the closed form, and the standard error
    of ln p(y) is the delta-method value se / p(y).
    """
    Phi, y, prior_var, noise_var = _regression_inputs(Phi, y, prior_var, noise_var)
    n_samples = _checks.positive_int(n_samples, "n_samples")
    rng = _checks.generator(rng)
    inflation = _checks.finite_scalar(inflation, "inflation", low=1.0)

    mean, cov = linear_gaussian_posterior(Phi, y, prior_var, noise_var)
    chol = np.linalg.cholesky(inflation * cov)
    w = mean + rng.standard_normal((n_samples, mean.shape[0])) @ chol.T

    residuals = y - w @ Phi.T
    log_like = -0.5 * (np.sum(residuals**2, axis=1) / noise_var + y.shape[0] * np.log(2 * np.pi * noise_var))
    log_prior_w = -0.5 * (np.sum(w**2, axis=1) / prior_var + w.shape[1] * np.log(2 * np.pi * prior_var))
    whitened = np.linalg.solve(chol, (w - mean).T)
    log_proposal = -0.5 * np.sum(whitened**2, axis=0) - np.sum(np.log(np.diag(chol))) - 0.5 * w.shape[1] * np.log(2 * np.pi)

    log_weights = log_like + log_prior_w - log_proposal
    shift = log_weights.max()
    weights = np.exp(log_weights - shift)
    log_estimate = shift + np.log(weights.mean())
    return float(log_estimate), float(weights.std(ddof=1) / np.sqrt(n_samples) / weights.mean())


def least_squares_error(Phi, y):
    """Return the mean squared training error of the least-squares fit of y on the columns of Phi."""
    Phi = _checks.as_array(Phi, "Phi", ndim=2)
    y = _checks.as_array(y, "y", shape=(Phi.shape[0],))
    w, *_ = np.linalg.lstsq(Phi, y, rcond=None)
    residual = y - Phi @ w
    return float(residual @ residual / y.shape[0])


def compute_evidence_curve(x, y, degrees, prior_var, noise_var, n_samples, rng):
    """Return, for each polynomial degree, the exact log evidence, its Laplace split (best fit, Occam), an importance-sampling estimate, the least-squares training error and the posterior-mean fit."""
    x = _checks.as_array(x, "x", ndim=1)
    degrees = [int(degree) for degree in degrees]
    x_grid = np.linspace(x.min(), x.max(), 200)
    rows, fits = [], []
    for degree in degrees:
        Phi = polynomial_features(x, degree)
        best_fit, log_occam = laplace_terms(Phi, y, prior_var, noise_var)
        estimate, standard_error = log_evidence_importance(Phi, y, prior_var, noise_var, n_samples, rng)
        exact = linear_gaussian_log_evidence(Phi, y, prior_var, noise_var)
        rows.append((exact, best_fit, log_occam, estimate, standard_error, least_squares_error(Phi, y)))
        mean, _ = linear_gaussian_posterior(Phi, y, prior_var, noise_var)
        fits.append(polynomial_features(x_grid, degree) @ mean)

    rows = np.array(rows)
    return {
        "degrees": np.array(degrees), "x": x, "y": y, "x_grid": x_grid, "fits": np.array(fits),
        "log_evidence": rows[:, 0], "best_fit": rows[:, 1], "log_occam": rows[:, 2],
        "mc_log_evidence": rows[:, 3], "mc_standard_error": rows[:, 4], "train_error": rows[:, 5],
    }
