"""Per-item statistics of the gradebook (mean, median, how many scores and submissions) and a
score histogram drawn as inline SVG on the server (the CSP allows no script)."""

from __future__ import annotations

import statistics
from collections.abc import Collection
from dataclasses import dataclass

from markupsafe import Markup, escape
from sqlalchemy import func, select

from webapp.extensions import db
from webapp.gradebook.service import Column, Row
from webapp.models import Role, Submission, User

BINS = 10  # 0-10%, 10-20%, ..., 90-100% of the item's max (100% goes in the last bin)
SVG_W, SVG_H, AXIS_H, BAR_GAP = 200, 60, 12, 2


@dataclass(frozen=True)
class ItemStats:
    column: Column
    count: int  # students with a score
    students: int
    mean: float | None  # points
    median: float | None
    submissions: int | None  # autograded: every submission made by students
    bins: tuple[int, ...]


def submission_counts(assignment_ids: Collection[int]) -> dict[int, int]:
    """Assignment id -> number of submissions students made (one query)."""
    rows = db.session.execute(
        select(Submission.assignment_id, func.count())
        .join(User, User.id == Submission.user_id)
        .where(Submission.assignment_id.in_(assignment_ids), User.role == Role.STUDENT)
        .group_by(Submission.assignment_id)
    )
    return dict(rows.all())


def item_stats(columns: list[Column], rows: list[Row]) -> list[ItemStats]:
    """Statistics of every item over `rows` (missing scores are left out, not zero)."""
    counts = submission_counts([c.assignment_id for c in columns if c.assignment_id])
    stats = []
    for column in columns:
        cells = [row.cells[column.key] for row in rows]
        scores = [c.score for c in cells if c.score is not None]
        fractions = [c.fraction for c in cells if c.fraction is not None]
        stats.append(
            ItemStats(
                column=column,
                count=len(scores),
                students=len(rows),
                mean=statistics.fmean(scores) if scores else None,
                median=statistics.median(scores) if scores else None,
                submissions=None if column.is_manual else counts.get(column.assignment_id, 0),
                bins=histogram(fractions),
            )
        )
    return stats


def histogram(fractions: list[float]) -> tuple[int, ...]:
    """How many fractions fall in each tenth of 0..1."""
    bins = [0] * BINS
    for value in fractions:
        bins[min(BINS - 1, max(0, int(value * BINS)))] += 1
    return tuple(bins)


def histogram_svg(bins: tuple[int, ...], label: str) -> Markup:
    """A bar chart of `bins` as an inline <svg> with a text alternative."""
    tallest = max(bins) or 1
    width = SVG_W / len(bins)
    bars = []
    for i, count in enumerate(bins):
        height = round(SVG_H * count / tallest, 1)
        bars.append(
            f'<rect x="{i * width + BAR_GAP / 2:g}" y="{SVG_H - height:g}" '
            f'width="{width - BAR_GAP:g}" height="{height:g}" fill="#0b5cad">'
            f"<title>{i * 10}-{(i + 1) * 10}%: {count}</title></rect>"
        )
    summary = ", ".join(f"{i * 10}-{(i + 1) * 10}%: {c}" for i, c in enumerate(bins))
    height = SVG_H + AXIS_H
    return Markup(
        f'<svg class="histogram" role="img" viewBox="0 0 {SVG_W} {height}" '
        f'width="{SVG_W}" height="{height}" aria-label="{escape(label)}: {summary}">'
        f'<line x1="0" y1="{SVG_H + 0.5}" x2="{SVG_W}" y2="{SVG_H + 0.5}" stroke="#5b636b"/>'
        + "".join(bars)
        + f'<text x="0" y="{height - 1}" font-size="10" fill="#5b636b">0%</text>'
        f'<text x="{SVG_W}" y="{height - 1}" font-size="10" fill="#5b636b" '
        f'text-anchor="end">100%</text></svg>'
    )
