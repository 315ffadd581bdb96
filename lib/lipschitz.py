"""Lipschitz bounds of relu networks, spectral normalisation and power iteration.

For f = W^L phi(W^{L-1} ... phi(W^1 x)) with phi = alpha max(0, .), which is alpha-Lipschitz,
||f(x) - f(x')|| <= alpha^(L-1) prod_l ||W^l||_2 ||x - x'||, since each layer is a composition of a
linear map with Lipschitz constant ||W^l||_2 and phi. Spectral normalisation (Miyato et al., 2018)
divides each W^l by an estimate of ||W^l||_2 from power iteration, so the product becomes 1; the
neural lander of Shi et al. (2019) uses it to keep a learned dynamics term Lipschitz for a stable controller.
"""

import numpy as np

from lib import _checks, mlp, ntk


def power_iteration(W, n_iterations, rng, v0=None):
    """Return the estimates ||W v_k|| of ||W||_2 for k = 1..n_iterations, with v_k = W^T W v_{k-1} / ||W^T W v_{k-1}||.

    v_0 is ``v0`` normalised, or a random unit vector. Every estimate is a lower bound on s_1 = ||W||_2,
    and 1 - (estimate_k / s_1)^2 <= tan^2(angle(v_0, top right singular vector)) (s_2 / s_1)^(4k).
    """
    W = _checks.as_array(W, "W", ndim=2)
    n_iterations = _checks.positive_int(n_iterations, "n_iterations")
    rng = _checks.generator(rng)
    v = rng.standard_normal(W.shape[1]) if v0 is None else _checks.as_array(v0, "v0", shape=(W.shape[1],))
    if not np.any(v):
        raise ValueError("v0 must be a non-zero vector")
    v = v / np.linalg.norm(v)

    estimates = np.empty(n_iterations)
    for k in range(n_iterations):
        v = W.T @ (W @ v)
        norm = np.linalg.norm(v)
        if norm == 0:
            raise ValueError("power iteration reached the null space of W (W is zero, or v0 lies in its null space); use another v0")
        v /= norm
        estimates[k] = np.linalg.norm(W @ v)
    return estimates


def spectral_normalise(W, n_iterations, rng):
    """Return every W^l divided by its power-iteration estimate of ||W^l||_2 after n_iterations."""
    W = _checks.weight_list(W)
    return [W_l / power_iteration(W_l, n_iterations, rng)[-1] for W_l in W]


def lipschitz_bound(W, alpha=np.sqrt(2)):
    """Return alpha^(L-1) prod_l ||W^l||_2, an upper bound on the Lipschitz constant of the network."""
    W = _checks.weight_list(W)
    alpha = _checks.finite_scalar(alpha, "alpha", low=0.0)
    return float(alpha ** (len(W) - 1) * np.prod([np.linalg.norm(W_l, 2) for W_l in W]))


def difference_quotients(W, X, X_other, alpha=np.sqrt(2)):
    """Return ||f(x_i) - f(x'_i)|| / ||x_i - x'_i|| for the row pairs of X and X_other (n, d0)."""
    X = _checks.as_array(X, "X", ndim=2)
    X_other = _checks.as_array(X_other, "X_other", shape=X.shape)
    gaps = np.linalg.norm(X - X_other, axis=1)
    if np.any(gaps == 0):
        raise ValueError("X and X_other must differ in every row")
    f, f_other = mlp.forward(W, X, alpha)[0][-1], mlp.forward(W, X_other, alpha)[0][-1]
    return np.linalg.norm(f - f_other, axis=1) / gaps


def compute_depth_looseness(depths, width, n_inputs, rng, d0=16):
    """Compare the product bound with measured slopes of random networks (course normalisation) of each depth.

    For each depth L, one network with hidden widths ``width`` is drawn; "bound" is
    alpha^(L-1) prod ||W^l||_2 and "gradient" the largest ||grad_x f|| over n_inputs random inputs,
    a lower bound on the Lipschitz constant. Both are repeated after spectral normalisation (exact
    norms), for which the bound is alpha^(L-1).
    """
    rng = _checks.generator(rng)
    depths = [_checks.positive_int(L, "L") for L in depths]
    X = rng.standard_normal((_checks.positive_int(n_inputs, "n_inputs"), d0))

    rows = []
    for L in depths:
        W = mlp.init_weights([d0] + [width] * (L - 1) + [1], rng)
        W_normalised = [W_l / np.linalg.norm(W_l, 2) for W_l in W]
        rows.append([lipschitz_bound(W), np.linalg.norm(ntk.input_gradient(W, X), axis=1).max(),
                     lipschitz_bound(W_normalised), np.linalg.norm(ntk.input_gradient(W_normalised, X), axis=1).max()])
    rows = np.array(rows)
    return {"depths": np.array(depths), "width": width, "bound": rows[:, 0], "gradient": rows[:, 1],
            "bound_normalised": rows[:, 2], "gradient_normalised": rows[:, 3]}
