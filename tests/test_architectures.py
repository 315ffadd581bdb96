"""Parameter counts, attention variance and the toy architecture search."""

import numpy as np
import pytest
import scipy.signal

from lib import architectures, nas


def test_lecun1989_totals_match_paper():
    counts = architectures.lecun1989_counts()
    assert 256 + sum(c[0] for c in counts.values()) == 1256
    assert sum(c[1] for c in counts.values()) == 64660
    assert sum(c[2] for c in counts.values()) == 9760


def test_conv_layer_counts_by_enumeration():
    # Enumerate every (unit, input pixel) link of a small strided convolution.
    maps, size, k, seen = 2, 3, 2, 3
    links = {(m, r, c, i, dr, dc) for m in range(maps) for r in range(size) for c in range(size)
             for i in range(seen) for dr in range(k) for dc in range(k)}
    units = maps * size * size
    assert architectures.conv_layer_counts(maps, size, k, seen) == (units, len(links) + units, maps * seen * k * k + units)


def test_conv_weights_against_dense_equivalent():
    rng = np.random.default_rng(0)
    image, kernel = rng.standard_normal((6, 6)), rng.standard_normal((3, 3))
    dense = np.array([np.pad(kernel, ((r, 3 - r), (c, 3 - c))).ravel() for r in range(4) for c in range(4)])

    assert np.allclose(dense @ image.ravel(), scipy.signal.correlate2d(image, kernel, mode="valid").ravel(), rtol=1e-12)
    assert len(np.unique(dense[dense != 0])) == architectures.conv_weights(3)


def test_attention_variance_monte_carlo():
    rng = np.random.default_rng(1)
    for d_k in (1, 8, 64):
        s = architectures.sample_attention_scores(d_k, 50_000, rng)
        # Tolerance: 4 standard errors of the mean of s^2.
        assert abs(np.mean(s**2) - d_k) < 4 * np.std(s**2) / np.sqrt(s.size)


def test_softmax_sums_to_one_and_is_stable():
    p = architectures.softmax(np.array([[1000.0, 1000.0, -1000.0]]))
    assert np.allclose(p, [[0.5, 0.5, 0.0]])


def test_darts_gradients_match_finite_differences():
    rng = np.random.default_rng(2)
    names = list(nas.OPERATIONS)
    x, y = rng.uniform(-1, 1, 30), rng.standard_normal(30)
    a, w = rng.standard_normal(len(names)), rng.standard_normal(len(names))
    _, grad_a, grad_w = nas.darts_gradients(x, y, a, w, names)

    step = 1e-6
    for k in range(len(names)):
        e = np.eye(len(names))[k] * step
        numeric_a = (nas.darts_gradients(x, y, a + e, w, names)[0] - nas.darts_gradients(x, y, a - e, w, names)[0]) / (2 * step)
        numeric_w = (nas.darts_gradients(x, y, a, w + e, names)[0] - nas.darts_gradients(x, y, a, w - e, names)[0]) / (2 * step)
        assert abs(grad_a[k] - numeric_a) < 1e-6
        assert abs(grad_w[k] - numeric_w) < 1e-6


def test_reinforce_finds_best_reward():
    rewards = np.array([0.0, 1.0, 3.0, 0.5])
    policy = nas.reinforce(rewards, steps=500, lr=0.1, rng=np.random.default_rng(3))
    assert np.allclose(policy.sum(axis=1), 1)
    assert np.argmax(policy[-1]) == 2


@pytest.mark.parametrize("call", [lambda: architectures.dense_weights(0, 3), lambda: architectures.conv_weights(2.5),
                                  lambda: architectures.sample_attention_scores(4, 10, None)])
def test_counts_reject_bad_arguments(call):
    with pytest.raises(ValueError):
        call()
