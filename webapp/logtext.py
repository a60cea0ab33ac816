"""Shorter logs for people: a traceback that repeats (the starter raising the same
NotImplementedError in every case) is shown once with how many times it occurred.

Plain text in, plain values out; the templates render the pieces (escaped)."""

from __future__ import annotations

from dataclasses import dataclass

TRACEBACK_START = "Traceback"


@dataclass(frozen=True)
class LogPiece:
    """A block of the log (a traceback, or a run of other lines) and how often it occurred."""

    text: str
    count: int = 1


def _blocks(log: str) -> list[tuple[str, bool]]:
    """The log cut into (text, is_traceback) blocks, in order. A traceback runs from its
    "Traceback" line to the first following line that is not indented (the exception line)."""
    blocks: list[tuple[str, bool]] = []
    lines = log.splitlines(keepends=True)
    i = 0
    while i < len(lines):
        if lines[i].startswith(TRACEBACK_START):
            j = i + 1
            while j < len(lines) and lines[j][:1] in (" ", "\t"):
                j += 1
            end = min(j + 1, len(lines))  # the exception line belongs to the block
            blocks.append(("".join(lines[i:end]), True))
            i = end
        else:
            j = i + 1
            while j < len(lines) and not lines[j].startswith(TRACEBACK_START):
                j += 1
            blocks.append(("".join(lines[i:j]), False))
            i = j
    return blocks


def collapse_repeats(log: str) -> list[LogPiece]:
    """The log with each traceback that occurs more than once kept only where it first
    appears, counted; everything else stays in place, in order."""
    pieces: list[LogPiece] = []
    first: dict[str, int] = {}
    for text, is_traceback in _blocks(log):
        key = text.rstrip("\n")
        if is_traceback and key in first:
            at = first[key]
            pieces[at] = LogPiece(pieces[at].text, pieces[at].count + 1)
            continue
        if is_traceback:
            first[key] = len(pieces)
        pieces.append(LogPiece(text))
    return pieces


FAILURE_LOG_LINES = 40  # of a failed run's log, shown to staff


def last_lines(text: str, lines: int = FAILURE_LOG_LINES) -> str:
    """The last `lines` lines of `text` (all of it when shorter)."""
    kept = text.splitlines(keepends=True)[-lines:]
    return "".join(kept)


def failure_log(log_tail: str) -> list[LogPiece]:
    """The end of a failed run's log as staff see it: its last lines, repeats collapsed."""
    return collapse_repeats(last_lines(log_tail))
