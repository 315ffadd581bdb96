"""Argument checks shared by the lib modules. Each raises ValueError naming the argument."""

import numbers

import numpy as np


def as_array(value, name, ndim=None, shape=None):
    """Return ``value`` as a finite float array, checking its number of dimensions and shape.

    ``shape`` may contain None for an axis of any length.
    """
    array = np.asarray(value, dtype=float)
    if ndim is not None and array.ndim != ndim:
        raise ValueError(f"{name} must be a {ndim}-D array, got shape {array.shape}")
    if shape is not None:
        expected = tuple("any" if n is None else n for n in shape)
        if array.ndim != len(shape) or any(n is not None and n != m for n, m in zip(shape, array.shape)):
            raise ValueError(f"{name} must have shape {expected}, got {array.shape}")
    if not np.all(np.isfinite(array)):
        raise ValueError(f"{name} must contain only finite values, found NaN or inf")
    return array


def positive_int(value, name):
    """Return ``value`` as an int after checking that it is a whole number >= 1."""
    if isinstance(value, bool) or not isinstance(value, numbers.Integral) or value < 1:
        raise ValueError(f"{name} must be a positive integer, got {value!r}")
    return int(value)


def finite_scalar(value, name, low=None, high=None):
    """Return ``value`` as a float after checking that it is finite and in [low, high]."""
    if isinstance(value, bool) or not isinstance(value, numbers.Real) or not np.isfinite(value):
        raise ValueError(f"{name} must be a finite real number, got {value!r}")
    if low is not None and value < low:
        raise ValueError(f"{name} must be >= {low}, got {value!r}")
    if high is not None and value > high:
        raise ValueError(f"{name} must be <= {high}, got {value!r}")
    return float(value)


def generator(rng, name="rng"):
    """Return ``rng`` after checking that it is a numpy.random.Generator."""
    if not isinstance(rng, np.random.Generator):
        raise ValueError(f"{name} must be a numpy.random.Generator, e.g. np.random.default_rng(0), got {type(rng).__name__}")
    return rng


def weight_list(W, name="W"):
    """Return ``W`` as a list of finite 2-D arrays whose shapes chain (W[l] is d_l x d_{l-1})."""
    if len(W) == 0:
        raise ValueError(f"{name} must be a non-empty list of 2-D weight matrices")
    W = [as_array(W_l, f"{name}[{l}]", ndim=2) for l, W_l in enumerate(W)]
    for l in range(1, len(W)):
        if W[l].shape[1] != W[l - 1].shape[0]:
            raise ValueError(
                f"{name}[{l}] has {W[l].shape[1]} columns but {name}[{l - 1}] has {W[l - 1].shape[0]} rows; "
                f"W[l] must be d_l x d_(l-1)"
            )
    return W
