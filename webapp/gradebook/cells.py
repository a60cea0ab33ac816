"""HTML of the staff table's score cells. Built here, not in the template: a thousand
students by a dozen items is 12,000 cells, and Jinja's autoescape of each value cost more
than computing the gradebook. Numbers and ids are written as they are; the one text, a
failed run's message in a cell's tooltip, is escaped."""

from __future__ import annotations

from markupsafe import Markup, escape

from webapp.gradebook.service import Cell, Column, Row

DROPPED = '<span class="visually-hidden"> (dropped)</span>'


def points(value: float | None) -> str:
    """'7.5', '10' or an em dash: at most two decimals, no trailing zeros."""
    return "—" if value is None else f"{round(value, 2):g}"


def percent(value: float | None) -> str:
    return "—" if value is None else f"{value:.1f}%"


def _failure_mark(cell: Cell, submission_href: str) -> str:
    """A marker linking to the first failed submission, the failures in its tooltip."""
    title = escape("; ".join(f.note for f in cell.failed))
    href = f"{submission_href}{cell.failed[0].attempt_id}"
    label = "held: latest run failed" if cell.held else "latest run failed"
    return (
        f' <a class="failed-run" href="{href}" title="{title}">!'
        f'<span class="visually-hidden"> ({label})</span></a>'
    )


def _cell(cell: Cell, submission_href: str) -> str:
    text = points(cell.score)
    counted = cell.counted
    if counted is not None:
        text = f'<a href="{submission_href}{counted.attempt_id}">{text}</a>'
        if counted.penalty:
            text += f'<abbr title="late: -{counted.penalty * 100:.0f}%">*</abbr>'
    classes = "num"
    if cell.failed:
        text += _failure_mark(cell, submission_href)
        classes += " held" if cell.held else " failed"
    if cell.dropped:
        return f'<td class="{classes} dropped">{text}{DROPPED}</td>'
    return f'<td class="{classes}">{text}</td>'


def score_cells(row: Row, columns: list[Column], submission_href: str) -> Markup:
    """The row's total, category percentages, then item cells, as <td> elements."""
    cells = [f'<td class="num"><strong>{percent(row.total)}</strong></td>']
    cells += [f'<td class="num">{percent(r.percent)}</td>' for r in row.categories.values()]
    cells += [_cell(row.cells[c.key], submission_href) for c in columns]
    return Markup("".join(cells))
