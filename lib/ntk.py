"""The neural tangent kernel (NTK) of a relu network in course normalisation, in theory and at finite width.

The NTK of a network f with parameters p_1, p_2, ... is Theta(x, x') = sum_k df(x)/dp_k df(x')/dp_k.
Here the parameters are the standardised weights U^l = sqrt(d_{l-1}) W^l, whose entries are N(0, 1)
at initialisation (the NTK parametrisation), so

    Theta(x, x') = sum_l (1 / d_{l-1}) <df(x)/dW^l, df(x')/dW^l>,

and gradient descent on U with step eta is gradient descent on W^l with step eta / d_{l-1}.
As every width grows, Theta tends to a deterministic kernel of the overlap t = x . x' / d0
(Jacot, Gabriel and Hongler, 2018) given by the recursion

    Sigma_1 = Theta_1 = t,  Sigma_{l+1} = h(Sigma_l),  Theta_{l+1} = h(Sigma_l) + h'(Sigma_l) Theta_l,

so Theta_L(1) = L because h(1) = h'(1) = 1.
"""

import numpy as np

from lib import _checks, data, kernels, mlp

ALPHA = np.sqrt(2)

# Widths of the width slider: powers of two, so the fluctuation panel is evenly spaced on a log axis.
WIDTH_GRID = (16, 32, 64, 128, 256, 512, 1024)


# Infinite width: closed forms.


def ntk_two_layer(t):
    """Return Theta_2(t) = (sqrt(1 - t^2) + 2 t (pi - arccos t)) / pi, the NTK of a network with one hidden layer.

    It equals h(t) + t h'(t): h(t) from the output weights and t h'(t) from the hidden weights.
    t is checked and clipped to [-1, 1] as lib.kernels.h does.
    """
    t = np.asarray(kernels.h_depth(t, 1), dtype=float)
    Theta = (np.sqrt(1 - t**2) + 2 * t * (np.pi - np.arccos(t))) / np.pi
    return float(Theta) if Theta.ndim == 0 else Theta


def ntk_recursion(t, L):
    """Return (Sigma_L(t), Theta_L(t)): the NNGP kernel and the NTK of a depth-L network at overlap t.

    Sigma_1 = Theta_1 = t, Sigma_{l+1} = h(Sigma_l), Theta_{l+1} = h(Sigma_l) + h'(Sigma_l) Theta_l.
    """
    L = _checks.positive_int(L, "L")
    # h_depth(t, 1) is t itself, after the same check and clipping to [-1, 1] that h applies.
    sigma = np.asarray(kernels.h_depth(t, 1), dtype=float)
    Theta = sigma.copy()

    for _ in range(L - 1):
        Theta = kernels.h(sigma) + kernels.h_prime(sigma) * Theta
        sigma = np.asarray(kernels.h(sigma), dtype=float)
    if sigma.ndim == 0:
        return float(sigma), float(Theta)
    return sigma, np.asarray(Theta)


def ntk_gram(X, L, Y=None):
    """Return Theta_L[i, j] = Theta_L(x_i . y_j / d0) after rescaling every row to norm sqrt(d0).

    X is (n, d0). Y (m, d0) gives the cross-Gram matrix (n, m), and Y=None the Gram matrix of X.
    NOTE: near t = 1, h' has a square-root singularity, so a rounding error e in the overlap of two
    (near-)identical inputs becomes an error of about sqrt(e) in Theta; only the diagonal of the
    Gram matrix of X is set exactly.
    """
    X = data.normalise_rows(_checks.as_array(X, "X", ndim=2))
    d0 = X.shape[1]
    if Y is None:
        t = X @ X.T / d0
        t = (t + t.T) / 2
        # Rounding leaves x . x / d0 = 1 - 1e-16, and h'(t) = 1 - arccos(t) / pi turns that into an
        # error of 1e-8. The overlap of a normalised row with itself is exactly 1.
        np.fill_diagonal(t, 1.0)
    else:
        Y = _checks.as_array(Y, "Y", ndim=2)
        if Y.shape[1] != d0:
            raise ValueError(f"Y must have shape (m, {d0}) to match X, got {Y.shape}")
        t = X @ data.normalise_rows(Y).T / d0
    return ntk_recursion(np.clip(t, -1.0, 1.0), L)[1]


# Finite width: the empirical NTK of one network.


