"""The conditional-Gaussian network sampler against drawing weights, exact moments and edge cases."""

import numpy as np
import pytest

from lib import data, function_spaces, kernels, sampling


def digit_inputs(n):
    """Return the first n bundled digits with rows of norm sqrt(64)."""
    X, _ = data.load_digits()
    return data.normalise_rows(X[:n])


def two_sample_z(a, b):
    """Return |mean(a) - mean(b)| / combined standard error, along axis 0."""
    se2 = a.var(axis=0, ddof=1) / len(a) + b.var(axis=0, ddof=1) / len(b)
    return np.abs(a.mean(axis=0) - b.mean(axis=0)) / np.sqrt(se2)


def pair_products(f, power):
    """Return f_i^power f_j^power for every pair i <= j of columns of f (n_networks, n)."""
    i, j = np.triu_indices(f.shape[1])
    return (f[:, i] * f[:, j]) ** power


def test_sampler_reproducible_for_seed():
    X = digit_inputs(3)
    widths = [64, 30, 20, 1]

    first = sampling.sample_outputs(X, widths, 50, np.random.default_rng(7))
    again = sampling.sample_outputs(X, widths, 50, np.random.default_rng(7))
    other = sampling.sample_outputs(X, widths, 50, np.random.default_rng(8))
    assert first.shape == (50, 3)
    assert np.array_equal(first, again)
    assert not np.allclose(first, other)


@pytest.mark.parametrize("widths", [[64, 4, 4, 1], [64, 3, 1], [64, 2, 5, 3, 1]])
def test_sampler_matches_weight_drawing(widths):
    # Narrow layers make f strongly non-Gaussian, so matching second and fourth moments is a sharp test.
    X = digit_inputs(3)
    sampled = sampling.sample_outputs(X, widths, 40_000, np.random.default_rng(1))
    by_weights = sampling.sample_outputs_by_weights(X, widths, 8_000, np.random.default_rng(2))

    for power in (1, 2):
        z = two_sample_z(pair_products(sampled, power), pair_products(by_weights, power))
        assert np.all(z <= 4), f"widths {widths}, moments of order {2 * power}: z = {z}"


@pytest.mark.parametrize("widths", [[3, 4, 4, 1], [3, 3, 7, 1], [3, 2, 1], [3, 9, 2, 5, 1]])
def test_sampler_kurtosis_matches_exact_formula(widths):
    # One input of norm sqrt(d0): E[f^2] = 1 and E[f^4] = 3 prod_l (1 + 5 / d_l) at every width.
    x = np.sqrt(3) * np.array([[0.6, 0.0, 0.8]])
    f = sampling.sample_outputs(x, widths, 200_000, np.random.default_rng(3))[:, 0]
    fourth = 3 * (1 + function_spaces.output_excess_kurtosis(widths) / 3)

    for power, expected in ((2, 1.0), (4, fourth)):
        moment = f**power
        se = moment.std(ddof=1) / np.sqrt(len(f))
        assert abs(moment.mean() - expected) <= 4 * se, f"widths {widths}: E[f^{power}] = {moment.mean()}, exact {expected}, SE {se}"


def test_weight_drawing_matches_exact_kurtosis():
    x = np.sqrt(3) * np.array([[0.6, 0.0, 0.8]])
    widths = [3, 4, 4, 1]
    f = sampling.sample_outputs_by_weights(x, widths, 20_000, np.random.default_rng(4))[:, 0]

    moment = f**4
    se = moment.std(ddof=1) / np.sqrt(len(f))
    expected = 3 + function_spaces.output_excess_kurtosis(widths)
    assert abs(moment.mean() - expected) <= 4 * se, f"E[f^4] = {moment.mean()}, exact {expected}, SE {se}"


def test_depth_two_cross_moment_exact():
    # At depth 2, E[f(x) f(x')] = h(x . x' / d0) is exact at every width, not only in the limit.
    X = digit_inputs(4)
    f = sampling.sample_outputs(X, [64, 3, 1], 200_000, np.random.default_rng(5))

    products = f[:, :, None] * f[:, None, :]
    se = products.std(axis=0, ddof=1) / np.sqrt(len(f))
    deviation = np.abs(products.mean(axis=0) - kernels.nngp_gram(X, 2))
    assert np.all(deviation <= 4 * se), f"deviation / SE = {deviation / se}"


