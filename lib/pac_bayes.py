"""PAC-Bayes bounds for small classifiers of two digit classes, computed honestly.

Labels are y = +1 for the first class and -1 for the second. Every bound covers the Gibbs
classifier: draw weights from the Gaussian posterior Q, then classify by the sign of the output.
Priors are fixed before the sample is seen (centred at zero or at a random initialisation drawn
independently of the data). A grid of J prior scales is paid for by a union bound, delta / J each.

The empirical Gibbs error is estimated from N posterior draws. Each draw's training error lies in
[0, 1], and the Chernoff bound in kl form holds for i.i.d. variables in [0, 1], so
e_S(Q) <= kl^{-1}(mean, ln(2 / delta') / N) with probability at least 1 - delta'. The constant
ln(2 / delta') is the two-sided one, conservative for this one-sided use. The final bound holds
with probability at least 1 - delta - delta'.
"""

import numpy as np
from scipy.special import expit, ndtr

from lib import _checks
from lib import bounds
from lib import data
from lib import gp
from lib import kernels
from lib import mlp
from lib import orthant

ALPHA = np.sqrt(2)


def split_digits(classes, m, rng):
    """Return a random split of two digit classes into m training and the rest test examples, rows normalised to norm sqrt(64)."""
    if len(classes) != 2:
        raise ValueError(f"classes must name two digits, got {classes!r}")
    m = _checks.positive_int(m, "m")
    rng = _checks.generator(rng)
    X, labels = data.load_digits(classes)
    if m >= len(labels):
        raise ValueError(f"m must be smaller than the {len(labels)} examples of digits {classes}, got {m}")

    y = np.where(labels == classes[0], 1.0, -1.0)
    order = rng.permutation(len(y))
    train, test = order[:m], order[m:]
    X = data.normalise_rows(X)
    return {"X_train": X[train], "y_train": y[train], "X_test": X[test], "y_test": y[test], "classes": tuple(classes)}


def random_labels(y, rng):
    """Return labels drawn uniformly from {-1, +1}, one per entry of y, independent of the inputs."""
    rng = _checks.generator(rng)
    return rng.choice([-1.0, 1.0], size=np.shape(y))


def train_linear(X, y, n_steps, eta):
    """Return w after n_steps of gradient descent from w = 0 on the mean logistic loss (1/m) sum_i ln(1 + exp(-y_i x_i . w))."""
    X = _checks.as_array(X, "X", ndim=2)
    y = _checks.as_array(y, "y", shape=(X.shape[0],))
    n_steps = _checks.positive_int(n_steps, "n_steps")
    eta = _checks.finite_scalar(eta, "eta", low=0.0)

    w = np.zeros(X.shape[1])
    for _ in range(n_steps):
        slopes = -y * expit(-y * (X @ w))
        w -= eta * X.T @ slopes / X.shape[0]
    return w


def linear_gibbs_error(mu, sigma, X, y):
    """Return the exact Gibbs error of w ~ N(mu, sigma^2 I): the mean over examples of Phi(-y x . mu / (sigma ||x||)).

    ``sigma`` may be an array, and the result then has its shape.
    """
    sigma = np.asarray(sigma, dtype=float)
    margins = y * (X @ mu) / np.linalg.norm(X, axis=1)
    return ndtr(-margins / sigma[..., None]).mean(axis=-1)


def sample_linear_errors(mu, sigma, X, y, n_samples, rng):
    """Return the training error of each of n_samples draws w ~ N(mu, sigma^2 I), shape (n_samples,)."""
    rng = _checks.generator(rng)
    n_samples = _checks.positive_int(n_samples, "n_samples")
    w = mu + sigma * rng.standard_normal((n_samples, mu.shape[0]))
    return np.mean(np.sign(X @ w.T) != y[:, None], axis=0)


