"""Sorting and filtering gradebook rows for the staff page (server-side: no script needed).

Sort keys: `username`, `name`, `total`, `item:<key>`, `category:<name>`. Missing scores sort
last in either direction.
"""

from __future__ import annotations

from collections.abc import Callable

from webapp.gradebook.service import Gradebook, Row

DEFAULT_SORT = "username"


def sort_value(sort: str, book: Gradebook) -> Callable[[Row], float | str | None] | None:
    """The value a row sorts by, or None for an unknown sort key."""
    kind, _, name = sort.partition(":")
    if sort == "username":
        return lambda row: row.username
    if sort == "name":
        return lambda row: row.display_name.casefold()
    if sort == "total":
        return lambda row: row.total
    if kind == "item" and book.column(name) is not None:
        return lambda row: row.cells[name].score
    if kind == "category" and any(c.name == name for c in book.categories):
        return lambda row: row.categories[name].percent
    return None


def sort_rows(book: Gradebook, sort: str, descending: bool) -> list[Row]:
    """The rows ordered by `sort` (unknown keys: by username), ties by username."""
    value = sort_value(sort, book) or sort_value(DEFAULT_SORT, book)
    assert value is not None
    rows = sorted(book.rows, key=lambda row: row.username)
    present = [r for r in rows if value(r) is not None]
    missing = [r for r in rows if value(r) is None]
    present.sort(key=value, reverse=descending)  # type: ignore[arg-type]
    return present + missing


def filter_rows(rows: list[Row], text: str, missing: str) -> list[Row]:
    """Rows whose username or name contains `text`, and (if `missing` names an item) that
    have no score on it."""
    needle = text.strip().casefold()
    if needle:
        rows = [
            r
            for r in rows
            if needle in r.username.casefold() or needle in r.display_name.casefold()
        ]
    if missing:
        rows = [r for r in rows if missing in r.cells and r.cells[missing].score is None]
    return rows
