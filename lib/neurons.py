"""Artificial neurons, the relu family and the wiring constraints of lecture 1."""

import numpy as np

from lib import _checks


def relu(z):
    """Return max(0, z) elementwise."""
    return np.maximum(z, 0.0)


def scaled_relu(z, alpha):
    """Return the scaled relu alpha * max(0, z) elementwise."""
    return alpha * np.maximum(z, 0.0)


def neuron(w, x, phi=relu):
    """Return the output y = phi(w . x) of one neuron; x may be one input (d,) or a batch (n, d)."""
    w = _checks.as_array(w, "w", ndim=1)
    x = _checks.as_array(x, "x")
    if x.shape[-1] != w.shape[0]:
        raise ValueError(f"x must have last dimension {w.shape[0]} to match w, got shape {x.shape}")
    return phi(x @ w)


def relu_gaussian_moments(sigma=1.0):
    """Return (mean, second moment, variance) of relu(n) for n ~ N(0, sigma^2).

    Mean sigma / sqrt(2 pi), second moment sigma^2 / 2, variance sigma^2 (1 - 1/pi) / 2.
    """
    sigma = _checks.finite_scalar(sigma, "sigma", low=0.0)
    mean = sigma / np.sqrt(2 * np.pi)
    second_moment = sigma**2 / 2
    return mean, second_moment, second_moment - mean**2


def alpha_star():
    """Return sqrt(2 / (1 - 1/pi)), the scale for which alpha * relu(n) has variance 1 when n ~ N(0, 1)."""
    return float(np.sqrt(2 / (1 - 1 / np.pi)))


def balance_rows(W):
    """Return W with each row shifted to mean 0 and scaled to Euclidean norm 1 (the wiring constraints)."""
    W = _checks.as_array(W, "W", ndim=2)
    if W.shape[1] < 2:
        raise ValueError(f"W must have at least 2 columns to balance its rows, got shape {W.shape}")

    centred = W - W.mean(axis=1, keepdims=True)
    norms = np.linalg.norm(centred, axis=1, keepdims=True)
    if np.any(norms == 0):
        raise ValueError("W has a constant row, which cannot be balanced to mean 0 and norm 1")
    return centred / norms


def wiring_constrained_output_moments(mu, sigma2):
    """Return (E[y], Var[y]) of y = w . x for balanced w (sum w = 0, sum w^2 = 1) and uncorrelated x_i of mean mu, variance sigma2.

    Both follow from the constraints alone: E[y] = mu sum w = 0 and Var[y] = sigma2 sum w^2 = sigma2.
    """
    _checks.finite_scalar(mu, "mu")
    sigma2 = _checks.finite_scalar(sigma2, "sigma2", low=0.0)
    return 0.0, sigma2
