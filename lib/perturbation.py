"""Perturbation theory of matrices and of deep networks (lecture 1).

How does f(x; W + dW) - f(x; W) depend on the size of dW? For a product of L layers each
perturbed by relative size eta the change compounds: (1 + eta)^L - 1, against the
first-order estimate L eta.
"""

import numpy as np

from lib import _checks, mlp


def relative_change(f_new, f_old):
    """Return ||f_new - f_old|| / ||f_old|| (Euclidean or Frobenius norm)."""
    f_new, f_old = np.asarray(f_new, dtype=float), np.asarray(f_old, dtype=float)
    if f_new.shape != f_old.shape:
        raise ValueError(f"f_new and f_old must have the same shape, got {f_new.shape} and {f_old.shape}")
    return float(np.linalg.norm(f_new - f_old) / np.linalg.norm(f_old))


def scalar_network(a, x):
    """Return f(x; a) = (prod_i a_i) x, the deep linear scalar network."""
    a = _checks.as_array(a, "a", ndim=1)
    return float(np.prod(a)) * x


def scalar_network_relative_change(a, da):
    """Return prod_i (1 + da_i / a_i) - 1, the exact relative change of the deep linear scalar network."""
    a = _checks.as_array(a, "a", ndim=1)
    da = _checks.as_array(da, "da", shape=a.shape)
    if np.any(a == 0):
        raise ValueError("a must have no zero entries: the relative change divides by each a_i")
    return float(np.prod(1 + da / a) - 1)


def compounding_bound(eta, L):
    """Return (1 + eta)^L - 1, the relative output change when each of L layers changes by relative size eta."""
    return (1 + np.asarray(eta, dtype=float)) ** np.asarray(L) - 1


def first_order_estimate(eta, L):
    """Return L eta, the first-order term of (1 + eta)^L - 1."""
    return np.asarray(L) * np.asarray(eta, dtype=float)


def weyl_gaps(A, E):
    """Return |s_i(A + E) - s_i(A)| for every singular value; Weyl's inequality bounds each by ||E||_2."""
    A = _checks.as_array(A, "A", ndim=2)
    E = _checks.as_array(E, "E", shape=A.shape)
    return np.abs(np.linalg.svd(A + E, compute_uv=False) - np.linalg.svd(A, compute_uv=False))


def mirsky_gap(A, E):
    """Return sqrt(sum_i (s_i(A + E) - s_i(A))^2); Mirsky's inequality bounds it by ||E||_F."""
    return float(np.linalg.norm(weyl_gaps(A, E)))


def scale_perturbations(W, D, eta):
    """Return dW^l = eta ||W^l||_2 D^l / ||D^l||_2: each layer perturbed by relative size eta in spectral norm."""
    W = _checks.weight_list(W)
    eta = _checks.finite_scalar(eta, "eta", low=0.0)
    return [eta * np.linalg.norm(W_l, 2) * D_l / np.linalg.norm(D_l, 2) for W_l, D_l in zip(W, D)]


def worst_case_change(W, eta, alpha=np.sqrt(2)):
    """Return ((1 + eta)^L - 1) alpha^(L-1) prod_l ||W^l||_2, which bounds ||f(x; W + dW) - f(x; W)|| / ||x||.

    Holds for every dW with ||dW^l||_2 <= eta ||W^l||_2, by the triangle inequality and because
    the scaled relu is alpha-Lipschitz.
    """
    W = _checks.weight_list(W)
    eta = _checks.finite_scalar(eta, "eta", low=0.0)
    spectral = np.prod([np.linalg.norm(W_l, 2) for W_l in W])
    return float(compounding_bound(eta, len(W)) * alpha ** (len(W) - 1) * spectral)


def draw_perturbation_setup(rng, max_depth=40, width=64, n=32):
    """Draw a deep square relu network, its inputs and random perturbation directions once, for every (eta, L).

    Returns a dict with W (max_depth layers of shape (width, width)), D (Gaussian directions of
    the same shapes) and X (n, width). The depth-L network uses the first L layers.
    """
    rng = _checks.generator(rng)
    max_depth = _checks.positive_int(max_depth, "max_depth")
    width = _checks.positive_int(width, "width")
    n = _checks.positive_int(n, "n")

    W = mlp.init_weights([width] * (max_depth + 1), rng)
    D = [rng.standard_normal(W_l.shape) for W_l in W]
    X = rng.standard_normal((n, width))
    return {"W": W, "D": D, "X": X}


def compute_perturbation_profile(setup, eta, L):
    """Measure the relative output change of the depth-1..L relu networks when every layer is perturbed by relative size eta.

    Two directions: aligned (dW^l = eta W^l, where positive homogeneity makes the change exactly
    (1 + eta)^L - 1) and random (Gaussian directions scaled to relative size eta in spectral norm).
    The depth-d network's output is the deep network's pre-activation z^d, so one forward pass
    per direction serves every depth. Returns a dict with depth, aligned, random, bound
    ((1 + eta)^L - 1) and first_order (L eta).
    """
    eta = _checks.finite_scalar(eta, "eta", low=0.0)
    L = _checks.positive_int(L, "L")
    if L > len(setup["W"]):
        raise ValueError(f"L must be at most {len(setup['W'])}, the depth of the setup, got {L}")

    W = setup["W"][:L]
    dW = scale_perturbations(W, setup["D"][:L], eta)
    Z = mlp.forward(W, setup["X"])[0]
    Z_aligned = mlp.forward([(1 + eta) * W_l for W_l in W], setup["X"])[0]
    Z_random = mlp.forward([W_l + d for W_l, d in zip(W, dW)], setup["X"])[0]

    depth = np.arange(1, L + 1)
    return {
        "depth": depth,
        "aligned": np.array([relative_change(new, old) for new, old in zip(Z_aligned, Z)]),
        "random": np.array([relative_change(new, old) for new, old in zip(Z_random, Z)]),
        "bound": compounding_bound(eta, depth),
        "first_order": first_order_estimate(eta, depth),
        "eta": eta,
    }
