"""Fixtures for every test folder."""
import numpy as np
import pytest


@pytest.fixture
def rng():
    """A seeded Generator, fresh for each test: the kernel, emulated and GPU tests draw their inputs from it."""
    return np.random.default_rng(0)
