"""Submitted files are compiled once per run (in the zygote) and case children reuse the code
objects only while the file still holds the source they were compiled from."""

from __future__ import annotations

import pytest

from grader import harness


@pytest.fixture
def submission(tmp_path, monkeypatch):
    monkeypatch.setattr(harness, "SUBMISSION", str(tmp_path))
    monkeypatch.setattr(harness, "COMPILED", {})
    return tmp_path


def load(path, name: str = "ops"):
    loader = harness.SubmissionLoader(name, str(path))
    namespace: dict = {}
    exec(loader.get_code(name), namespace)
    return namespace


def test_a_compiled_file_is_reused_while_its_source_is_unchanged(submission):
    (submission / "ops.py").write_text("VALUE = 1\n")
    harness.compile_submission(["ops"])
    digest, code = harness.COMPILED["ops"]
    assert harness.SubmissionLoader("ops", str(submission / "ops.py")).get_code("ops") is code
    assert code.co_filename == str(submission / "ops.py")  # tracebacks name the submitted file
    assert load(submission / "ops.py")["VALUE"] == 1


def test_a_file_changed_since_it_was_compiled_is_compiled_again(submission):
    """An earlier case may rewrite the student's own file: later cases run what is there."""
    (submission / "ops.py").write_text("VALUE = 1\n")
    harness.compile_submission(["ops"])
    (submission / "ops.py").write_text("VALUE = 2\n")
    assert load(submission / "ops.py")["VALUE"] == 2


def test_a_file_that_does_not_compile_is_left_to_the_case(submission):
    """The zygote skips it; the case child's own compile raises the student's SyntaxError."""
    (submission / "ops.py").write_text("def broken(:\n")
    (submission / "fine.py").write_text("VALUE = 3\n")
    harness.compile_submission(["ops", "fine", "missing"])
    assert set(harness.COMPILED) == {"fine"}
    with pytest.raises(SyntaxError):
        load(submission / "ops.py")
