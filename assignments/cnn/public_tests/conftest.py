"""Shared setup for the public tests: find your implementation, seed the inputs.

The folder holding conv.py, pool.py and lenet.py is $DLGRADER_IMPL_DIR when that is set,
else the folder above public_tests/ (where the starter files are).
"""

from __future__ import annotations

import os
import sys
from pathlib import Path

import numpy as np
import pytest

IMPL_DIR = Path(os.environ.get("DLGRADER_IMPL_DIR") or Path(__file__).resolve().parent.parent)
sys.path.insert(0, str(IMPL_DIR))


@pytest.fixture
def rng() -> np.random.Generator:
    """A fresh, seeded generator per test, so every test sees the same numbers every run."""
    return np.random.default_rng(31337)
