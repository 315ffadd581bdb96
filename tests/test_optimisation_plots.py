"""Each figure of lecture 3 draws without warnings and shows the data it is given."""

import warnings

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt
import numpy as np
import pytest

from lib import mlp, optimisation_plots, quadratic, training


@pytest.fixture(autouse=True)
def warnings_are_errors():
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        yield
    plt.close("all")


@pytest.fixture(scope="module")
def grid():
    rng = np.random.default_rng(0)
    X, Y = training.load_digits_problem(30, rng)
    W = mlp.init_weights([64, 8, 8, 10], rng)
    return training.train_grid(W, X, Y, ["SGD", "Fromage"], np.array([1e-2, 1.0, 30.0]), 5)


@pytest.mark.parametrize("eta", [0.01, 1.0, 2.04, 3.9])
def test_quadratic_figure_draws_path(eta):
    result = quadratic.compute_quadratic_descent(eta, 10.0)
    fig = optimisation_plots.plot_quadratic_descent(result)
    assert len(fig.axes) == 2
    np.testing.assert_array_equal(fig.axes[0].lines[0].get_xydata(), result["path"])
    assert ("diverges" in fig.axes[1].get_title()) == (eta > 2)
    fig.canvas.draw()


@pytest.mark.parametrize("optimiser", ["SGD", "Fromage"])
@pytest.mark.parametrize("eta", [1e-2, 1.0, 30.0])
def test_training_view_draws_every_run(grid, optimiser, eta):
    view = training.compute_training_view(grid, optimiser, eta)
    fig = optimisation_plots.plot_training_view(view)
    assert len(fig.axes[0].collections[0].get_segments()) == 3
    assert len(fig.axes[1].collections[0].get_segments()) == 3
    fig.canvas.draw()


def test_static_figures_draw(grid):
    A = quadratic.quadratic_matrix(10.0)
    etas = np.logspace(-2, 1, 50)
    figures = [
        optimisation_plots.plot_first_steps(np.linspace(-1, 1, 11), {"GD": -0.1 * np.linspace(-1, 1, 11)}, 0.1),
        optimisation_plots.plot_descent_lemma(quadratic.compute_descent_lemma(A, np.ones(2), etas)),
        optimisation_plots.plot_contraction_factors(etas, {10.0: quadratic.contraction_factor(np.array([0.1, 1.0]), etas)}, 2.0),
        optimisation_plots.plot_relative_updates({"Fromage": np.full(3, 0.01)}, 0.01),
        optimisation_plots.plot_learning_rate_sweep(grid, ["SGD", "Fromage"]),
    ]
    for fig in figures:
        fig.canvas.draw()
