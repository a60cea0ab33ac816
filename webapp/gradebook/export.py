"""The gradebook as CSV (for the university's LMS) and as the API's JSON.

CSV columns, in this order and with these exact names: `username`, `display_name`, one column
per item named by its key (points after penalties), one per category named `<name> (%)`,
`total (%)` and `failed runs` (for staff: each submission whose latest grading run failed,
with its item, whether its score is held or kept, and the error; empty when none). Missing
scores are empty cells; numbers have two decimals.
"""

from __future__ import annotations

import csv
import io

from webapp.gradebook.service import Gradebook, Row

FAILED_RUNS_COLUMN = "failed runs"
FORMULA_START = ("=", "+", "-", "@", "\t", "\r")  # spreadsheet formula triggers


def csv_header(book: Gradebook) -> list[str]:
    return [
        "username",
        "display_name",
        *(c.key for c in book.columns),
        *(f"{c.name} (%)" for c in book.categories),
        "total (%)",
        FAILED_RUNS_COLUMN,
    ]


def _number(value: float | None) -> str:
    return "" if value is None else f"{value:.2f}"


def _text(value: str) -> str:
    """Text a spreadsheet will not run as a formula."""
    return "'" + value if value.startswith(FORMULA_START) else value


def csv_row(book: Gradebook, row: Row) -> list[str]:
    return [
        row.username,
        _text(row.display_name),
        *(_number(row.cells[c.key].score) for c in book.columns),
        *(_number(row.categories[c.name].percent) for c in book.categories),
        _number(row.total),
        _text(failed_runs_text(book, row)),
    ]


def failed_runs_text(book: Gradebook, row: Row) -> str:
    """The row's failed latest runs: `<item> <failure note>` joined by " | "."""
    return " | ".join(f"{c.key} {f.note}" for c in book.columns for f in row.cells[c.key].failed)


def gradebook_csv(book: Gradebook) -> str:
    """One header line and one line per student."""
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\r\n")
    writer.writerow(csv_header(book))
    writer.writerows(csv_row(book, row) for row in book.rows)
    return out.getvalue()


def _rounded(value: float | None) -> float | None:
    return None if value is None else round(value, 4)


def gradebook_json(book: Gradebook) -> dict:
    """{"students": [{"username", "items": {key: score|None}, "categories": {name: percent},
    "total": percent, "failed_runs": [{"item", "submission", "held", "error"}]}]}"""
    return {
        "students": [
            {
                "username": row.username,
                "items": {c.key: _rounded(row.cells[c.key].score) for c in book.columns},
                "categories": {
                    c.name: _rounded(row.categories[c.name].percent) for c in book.categories
                },
                "total": _rounded(row.total),
                "failed_runs": [
                    {"item": c.key, "submission": f.attempt_id, "held": f.held, "error": f.message}
                    for c in book.columns
                    for f in row.cells[c.key].failed
                ],
            }
            for row in book.rows
        ]
    }
