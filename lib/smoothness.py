"""Smoothness of a deep relu network's loss: secant estimates of the smoothness constant, and deep relative trust.

The loss is lib.training's mean squared error. For targets Y = 0 a relu MLP of depth L is
homogeneous, L(cW) = c^(2L) L(W) for c > 0, so the gradient's Lipschitz constant scales as c^(2L - 2).
"""

import numpy as np

from lib import _checks
from lib import training


def _norm(arrays):
    """Return the Euclidean norm of a list of arrays taken as one vector."""
    return float(np.sqrt(sum(np.sum(a**2) for a in arrays)))


def _check_perturbation(W, dW):
    """Return W and dW as weight lists of matching shapes."""
    W = _checks.weight_list(W)
    dW = [_checks.as_array(d, f"dW[{l}]") for l, d in enumerate(dW)]
    if len(dW) != len(W) or any(d.shape != w.shape for d, w in zip(dW, W)):
        raise ValueError(f"dW must have one array per layer with the shapes of W, {[w.shape for w in W]}")
    return W, dW


def gradient_secant_slope(W, X, Y, dW, alpha=np.sqrt(2)):
    """Return ||grad L(W + dW) - grad L(W)|| / ||dW||, a lower bound on the smoothness constant near W."""
    W, dW = _check_perturbation(W, dW)
    _, grads = training.mean_loss_and_gradient(W, X, Y, alpha)
    _, grads_moved = training.mean_loss_and_gradient([w + d for w, d in zip(W, dW)], X, Y, alpha)
    return _norm([a - b for a, b in zip(grads_moved, grads)]) / _norm(dW)


def relative_direction(W, directions, eta):
    """Return dW with dW[l] along directions[l] and ||dW[l]||_F = eta ||W[l]||_F in every layer."""
    eta = _checks.finite_scalar(eta, "eta", low=0.0)
    W, directions = _check_perturbation(W, directions)
    return [eta * np.linalg.norm(w) * d / np.linalg.norm(d) for w, d in zip(W, directions)]


def relative_gradient_change(W, X, Y, dW, alpha=np.sqrt(2)):
    """Return ||g_l(W + dW) - g_l(W)||_F / ||g_l(W)||_F for every layer l."""
    W, dW = _check_perturbation(W, dW)
    _, grads = training.mean_loss_and_gradient(W, X, Y, alpha)
    _, grads_moved = training.mean_loss_and_gradient([w + d for w, d in zip(W, dW)], X, Y, alpha)
    return np.array([np.linalg.norm(a - b) / np.linalg.norm(b) for a, b in zip(grads_moved, grads)])


def deep_relative_trust(W, dW):
    """Return prod_l (1 + ||dW_l||_F / ||W_l||_F) - 1, Bernstein et al.'s (2020) model of the relative gradient change."""
    W, dW = _check_perturbation(W, dW)
    return float(np.prod([1 + np.linalg.norm(d) / np.linalg.norm(w) for w, d in zip(W, dW)]) - 1)


def compute_smoothness_scaling(W, X, Y, scales, rng, relative_size=1e-3):
    """Return secant smoothness estimates at the rescaled weights cW for each c in ``scales``.

    The direction dW (relative size ``relative_size`` per layer) is drawn once and scaled with c.
    Keys: scales, norm_products (prod_l ||c W_l||_F), slopes (targets Y), slopes_zero_target
    (targets 0), and predicted_zero_target = slope at c = 1 times c^(2L - 2).
    """
    W = _checks.weight_list(W)
    scales = _checks.as_array(scales, "scales", ndim=1)
    if np.any(scales <= 0):
        raise ValueError(f"scales must all be positive, got {scales}")
    rng = _checks.generator(rng)
    dW = relative_direction(W, [rng.standard_normal(w.shape) for w in W], relative_size)
    Y_zero = np.zeros_like(np.asarray(Y, dtype=float))

    slopes, slopes_zero = [], []
    for c in scales:
        W_c, dW_c = [c * w for w in W], [c * d for d in dW]
        slopes.append(gradient_secant_slope(W_c, X, Y, dW_c))
        slopes_zero.append(gradient_secant_slope(W_c, X, Y_zero, dW_c))

    depth = len(W)
    at_one = gradient_secant_slope(W, X, Y_zero, dW)
    return {
        "scales": scales,
        "depth": depth,
        "norm_products": np.array([np.prod([c * np.linalg.norm(w) for w in W]) for c in scales]),
        "slopes": np.array(slopes),
        "slopes_zero_target": np.array(slopes_zero),
        "predicted_zero_target": at_one * scales ** (2 * depth - 2),
    }


def compute_relative_trust(W, X, Y, etas, rng):
    """Return the largest relative gradient change over layers after perturbing every layer by relative size eta.

    Two directions per eta: a random one (Gaussian, drawn per eta) and the negative gradient.
    Keys: etas, random, gradient, deep_relative_trust ((1 + eta)^L - 1) and linear (L eta).
    """
    W = _checks.weight_list(W)
    etas = _checks.as_array(etas, "etas", ndim=1)
    rng = _checks.generator(rng)
    _, grads = training.mean_loss_and_gradient(W, X, Y)

    random_change, gradient_change, bound = [], [], []
    for eta in etas:
        dW_random = relative_direction(W, [rng.standard_normal(w.shape) for w in W], eta)
        dW_gradient = relative_direction(W, [-g for g in grads], eta)
        random_change.append(relative_gradient_change(W, X, Y, dW_random).max())
        gradient_change.append(relative_gradient_change(W, X, Y, dW_gradient).max())
        bound.append(deep_relative_trust(W, dW_random))

    return {
        "etas": etas,
        "depth": len(W),
        "random": np.array(random_change),
        "gradient": np.array(gradient_change),
        "deep_relative_trust": np.array(bound),
        "linear": len(W) * etas,
    }