def _scalar_network(W, X):
    """Check that W is a weight list with one output unit that accepts X, and return both as arrays."""
    W = _checks.weight_list(W)
    if W[-1].shape[0] != 1:
        raise ValueError(f"W[-1] must have one row (a scalar output f), got shape {W[-1].shape}")
    X = _checks.as_array(X, "X", ndim=2)
    if X.shape[1] != W[0].shape[1]:
        raise ValueError(f"X must have shape (n, {W[0].shape[1]}) to match W[0], got {X.shape}")
    return W, X


def output_deltas(W, X, alpha=ALPHA):
    """Return (G, A): G[l-1] = df/dz^l of shape (n, d_l) for every example, and the forward pass's activations A.

    Backpropagates the output f itself (not a loss): G[L-1] = 1 and G[l-1] = (G[l] W^{l+1}) * phi'(z^l).
    """
    W, X = _scalar_network(W, X)
    Z, A = mlp.forward(W, X, alpha)

    G = [np.ones((X.shape[0], 1))]
    for l in range(len(W) - 1, 0, -1):
        G.insert(0, (G[0] @ W[l]) * alpha * (Z[l - 1] > 0))
    return G, A


def output_gradients(W, X, alpha=ALPHA):
    """Return df(x_i)/dW^l for every example, as arrays of shape (n, d_l, d_{l-1}), from lib.mlp's backward pass.

    With targets Y = f - 1/2 the squared loss has dL/df = 2 (f - Y) = 1, so lib.mlp.backward on one
    example returns df/dW. Stores n copies of every weight matrix: a reference for small networks.
    """
    W, X = _scalar_network(W, X)
    per_example = []
    for x in X:
        Z, A = mlp.forward(W, x[None, :], alpha)
        per_example.append(mlp.backward(W, Z, A, Z[-1] - 0.5, alpha))
    return [np.stack([grads[l] for grads in per_example]) for l in range(len(W))]


def empirical_ntk(W, X, alpha=ALPHA, per_layer=False):
    """Return the empirical NTK sum_l (1 / d_{l-1}) (G_l G_l^T) * (A_{l-1} A_{l-1}^T) of one network on X (n, d0).

    df(x)/dW^l is the outer product of G_l(x) = df/dz^l and A_{l-1}(x), so the inner product of two
    gradients factorises and no gradient is stored. per_layer=True returns the (L, n, n) layer terms.
    """
    G, A = output_deltas(W, X, alpha)
    terms = np.array([(G[l] @ G[l].T) * (A[l] @ A[l].T) / A[l].shape[1] for l in range(len(G))])
    return terms if per_layer else terms.sum(axis=0)


def input_gradient(W, X, alpha=ALPHA):
    """Return grad_x f for every row of X, shape (n, d0): G_1 W^1."""
    G, _ = output_deltas(W, X, alpha)
    return G[0] @ W[0]


# The width slider: empirical NTKs on a circle of inputs against the recursion.


def half_circle_inputs(n_angles):
    """Return (angles, X): n_angles angles in [0, pi] and the inputs sqrt(2) (cos a, sin a), of norm sqrt(d0) = sqrt(2)."""
    angles = np.linspace(0.0, np.pi, _checks.positive_int(n_angles, "n_angles"))
    return angles, np.sqrt(2) * np.column_stack([np.cos(angles), np.sin(angles)])


def compute_ntk_width_study(L, n_networks, rng, widths=WIDTH_GRID, n_angles=31):
    """Compute Theta(x(0), x(a)) on a half circle of angles a for n_networks random depth-L networks per width.

    Returns a dict with "angles", "theory" (the recursion), "widths", "kernels" (n_widths, n_networks, n_angles)
    and "deviation" (n_widths, n_networks), the relative distance ||Theta_emp - Theta||_2 / ||Theta||_2 over angles.
    """
    L = _checks.positive_int(L, "L")
    if L < 2:
        raise ValueError(f"L must be at least 2 (one hidden layer) for a width study, got {L}")
    n_networks = _checks.positive_int(n_networks, "n_networks")
    rng = _checks.generator(rng)
    widths = [_checks.positive_int(width, "width") for width in widths]
    angles, X = half_circle_inputs(n_angles)
    theory = ntk_recursion(np.cos(angles), L)[1]

    curves = np.empty((len(widths), n_networks, angles.size))
    for i, width in enumerate(widths):
        for k in range(n_networks):
            W = mlp.init_weights([2] + [width] * (L - 1) + [1], rng)
            curves[i, k] = empirical_ntk(W, X)[0]
    deviation = np.linalg.norm(curves - theory, axis=2) / np.linalg.norm(theory)
    return {"L": L, "angles": angles, "theory": theory, "sigma": ntk_recursion(np.cos(angles), L)[0],
            "widths": np.array(widths), "kernels": curves, "deviation": deviation}