def gibbs_error_upper(errors, delta_sample):
    """Return kl^{-1}(mean of errors, ln(2 / delta') / N), an upper bound on the Gibbs error from N draws, valid with probability 1 - delta'."""
    errors = _checks.as_array(errors, "errors", ndim=1)
    delta_sample = _checks.finite_scalar(delta_sample, "delta_sample", low=1e-300, high=1.0)
    return bounds.kl_inverse(float(errors.mean()), np.log(2 / delta_sample) / errors.shape[0])


def prior_scale_grid():
    """Return the prior standard deviations sigma0 = 2^(k/4) from 2^-6 to 2^2 tried for the linear classifier, fixed before any data is seen."""
    return 2.0 ** (np.arange(-24, 9) / 4)


def linear_kl(mu, sigma, sigma0):
    """Return KL(N(mu, sigma^2 I) || N(0, sigma0^2 I)) for a linear classifier. sigma0 may be an array of prior scales."""
    sigma0 = np.asarray(sigma0, dtype=float)
    k = mu.shape[0]
    ratio = (sigma / sigma0) ** 2
    return 0.5 * (mu @ mu / sigma0**2 + k * (ratio - 1 - np.log(ratio)))


def best_prior_bound(emp_error, kls, m, delta):
    """Return (bound, index) minimising the Langford-Seeger bound over a prior grid, each prior at confidence delta / J."""
    kls = _checks.as_array(kls, "kls", ndim=1)
    values = bounds.langford_seeger_bound(np.full(kls.shape, emp_error), kls, m, delta / kls.shape[0])
    index = int(np.argmin(values))
    return float(values[index]), index


def compute_linear_tradeoff(setup, scale, sigma, delta=0.05):
    """Return the exact Gibbs errors, KL and bound for the posterior N(scale w / ||w||, sigma^2 I), along sigma and along scale.

    ``setup`` contains the split and the trained direction ``w``. The prior is the best of
    prior_scale_grid() centred at zero, paid for by the union bound.
    """
    scale = _checks.finite_scalar(scale, "scale", low=0.0)
    sigma = _checks.finite_scalar(sigma, "sigma")
    if sigma <= 0:
        raise ValueError(f"sigma must be > 0, got {sigma}")
    direction = setup["w"] / np.linalg.norm(setup["w"])
    m = setup["y_train"].shape[0]
    sigma0 = prior_scale_grid()

    sigma_grid = np.geomspace(0.01, 3.0, 40)
    scale_grid = np.geomspace(0.03, 10.0, 40)
    curves = {"scale": scale, "sigma": sigma, "sigma_grid": sigma_grid, "scale_grid": scale_grid, "m": m}
    for axis, scales, sigmas in (("sigma", np.full(40, scale), sigma_grid), ("scale", scale_grid, np.full(40, sigma)),
                                 ("point", np.array([scale]), np.array([sigma]))):
        train = np.array([linear_gibbs_error(s * direction, g, setup["X_train"], setup["y_train"]) for s, g in zip(scales, sigmas)])
        test = np.array([linear_gibbs_error(s * direction, g, setup["X_test"], setup["y_test"]) for s, g in zip(scales, sigmas)])
        kls = np.array([linear_kl(s * direction, g, sigma0) for s, g in zip(scales, sigmas)])
        # The union bound over the prior grid: each prior j is paid at delta / J.
        complexity = bounds.langford_seeger_complexity(kls, m, delta / sigma0.shape[0])
        best = np.argmin(complexity, axis=1)
        curves[f"train_{axis}"] = train
        curves[f"test_{axis}"] = test
        curves[f"kl_{axis}"] = kls[np.arange(len(best)), best]
        curves[f"bound_{axis}"] = bounds.kl_inverse(train, complexity[np.arange(len(best)), best])
    return curves


