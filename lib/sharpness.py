"""Sharpness of a relu network's training loss and why it changes under a rescaling that leaves the function fixed.

The loss is lecture 1's squared loss L(W) = sum_i (f(x_i) - y_i)^2 of a relu MLP in course
normalisation. A relu network is linear in each single weight (away from kinks), so the
diagonal of the Hessian is H_jj = 2 sum_i (df(x_i)/dW_j)^2 and the trace of the Hessian of layer
l is tr H_l = 2 sum_i ||df(x_i)/dW^l||_F^2.
"""

import numpy as np

from lib import _checks
from lib import mlp


def rescale_layers(W, factors):
    """Return [c_1 W^1, ..., c_L W^L]. The function is unchanged when prod c_l = 1, because relu(c z) = c relu(z) for c > 0."""
    W = _checks.weight_list(W)
    factors = _checks.as_array(factors, "factors", shape=(len(W),))
    if np.any(factors <= 0):
        raise ValueError(f"factors must be positive, got {factors}")
    return [c * W_l for c, W_l in zip(factors, W)]


def output_gradients(W, X, alpha=np.sqrt(2)):
    """Return per-input gradients of the scalar output: a list over layers of arrays (n, d_l, d_{l-1}) holding df(x_i)/dW^l."""
    W = _checks.weight_list(W)
    if W[-1].shape[0] != 1:
        raise ValueError(f"W must end in a single output unit, got {W[-1].shape[0]} outputs")
    X = _checks.as_array(X, "X", ndim=2)

    per_input = [np.empty((X.shape[0],) + W_l.shape) for W_l in W]
    for i in range(X.shape[0]):
        Z, A = mlp.forward(W, X[i : i + 1], alpha)
        # backward returns d sum (f - Y)^2 / dW = 2 (f - Y) df/dW, so Y = f - 1/2 leaves df/dW.
        grads = mlp.backward(W, Z, A, Z[-1] - 0.5, alpha)
        for l, grad in enumerate(grads):
            per_input[l][i] = grad
    return per_input


def layer_hessian_traces(W, X, alpha=np.sqrt(2)):
    """Return tr H_l = 2 sum_i ||df(x_i)/dW^l||_F^2 for every layer l, the Hessian trace of the squared loss per layer.

    df(x_i)/dW^l is the outer product of the backpropagated signal delta_i^l = df(x_i)/dz^l and the
    layer's input a_i^{l-1}, so its squared norm is ||delta_i^l||^2 ||a_i^{l-1}||^2.
    """
    W = _checks.weight_list(W)
    if W[-1].shape[0] != 1:
        raise ValueError(f"W must end in a single output unit, got {W[-1].shape[0]} outputs")
    Z, A = mlp.forward(W, X, alpha)

    traces = np.empty(len(W))
    delta = np.ones((X.shape[0], 1))
    for l in range(len(W) - 1, -1, -1):
        traces[l] = 2 * np.sum(np.sum(delta**2, axis=1) * np.sum(A[l] ** 2, axis=1))
        if l > 0:
            delta = (delta @ W[l]) * alpha * (Z[l - 1] > 0)
    return traces


def finite_difference_hessian_trace(W, X, Y, alpha=np.sqrt(2), step=1e-4):
    """Return sum_j (L(W + h e_j) - 2 L(W) + L(W - h e_j)) / h^2 over all weights (slow, for checks)."""
    W = _checks.weight_list(W)
    centre = mlp.loss(mlp.forward(W, X, alpha)[0][-1], Y)
    trace = 0.0
    for l, W_l in enumerate(W):
        for index in np.ndindex(W_l.shape):
            shifted = [w.copy() for w in W]
            shifted[l][index] += step
            up = mlp.loss(mlp.forward(shifted, X, alpha)[0][-1], Y)
            shifted[l][index] -= 2 * step
            down = mlp.loss(mlp.forward(shifted, X, alpha)[0][-1], Y)
            trace += (up - 2 * centre + down) / step**2
    return trace


def perturbed_loss_increase(W, X, Y, sigma, n_samples, rng, alpha=np.sqrt(2)):
    """Return (mean, standard error) over draws E ~ N(0, sigma^2 I) of L(W + E) - L(W). To second order it is sigma^2 tr(H) / 2."""
    W = _checks.weight_list(W)
    sigma = _checks.finite_scalar(sigma, "sigma", low=0.0)
    n_samples = _checks.positive_int(n_samples, "n_samples")
    rng = _checks.generator(rng)
    if n_samples < 2:
        raise ValueError("n_samples must be >= 2 to estimate a standard error")

    centre = mlp.loss(mlp.forward(W, X, alpha)[0][-1], Y)
    increases = np.empty(n_samples)
    for k in range(n_samples):
        perturbed = [W_l + sigma * rng.standard_normal(W_l.shape) for W_l in W]
        increases[k] = mlp.loss(mlp.forward(perturbed, X, alpha)[0][-1], Y) - centre
    return float(increases.mean()), float(increases.std(ddof=1) / np.sqrt(n_samples))


def compute_rescaling_sharpness(W, X, Y, factors, sigma, n_samples, rng):
    """Return Hessian traces, the norm-weighted trace and the perturbed loss increase for each rescaling [c W^1, W^2 / c] of a two-layer net.

    tr H = tr H_1 / c^2 + tr H_2 c^2 changes with c although the function does not, while the
    norm-weighted trace sum_l tr(H_l) ||W^l||_F^2 is invariant. The loss increase under weight
    noise N(0, sigma^2 I) is estimated from n_samples draws per factor.
    """
    W = _checks.weight_list(W)
    if len(W) != 2:
        raise ValueError(f"W must have two layers for this rescaling, got {len(W)}")
    factors = _checks.as_array(factors, "factors", ndim=1)
    rng = _checks.generator(rng)

    base_traces = layer_hessian_traces(W, X)
    measured, weighted, outputs, increases = [], [], [], []
    for c in factors:
        rescaled = rescale_layers(W, [c, 1 / c])
        traces = layer_hessian_traces(rescaled, X)
        measured.append(traces.sum())
        weighted.append(sum(t * np.sum(W_l**2) for t, W_l in zip(traces, rescaled)))
        outputs.append(mlp.forward(rescaled, X)[0][-1][:, 0])
        increases.append(perturbed_loss_increase(rescaled, X, Y, sigma, n_samples, rng))

    increases = np.array(increases)
    return {
        "factors": factors,
        "sigma": sigma,
        "trace": np.array(measured),
        "trace_predicted": base_traces[0] / factors**2 + base_traces[1] * factors**2,
        "weighted_trace": np.array(weighted),
        "outputs": np.array(outputs),
        "base_traces": base_traces,
        "loss_increase": increases[:, 0],
        "loss_increase_se": increases[:, 1],
    }
