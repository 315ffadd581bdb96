import math

import numpy as np
import pytest
from scipy.special import expit

from lib import bounds, mlp, orthant, pac_bayes


@pytest.fixture(scope="module")
def setup():
    split = pac_bayes.split_digits((3, 8), 120, np.random.default_rng(0))
    split["w"] = pac_bayes.train_linear(split["X_train"], split["y_train"], 100, 0.1)
    return split


def test_split_digits_shapes_and_labels(setup):
    assert setup["X_train"].shape == (120, 64)
    assert setup["X_test"].shape[0] + 120 == 357
    assert set(np.unique(setup["y_train"])) == {-1.0, 1.0}
    assert np.allclose(np.linalg.norm(setup["X_train"], axis=1), 8.0, rtol=1e-12)


def logistic_loss(w, X, y):
    return np.mean(np.log1p(np.exp(-y * (X @ w))))


def test_train_linear_step_is_gradient(setup):
    X, y = setup["X_train"], setup["y_train"]
    w1 = pac_bayes.train_linear(X, y, 1, 0.5)
    step = 1e-6
    numerical = np.array([(logistic_loss(step * e, X, y) - logistic_loss(-step * e, X, y)) / (2 * step) for e in np.eye(64)])
    assert np.allclose(-w1 / 0.5, numerical, rtol=1e-6, atol=1e-8)


def test_linear_gibbs_error_against_monte_carlo(setup):
    rng = np.random.default_rng(1)
    mu = 0.5 * setup["w"] / np.linalg.norm(setup["w"])
    for sigma in (0.01, 0.05, 0.3):
        errors = pac_bayes.sample_linear_errors(mu, sigma, setup["X_train"], setup["y_train"], 4000, rng)
        standard_error = errors.std(ddof=1) / math.sqrt(len(errors))
        exact = pac_bayes.linear_gibbs_error(mu, sigma, setup["X_train"], setup["y_train"])
        assert abs(errors.mean() - exact) < 4 * standard_error + 1e-12, (sigma, errors.mean(), exact, standard_error)


def test_gibbs_error_upper_solves_kl():
    errors = np.random.default_rng(2).uniform(0, 0.2, 500)
    upper = pac_bayes.gibbs_error_upper(errors, 0.01)
    assert upper > errors.mean()
    assert bounds.kl_bernoulli(errors.mean(), upper) == pytest.approx(math.log(2 / 0.01) / 500, rel=1e-8)


def test_linear_kl_matches_gaussian_kl(setup):
    mu = setup["w"]
    for sigma0 in pac_bayes.prior_scale_grid():
        expected = bounds.gaussian_kl_diagonal(mu, 0.03**2, np.zeros(64), sigma0**2)
        assert pac_bayes.linear_kl(mu, 0.03, sigma0) == pytest.approx(expected, rel=1e-12)


def test_network_kl_closed_form():
    rng = np.random.default_rng(3)
    W0 = mlp.init_weights([6, 5, 1], rng)
    W = [W_l + 0.1 * rng.normal(size=W_l.shape) for W_l in W0]
    expected = sum(W_l.shape[1] * np.sum((W_l - P_l) ** 2) for W_l, P_l in zip(W, W0)) / (2 * 0.3**2)
    assert pac_bayes.network_kl(W, W0, 0.3) == pytest.approx(expected, rel=1e-12)


def test_network_outputs_match_mlp():
    rng = np.random.default_rng(4)
    X = rng.normal(size=(7, 6))
    draws = [mlp.init_weights([6, 5, 1], rng) for _ in range(3)]
    stacked = [np.stack([W[0] for W in draws]), np.stack([W[1] for W in draws])]
    outputs = pac_bayes.network_outputs(stacked, X)
    for k, W in enumerate(draws):
        assert np.allclose(outputs[k], mlp.forward(W, X)[0][-1][:, 0], rtol=1e-12, atol=1e-14)


def test_centred_network_step_is_gradient():
    rng = np.random.default_rng(5)
    X = rng.normal(size=(9, 4))
    y = rng.choice([-1.0, 1.0], size=9)
    W0 = mlp.init_weights([4, 3, 1], rng)
    f0 = mlp.forward(W0, X)[0][-1][:, 0]
    eta = 0.1
    W1 = pac_bayes.train_centred_network(W0, X, y, 1, eta)

    def loss(W):
        g = mlp.forward(W, X)[0][-1][:, 0] - f0
        return np.mean(np.log1p(np.exp(-y * g)))

    step = 1e-6
    for l in range(2):
        for index in np.ndindex(W0[l].shape):
            up = [W_l.copy() for W_l in W0]
            down = [W_l.copy() for W_l in W0]
            up[l][index] += step
            down[l][index] -= step
            numerical = (loss(up) - loss(down)) / (2 * step)
            assert (W0[l][index] - W1[l][index]) / eta == pytest.approx(numerical, rel=1e-5, abs=1e-9)


def test_sample_network_errors_at_tiny_noise():
    # With almost no weight noise every draw classifies like the mean network.
    rng = np.random.default_rng(6)
    X = rng.normal(size=(30, 4))
    W0 = mlp.init_weights([4, 8, 1], rng)
    W = [W_l + 0.3 * rng.normal(size=W_l.shape) for W_l in W0]
    g = mlp.forward(W, X)[0][-1][:, 0] - mlp.forward(W0, X)[0][-1][:, 0]
    y = np.sign(g)
    y[:5] *= -1
    errors = pac_bayes.sample_network_errors(W, W0, 1e-9, X, y, 20, rng)
    assert np.all(errors == 5 / 30)


