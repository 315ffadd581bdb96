"""Update rules of lecture 3, each a pure function of one weight array and its gradient.

Every rule has the form ``rule(W, g, state=None, **hyperparameters) -> (W_new, state_new)``.
``state`` is None before the first step and afterwards the dict that the previous step
returned; stateless rules return None. No rule modifies its arguments. The learning rate is
``eta`` throughout (the course's symbol); the other hyperparameters keep their papers' names.
``adaptive_gradient_clip`` is not a rule: it returns a clipped gradient to pass to one.
"""

import numpy as np

from lib import _checks
from lib import neurons


def _check_pair(W, g):
    """Return W and g as finite float arrays of one shape."""
    W = _checks.as_array(W, "W")
    g = _checks.as_array(g, "g")
    if g.shape != W.shape:
        raise ValueError(f"g must have the shape of W, {W.shape}, got {g.shape}")
    return W, g


def _check_state(state, keys, rule):
    """Raise ValueError unless state is None or a dict with the given keys."""
    if state is None:
        return
    if not isinstance(state, dict) or not set(keys) <= set(state):
        raise ValueError(f"state must be None or the dict returned by the previous {rule} step (keys {sorted(keys)})")


def _rate(value, name):
    """Return a hyperparameter that must be finite and >= 0."""
    return _checks.finite_scalar(value, name, low=0.0)


def _decay(value, name):
    """Return a moving-average coefficient in [0, 1)."""
    value = _checks.finite_scalar(value, name, low=0.0)
    if value >= 1:
        raise ValueError(f"{name} must be in [0, 1), got {value!r}")
    return value


def _safe_divide(numerator, denominator):
    """Return numerator / denominator, with 0 wherever the denominator is 0."""
    out = np.zeros(np.broadcast(numerator, denominator).shape)
    np.divide(numerator, denominator, out=out, where=denominator != 0)
    return out


# Classic rules: gradient descent and the sign-like adaptive rules.


def gradient_descent(W, g, state=None, eta=0.1):
    """Gradient descent W <- W - eta g (stateless)."""
    W, g = _check_pair(W, g)
    eta = _rate(eta, "eta")
    return W - eta * g, None


def rprop(W, g, state=None, eta_plus=1.2, eta_minus=0.5, delta_0=0.1, delta_min=1e-6, delta_max=50.0):
    """Rprop (Riedmiller and Braun 1993) in the iRprop- form: W <- W - sign(g) Delta, per weight.

    Each step size Delta grows by eta_plus while the gradient keeps its sign and shrinks by
    eta_minus when the sign flips, within [delta_min, delta_max]. After a flip the weight
    pauses for one step (its stored gradient is set to 0), as in Igel and Huesken's iRprop-.
    """
    W, g = _check_pair(W, g)
    _check_state(state, ("delta", "g_prev"), "rprop")
    eta_plus, eta_minus = _rate(eta_plus, "eta_plus"), _rate(eta_minus, "eta_minus")
    delta_min, delta_max = _rate(delta_min, "delta_min"), _rate(delta_max, "delta_max")
    if state is None:
        state = {"delta": np.full(W.shape, _rate(delta_0, "delta_0")), "g_prev": np.zeros(W.shape)}

    agreement = g * state["g_prev"]
    delta = np.where(agreement > 0, np.minimum(state["delta"] * eta_plus, delta_max), state["delta"])
    delta = np.where(agreement < 0, np.maximum(state["delta"] * eta_minus, delta_min), delta)

    g_used = np.where(agreement < 0, 0.0, g)
    return W - np.sign(g_used) * delta, {"delta": delta, "g_prev": g_used}


def rmsprop(W, g, state=None, eta=1e-3, rho=0.9, eps=1e-8):
    """RMSprop (Tieleman and Hinton 2012): v <- rho v + (1 - rho) g^2, W <- W - eta g / (sqrt(v) + eps)."""
    W, g = _check_pair(W, g)
    _check_state(state, ("v",), "rmsprop")
    eta, rho, eps = _rate(eta, "eta"), _decay(rho, "rho"), _rate(eps, "eps")
    v_prev = np.zeros(W.shape) if state is None else state["v"]

    v = rho * v_prev + (1 - rho) * g**2
    return W - eta * g / (np.sqrt(v) + eps), {"v": v}


def _adam_direction(g, state, beta1, beta2, eps):
    """Return Adam's direction m_hat / (sqrt(v_hat) + eps) and the updated moments {t, m, v}; Adam and LAMB share it."""
    if state is None:
        state = {"t": 0, "m": np.zeros(g.shape), "v": np.zeros(g.shape)}

    t = state["t"] + 1
    m = beta1 * state["m"] + (1 - beta1) * g
    v = beta2 * state["v"] + (1 - beta2) * g**2

    m_hat = m / (1 - beta1**t)
    v_hat = v / (1 - beta2**t)
    return m_hat / (np.sqrt(v_hat) + eps), {"t": t, "m": m, "v": v}


