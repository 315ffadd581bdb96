"""Helper library for the neural network theory lectures.

Each module is named after a concept of the course; import the module you need, for
example ``from lib import neurons``. Every random draw takes a ``numpy.random.Generator``.
"""