def compute_ntk_width_panel(study, width):
    """Select one width of an NTK width study, for the width slider."""
    width = _checks.positive_int(width, "width")
    if width not in study["widths"]:
        raise ValueError(f"width must be one of the study's widths {list(study['widths'])}, got {width}")
    i = int(np.flatnonzero(study["widths"] == width)[0])
    return {"L": study["L"], "width": width, "angles": study["angles"], "theory": study["theory"],
            "sigma": study["sigma"], "kernels": study["kernels"][i], "widths": study["widths"],
            "deviation": study["deviation"]}


# Lazy training: wide networks barely move their weights.


def train_ntk_parametrisation(W, X, y, eta, n_steps, alpha=ALPHA):
    """Return (W, losses) after n_steps of gradient descent on sum_i (f(x_i) - y_i)^2 with step eta / d_{l-1} on W^l.

    This is gradient descent with step eta on the standardised weights U^l = sqrt(d_{l-1}) W^l, under
    which the NTK has a finite limit. losses has n_steps + 1 entries, the first at initialisation.
    """
    W, X = _scalar_network(W, X)
    y = _checks.as_array(y, "y", shape=(X.shape[0],))
    eta = _checks.finite_scalar(eta, "eta", low=0.0)
    n_steps = _checks.positive_int(n_steps, "n_steps")
    W = [W_l.copy() for W_l in W]
    Y = y[:, None]

    losses = []
    for _ in range(n_steps):
        loss, grads = mlp.gradient(W, X, Y, alpha)
        losses.append(loss)
        for l in range(len(W)):
            W[l] -= eta / W[l].shape[1] * grads[l]
    losses.append(mlp.loss(mlp.forward(W, X, alpha)[0][-1], Y))
    return W, np.array(losses)


def relative_weight_change(W_start, W_end):
    """Return ||W^l_end - W^l_start||_F / ||W^l_start||_F for every layer."""
    return np.array([np.linalg.norm(b - a) / np.linalg.norm(a) for a, b in zip(W_start, W_end)])


def compute_lazy_training(X, y, L, widths, n_networks, n_steps, rng, eta=None):
    """Train n_networks depth-L networks per width on (X, y); return the relative weight and NTK changes against width.

    eta defaults to 1 / (2 lambda_max) of the limiting NTK Gram matrix: the linearised dynamics
    f <- f - 2 eta Theta (f - y) are stable for eta < 1 / lambda_max. Returns a dict with "widths", "eta", "weight_change" (n_widths, n_networks, L),
    "ntk_change" (n_widths, n_networks) = ||Theta_end - Theta_start||_F / ||Theta_start||_F on the
    training inputs, and the squared losses "start_loss" and "final_loss" (n_widths, n_networks).
    """
    X = data.normalise_rows(_checks.as_array(X, "X", ndim=2))
    L = _checks.positive_int(L, "L")
    n_networks = _checks.positive_int(n_networks, "n_networks")
    rng = _checks.generator(rng)
    widths = [_checks.positive_int(width, "width") for width in widths]
    if eta is None:
        eta = 1 / (2 * np.linalg.eigvalsh(ntk_gram(X, L))[-1])

    weight_change = np.empty((len(widths), n_networks, L))
    ntk_change = np.empty((len(widths), n_networks))
    start_loss = np.empty((len(widths), n_networks))
    final_loss = np.empty((len(widths), n_networks))
    for i, width in enumerate(widths):
        for k in range(n_networks):
            W0 = mlp.init_weights([X.shape[1]] + [width] * (L - 1) + [1], rng)
            W, losses = train_ntk_parametrisation(W0, X, y, eta, n_steps)
            Theta_start, Theta_end = empirical_ntk(W0, X), empirical_ntk(W, X)

            weight_change[i, k] = relative_weight_change(W0, W)
            ntk_change[i, k] = np.linalg.norm(Theta_end - Theta_start) / np.linalg.norm(Theta_start)
            start_loss[i, k], final_loss[i, k] = losses[0], losses[-1]
    return {"widths": np.array(widths), "L": L, "eta": float(eta), "n_steps": n_steps,
            "weight_change": weight_change, "ntk_change": ntk_change, "start_loss": start_loss, "final_loss": final_loss}


def log_log_slope(x, y):
    """Return the least-squares slope of ln y against ln x."""
    return float(np.polyfit(np.log(x), np.log(y), 1)[0])