def adam(W, g, state=None, eta=1e-3, beta1=0.9, beta2=0.999, eps=1e-8):
    """Adam (Kingma and Ba 2015) with bias-corrected moments: W <- W - eta m_hat / (sqrt(v_hat) + eps).

    The first step is exactly -eta g / (|g| + eps), about -eta sign(g). The paper calls the learning rate alpha.
    """
    W, g = _check_pair(W, g)
    _check_state(state, ("t", "m", "v"), "adam")
    eta, eps = _rate(eta, "eta"), _rate(eps, "eps")
    beta1, beta2 = _decay(beta1, "beta1"), _decay(beta2, "beta2")
    direction, state = _adam_direction(g, state, beta1, beta2, eps)
    return W - eta * direction, state


# Mirror descent.


def mirror_descent(W, g, state=None, *, eta, grad_h, grad_h_inverse):
    """Mirror descent: grad h(W_new) = grad h(W) - eta g, so W_new = (grad h)^{-1}(grad h(W) - eta g).

    This W_new minimises eta g . dW + D_h(W + dW, W), the linearised loss plus the Bregman
    divergence of the strictly convex mirror map h. Pass grad h and its inverse as functions.
    """
    W, g = _check_pair(W, g)
    eta = _rate(eta, "eta")
    if not (callable(grad_h) and callable(grad_h_inverse)):
        raise ValueError("grad_h and grad_h_inverse must be functions mapping arrays to arrays of the same shape")

    return np.asarray(grad_h_inverse(grad_h(W) - eta * g), dtype=float), None


def entropy_grad(W):
    """Return grad h(W) = log W + 1 for the negative entropy h(W) = sum W log W (W > 0)."""
    return np.log(W) + 1.0


def entropy_grad_inverse(U):
    """Return (grad h)^{-1}(U) = exp(U - 1), the inverse of entropy_grad."""
    return np.exp(U - 1.0)


def entropic_mirror_descent(W, g, state=None, eta=0.1):
    """Mirror descent with the negative entropy h(W) = sum W log W: the multiplicative update W <- W exp(-eta g).

    Requires W > 0 and keeps it positive.
    """
    W, g = _check_pair(W, g)
    eta = _rate(eta, "eta")
    if np.any(W <= 0):
        raise ValueError("W must be strictly positive for entropic mirror descent (h = sum W log W)")
    return W * np.exp(-eta * g), None


# Relative rules: the step is measured against the size of the weights.


def lars(W, g, state=None, eta=0.01, trust_coefficient=1.0, beta=0.0, momentum=0.0):
    """LARS (You, Gitman and Ginsburg 2017), one layer: local rate trust_coefficient ||W|| / (||g|| + beta ||W||).

    v <- momentum v + eta * local rate * (g + beta W), then W <- W - v. The paper writes the
    global rate as gamma and the trust coefficient as eta (0.001 there); with the default
    trust_coefficient = 1, no momentum and no weight decay beta, ||dW|| / ||W|| = eta exactly.
    """
    W, g = _check_pair(W, g)
    _check_state(state, ("v",), "lars")
    eta, trust_coefficient = _rate(eta, "eta"), _rate(trust_coefficient, "trust_coefficient")
    beta, momentum = _rate(beta, "beta"), _decay(momentum, "momentum")
    v_prev = np.zeros(W.shape) if state is None else state["v"]

    norm_W = np.linalg.norm(W)
    local_rate = _safe_divide(trust_coefficient * norm_W, np.linalg.norm(g) + beta * norm_W)

    v = momentum * v_prev + eta * local_rate * (g + beta * W)
    return W - v, {"v": v}


def lamb(W, g, state=None, eta=1e-3, beta1=0.9, beta2=0.999, eps=1e-6, lam=0.0):
    """LAMB (You et al. 2020), one layer: Adam's direction r plus weight decay, rescaled to the layer's norm.

    u = m_hat / (sqrt(v_hat) + eps) + lam W and W <- W - eta ||W|| / ||u|| u, so ||dW|| / ||W|| = eta.
    When ||W|| or ||u|| is 0 the trust ratio is taken as 1.
    """
    W, g = _check_pair(W, g)
    _check_state(state, ("t", "m", "v"), "lamb")
    eta, eps, lam = _rate(eta, "eta"), _rate(eps, "eps"), _rate(lam, "lam")
    beta1, beta2 = _decay(beta1, "beta1"), _decay(beta2, "beta2")
    direction, state = _adam_direction(g, state, beta1, beta2, eps)
    u = direction + lam * W

    norm_W, norm_u = np.linalg.norm(W), np.linalg.norm(u)
    trust_ratio = norm_W / norm_u if norm_W > 0 and norm_u > 0 else 1.0
    return W - eta * trust_ratio * u, state


