"""Wording shared by pages, flashes, the CLI and the pure gradebook rules (no Flask here)."""

from __future__ import annotations


def plural(count: int, singular: str, plural_form: str | None = None) -> str:
    """'1 submission', '2 submissions' (or `plural_form` when adding an s is wrong)."""
    word = singular if count == 1 else (plural_form or singular + "s")
    return f"{count} {word}"