def test_network_bound_parts_consistent(setup):
    rng = np.random.default_rng(7)
    W0 = mlp.init_weights([64, 8, 1], rng)
    W = pac_bayes.train_centred_network(W0, setup["X_train"], setup["y_train"], 10, 0.2)
    fractions = np.array([0.5, 1.0])
    pilot = pac_bayes.pilot_network_errors(W, W0, setup["X_train"], setup["y_train"], fractions, 4, rng)
    grid = pac_bayes.prior_scale_grid_network()
    assert pilot.shape == (2, len(grid))

    result = pac_bayes.network_bound(W, W0, W0, setup["X_train"], setup["y_train"], fractions, pilot, 200, rng)
    assert result["estimate"] <= result["upper"] <= result["bound"] <= 1.0
    expected = bounds.langford_seeger_bound(result["upper"], result["kl"], 120, 0.05 / len(grid))
    assert result["bound"] == pytest.approx(expected, rel=1e-12)
    mean = pac_bayes.shrink_towards(W, W0, result["fraction"])
    assert result["kl"] == pytest.approx(pac_bayes.network_kl(mean, W0, result["s"]), rel=1e-12)
    zero = [np.zeros_like(W_l) for W_l in W0]
    assert pac_bayes.network_kl(W, zero, 1.0) > pac_bayes.network_kl(W, W0, 1.0)


def test_shrink_towards_endpoints():
    rng = np.random.default_rng(10)
    W0 = mlp.init_weights([3, 4, 1], rng)
    W = mlp.init_weights([3, 4, 1], rng)
    for a, b in zip(pac_bayes.shrink_towards(W, W0, 0.0), W0):
        assert np.array_equal(a, b)
    for a, b in zip(pac_bayes.shrink_towards(W, W0, 1.0), W):
        assert np.allclose(a, b, rtol=1e-15, atol=1e-15)


def test_linear_tradeoff_point_matches_bound(setup):
    curves = pac_bayes.compute_linear_tradeoff(setup, 0.5, 0.05)
    mu = 0.5 * setup["w"] / np.linalg.norm(setup["w"])
    exact = pac_bayes.linear_gibbs_error(mu, 0.05, setup["X_train"], setup["y_train"])
    kls = pac_bayes.linear_kl(mu, 0.05, pac_bayes.prior_scale_grid())
    bound, index = pac_bayes.best_prior_bound(exact, kls, 120, 0.05)
    assert curves["train_point"][0] == pytest.approx(exact, rel=1e-12)
    assert curves["bound_point"][0] == pytest.approx(bound, abs=2e-12)
    assert curves["kl_point"][0] == pytest.approx(kls[index], rel=1e-12)


def test_best_linear_posterior_matches_grid(setup):
    scales, sigmas = np.geomspace(0.1, 3, 6), np.geomspace(0.02, 1, 5)
    best = pac_bayes.best_linear_posterior(setup, scales, sigmas)
    values = [pac_bayes.compute_linear_tradeoff(setup, s, g)["bound_point"][0] for s in scales for g in sigmas]
    assert best["bound"] == pytest.approx(min(values), abs=2e-12)
    at_best = pac_bayes.compute_linear_tradeoff(setup, best["scale"], best["sigma"])["bound_point"][0]
    assert best["bound"] == pytest.approx(at_best, abs=2e-12)


def test_function_space_bound_small_case(setup):
    # For three examples P(U) is exact by Sheppard's formula.
    X, y = setup["X_train"][:3], setup["y_train"][:3]
    from lib import kernels

    exact = orthant.sheppard_orthant_probability(kernels.nngp_gram(X, 2), y)
    result = pac_bayes.function_space_bound(X, y, 2, 4000, np.random.default_rng(8))
    assert abs(math.exp(result["log_p"]) - exact) < 4 * exact * result["standard_error"]
    assert result["kl"] == pytest.approx(-(result["log_p"] - 4 * result["standard_error"]), rel=1e-12)
    assert result["bound"] == pytest.approx(bounds.realizable_bound(result["kl"], 3, 0.05), rel=1e-12)


def test_init_distances_shapes(setup):
    distances = pac_bayes.compute_init_distances(setup["X_train"], setup["y_train"], [4, 8], 5, 1.6, np.random.default_rng(9))
    assert distances["from_init"].shape == (2,)
    assert np.all(distances["from_init"] < distances["from_zero"])


@pytest.mark.parametrize(
    "call",
    [
        lambda: pac_bayes.split_digits((3,), 10, np.random.default_rng(0)),
        lambda: pac_bayes.split_digits((3, 8), 400, np.random.default_rng(0)),
        lambda: pac_bayes.split_digits((3, 8), 10, 0),
        lambda: pac_bayes.train_linear(np.ones((3, 2)), np.ones(4), 10, 0.1),
        lambda: pac_bayes.train_linear(np.ones((3, 2)), np.ones(3), 0, 0.1),
        lambda: pac_bayes.gibbs_error_upper(np.ones((2, 2)), 0.01),
        lambda: pac_bayes.gibbs_error_upper(np.ones(3), 0.0),
        lambda: pac_bayes.train_centred_network([np.ones((2, 3))], np.ones((4, 3)), np.ones(4), 1, 0.1),
        lambda: pac_bayes.compute_linear_tradeoff({"w": np.ones(2)}, 1.0, 0.0),
        lambda: pac_bayes.compute_function_space_curve(np.ones((3, 4)), np.ones(3), [5], 2, 10, np.random.default_rng(0)),
    ],
)
def test_bad_arguments_raise(call):
    with pytest.raises(ValueError):
        call()
