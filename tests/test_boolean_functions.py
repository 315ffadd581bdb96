"""Functions on the boolean cube: NNGP posteriors by rejection, by GHK and by Sheppard's exact formula; batched training against lib.mlp."""

import numpy as np
import pytest

from lib import boolean_functions, kernels, mlp, orthant


def test_cube_points_have_course_norm():
    for d in (1, 2, 3, 5):
        X = boolean_functions.boolean_cube(d)
        assert X.shape == (2**d, d)
        assert len({tuple(row) for row in X}) == 2**d
        np.testing.assert_array_equal(np.sum(X**2, axis=1), d)


def test_pattern_codes_round_trip():
    codes = np.arange(32)
    signs = boolean_functions.pattern_signs(codes, 5)
    np.testing.assert_array_equal(boolean_functions.pattern_codes(signs), codes)
    np.testing.assert_array_equal(signs[5], [1, -1, 1, -1, -1])


def test_batched_gradients_match_mlp():
    rng = np.random.default_rng(0)
    X = boolean_functions.boolean_cube(3)[:5]
    y = np.array([1.0, -1.0, 1.0, 1.0, -1.0])
    W = boolean_functions.init_networks([3, 6, 4, 1], 4, rng)

    f, grads = boolean_functions.gradient_networks(W, X, y)
    for k in range(4):
        W_k = [W_l[k] for W_l in W]
        loss, grads_k = mlp.gradient(W_k, X, y[:, None])
        np.testing.assert_allclose(f[k], mlp.forward(W_k, X)[0][-1][:, 0], rtol=1e-13)
        for l in range(3):
            np.testing.assert_allclose(grads[l][k], grads_k[l], rtol=1e-12, atol=1e-14)


def test_posterior_matches_sheppard_exactly():
    # One training input and two test inputs: the joint orthant is three-dimensional, so Sheppard's formula is exact.
    rng = np.random.default_rng(1)
    X = boolean_functions.boolean_cube(3)[[0, 3, 5]]
    K = kernels.nngp_gram(X, 3)
    train, y_train = [0], np.array([1.0])

    exact = np.array([orthant.sheppard_orthant_probability(K, np.concatenate([y_train, s])) / 0.5
                      for s in boolean_functions.pattern_signs(np.arange(4), 2)])
    assert exact.sum() == pytest.approx(1.0, abs=1e-12)
    p, se, _ = boolean_functions.posterior_by_rejection(K, train, y_train, 200_000, rng)
    assert np.all(np.abs(p - exact) <= 4 * se), f"{p} vs {exact}, SE {se}"
    p, se = boolean_functions.posterior_by_orthants(K, train, y_train, 20_000, rng)
    assert np.all(np.abs(p - exact) <= 4 * se + 1e-12), f"{p} vs {exact}, SE {se}"


def test_rejection_and_ghk_agree_on_cube():
    rng = np.random.default_rng(2)
    X = boolean_functions.boolean_cube(3)
    K = kernels.nngp_gram(X, 3)
    train = np.array([1, 2, 4, 7])
    y_train = np.array([-1.0, -1.0, -1.0, 1.0])

    p_reject, se_reject, accepted = boolean_functions.posterior_by_rejection(K, train, y_train, 200_000, rng)
    p_ghk, se_ghk = boolean_functions.posterior_by_orthants(K, train, y_train, 20_000, rng)
    assert accepted > 1000
    assert p_reject.sum() == pytest.approx(1.0, abs=1e-12)
    assert np.all(np.abs(p_reject - p_ghk) <= 4 * np.hypot(se_reject, se_ghk))


def test_training_stops_at_zero_error():
    rng = np.random.default_rng(3)
    X = boolean_functions.boolean_cube(3)[:4]
    y = np.array([1.0, -1.0, -1.0, 1.0])
    W0 = boolean_functions.init_networks([3, 16, 16, 1], 200, rng)

    W, steps = boolean_functions.train_to_fit(W0, X, y, eta=0.2, max_steps=30)
    fitted, at_init = steps <= 30, steps == 0
    assert np.all((steps <= 30) | (steps == 31))
    assert 180 <= fitted.sum() < 200, "most narrow networks fit within 30 steps, a few get stuck"
    f = boolean_functions.forward_networks(W, X)[0][-1][:, :, 0]
    assert np.all(np.sign(f[fitted]) == y), "a stopped network fits every training sign"
    assert not np.any(np.all(np.sign(f[~fitted]) == y, axis=1)), "a network that never fitted does not fit at the end"
    assert at_init.any(), "some networks fit the training signs at initialisation"
    for l in range(3):
        np.testing.assert_array_equal(W[l][at_init], W0[l][at_init])
        assert not np.allclose(W[l][~at_init], W0[l][~at_init])


def test_sampler_comparison_is_a_distribution():
    rng = np.random.default_rng(4)
    result = boolean_functions.compute_sampler_comparison(3, [0, 3, 5, 6], [-1.0, -1.0, 1.0, 1.0], L=2, width=16,
                                                          n_networks=50, eta=0.2, max_steps=100, n_prior_samples=20_000, rng=rng)
    assert result["n_test"] == 4
    assert result["p_gd"].shape == result["p_bayes"].shape == (16,)
    assert result["p_gd"].sum() == pytest.approx(1.0, abs=1e-12)
    assert result["p_bayes"].sum() == pytest.approx(1.0, abs=1e-12)


def test_boolean_bad_arguments_raise():
    rng = np.random.default_rng(5)
    K = kernels.nngp_gram(boolean_functions.boolean_cube(2), 2)
    with pytest.raises(ValueError, match="d must"):
        boolean_functions.boolean_cube(0)
    with pytest.raises(ValueError, match="distinct indices"):
        boolean_functions.posterior_by_rejection(K, [0, 0], [1.0, 1.0], 10, rng)
    with pytest.raises(ValueError, match="distinct indices"):
        boolean_functions.posterior_by_rejection(K, [7], [1.0], 10, rng)
    with pytest.raises(ValueError, match="only \\+1 and -1"):
        boolean_functions.posterior_by_rejection(K, [0], [0.5], 10, rng)
    with pytest.raises(ValueError, match="y_train must have shape"):
        boolean_functions.posterior_by_orthants(K, [0, 1], [1.0], 10, rng)
    with pytest.raises(ValueError, match="n_networks must"):
        boolean_functions.init_networks([2, 3, 1], 0, rng)
    with pytest.raises(ValueError, match="X must have shape"):
        boolean_functions.forward_networks(boolean_functions.init_networks([2, 3, 1], 2, rng), np.ones((2, 3)))
    with pytest.raises(ValueError, match="eta must"):
        boolean_functions.train_to_fit(boolean_functions.init_networks([2, 3, 1], 2, rng), np.ones((2, 2)), np.ones(2), -1.0, 5)
