"""Fixtures for the socket-free unit tests."""

import pytest

from tests.unit.harness import Harness


@pytest.fixture
def h():
    """A fresh engine with a hand-moved clock (see tests/unit/harness.py)."""
    return Harness()
