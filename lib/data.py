"""Real data from installed packages; nothing is downloaded."""

import numpy as np
import sklearn.datasets


def load_digits(classes=None):
    """Return scikit-learn's bundled 8x8 digits as (X, y): X of shape (n, 64) with pixel values 0-16, y int labels.

    ``classes`` keeps only the listed digits, in the order they appear in the data set.
    """
    X, y = sklearn.datasets.load_digits(return_X_y=True)
    if classes is not None:
        keep = np.isin(y, list(classes))
        if not keep.any():
            raise ValueError(f"classes must name digits 0-9 present in the data, got {classes!r}")
        X, y = X[keep], y[keep]
    return X.astype(float), y.astype(int)


def normalise_rows(X):
    """Rescale each row of X (n, d0) to norm sqrt(d0), the course normalisation of inputs."""
    X = np.asarray(X, dtype=float)
    if X.ndim != 2:
        raise ValueError(f"X must be a 2-D array (n, d0), got shape {X.shape}")
    norms = np.linalg.norm(X, axis=1, keepdims=True)
    if np.any(norms == 0) or not np.all(np.isfinite(X)):
        raise ValueError("X must have finite rows of non-zero norm to be normalised")
    return X * np.sqrt(X.shape[1]) / norms
