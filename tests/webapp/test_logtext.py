"""Repeated tracebacks in a run's log are shown once, counted (webapp.logtext)."""

from __future__ import annotations

from webapp.logtext import LogPiece, collapse_repeats, failure_log, last_lines

TB = (
    "Traceback (frames in your files):\n"
    '  File "/submission/layers.py", line 12, in forward\n'
    "    raise NotImplementedError\n"
    "NotImplementedError\n"
)
OTHER = (
    "Traceback (frames in your files):\n"
    '  File "/submission/mlp.py", line 3, in loss\n'
    "    return x / 0\n"
    "ZeroDivisionError: division by zero\n"
)


def test_identical_tracebacks_are_shown_once_with_their_count():
    """Twenty identical tracebacks, between other lines, become one piece counted 20."""
    log = "harness ready\n" + TB * 20 + "done\n"
    assert collapse_repeats(log) == [
        LogPiece("harness ready\n"),
        LogPiece(TB, 20),
        LogPiece("done\n"),
    ]


def test_different_tracebacks_stay_apart_in_first_seen_order():
    """Repeats need not be adjacent; a different traceback keeps its own piece."""
    pieces = collapse_repeats(TB + "case b\n" + OTHER + TB + OTHER + TB)
    assert pieces == [LogPiece(TB, 3), LogPiece("case b\n"), LogPiece(OTHER, 2)]


def test_a_log_without_repeats_is_unchanged():
    """Joining the pieces gives back the log, and an empty log gives nothing."""
    log = "line one\n" + TB + "line two\n  indented\nlast line without newline"
    assert "".join(p.text for p in collapse_repeats(log)) == log
    assert all(p.count == 1 for p in collapse_repeats(log))
    assert collapse_repeats("") == []


def test_a_traceback_cut_off_at_the_end_of_the_tail_is_kept():
    """A traceback with no exception line yet (the tail ends mid-way) is still shown."""
    cut = 'Traceback (most recent call last):\n  File "x.py", line 1\n'
    assert collapse_repeats(cut) == [LogPiece(cut)]


def test_a_failed_runs_log_shows_its_last_lines_collapsed():
    """Only the end of a long log is kept, and repeats in it are still counted."""
    log = "".join(f"line {i}\n" for i in range(100)) + TB * 3
    pieces = failure_log(log)
    assert pieces[0].text.startswith("line 72\n") and pieces[-1] == LogPiece(TB, 3)
    assert last_lines("a\nb\nc", 2) == "b\nc"
