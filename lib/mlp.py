"""A relu multilayer perceptron in course normalisation, with its forward and backward passes.

f(x) = W^L phi(W^{L-1} ... phi(W^1 x)) with phi(z) = alpha max(0, z), no biases and no
nonlinearity on the output. Inputs are rows: X has shape (n, d0).
"""

import numpy as np

from lib import _checks
from lib.neurons import scaled_relu


def init_weights(widths, rng):
    """Draw W^l with entries N(0, 1 / d_{l-1}) (fan-in variance) for widths = [d0, d1, ..., dL]."""
    rng = _checks.generator(rng)
    if len(widths) < 2:
        raise ValueError(f"widths must list at least [d0, d1], got {widths!r}")
    widths = [_checks.positive_int(d, f"widths[{l}]") for l, d in enumerate(widths)]

    return [rng.standard_normal((d_out, d_in)) / np.sqrt(d_in) for d_in, d_out in zip(widths[:-1], widths[1:])]


def count_weights(widths):
    """Return the number of weights sum_l d_l d_{l-1} of an MLP without biases."""
    widths = [_checks.positive_int(d, f"widths[{l}]") for l, d in enumerate(widths)]
    return sum(d_in * d_out for d_in, d_out in zip(widths[:-1], widths[1:]))


def forward(W, X, alpha=np.sqrt(2)):
    """Run the forward pass z^l = W^l phi(z^{l-1}) on a batch X (n, d0).

    Returns (Z, A): Z[l-1] contains the pre-activations z^l of layer l, A[0] = X and
    A[l] = phi(Z[l-1]) for the hidden layers. The output is f = Z[-1].
    """
    W = _checks.weight_list(W)
    X = _checks.as_array(X, "X", ndim=2)
    if X.shape[1] != W[0].shape[1]:
        raise ValueError(f"X must have shape (n, {W[0].shape[1]}) to match W[0], got {X.shape}")

    Z, A = [], [X]
    for l, W_l in enumerate(W):
        Z.append(A[-1] @ W_l.T)
        if l < len(W) - 1:
            A.append(scaled_relu(Z[-1], alpha))
    return Z, A


def loss(f, Y):
    """Return the squared loss sum_i (f(x_i) - y_i)^2 summed over the batch and outputs."""
    return float(np.sum((np.asarray(f) - np.asarray(Y)) ** 2))


def backward(W, Z, A, Y, alpha=np.sqrt(2)):
    """Return dL/dW^l for every layer, for the squared loss of the forward pass (Z, A) against targets Y.

    Two steps per layer: each unit sums the gradients arriving over its fan-out (dL/dA = dL/dZ W),
    then each weight gets dL/dW^l_ij = dL/dz^l_i * phi(z^{l-1}_j).
    """
    Y = _checks.as_array(Y, "Y", shape=Z[-1].shape)

    dZ = 2 * (Z[-1] - Y)
    grads = [None] * len(W)
    for l in range(len(W) - 1, -1, -1):
        grads[l] = dZ.T @ A[l]
        if l > 0:
            dA = dZ @ W[l]
            dZ = dA * alpha * (Z[l - 1] > 0)
    return grads


def gradient(W, X, Y, alpha=np.sqrt(2)):
    """Return (loss, grads) of the squared loss at weights W on the batch (X, Y)."""
    Z, A = forward(W, X, alpha)
    return loss(Z[-1], Y), backward(W, Z, A, Y, alpha)


def finite_difference_gradient(W, X, Y, alpha=np.sqrt(2), step=1e-6):
    """Return the central finite-difference estimate of dL/dW^l for every weight (slow; for checks)."""
    grads = []
    for l, W_l in enumerate(W):
        grad = np.zeros_like(W_l)
        for index in np.ndindex(W_l.shape):
            shifted = [w.copy() for w in W]
            shifted[l][index] += step
            up = loss(forward(shifted, X, alpha)[0][-1], Y)
            shifted[l][index] -= 2 * step
            down = loss(forward(shifted, X, alpha)[0][-1], Y)
            grad[index] = (up - down) / (2 * step)
        grads.append(grad)
    return grads
