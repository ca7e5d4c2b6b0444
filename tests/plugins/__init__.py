"""Fixtures shared across test directories, registered by `pytest_plugins` in tests/conftest.py.

A fixture used by more than one test module lives here (or in the nearest conftest.py),
never in a test module that others import it from.
"""
