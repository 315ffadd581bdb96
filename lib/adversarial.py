"""Adversarial examples for a linear classifier: the one-step sign attack and its exact effect.

For a logit s(x) = w . x + b and a label y in {-1, +1}, the perturbation of l-infinity size eps that
lowers the margin y s(x) most is delta = -eps y sign(w), and it lowers it by exactly eps ||w||_1,
because max over ||delta||_inf <= eps of w . delta is eps ||w||_1 (Hoelder). This is the fast
gradient sign method of Goodfellow, Shlens and Szegedy (2015): for the logistic loss
ln(1 + exp(-y s(x))) the gradient in x is a negative multiple of y w, so eps sign(gradient) = delta.
"""

import numpy as np
from sklearn.linear_model import LogisticRegression

from lib import _checks, data

PIXEL_MAX = 16.0


def split_digits(classes, n_train, rng):
    """Return (X_train, y_train, X_test, y_test) for two digit classes, pixels scaled to [0, 1] and labels +1 for classes[0], -1 for classes[1]."""
    if len(classes) != 2:
        raise ValueError(f"classes must name two digits, got {classes!r}")
    n_train = _checks.positive_int(n_train, "n_train")
    rng = _checks.generator(rng)
    X, labels = data.load_digits(classes=classes)
    if n_train >= X.shape[0]:
        raise ValueError(f"n_train must be below the {X.shape[0]} images of classes {classes}, got {n_train}")

    y = np.where(labels == classes[0], 1.0, -1.0)
    order = rng.permutation(X.shape[0])
    train, test = order[:n_train], order[n_train:]
    return X[train] / PIXEL_MAX, y[train], X[test] / PIXEL_MAX, y[test]


def train_logistic(X, y, C=1.0):
    """Return (w, b) of l2-regularised logistic regression (scikit-learn, inverse regularisation strength C)."""
    model = LogisticRegression(C=C, max_iter=2000).fit(X, y)
    return model.coef_[0].copy(), float(model.intercept_[0])


def logits(X, w, b):
    """Return s(x) = w . x + b for every row of X."""
    return X @ w + b


def sign_attack(X, y, w, eps):
    """Return X + delta with delta = -eps y sign(w): the l-infinity perturbation of size eps that lowers y s(x) most."""
    X = _checks.as_array(X, "X", ndim=2)
    y = _checks.as_array(y, "y", shape=(X.shape[0],))
    eps = _checks.finite_scalar(eps, "eps", low=0.0)
    return X - eps * y[:, None] * np.sign(w)[None, :]


def accuracy(X, y, w, b):
    """Return the fraction of rows with sign s(x) = y (a logit of exactly 0 counts as an error)."""
    return float(np.mean(y * logits(X, w, b) > 0))


def accuracy_from_margins(margins, w, eps):
    """Return the accuracy under the sign attack predicted from clean margins: the fraction with y s(x) > eps ||w||_1."""
    return float(np.mean(np.asarray(margins) > eps * np.sum(np.abs(w))))


def compute_adversarial_study(classes, n_train, eps_grid, rng, C=1.0):
    """Train a logistic classifier on two digit classes and measure test accuracy against eps under attack.

    Returns a dict with the split, the weights, "eps_grid", "attacked" (accuracy of the attacked images),
    "predicted" (accuracy_from_margins) and "random" (accuracy under delta = eps times uniform random signs,
    one draw per test image and eps, the same size in l-infinity as the attack).
    """
    rng = _checks.generator(rng)
    X_train, y_train, X_test, y_test = split_digits(classes, n_train, rng)
    w, b = train_logistic(X_train, y_train, C)
    eps_grid = _checks.as_array(eps_grid, "eps_grid", ndim=1)
    margins = y_test * logits(X_test, w, b)
    random_signs = rng.choice([-1.0, 1.0], size=X_test.shape)

    attacked = [accuracy(sign_attack(X_test, y_test, w, eps), y_test, w, b) for eps in eps_grid]
    predicted = [accuracy_from_margins(margins, w, eps) for eps in eps_grid]
    random = [accuracy(X_test + eps * random_signs, y_test, w, b) for eps in eps_grid]
    return {"classes": tuple(classes), "X_test": X_test, "y_test": y_test, "w": w, "b": b, "margins": margins,
            "train_accuracy": accuracy(X_train, y_train, w, b), "eps_grid": eps_grid, "attacked": np.array(attacked),
            "predicted": np.array(predicted), "random": np.array(random), "random_signs": random_signs}


def compute_adversarial_view(study, eps, n_examples=4):
    """Attack the test images at one eps, for the eps slider: the accuracy point and the first n_examples images.

    The examples are the test images with the smallest clean margin among those still correct at eps = 0,
    so they are the first to flip as eps grows.
    """
    eps = _checks.finite_scalar(eps, "eps", low=0.0)
    n_examples = _checks.positive_int(n_examples, "n_examples")
    X, y, w, b = study["X_test"], study["y_test"], study["w"], study["b"]
    correct = np.flatnonzero(study["margins"] > 0)
    chosen = correct[np.argsort(study["margins"][correct])[:n_examples]]

    X_attacked = sign_attack(X[chosen], y[chosen], w, eps)
    return {"eps": eps, "classes": study["classes"], "eps_grid": study["eps_grid"], "attacked": study["attacked"],
            "predicted": study["predicted"], "random": study["random"],
            "accuracy": accuracy_from_margins(study["margins"], w, eps),
            "clean": X[chosen], "adversarial": X_attacked, "labels": y[chosen],
            "clean_logits": logits(X[chosen], w, b), "adversarial_logits": logits(X_attacked, w, b),
            "direction": np.sign(w)}