def best_linear_posterior(setup, scales, sigmas, delta=0.05):
    """Return the (scale, sigma) of a grid that minimises the exact-Gibbs-error bound, with that bound.

    Choosing the posterior after seeing the sample is allowed: every posterior is covered at once.
    """
    scales = _checks.as_array(scales, "scales", ndim=1)
    sigmas = _checks.as_array(sigmas, "sigmas", ndim=1)
    if np.any(scales < 0) or np.any(sigmas <= 0):
        raise ValueError("scales must be >= 0 and sigmas > 0")
    X, y = setup["X_train"], setup["y_train"]
    direction = setup["w"] / np.linalg.norm(setup["w"])
    sigma0 = prior_scale_grid()

    margins = y * (X @ direction) / np.linalg.norm(X, axis=1)
    ratio = scales[:, None] / sigmas[None, :]
    train = ndtr(-ratio[..., None] * margins).mean(axis=-1)
    variance_ratio = (sigmas[None, :, None] / sigma0) ** 2
    k = direction.shape[0]
    kls = 0.5 * (scales[:, None, None] ** 2 / sigma0**2 + k * (variance_ratio - 1 - np.log(variance_ratio)))
    complexity = bounds.langford_seeger_complexity(kls, y.shape[0], delta / sigma0.shape[0]).min(axis=-1)
    values = bounds.kl_inverse(train, complexity)

    i, j = np.unravel_index(np.argmin(values), values.shape)
    return {"scale": float(scales[i]), "sigma": float(sigmas[j]), "bound": float(values[i, j])}


def linear_bound(setup, scale, sigma, n_samples, rng, delta=0.05, delta_sample=0.01):
    """Return the Monte Carlo PAC-Bayes bound for the linear Gibbs classifier N(scale w / ||w||, sigma^2 I) with its parts.

    The empirical Gibbs error comes from n_samples posterior draws and its own confidence term.
    """
    direction = setup["w"] / np.linalg.norm(setup["w"])
    mu = scale * direction
    errors = sample_linear_errors(mu, sigma, setup["X_train"], setup["y_train"], n_samples, rng)
    upper = gibbs_error_upper(errors, delta_sample)
    kls = linear_kl(mu, sigma, prior_scale_grid())
    bound, index = best_prior_bound(upper, kls, setup["y_train"].shape[0], delta)
    return {
        "estimate": float(errors.mean()),
        "standard_error": float(errors.std(ddof=1) / np.sqrt(n_samples)),
        "exact": float(linear_gibbs_error(mu, sigma, setup["X_train"], setup["y_train"])),
        "upper": upper,
        "kl": float(kls[index]),
        "sigma0": float(prior_scale_grid()[index]),
        "bound": bound,
        "test_error": float(linear_gibbs_error(mu, sigma, setup["X_test"], setup["y_test"])),
    }


def compute_init_distances(X, y, widths, n_steps, eta_width, rng):
    """Return the fan-in weighted squared distances sum_l d_{l-1} ||W^l - P^l||^2 of trained centred networks from their initialisation and from zero.

    One network per hidden width in ``widths``, each trained by train_centred_network with learning
    rate eta_width / width: the neural tangent kernel grows in proportion to the width here, so this
    keeps each step's change of the function comparable across widths. Divided by 2 s^2, each
    distance is the KL of the Gaussian posterior N(W, s^2 / fan-in) from a prior centred there.
    """
    rng = _checks.generator(rng)
    eta_width = _checks.finite_scalar(eta_width, "eta_width", low=0.0)
    from_init, from_zero = [], []
    for width in widths:
        W0 = mlp.init_weights([X.shape[1], width, 1], rng)
        W = train_centred_network(W0, X, y, n_steps, eta_width / width)
        from_init.append(sum(W_l.shape[1] * np.sum((W_l - P_l) ** 2) for W_l, P_l in zip(W, W0)))
        from_zero.append(sum(W_l.shape[1] * np.sum(W_l**2) for W_l in W))
    return {"widths": np.array(widths), "from_init": np.array(from_init), "from_zero": np.array(from_zero)}


def network_outputs(W, X):
    """Return the outputs (N, n) of N two-layer relu networks in course normalisation, with W = [W1 (N, h, d0), W2 (N, 1, h)]."""
    n_networks, width, d0 = W[0].shape
    # One matrix product for all networks: (n, d0) @ (d0, N h), then split the columns per network.
    hidden = ALPHA * np.maximum(X @ W[0].reshape(n_networks * width, d0).T, 0.0)
    hidden = hidden.reshape(X.shape[0], n_networks, width)
    return np.einsum("nsh,sh->sn", hidden, W[1][:, 0, :])


