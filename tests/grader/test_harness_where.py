"""Naming where a timed-out case's code was, from the faulthandler dump of its own process."""

from __future__ import annotations

from grader import harness

SUB = harness.SUBMISSION


def dump(*threads: list[str]) -> str:
    lines = []
    for i, frames in enumerate(threads):
        lines.append(f"Thread 0x{i + 1:016x} (most recent call first):")
        lines += [f"  {frame}" for frame in frames]
        lines.append("")
    return "\n".join(lines)


def test_the_innermost_submitted_frames_of_the_first_thread_that_has_any():
    text = dump(
        ['File "/usr/lib/python3/threading.py", line 9 in wait'],  # a thread of the student's
        [
            'File "/usr/lib/numpy/core/fromnumeric.py", line 88 in sum',
            f'File "{SUB}/conv.py", line 42 in conv_forward',
            f'File "{SUB}/conv.py", line 10 in <module>',
            f'File "{harness.HIDDEN}/cases.py", line 120 in conv_case',
        ],
    )
    assert (
        harness.where_it_was(text)
        == "conv.py line 42 in conv_forward < conv.py line 10 in <module>"
    )


def test_hidden_files_and_forged_or_odd_lines_are_never_named():
    text = dump(
        [
            f'File "{harness.HIDDEN}/cases.py", line 120 in conv_case',
            f'File "{SUB}/../hidden/cases.py", line 5 in secret',  # not in the submission folder
            f'File "{SUB}/a.py", line 5 in f(); import os',  # not a function name
            "<script>",
        ]
    )
    assert harness.where_it_was(text) == ""
    assert harness.where_it_was("") == "" and harness.where_it_was("\x00" * 100) == ""


def test_at_most_a_few_frames():
    frames = [f'File "{SUB}/rnn.py", line {n} in step' for n in range(1, 30)]
    assert harness.where_it_was(dump(frames)).count(" < ") == harness.STACK_FRAMES - 1
