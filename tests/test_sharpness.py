import numpy as np
import pytest

from lib import mlp, sharpness


def network(rng, widths=(5, 7, 1), n=6):
    W = mlp.init_weights(list(widths), rng)
    X = rng.normal(size=(n, widths[0]))
    Y = rng.normal(size=(n, 1))
    return W, X, Y


def test_rescaling_leaves_function_unchanged():
    rng = np.random.default_rng(0)
    W, X, _ = network(rng, (5, 7, 4, 1))
    rescaled = sharpness.rescale_layers(W, [3.0, 0.1, 1 / 0.3])
    before = mlp.forward(W, X)[0][-1]
    after = mlp.forward(rescaled, X)[0][-1]
    assert np.allclose(after, before, rtol=1e-12, atol=1e-14)


def test_hessian_trace_against_finite_differences():
    rng = np.random.default_rng(1)
    for widths in [(5, 7, 1), (4, 6, 3, 1)]:
        W, X, Y = network(rng, widths)
        traces = sharpness.layer_hessian_traces(W, X)
        finite = sharpness.finite_difference_hessian_trace(W, X, Y)
        assert traces.sum() == pytest.approx(finite, rel=1e-5), widths


def test_traces_match_per_input_gradients():
    rng = np.random.default_rng(4)
    for widths in [(5, 7, 1), (4, 6, 3, 1)]:
        W, X, _ = network(rng, widths)
        per_input = sharpness.output_gradients(W, X)
        expected = [2 * np.sum(grad**2) for grad in per_input]
        assert np.allclose(sharpness.layer_hessian_traces(W, X), expected, rtol=1e-12, atol=0), widths


def test_trace_under_rescaling_and_invariant():
    rng = np.random.default_rng(2)
    W, X, Y = network(rng, (5, 7, 1), n=10)
    factors = np.geomspace(0.1, 10, 7)
    result = sharpness.compute_rescaling_sharpness(W, X, Y, factors, 1e-3, 4, rng)
    assert np.allclose(result["trace"], result["trace_predicted"], rtol=1e-10, atol=0)
    assert np.allclose(result["weighted_trace"], result["weighted_trace"][0], rtol=1e-12, atol=0)
    assert np.allclose(result["outputs"], result["outputs"][0], rtol=1e-12, atol=1e-14)
    assert result["trace"].max() / result["trace"].min() > 50


def test_perturbed_loss_increase_second_order():
    # At zero residual the gradient vanishes, so E[L(W + E) - L(W)] = sigma^2 tr(H) / 2 up to O(sigma^4).
    rng = np.random.default_rng(3)
    W, X, _ = network(rng, (5, 7, 1), n=10)
    Y = mlp.forward(W, X)[0][-1]
    sigma = 1e-3
    mean, standard_error = sharpness.perturbed_loss_increase(W, X, Y, sigma, 2000, rng)
    theory = sigma**2 * sharpness.layer_hessian_traces(W, X).sum() / 2
    assert abs(mean - theory) < 4 * standard_error, (mean, theory, standard_error)


@pytest.mark.parametrize(
    "call",
    [
        lambda: sharpness.rescale_layers([np.ones((2, 3)), np.ones((1, 2))], [1.0]),
        lambda: sharpness.rescale_layers([np.ones((2, 3)), np.ones((1, 2))], [1.0, -1.0]),
        lambda: sharpness.output_gradients([np.ones((2, 3)), np.ones((2, 2))], np.ones((4, 3))),
        lambda: sharpness.perturbed_loss_increase([np.ones((1, 3))], np.ones((4, 3)), np.ones((4, 1)), 0.1, 1, np.random.default_rng(0)),
        lambda: sharpness.compute_rescaling_sharpness([np.ones((1, 3))], np.ones((4, 3)), np.ones((4, 1)), [1.0], 0.1, 2, np.random.default_rng(0)),
    ],
)
def test_bad_arguments_raise(call):
    with pytest.raises(ValueError):
        call()
