"""The arc-cosine kernel and the NNGP kernel of a deep relu network in course normalisation.

In course normalisation (inputs of norm sqrt(d0), weights N(0, 1/fan-in), phi(z) = sqrt(2) max(0, z),
no biases) an infinitely wide network of depth L has E[f(x) f(x')] = h^{o(L-1)}(x . x' / d0), with
h(t) = (sqrt(1 - t^2) + t (pi - arccos t)) / pi applied once per nonlinearity.
"""

import numpy as np

from lib import _checks, data, mlp, neurons

# Overlaps this far outside [-1, 1] are rounding (x . x / d0 = 1 + 1e-16); anything further means
# the inputs were not normalised, which h rejects instead of silently clipping.
ROUNDING_TOLERANCE = 1e-6


def _as_correlation(t):
    """Return t as a float array clipped to [-1, 1], after rejecting values beyond rounding error."""
    t = _checks.as_array(t, "t")
    if np.any(np.abs(t) > 1 + ROUNDING_TOLERANCE):
        raise ValueError(
            f"t must lie in [-1, 1] (an overlap x . x' / d0 of inputs with norm sqrt(d0)), got values up to "
            f"{np.max(np.abs(t)):.6g}; rescale the inputs with lib.data.normalise_rows"
        )
    return np.clip(t, -1.0, 1.0)


def _scalar_or_array(values):
    """Return a 0-d array as a Python float and any other array unchanged."""
    return float(values) if values.ndim == 0 else values


def h(t):
    """Return the arc-cosine map h(t) = (sqrt(1 - t^2) + t (pi - arccos t)) / pi, elementwise.

    h(t) = E[phi(u) phi(v)] for standard normal u, v of correlation t and phi(z) = sqrt(2) max(0, z).
    t is clipped to [-1, 1] first, so rounding errors such as 1 + 1e-16 give h = 1 and not NaN.
    """
    t = _as_correlation(t)
    return _scalar_or_array((np.sqrt(1 - t**2) + t * (np.pi - np.arccos(t))) / np.pi)


def h_prime(t):
    """Return the derivative h'(t) = 1 - arccos(t) / pi, elementwise, with t clipped to [-1, 1]."""
    t = _as_correlation(t)
    return _scalar_or_array(1 - np.arccos(t) / np.pi)


def h_depth(t, L):
    """Return h composed L - 1 times, the correlation E[f(x) f(x')] of a depth-L network at overlap t.

    L counts weight matrices, so there are L - 1 nonlinearities: h_depth(t, 1) = t (clipped to [-1, 1]).
    """
    L = _checks.positive_int(L, "L")
    rho = _as_correlation(t)

    for _ in range(L - 1):
        rho = np.clip((np.sqrt(1 - rho**2) + rho * (np.pi - np.arccos(rho))) / np.pi, -1.0, 1.0)
    return _scalar_or_array(rho)


def _angular_part(theta, order):
    """Return Cho and Saul's J_n(theta) for n = 0, 1, 2."""
    if order == 0:
        return np.pi - theta
    if order == 1:
        return np.sin(theta) + (np.pi - theta) * np.cos(theta)
    return 3 * np.sin(theta) * np.cos(theta) + (np.pi - theta) * (1 + 2 * np.cos(theta) ** 2)


def arccos_kernel(x, y, order):
    """Return the arc-cosine kernel E_w[step(w.x) step(w.y) (w.x)^n (w.y)^n] for w ~ N(0, I).

    Equal to ||x||^n ||y||^n J_n(theta) / (2 pi), with theta the angle between x and y and
    J_0 = pi - theta, J_1 = sin theta + (pi - theta) cos theta,
    J_2 = 3 sin theta cos theta + (pi - theta)(1 + 2 cos^2 theta) (Cho and Saul 2009, whose k_n is twice this).
    x is one input (d,) or a batch (n, d), and likewise y (d,) or (m, d). The result drops the axis
    of a single input, so two vectors give a float and two batches an (n, m) array.
    Order 0 is the step kernel (pi - theta) / (2 pi) and needs non-zero inputs.
    """
    if order not in (0, 1, 2):
        raise ValueError(f"order must be 0, 1 or 2, got {order!r}")
    x = _checks.as_array(x, "x")
    y = _checks.as_array(y, "y")
    if x.ndim not in (1, 2) or y.ndim not in (1, 2) or x.shape[-1] != y.shape[-1]:
        raise ValueError(f"x and y must be (d,) or (n, d) arrays with the same d, got shapes {x.shape} and {y.shape}")
    X, Y = np.atleast_2d(x), np.atleast_2d(y)

    norm_x = np.linalg.norm(X, axis=1)[:, None]
    norm_y = np.linalg.norm(Y, axis=1)[None, :]
    zero = (norm_x == 0) | (norm_y == 0)
    if order == 0 and np.any(zero):
        raise ValueError("x and y must be non-zero for the order-0 (step) kernel, whose value at 0 is undefined")

    # A zero input has no angle, but its kernel value is 0 for order >= 1 whatever the angle.
    cosine = np.where(zero, 0.0, X @ Y.T / np.where(zero, 1.0, norm_x * norm_y))
    theta = np.arccos(np.clip(cosine, -1.0, 1.0))
    K = (norm_x * norm_y) ** order * _angular_part(theta, order) / (2 * np.pi)

    if x.ndim == 1:
        K = K[0]
    if y.ndim == 1:
        K = K[..., 0]
    return _scalar_or_array(np.asarray(K))


def nngp_gram(X, L, Y=None):
    """Return K_nngp[i, j] = h^{o(L-1)}(x_i . y_j / d0) after rescaling every row to norm sqrt(d0).

    X is (n, d0); Y (m, d0) gives the cross-Gram matrix (n, m), and Y=None the Gram matrix of X.
    """
    X = data.normalise_rows(_checks.as_array(X, "X", ndim=2))
    L = _checks.positive_int(L, "L")
    d0 = X.shape[1]

    if Y is None:
        t = X @ X.T / d0
        t = (t + t.T) / 2
    else:
        Y = _checks.as_array(Y, "Y", ndim=2)
        if Y.shape[1] != d0:
            raise ValueError(f"Y must have shape (m, {d0}) to match X, got {Y.shape}")
        t = X @ data.normalise_rows(Y).T / d0
    return np.asarray(h_depth(t, L))


def empirical_nngp_gram(X, L, width, rng):
    """Return E[f(x_i) f(x_j) | hidden weights] = A A^T / width for one random network of depth L.

    A contains the last hidden layer's activations of a network with L - 1 hidden layers of the given
    width, drawn by lib.mlp after rescaling rows to norm sqrt(d0). As width grows this tends to
    nngp_gram(X, L); for L = 1 there is no hidden layer and it is exactly X X^T / d0.
    """
    X = data.normalise_rows(_checks.as_array(X, "X", ndim=2))
    L = _checks.positive_int(L, "L")
    width = _checks.positive_int(width, "width")
    rng = _checks.generator(rng)
    if L == 1:
        return X @ X.T / X.shape[1]

    W = mlp.init_weights([X.shape[1]] + [width] * (L - 1), rng)
    Z, _ = mlp.forward(W, X)
    hidden = neurons.scaled_relu(Z[-1], np.sqrt(2))
    return hidden @ hidden.T / width
