"""Shared by the worker-side tests: one submission to grade, claim and recover."""

from __future__ import annotations

import pytest


@pytest.fixture
def sub_id(make) -> int:
    """Alice's submission to a toy assignment (its run queued)."""
    return make.submission(make.user("alice"), make.assignment("toy"))