def train_centred_network(W0, X, y, n_steps, eta):
    """Return weights after n_steps of gradient descent on the mean logistic loss of g(x) = f_W(x) - f_W0(x), starting at W0.

    Subtracting the output at initialisation makes g = 0 at the start. W0 is drawn before the data
    are seen, so the hypothesis class stays independent of the sample.
    """
    W0 = _checks.weight_list(W0)
    if len(W0) != 2 or W0[1].shape[0] != 1:
        raise ValueError("W0 must contain two layers with a single output unit")
    X = _checks.as_array(X, "X", ndim=2)
    y = _checks.as_array(y, "y", shape=(X.shape[0],))
    n_steps = _checks.positive_int(n_steps, "n_steps")
    eta = _checks.finite_scalar(eta, "eta", low=0.0)

    f0 = mlp.forward(W0, X)[0][-1][:, 0]
    W = [W_l.copy() for W_l in W0]
    for _ in range(n_steps):
        Z, A = mlp.forward(W, X)
        g = Z[-1][:, 0] - f0
        slopes = -y * expit(-y * g) / X.shape[0]
        # mlp.backward differentiates sum (f - Y)^2, so targets f - slopes / 2 give the gradient of sum slopes_i f(x_i).
        grads = mlp.backward(W, Z, A, Z[-1] - slopes[:, None] / 2)
        W = [W_l - eta * grad for W_l, grad in zip(W, grads)]
    return W


def network_prior_variances(W, s):
    """Return the per-layer variances s^2 / d_{l-1}: the prior and posterior scale s relative to the fan-in initialisation."""
    return [s**2 / W_l.shape[1] for W_l in W]


def network_kl(W, W_prior, s):
    """Return KL(N(W, diag v) || N(W_prior, diag v)) = sum_l d_{l-1} ||W^l - W_prior^l||^2 / (2 s^2) with v_l = s^2 / d_{l-1}."""
    return sum(
        bounds.gaussian_kl_diagonal(W_l.ravel(), v, P_l.ravel(), v)
        for W_l, P_l, v in zip(W, W_prior, network_prior_variances(W, s))
    )


def sample_network_errors(W, W0, s, X, y, n_samples, rng):
    """Return the training error of each of n_samples draws from N(W, s^2 / fan-in) of the centred network f_W - f_W0, shape (n_samples,)."""
    rng = _checks.generator(rng)
    n_samples = _checks.positive_int(n_samples, "n_samples")
    f0 = mlp.forward(W0, X)[0][-1][:, 0]
    draws = [W_l + np.sqrt(v) * rng.standard_normal((n_samples,) + W_l.shape) for W_l, v in zip(W, network_prior_variances(W, s))]
    return np.mean(np.sign(network_outputs(draws, X) - f0) != y, axis=1)


def prior_scale_grid_network():
    """Return the prior scales s tried for the network, 2^(k/4) from 2^(-7/2) to 1, fixed before any data is seen."""
    return 2.0 ** (np.arange(-14, 1) / 4)


def shrink_towards(W, W0, fraction):
    """Return W0 + fraction (W - W0), the posterior mean moved part of the way from the initialisation to the trained weights."""
    return [P_l + fraction * (W_l - P_l) for W_l, P_l in zip(W, W0)]


def pilot_network_errors(W, W0, X, y, fractions, n_pilot, rng):
    """Return mean training errors (len(fractions), J) of n_pilot posterior draws for each mean shrink_towards(W, W0, fraction) and each prior scale s.

    The pilot only chooses the posterior, and the bound itself uses fresh draws.
    """
    grid = prior_scale_grid_network()
    return np.array([[sample_network_errors(shrink_towards(W, W0, fraction), W0, s, X, y, n_pilot, rng).mean() for s in grid]
                     for fraction in fractions])


