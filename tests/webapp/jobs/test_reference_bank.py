"""The reference bank is filled in idle time only, for published suites, up to its target."""

from __future__ import annotations

import pytest

from grader.package import load_package
from grader.reference import bank_key, deserialize_reference
from grader.sandbox import DockerSandbox
from webapp.extensions import db
from webapp.jobs.reference_bank import DatabaseReferenceBank, fill_while_idle
from webapp.models import Assignment

CASES = """
def double_small(ctx):
    return {"y": ctx.module("layers").double(ctx.rng.standard_normal(3))}


def double_large(ctx):
    return {"y": ctx.module("layers").double(ctx.rng.standard_normal(300))}
"""


@pytest.mark.docker
def test_idle_fill_tops_up_published_suites_and_stops_when_a_run_waits(ctx, make):
    """Two fresh draws for the published suite (none for the draft); with a run queued,
    nothing is computed."""
    folder = make.package_dir("toy")
    (folder / "hidden" / "cases.py").write_text(CASES)
    published = make.assignment("toy", package=load_package(folder))
    make.assignment("draft", published=False)
    sandbox = DockerSandbox()
    try:
        assert fill_while_idle(target=2, sandbox=sandbox, budget=5) == 2
        package = db.session.get_one(Assignment, published).current_suite.package()
        key = bank_key(package.sha256, "cpu")
        bank = DatabaseReferenceBank()
        assert bank.size(key) == 2
        first, second = (deserialize_reference(bank.take(key)) for _ in range(2))
        assert first.draw != second.draw
        assert set(first.outputs) == {"double_small", "double_large"}
        student = make.user("ana")
        make.submission(student, published)  # a queued run: the queue is no longer idle
        assert fill_while_idle(target=2, sandbox=sandbox, budget=5) == 0
        assert bank.size(key) == 0
    finally:
        sandbox.close()
