"""The sign attack on a linear logit: the exact eps ||w||_1 change, optimality against a linear program, accuracy from margins."""

import numpy as np
import pytest
import scipy.optimize

from lib import adversarial


@pytest.mark.parametrize("eps", [0.01, 0.1, 0.5, 3.0])
def test_sign_attack_lowers_margin_by_l1_norm(eps):
    rng = np.random.default_rng(0)
    w = rng.standard_normal(30)
    w[:5] = 0.0
    b = 0.3
    X = rng.standard_normal((40, 30))
    y = rng.choice([-1.0, 1.0], size=40)

    attacked = adversarial.sign_attack(X, y, w, eps)
    change = y * (adversarial.logits(attacked, w, b) - adversarial.logits(X, w, b))
    np.testing.assert_allclose(change, -eps * np.sum(np.abs(w)), rtol=1e-12)
    assert np.max(np.abs(attacked - X)) == pytest.approx(eps, rel=1e-15)


def test_no_box_perturbation_does_better():
    rng = np.random.default_rng(1)
    w = rng.standard_normal(20)
    eps = 0.2

    best = scipy.optimize.linprog(-w, bounds=[(-eps, eps)] * w.size)
    assert -best.fun == pytest.approx(eps * np.sum(np.abs(w)), rel=1e-9)
    corners = eps * rng.choice([-1.0, 1.0], size=(5000, 20))
    inside = rng.uniform(-eps, eps, size=(5000, 20))
    assert np.all(corners @ w <= eps * np.sum(np.abs(w)))
    assert np.all(inside @ w <= eps * np.sum(np.abs(w)))


def test_sign_attack_is_fast_gradient_sign():
    rng = np.random.default_rng(2)
    w = rng.standard_normal(10)
    b = -0.1
    X = rng.standard_normal((6, 10))
    y = rng.choice([-1.0, 1.0], size=6)
    eps = 0.05
    step = 1e-6

    for x, label, attacked in zip(X, y, adversarial.sign_attack(X, y, w, eps)):
        loss = lambda z: np.log1p(np.exp(-label * (z @ w + b)))
        gradient = np.array([(loss(x + step * e) - loss(x - step * e)) / (2 * step) for e in np.eye(10)])
        np.testing.assert_array_equal(attacked, x + eps * np.sign(gradient))


def test_attacked_accuracy_equals_margin_prediction():
    study = adversarial.compute_adversarial_study((3, 8), 150, np.linspace(0, 0.3, 16), np.random.default_rng(3))
    np.testing.assert_array_equal(study["attacked"], study["predicted"])
    assert study["attacked"][0] > 0.9
    assert np.all(np.diff(study["attacked"]) <= 0)
    assert study["attacked"][-1] < study["random"][-1]


def test_adversarial_view_examples_flip_in_margin_order():
    study = adversarial.compute_adversarial_study((3, 8), 150, np.linspace(0, 0.3, 4), np.random.default_rng(4))
    view = adversarial.compute_adversarial_view(study, 0.0, n_examples=3)
    np.testing.assert_array_equal(view["clean"], view["adversarial"])
    margins = view["labels"] * view["clean_logits"]
    assert np.all(margins > 0)
    assert np.all(np.diff(margins) >= 0)

    threshold = margins[1] / np.sum(np.abs(study["w"]))
    flipped = adversarial.compute_adversarial_view(study, threshold * 1.001, n_examples=3)
    np.testing.assert_array_equal(flipped["labels"] * flipped["adversarial_logits"] < 0, [True, True, False])


def test_split_scales_pixels_to_unit_range():
    X_train, y_train, X_test, y_test = adversarial.split_digits((0, 1), 100, np.random.default_rng(5))
    assert X_train.shape == (100, 64)
    assert min(X_train.min(), X_test.min()) >= 0
    assert max(X_train.max(), X_test.max()) <= 1
    assert set(np.unique(np.concatenate([y_train, y_test]))) == {-1.0, 1.0}


def test_adversarial_bad_arguments_raise():
    rng = np.random.default_rng(6)
    with pytest.raises(ValueError, match="eps must"):
        adversarial.sign_attack(np.ones((2, 3)), np.ones(2), np.ones(3), -0.1)
    with pytest.raises(ValueError, match="y must have shape"):
        adversarial.sign_attack(np.ones((2, 3)), np.ones(3), np.ones(3), 0.1)
    with pytest.raises(ValueError, match="classes must name two digits"):
        adversarial.split_digits((1, 2, 3), 10, rng)
    with pytest.raises(ValueError, match="n_train must be below"):
        adversarial.split_digits((0, 1), 10_000, rng)
