"""Toy neural architecture search: a REINFORCE outer loop and DARTS's continuous relaxation (lecture 1)."""

import numpy as np

from lib import _checks
from lib.architectures import softmax

# Candidate operations of the DARTS cell, each a fixed function of a scalar input.
OPERATIONS = {
    "zero": lambda x: np.zeros_like(x),
    "identity": lambda x: x,
    "relu": lambda x: np.maximum(x, 0.0),
    "square": lambda x: x**2,
    "sine": np.sin,
}


def polynomial_validation_loss(x_train, y_train, x_val, y_val, degree):
    """Fit a polynomial of the given degree by least squares on the training split and return its validation mean squared error."""
    coefficients = np.polynomial.polynomial.polyfit(x_train, y_train, degree)
    residual = np.polynomial.polynomial.polyval(x_val, coefficients) - y_val
    return float(np.mean(residual**2))


def reinforce(rewards, steps, lr, rng):
    """Run REINFORCE over a categorical policy softmax(theta) on architectures with the given rewards.

    Each step samples an architecture k, then moves theta by lr (r_k - b) grad log p(k), where
    b is the running mean reward (the baseline). Returns the policy probabilities after every step,
    shape (steps + 1, number of architectures).
    """
    rewards = _checks.as_array(rewards, "rewards", ndim=1)
    steps = _checks.positive_int(steps, "steps")
    lr = _checks.finite_scalar(lr, "lr", low=0.0)
    rng = _checks.generator(rng)

    theta = np.zeros_like(rewards)
    baseline = float(np.mean(rewards))
    history = [softmax(theta)]
    for step in range(steps):
        p = history[-1]
        k = rng.choice(len(rewards), p=p)
        grad_log_p = -p
        grad_log_p[k] += 1
        theta = theta + lr * (rewards[k] - baseline) * grad_log_p
        baseline += (rewards[k] - baseline) / (step + 2)
        history.append(softmax(theta))
    return np.array(history)


def mixed_operation(x, a, w, names):
    """Return DARTS's mixed operation sum_k softmax(a)_k w_k o_k(x) over the named candidate operations."""
    p = softmax(a)
    outputs = np.stack([OPERATIONS[name](x) for name in names])
    return (p * w) @ outputs


def darts_gradients(x, y, a, w, names):
    """Return (loss, dL/da, dL/dw) of the mean squared error of the mixed operation on (x, y)."""
    p = softmax(a)
    outputs = np.stack([OPERATIONS[name](x) for name in names])
    y_hat = (p * w) @ outputs
    residual = y_hat - y

    loss = float(np.mean(residual**2))
    grad_w = 2 * p * (outputs @ residual) / len(x)
    grad_a = 2 * p * ((w[:, None] * outputs - y_hat) @ residual) / len(x)
    return loss, grad_a, grad_w


def darts_search(train, val, names, steps=400, eta_w=0.1, eta_a=0.1):
    """Alternate gradient steps on the weights w (training split) and the architecture logits a (validation split).

    This is first-order DARTS on a single mixed edge. Returns (a, w, history of softmax(a)).
    The discrete architecture is the argmax of a.
    """
    steps = _checks.positive_int(steps, "steps")
    a = np.zeros(len(names))
    w = np.ones(len(names))
    history = [softmax(a)]
    for _ in range(steps):
        _, _, grad_w = darts_gradients(*train, a, w, names)
        w = w - eta_w * grad_w
        _, grad_a, _ = darts_gradients(*val, a, w, names)
        a = a - eta_a * grad_a
        history.append(softmax(a))
    return a, w, np.array(history)
