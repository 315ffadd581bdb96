"""Optimisation models of lecture 3 on quadratics: the descent lemma, gradient descent's stability limit 2 / lambda_max, and cubic regularisation."""

import numpy as np
from scipy import optimize

from lib import _checks


def quadratic_matrix(kappa, lambda_max=1.0, angle=np.pi / 6):
    """Return the 2x2 matrix A = R diag(lambda_max, lambda_max / kappa) R^T, R a rotation by ``angle``.

    The condition number of A is kappa = lambda_max / lambda_min.
    """
    kappa = _checks.finite_scalar(kappa, "kappa", low=1.0)
    lambda_max = _checks.finite_scalar(lambda_max, "lambda_max")
    if lambda_max <= 0:
        raise ValueError(f"lambda_max must be positive, got {lambda_max!r}")
    angle = _checks.finite_scalar(angle, "angle")

    rotation = np.array([[np.cos(angle), -np.sin(angle)], [np.sin(angle), np.cos(angle)]])
    A = rotation @ np.diag([lambda_max, lambda_max / kappa]) @ rotation.T
    return (A + A.T) / 2


def _check_matrix(A):
    """Return A as a finite symmetric square matrix."""
    A = _checks.as_array(A, "A", ndim=2)
    if A.shape[0] != A.shape[1] or not np.allclose(A, A.T, rtol=1e-12, atol=1e-12 * np.abs(A).max()):
        raise ValueError(f"A must be a symmetric square matrix, got shape {A.shape}")
    return A


def quadratic_loss(A, x):
    """Return f(x) = x.A x / 2 for one point x (d,) or for every row of x (n, d)."""
    A = _check_matrix(A)
    x = _checks.as_array(x, "x")
    if x.shape[-1] != A.shape[0]:
        raise ValueError(f"x must have last dimension {A.shape[0]} to match A, got shape {x.shape}")
    return 0.5 * np.einsum("...i,ij,...j->...", x, A, x)


def gradient_descent_path(A, x0, eta, n_steps):
    """Return the iterates x_t (n_steps + 1, d) of gradient descent x_{t+1} = x_t - eta A x_t on f(x) = x.A x / 2."""
    A = _check_matrix(A)
    x0 = _checks.as_array(x0, "x0", shape=(A.shape[0],))
    eta = _checks.finite_scalar(eta, "eta", low=0.0)
    n_steps = _checks.positive_int(n_steps, "n_steps")

    path = np.empty((n_steps + 1, A.shape[0]))
    path[0] = x0
    for t in range(n_steps):
        path[t + 1] = path[t] - eta * A @ path[t]
    return path


def predicted_losses(A, x0, eta, n_steps):
    """Return f(x_t) for t = 0..n_steps in closed form, sum_i lambda_i c_i^2 (1 - eta lambda_i)^(2t) / 2.

    c_i are the coordinates of x0 in the eigenbasis of A: every eigen-direction is scaled by 1 - eta lambda_i per step.
    """
    A = _check_matrix(A)
    x0 = _checks.as_array(x0, "x0", shape=(A.shape[0],))
    eta = _checks.finite_scalar(eta, "eta", low=0.0)
    n_steps = _checks.positive_int(n_steps, "n_steps")

    eigenvalues, eigenvectors = np.linalg.eigh(A)
    c = eigenvectors.T @ x0
    t = np.arange(n_steps + 1)[:, None]
    return 0.5 * np.sum(eigenvalues * c**2 * (1 - eta * eigenvalues) ** (2 * t), axis=1)


def contraction_factor(eigenvalues, eta):
    """Return max_i |1 - eta lambda_i|, the factor by which gradient descent shrinks (or grows) the slowest direction."""
    eigenvalues = _checks.as_array(eigenvalues, "eigenvalues", ndim=1)
    eta = np.asarray(eta, dtype=float)
    return np.max(np.abs(1 - eta[..., None] * eigenvalues), axis=-1)


def descent_lemma_bound(loss, grad, eta, smoothness):
    """Return f(x) - eta (1 - L eta / 2) ||g||^2, the descent lemma's upper bound on f(x - eta g) for an L-smooth f."""
    loss = _checks.finite_scalar(loss, "loss")
    grad = _checks.as_array(grad, "grad")
    eta = np.asarray(eta, dtype=float)
    smoothness = _checks.finite_scalar(smoothness, "smoothness", low=0.0)
    return loss - eta * (1 - smoothness * eta / 2) * np.sum(grad**2)


