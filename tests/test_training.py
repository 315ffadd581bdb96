"""Full-batch training: gradients against finite differences, the loop against a hand-written one, divergence handling."""

import warnings

import numpy as np
import pytest

from lib import mlp, optimisers, training


def small_problem(seed, widths=(5, 4, 3, 2), n=6):
    rng = np.random.default_rng(seed)
    W = mlp.init_weights(list(widths), rng)
    X = rng.standard_normal((n, widths[0]))
    Y = rng.standard_normal((n, widths[-1]))
    return W, X, Y


def loss_only(W, X, Y):
    return training.mean_loss_and_gradient(W, X, Y)[0]


@pytest.mark.parametrize("seed", range(3))
@pytest.mark.parametrize("widths", [(5, 4, 3, 2), (3, 6, 6, 6, 1)])
def test_mean_gradient_matches_finite_differences(seed, widths):
    W, X, Y = small_problem(seed, widths)
    _, grads = training.mean_loss_and_gradient(W, X, Y)
    step = 1e-6
    for l, W_l in enumerate(W):
        for index in np.ndindex(W_l.shape):
            up = [w.copy() for w in W]
            down = [w.copy() for w in W]
            up[l][index] += step
            down[l][index] -= step
            estimate = (loss_only(up, X, Y) - loss_only(down, X, Y)) / (2 * step)
            assert grads[l][index] == pytest.approx(estimate, rel=1e-5, abs=1e-8), f"layer {l + 1}, weight {index}"


def test_train_matches_hand_loop():
    W, X, Y = small_problem(3)
    run = training.train(W, X, Y, optimisers.adam, 5, eta=0.01)

    W_hand, states, losses = [w.copy() for w in W], [None] * len(W), []
    for _ in range(5):
        loss, grads = training.mean_loss_and_gradient(W_hand, X, Y)
        losses.append(loss)
        stepped = [optimisers.adam(w, g, s, eta=0.01) for w, g, s in zip(W_hand, grads, states)]
        sizes = [np.linalg.norm(new - old) / np.linalg.norm(old) for old, (new, _) in zip(W_hand, stepped)]
        W_hand, states = [w for w, _ in stepped], [s for _, s in stepped]
    losses.append(loss_only(W_hand, X, Y))

    np.testing.assert_allclose(run["losses"], losses, rtol=1e-13)
    np.testing.assert_allclose(run["relative_updates"][-1], sizes, rtol=1e-13)
    for w_run, w_hand in zip(run["W"], W_hand):
        np.testing.assert_allclose(w_run, w_hand, rtol=1e-13)
    assert not run["diverged"]


def test_train_small_eta_decreases_loss():
    W, X, Y = small_problem(4)
    run = training.train(W, X, Y, optimisers.gradient_descent, 50, eta=1e-3)
    assert np.all(np.diff(run["losses"]) < 0)


def test_train_flags_divergence_quietly():
    W, X, Y = small_problem(5)
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        run = training.train(W, X, Y, optimisers.gradient_descent, 50, eta=100.0)
    assert run["diverged"]
    stopped = int(np.argmax(np.isnan(run["losses"])))
    assert 0 < stopped < 51
    assert np.all(np.isnan(run["losses"][stopped:]))
    assert np.all(np.isfinite(run["losses"][:stopped]))


def test_relative_optimisers_update_eta_per_layer():
    rng = np.random.default_rng(6)
    X, Y = training.load_digits_problem(40, rng)
    W = mlp.init_weights([64, 16, 16, 16, 10], rng)
    fromage = training.train(W, X, Y, optimisers.fromage, 3, eta=0.01)
    # Fromage's ||dW|| / ||W|| is eta (1 + eta cos(W, g) / 2 + O(eta^2)), so within 1% of eta = 0.01.
    np.testing.assert_allclose(fromage["relative_updates"], 0.01, rtol=1e-2)


def test_prepare_weights_balances_rows_for_nero():
    W, _, _ = small_problem(7)
    prepared = training.prepare_weights(W, "Nero")
    for W_l in prepared:
        np.testing.assert_allclose(W_l.mean(axis=1), 0, atol=1e-15)
        np.testing.assert_allclose(np.linalg.norm(W_l, axis=1), 1, rtol=1e-14)
    for W_l, W_prepared in zip(W, training.prepare_weights(W, "SGD")):
        np.testing.assert_array_equal(W_l, W_prepared)


def test_grid_view_picks_nearest_eta():
    W, X, Y = small_problem(8)
    etas = np.array([1e-3, 1e-2, 1e-1])
    calls = []
    grid = training.train_grid(W, X, Y, ["SGD", "Fromage"], etas, 4, callback=lambda: calls.append(1))
    assert len(calls) == 6
    view = training.compute_training_view(grid, "Fromage", 0.02)
    assert view["eta"] == 1e-2
    np.testing.assert_array_equal(view["losses"], grid["runs"]["Fromage", 1]["losses"])
    assert view["all_losses"].shape == (3, 5)


def test_load_digits_problem_shapes():
    X, Y = training.load_digits_problem(30, np.random.default_rng(9))
    assert X.shape == (30, 64)
    assert Y.shape == (30, 10)
    np.testing.assert_allclose(np.linalg.norm(X, axis=1), 8.0, rtol=1e-13)
    np.testing.assert_array_equal(Y.sum(axis=1), 1.0)


def test_training_rejects_bad_arguments():
    W, X, Y = small_problem(10)
    with pytest.raises(ValueError, match="Y must have shape"):
        training.train(W, X, Y[:, :1], optimisers.gradient_descent, 3, eta=0.1)
    with pytest.raises(ValueError, match="n_steps"):
        training.train(W, X, Y, optimisers.gradient_descent, 0, eta=0.1)
    with pytest.raises(ValueError, match="rule"):
        training.train(W, X, Y, "sgd", 3)
    with pytest.raises(ValueError, match="optimiser"):
        training.prepare_weights(W, "Momentum")
    with pytest.raises(ValueError, match="labels"):
        training.one_hot(np.array([0, 10]))
    with pytest.raises(ValueError, match="at most"):
        training.load_digits_problem(10_000, np.random.default_rng(0))
    with pytest.raises(ValueError, match="etas"):
        training.train_grid(W, X, Y, ["SGD"], np.array([0.1, -1.0]), 2)