def fromage(W, g, state=None, eta=0.01):
    """Fromage (Bernstein et al. 2020), one layer: W <- (W - eta ||W||_F / ||g||_F g) / sqrt(1 + eta^2).

    The norm of W is kept exactly when g is orthogonal to W. A zero gradient leaves W unchanged.
    """
    W, g = _check_pair(W, g)
    eta = _rate(eta, "eta")
    norm_g = np.linalg.norm(g)
    if norm_g == 0:
        return W.copy(), None

    step = eta * np.linalg.norm(W) / norm_g * g
    return (W - step) / np.sqrt(1 + eta**2), None


def madam(W, g, state=None, eta=0.01, beta=0.999, g_bound=10.0, w_max=None):
    """Madam (Bernstein et al. 2020), per weight: W <- W exp(-eta sign(W) g*). It never flips a sign.

    g* is g divided by the bias-corrected running RMS sqrt(v_hat), v <- beta v + (1 - beta) g^2,
    and clipped to [-g_bound, g_bound] (0 where v_hat = 0). If w_max is given, the weights are
    then clipped to [-w_max, w_max], the paper's bound on the weights' magnitude.
    """
    W, g = _check_pair(W, g)
    _check_state(state, ("t", "v"), "madam")
    eta, beta, g_bound = _rate(eta, "eta"), _decay(beta, "beta"), _rate(g_bound, "g_bound")
    w_max = None if w_max is None else _rate(w_max, "w_max")
    if state is None:
        state = {"t": 0, "v": np.zeros(W.shape)}

    t = state["t"] + 1
    v = beta * state["v"] + (1 - beta) * g**2
    g_star = np.clip(_safe_divide(g, np.sqrt(v / (1 - beta**t))), -g_bound, g_bound)

    W_new = W * np.exp(-eta * np.sign(W) * g_star)
    if w_max is not None:
        W_new = np.clip(W_new, -w_max, w_max)
    return W_new, {"t": t, "v": v}


def nero(W, g, state=None, eta=0.01, beta=0.999):
    """Nero (Liu et al. 2021), per neuron (row of W): a normalised step, then rows back to mean 0 and norm 1.

    v_i <- beta v_i + (1 - beta) ||g_i||^2; W_i <- W_i - eta ||W_i|| g_i / sqrt(v_hat_i); then every
    row is balanced (mean 0, norm 1), the wiring constraints of lecture 1. On the first step a
    gradient orthogonal to W_i and to the all-ones vector turns row i by exactly arctan(eta).
    """
    W, g = _check_pair(W, g)
    if W.ndim != 2:
        raise ValueError(f"W must be a 2-D weight matrix (one neuron per row) for Nero, got shape {W.shape}")
    _check_state(state, ("t", "v"), "nero")
    eta, beta = _rate(eta, "eta"), _decay(beta, "beta")
    if state is None:
        state = {"t": 0, "v": np.zeros((W.shape[0], 1))}

    t = state["t"] + 1
    v = beta * state["v"] + (1 - beta) * np.sum(g**2, axis=1, keepdims=True)
    g_normalised = _safe_divide(g, np.sqrt(v / (1 - beta**t)))

    step = eta * np.linalg.norm(W, axis=1, keepdims=True) * g_normalised
    return neurons.balance_rows(W - step), {"t": t, "v": v}


def adaptive_gradient_clip(W, g, lam=0.01, eps=1e-3):
    """Adaptive gradient clipping (Brock et al. 2021), per unit (row): rescale g_i to norm at most lam max(||W_i||, eps).

    Returns the clipped gradient, to be passed to any rule above; rows already within the bound are unchanged.
    """
    W, g = _check_pair(W, g)
    if W.ndim != 2:
        raise ValueError(f"W must be a 2-D weight matrix (one unit per row), got shape {W.shape}")
    lam, eps = _rate(lam, "lam"), _rate(eps, "eps")

    bound = lam * np.maximum(np.linalg.norm(W, axis=1, keepdims=True), eps)
    norm_g = np.linalg.norm(g, axis=1, keepdims=True)
    scale = np.where(norm_g > bound, _safe_divide(bound, norm_g), 1.0)
    return g * scale
