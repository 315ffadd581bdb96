"""Every lecture 6 figure draws from small inputs and returns a Figure with the expected panels."""

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt
import numpy as np
import pytest

from lib import adversarial, boolean_functions, invariance, lipschitz, ntk
from lib import project_plots as plots


@pytest.fixture(autouse=True)
def close_figures():
    yield
    plt.close("all")


def test_ntk_width_panel_marks_current_width():
    study = ntk.compute_ntk_width_study(L=2, n_networks=3, rng=np.random.default_rng(0), widths=[8, 16, 32], n_angles=5)
    fig = plots.plot_ntk_width_panel(ntk.compute_ntk_width_panel(study, 16))
    assert len(fig.axes) == 2
    assert "width = 16" in fig.axes[0].get_title()


def test_lazy_training_figure():
    rng = np.random.default_rng(1)
    result = ntk.compute_lazy_training(rng.standard_normal((4, 3)), np.ones(4), L=2, widths=[8, 16], n_networks=2, n_steps=5, rng=rng)
    assert len(plots.plot_lazy_training(result).axes) == 2


def test_sampler_figure_labels_every_function():
    result = boolean_functions.compute_sampler_comparison(2, [0, 1], [1.0, -1.0], L=2, width=8, n_networks=20, eta=0.2,
                                                          max_steps=50, n_prior_samples=2000, rng=np.random.default_rng(2))
    fig = plots.plot_sampler_comparison(result)
    assert len(fig.axes[1].get_xticklabels()) == 4


def test_invariance_figure():
    rng = np.random.default_rng(3)
    X, y = invariance.cyclic_data(10, 4, 0.1, rng)
    groups = {"none": invariance.shift_group(4, step=4), "C4": invariance.shift_group(4)}
    result = invariance.compute_invariance_evidence(X, y, X[:3], y[:3], groups, L=2, noise_var=0.01)
    assert len(plots.plot_invariance(result, 0.1, correct=("none", "C4")).axes) == 2


def test_adversarial_figure_shows_eps():
    study = adversarial.compute_adversarial_study((3, 8), 100, np.linspace(0, 0.3, 4), np.random.default_rng(4))
    fig = plots.plot_adversarial_view(adversarial.compute_adversarial_view(study, 0.1))
    assert "eps = 0.10" in fig.axes[0].get_title()
    assert len(fig.axes) == 3


def test_lipschitz_figure():
    rng = np.random.default_rng(5)
    errors = 1 - (lipschitz.power_iteration(np.diag([2.0, 1.0]), 5, rng) / 2) ** 2
    looseness = lipschitz.compute_depth_looseness([1, 2], width=8, n_inputs=10, rng=rng)
    assert len(plots.plot_lipschitz(errors + 1e-16, np.ones(5), looseness).axes) == 2