def test_psd_square_root_rank_deficient():
    rng = np.random.default_rng(6)
    B = rng.standard_normal((3, 6, 2))
    K = np.concatenate([B @ np.swapaxes(B, 1, 2), np.eye(6)[None]])

    C = sampling.psd_square_root(K)
    assert np.all(np.isfinite(C))
    np.testing.assert_allclose(C @ np.swapaxes(C, 1, 2), K, rtol=0, atol=1e-12 * np.abs(K).max())


def test_psd_square_root_uses_cholesky():
    rng = np.random.default_rng(7)
    B = rng.standard_normal((4, 5, 9))
    K = B @ np.swapaxes(B, 1, 2)

    np.testing.assert_array_equal(sampling.psd_square_root(K), np.linalg.cholesky(K))


def test_sampler_duplicate_and_near_duplicate_inputs():
    X = digit_inputs(3)
    near = X[1] + 1e-9 * np.random.default_rng(8).standard_normal(64)
    X = np.vstack([X, X[0], near])

    f = sampling.sample_outputs(X, [64, 50, 50, 1], 4000, np.random.default_rng(9))
    assert np.all(np.isfinite(f))
    np.testing.assert_allclose(f[:, 3], f[:, 0], atol=1e-6)
    np.testing.assert_allclose(f[:, 4], f[:, 1], atol=1e-4)
    M, se = function_spaces.second_moments(f)
    assert np.all(np.abs(M - kernels.nngp_gram(X, 3)) <= 4 * se + 0.01)


def test_sampler_more_inputs_than_width():
    # n = 6 inputs through layers of width 2 gives rank-2 covariances at every layer.
    X = digit_inputs(6)
    widths = [64, 2, 2, 1]
    sampled = sampling.sample_outputs(X, widths, 30_000, np.random.default_rng(10))
    by_weights = sampling.sample_outputs_by_weights(X, widths, 6_000, np.random.default_rng(11))

    assert np.all(np.isfinite(sampled))
    assert np.all(two_sample_z(pair_products(sampled, 1), pair_products(by_weights, 1)) <= 4)


def test_sampler_chunks_networks(monkeypatch):
    X = digit_inputs(2)
    monkeypatch.setattr(sampling, "CHUNK_ENTRIES", 2 * 2 * 10)

    f = sampling.sample_outputs(X, [64, 10, 1], 25, np.random.default_rng(12))
    assert f.shape == (25, 2)
    assert len(np.unique(f[:, 0])) == 25


def test_layerwise_first_units_match_depth():
    X = digit_inputs(3)
    first_units, K = sampling.sample_layerwise(X, [64, 40, 40, 40], 3000, np.random.default_rng(13))

    assert first_units.shape == (3, 3000, 3)
    assert K.shape == (3, 3000, 3, 3)
    np.testing.assert_allclose(K[0], np.broadcast_to(X @ X.T / 64, (3000, 3, 3)), rtol=1e-12)
    for L in (1, 2, 3):
        M, se = function_spaces.second_moments(first_units[L - 1])
        assert np.all(np.abs(M - kernels.nngp_gram(X, L)) <= 4 * se), f"layer {L}"
        kernel_se = K[L - 1].std(axis=0, ddof=1) / np.sqrt(3000)
        assert np.all(np.abs(K[L - 1].mean(axis=0) - kernels.nngp_gram(X, L)) <= 4 * kernel_se + 1e-12), f"layer {L}"


def test_sampler_rejects_bad_arguments():
    X = digit_inputs(2)
    rng = np.random.default_rng(0)

    for sampler in (sampling.sample_outputs, sampling.sample_outputs_by_weights):
        with pytest.raises(ValueError, match="end with 1"):
            sampler(X, [64, 5, 2], 3, rng)
        with pytest.raises(ValueError, match="widths\\[0\\] must equal"):
            sampler(X, [63, 5, 1], 3, rng)
        with pytest.raises(ValueError, match="widths\\[1\\] must be a positive integer"):
            sampler(X, [64, 0, 1], 3, rng)
        with pytest.raises(ValueError, match="n_networks"):
            sampler(X, [64, 5, 1], 0, rng)
        with pytest.raises(ValueError, match="rng must"):
            sampler(X, [64, 5, 1], 3, 42)
        with pytest.raises(ValueError, match="finite"):
            sampler(np.full((2, 64), np.nan), [64, 5, 1], 3, rng)
        with pytest.raises(ValueError, match="at least"):
            sampler(X, [64], 3, rng)