def compute_descent_lemma(A, x, etas):
    """Return the actual loss decrease f(x) - f(x - eta g) and the decrease the descent lemma guarantees (L = lambda_max) at each eta."""
    A = _check_matrix(A)
    x = _checks.as_array(x, "x", shape=(A.shape[0],))
    etas = _checks.as_array(etas, "etas", ndim=1)

    g = A @ x
    smoothness = float(np.linalg.eigvalsh(A)[-1])
    loss = float(quadratic_loss(A, x))
    actual = loss - quadratic_loss(A, x[None, :] - etas[:, None] * g[None, :])
    guaranteed = loss - descent_lemma_bound(loss, g, etas, smoothness)
    return {"etas": etas, "actual": actual, "guaranteed": guaranteed, "smoothness": smoothness}


def compute_quadratic_descent(eta, kappa, n_steps=60, x0=(-1.2, 0.9), extent=1.6, resolution=81):
    """Return everything the learning-rate figure draws: gradient descent's path and loss on A = quadratic_matrix(kappa).

    Keys: path, losses (measured), predicted (closed form), eigenvalues, eta_critical = 2 / lambda_max,
    boundary_losses (the closed-form losses at eta_critical), factor = max_i |1 - eta lambda_i| and a
    grid of loss values for the contours.
    """
    A = quadratic_matrix(kappa)
    x0 = np.asarray(x0, dtype=float)
    eigenvalues = np.linalg.eigvalsh(A)

    path = gradient_descent_path(A, x0, eta, n_steps)
    losses = quadratic_loss(A, path)
    predicted = predicted_losses(A, x0, eta, n_steps)
    eta_critical = 2 / eigenvalues[-1]

    grid = np.linspace(-extent, extent, resolution)
    x1, x2 = np.meshgrid(grid, grid)
    contour_values = quadratic_loss(A, np.stack([x1, x2], axis=-1))
    return {
        "eta": float(eta), "kappa": float(kappa), "A": A, "eigenvalues": eigenvalues,
        "eta_critical": eta_critical, "path": path, "losses": losses, "predicted": predicted,
        "boundary_losses": predicted_losses(A, x0, eta_critical, n_steps),
        "factor": float(contraction_factor(eigenvalues, eta)), "grid": (x1, x2, contour_values), "extent": extent,
    }


def cubic_model(d, g, H, M):
    """Return the cubic-regularised model m(d) = g.d + d.H d / 2 + M ||d||^3 / 6 of Nesterov and Polyak (2006)."""
    d = np.asarray(d, dtype=float)
    return float(g @ d + 0.5 * d @ H @ d + M * np.linalg.norm(d) ** 3 / 6)


def cubic_regularised_step(g, H, M):
    """Return the global minimiser d of the cubic model m(d) = g.d + d.H d / 2 + M ||d||^3 / 6.

    It solves (H + M r / 2 I) d = -g with r = ||d|| and H + M r / 2 I positive semi-definite
    (Nesterov and Polyak 2006), found by bracketing r. H may be indefinite.
    NOTE: the "hard case", g orthogonal to every eigenvector of the smallest eigenvalue of an indefinite H, is rejected.
    """
    g = _checks.as_array(g, "g", ndim=1)
    H = _check_matrix(H)
    if H.shape[0] != g.shape[0]:
        raise ValueError(f"H must have shape ({g.shape[0]}, {g.shape[0]}) to match g, got {H.shape}")
    M = _checks.finite_scalar(M, "M")
    if M <= 0:
        raise ValueError(f"M must be positive, got {M!r}")

    eigenvalues, eigenvectors = np.linalg.eigh(H)
    c = eigenvectors.T @ g
    if not np.any(c != 0):
        if eigenvalues[0] >= 0:
            return np.zeros_like(g)
        raise ValueError("g = 0 at a saddle is the hard case of the cubic model, which this solver does not handle")
    r_low = max(0.0, -2 * eigenvalues[0] / M)
    if eigenvalues[0] < 0 and np.all(c[eigenvalues == eigenvalues[0]] == 0):
        raise ValueError("g is orthogonal to the most negative curvature direction of H (the hard case), which is not handled")

    def excess_length(r):
        return np.linalg.norm(c / (eigenvalues + M * r / 2)) - r

    r_high = r_low + 1.0
    while excess_length(r_high) > 0:
        r_high = r_low + 2 * (r_high - r_low)
    lower = r_low + 1e-12 * max(r_low, 1.0)
    r = lower if excess_length(lower) <= 0 else optimize.brentq(excess_length, lower, r_high, xtol=1e-15, rtol=1e-15)
    return -eigenvectors @ (c / (eigenvalues + M * r / 2))