def network_bound(W, W0, W_prior, X, y, fractions, pilot, n_samples, rng, delta=0.05, delta_sample=0.01):
    """Return the Monte Carlo PAC-Bayes bound of the centred network for the posterior that the pilot errors favour.

    Posteriors are N(shrink_towards(W, W0, fraction), s^2 / fan-in) and priors N(W_prior, s^2 / fan-in),
    for instance centred at W0 or at zero. Each of the J prior scales of prior_scale_grid_network()
    is paid at delta / J, while the fraction is free. Fresh n_samples draws at the chosen
    posterior give the Gibbs error and its confidence term.
    """
    grid = prior_scale_grid_network()
    m = y.shape[0]
    W_prior = _checks.weight_list(W_prior, "W_prior")
    kls = np.array([[network_kl(shrink_towards(W, W0, fraction), W_prior, s) for s in grid] for fraction in fractions])
    pilot_bounds = bounds.langford_seeger_bound(pilot, kls, m, delta / grid.shape[0])
    i, j = np.unravel_index(np.argmin(pilot_bounds), pilot_bounds.shape)

    mean = shrink_towards(W, W0, fractions[i])
    errors = sample_network_errors(mean, W0, grid[j], X, y, n_samples, rng)
    upper = gibbs_error_upper(errors, delta_sample)
    bound = bounds.langford_seeger_bound(upper, kls[i, j], m, delta / grid.shape[0])
    return {"bound": float(bound), "estimate": float(errors.mean()), "standard_error": float(errors.std(ddof=1) / np.sqrt(n_samples)),
            "upper": upper, "kl": float(kls[i, j]), "fraction": float(fractions[i]), "s": float(grid[j]), "mean": mean}


def function_space_bound(X, y, L, n_samples, rng, delta=0.05):
    """Return the realizable PAC-Bayes bound with KL = ln 1 / P(U), P(U) the NNGP probability of the labels y.

    This is the bound of Valle-Perez, Camargo and Louis ("Deep learning generalizes because the
    parameter-function map is biased towards simple functions", 2019). P(U) = P(sign f(x_i) = y_i
    for all i) for f ~ GP(0, K_nngp) of depth L is a Gaussian orthant probability, estimated by the
    GHK sampler. The bound uses ln P(U) lowered by 4 standard errors, so it is an estimate, not a
    certified bound.
    """
    K = kernels.nngp_gram(X, L)
    log_p, standard_error = orthant.log_orthant_probability_ghk(K, n_samples, rng, signs=y)
    kl = -(log_p - 4 * standard_error)
    m = y.shape[0]
    return {"log_p": log_p, "standard_error": standard_error, "kl": kl, "bound": float(bounds.realizable_bound(kl, m, delta)), "m": m}


def compute_function_space_curve(X, y, m_values, L, n_samples, rng, noise_var=0.1, delta=0.05):
    """Return the function-space bound and the NNGP Gaussian log marginal likelihood on the first m examples, for true and random labels, for each m.

    The random labels are drawn once and their first m entries used, so both curves grow one
    example at a time. ``noise_var`` is the observation noise of the Gaussian-likelihood comparison.
    """
    rng = _checks.generator(rng)
    m_values = [_checks.positive_int(m, "m") for m in m_values]
    if max(m_values) > y.shape[0]:
        raise ValueError(f"m_values must not exceed the {y.shape[0]} examples given, got {max(m_values)}")
    labels = {"true": y, "random": random_labels(y, rng)}

    curve = {"m": np.array(m_values), "L": L}
    for name, labels_all in labels.items():
        rows = []
        for m in m_values:
            result = function_space_bound(X[:m], labels_all[:m], L, n_samples, rng, delta)
            evidence = gp.log_marginal_likelihood(kernels.nngp_gram(X[:m], L), labels_all[:m], noise_var)
            rows.append((result["log_p"], result["standard_error"], result["bound"], evidence))
        rows = np.array(rows)
        curve[f"log_p_{name}"], curve[f"se_{name}"], curve[f"bound_{name}"], curve[f"gp_evidence_{name}"] = rows.T
    return curve
