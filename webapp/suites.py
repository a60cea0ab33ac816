"""Suite versions: store an uploaded (or synced) package, and make a version live.

A package creates its assignment, or adds a suite version to it. On a published assignment a
new version is not current until it goes live (after its self-check passes); on an unpublished
one nobody but staff sees it, so it becomes current at once and staff can try it.
"""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import select

from grader import Package
from webapp.extensions import db
from webapp.models import Assignment, LatePolicy, Suite


@dataclass(frozen=True)
class Stored:
    """What storing a package did: its assignment's suite for it, and whether it is new."""

    suite: Suite
    created: bool  # False: an identical version (same sha256) was already stored


def store_package(package: Package) -> Stored:
    """Create the assignment or add `package` as its next suite version (flushed, not
    committed). An identical version already stored is returned instead of a duplicate."""
    config = package.config
    assignment = Assignment.by_slug(config.slug)
    if assignment is None:
        assignment = Assignment(
            slug=config.slug,
            title=config.title,
            summary=config.summary,
            deadline=config.deadline,
            late_policy=LatePolicy(config.late),
            published=False,
        )
        db.session.add(assignment)
        db.session.flush()  # add_suite numbers versions by querying this assignment's id
    same = db.session.scalar(
        select(Suite).where(Suite.assignment_id == assignment.id, Suite.sha256 == package.sha256)
    )
    if same is not None:
        return Stored(same, created=False)
    suite = assignment.add_suite(package, make_current=not assignment.published)
    if suite is assignment.current_suite:
        take_metadata(suite)
    db.session.flush()
    return Stored(suite, created=True)


def take_metadata(suite: Suite) -> None:
    """The assignment's title and summary follow its current suite's assignment.toml."""
    config = suite.config
    suite.assignment.title, suite.assignment.summary = config.title, config.summary


def go_live(suite: Suite) -> None:
    """Make `suite` its assignment's current version and publish the assignment (no commit).
    Callers check the gate (a passed self-check) first, or are the trusted `sync` command."""
    assignment = suite.assignment
    assignment.current_suite = suite
    assignment.published = True
    take_metadata(suite)


def is_newest_live_candidate(suite: Suite) -> bool:
    """Whether going live automatically would not replace a newer current version."""
    current = suite.assignment.current_suite
    return current is None or suite.version >= current.version
