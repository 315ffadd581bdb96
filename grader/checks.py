"""Checks that hidden test cells import; each raises AssertionError with a message for the student.

They compare a student's value with a reference that the test cell computes itself:
sympy expressions by equivalence, arrays by closeness, Monte Carlo estimates by a number of
standard errors. The grading kernel's guard restores this module if student code replaces it.
"""

import random

import numpy as np
import sympy

SAMPLE_POINTS = 6


def as_float_array(value, name, shape=None):
    """Return ``value`` as a new float ndarray, failing with a message if it is not numeric."""
    try:
        array = np.array(value, dtype=float)
    except (TypeError, ValueError):
        raise AssertionError(f"{name} must be a number or an array of numbers, got {type(value).__name__}") from None
    if shape is not None and array.shape != tuple(shape):
        raise AssertionError(f"{name} must have shape {tuple(shape)}, got {array.shape}")
    return array


def assert_finite(array, name, hint=""):
    """Fail if ``array`` contains NaN or infinity."""
    if not np.all(np.isfinite(array)):
        raise AssertionError(f"{name} contains NaN or infinity" + (f": {hint}" if hint else ""))


def assert_close(actual, expected, name, rtol=1e-10, atol=1e-12, hint=""):
    """Fail unless ``actual`` matches ``expected`` entry by entry within rtol and atol."""
    expected = np.asarray(expected, dtype=float)
    actual = as_float_array(actual, name, expected.shape)
    assert_finite(actual, name, hint)
    error = np.abs(actual - expected)
    allowed = atol + rtol * np.abs(expected)
    if np.all(error <= allowed):
        return
    worst = np.unravel_index(np.argmax(error - allowed), error.shape) if error.ndim else ()
    where = f" at index {tuple(int(i) for i in worst)}" if worst else ""
    message = f"{name} is wrong{where}: got {actual[worst]:.6g}, expected {expected[worst]:.6g}"
    raise AssertionError(message + (f" ({hint})" if hint else ""))


def assert_within_standard_errors(estimate, expected, standard_error, name, n_se=5.0, bias=0.0):
    """Fail if any Monte Carlo ``estimate`` is further than n_se standard errors plus ``bias`` from ``expected``."""
    expected = np.asarray(expected, dtype=float)
    standard_error = np.broadcast_to(np.asarray(standard_error, dtype=float), expected.shape)
    estimate = as_float_array(estimate, name, expected.shape)
    assert_finite(estimate, name)
    excess = np.abs(estimate - expected) - (n_se * standard_error + bias)
    if np.all(excess <= 0):
        return
    worst = np.unravel_index(np.argmax(excess), excess.shape) if excess.ndim else ()
    where = f" entry {tuple(int(i) for i in worst)}" if worst else ""
    distance = abs(estimate[worst] - expected[worst]) / standard_error[worst]
    raise AssertionError(
        f"{name}{where} is {estimate[worst]:.4g} but the theory gives {expected[worst]:.4g}: "
        f"{distance:.1f} standard errors ({standard_error[worst]:.2g}) away, more than the {n_se:g} allowed"
    )


def _sample_value(symbol, generator):
    if symbol.is_integer:
        return sympy.Integer(generator.randint(1, 6))
    if symbol.is_positive or symbol.is_nonnegative:
        return sympy.Float(generator.uniform(0.5, 2.0))
    return sympy.Float(generator.uniform(-2.0, 2.0))


def _as_expression(value, name):
    if isinstance(value, str):
        raise AssertionError(f"{name} must be a sympy expression, not the string {value!r}")
    try:
        expression = sympy.sympify(value, strict=True)
    except (sympy.SympifyError, TypeError):
        raise AssertionError(f"{name} must be a sympy expression, got {type(value).__name__}") from None
    return expression.doit() if hasattr(expression, "doit") else expression


def _number(expression):
    value = complex(expression.evalf())
    return value.real if abs(value.imag) < 1e-12 * max(1.0, abs(value)) else value


def _format_point(point):
    return ", ".join(f"{symbol}={float(value):.3g}" for symbol, value in sorted(point.items(), key=lambda item: item[0].name))


def assert_equivalent(actual, expected, name, seed=0):
    """Fail unless the sympy expression ``actual`` equals ``expected`` for all symbol values.

    Symbols are matched by name, so a student may create their own ``Symbol('sigma')``.
    Equality holds if sympy simplifies the difference to 0, or if both agree to 1e-9 at
    several random points. The message names the symbols that differ or a point where the
    values differ.
    """
    expected = sympy.sympify(expected)
    actual = _as_expression(actual, name)

    by_name = {symbol.name: symbol for symbol in expected.free_symbols}
    renamed = {s: by_name[s.name] for s in actual.free_symbols if s.name in by_name and s is not by_name[s.name]}
    actual = actual.xreplace(renamed)
    if actual.free_symbols - expected.free_symbols:
        actual = sympy.simplify(actual)
    extra = sorted(symbol.name for symbol in actual.free_symbols - expected.free_symbols)
    if extra:
        raise AssertionError(f"{name} still depends on {', '.join(extra)}, which the correct answer does not")
    missing = sorted(symbol.name for symbol in expected.free_symbols - actual.free_symbols)

    try:
        if sympy.simplify(actual - expected) == 0:
            return
    except (TypeError, ValueError, AttributeError, NotImplementedError):
        pass

    generator = random.Random(seed)
    symbols = sorted(expected.free_symbols, key=lambda symbol: symbol.name)
    for _ in range(SAMPLE_POINTS):
        point = {symbol: _sample_value(symbol, generator) for symbol in symbols}
        try:
            got = _number(actual.subs(point))
        except (TypeError, ValueError):
            raise AssertionError(f"{name} does not evaluate to a number at {_format_point(point)}") from None
        want = _number(expected.subs(point))
        if abs(got - want) <= 1e-9 * max(1.0, abs(want)):
            continue
        message = f"{name} differs from the correct answer: at {_format_point(point)} it is {got:.6g}, not {want:.6g}"
        if missing:
            message += f"; it does not depend on {', '.join(missing)}, but the correct answer does"
        elif expected != 0:
            ratio = sympy.simplify(actual / expected)
            if ratio.free_symbols or ratio.is_number:
                message += f"; yours / correct = {ratio}"
        raise AssertionError(message)
