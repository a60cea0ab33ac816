"""HTML of the staff table's score cells. Built here, not in the template: a thousand
students by a dozen items is 12,000 cells, and Jinja's autoescape of each value cost more
than computing the gradebook. Only numbers and ids are written, so nothing needs escaping."""

from __future__ import annotations

from markupsafe import Markup

from webapp.gradebook.service import Cell, Column, Row

DROPPED = '<span class="visually-hidden"> (dropped)</span>'


def points(value: float | None) -> str:
    """'7.5', '10' or an em dash: at most two decimals, no trailing zeros."""
    return "—" if value is None else f"{round(value, 2):g}"


def percent(value: float | None) -> str:
    return "—" if value is None else f"{value:.1f}%"


def _cell(cell: Cell, submission_href: str) -> str:
    text = points(cell.score)
    counted = cell.counted
    if counted is not None:
        text = f'<a href="{submission_href}{counted.attempt_id}">{text}</a>'
        if counted.penalty:
            text += f'<abbr title="late: -{counted.penalty * 100:.0f}%">*</abbr>'
    if cell.dropped:
        return f'<td class="num dropped">{text}{DROPPED}</td>'
    return f'<td class="num">{text}</td>'


def score_cells(row: Row, columns: list[Column], submission_href: str) -> Markup:
    """The row's total, category percentages, then item cells, as <td> elements."""
    cells = [f'<td class="num"><strong>{percent(row.total)}</strong></td>']
    cells += [f'<td class="num">{percent(r.percent)}</td>' for r in row.categories.values()]
    cells += [_cell(row.cells[c.key], submission_href) for c in columns]
    return Markup("".join(cells))
