"""The gradebook computed from the database: load the scheme, every submission's latest graded
score, extensions, choices and typed-in scores in a handful of queries, then apply the rules.

Nothing is cached: a regrade or a new score shows on the next computation. The rules
themselves live in webapp.gradebook.rules; this module only feeds them rows.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Collection
from dataclasses import dataclass, field, replace
from datetime import datetime

from flask import current_app
from sqlalchemy import ColumnElement, Select, Subquery, func, select
from sqlalchemy.orm import aliased, selectinload

from webapp.extensions import db
from webapp.gradebook import rules
from webapp.models import (
    ActiveSubmission,
    Assignment,
    Category,
    Extension,
    GradeItem,
    GradingRun,
    LatePolicy,
    ManualScore,
    Role,
    RunState,
    ScoringPolicy,
    Submission,
    User,
)


@dataclass(frozen=True)
class StudentName:
    id: int
    username: str
    display_name: str


@dataclass(frozen=True)
class AssignmentRules:
    """Which submission counts for one assignment and its late rules."""

    count_rule: str
    late: rules.LatePolicy


@dataclass(frozen=True)
class Column:
    """One item of the gradebook; autograded items carry their assignment."""

    key: str
    title: str
    category: str
    max_score: float | None
    assignment_id: int | None = None
    slug: str | None = None
    rules: AssignmentRules | None = None

    @property
    def is_manual(self) -> bool:
        return self.assignment_id is None


@dataclass(frozen=True)
class CategorySpec:
    name: str
    weight: float
    best_n: int | None
    keys: tuple[str, ...]


@dataclass(frozen=True)
class Cell:
    """A student's score on one item: points after penalties (None: missing)."""

    score: float | None
    max_score: float | None
    counted: rules.Counted | None = None  # autograded: the counted submission and why
    dropped: bool = False
    failed: tuple[rules.FailedRun, ...] = ()  # submissions whose latest grading run failed

    @property
    def held(self) -> bool:
        """Some submission's score is withheld while its failed run awaits review."""
        return any(f.held for f in self.failed)

    @property
    def fraction(self) -> float | None:
        if self.score is None or not self.max_score:
            return None
        return self.score / self.max_score


@dataclass
class Row:
    """One student's line: item cells, category results and the weighted total."""

    user_id: int
    username: str
    display_name: str
    cells: dict[str, Cell]
    categories: dict[str, rules.CategoryResult]
    total: float


@dataclass
class Gradebook:
    categories: list[CategorySpec]
    columns: list[Column]
    rows: list[Row] = field(default_factory=list)

    def column(self, key: str) -> Column | None:
        return next((c for c in self.columns if c.key == key), None)


@dataclass
class _Facts:
    """Everything loaded for the rows: attempts, extensions and manual scores by student."""

    failed_policy: str = "keep"  # FAILED_RUN_POLICY
    attempts: dict[tuple[int, int], list[rules.Attempt]] = field(default_factory=dict)
    extensions: dict[tuple[int, int], datetime] = field(default_factory=dict)
    manual: dict[tuple[int, int], float] = field(default_factory=dict)
    item_ids: dict[str, int] = field(default_factory=dict)


def assignment_rules(assignment: Assignment, policy: ScoringPolicy | None) -> AssignmentRules:
    """The rules of one assignment; no policy row means: last submission, no grace or penalty."""
    policy = policy or ScoringPolicy(count_rule="last", grace_minutes=0, penalty_per_day=0.0)
    late = rules.LatePolicy(
        deadline=assignment.deadline,
        grace=policy.grace,
        penalty_per_day=policy.penalty_per_day,
        closed=assignment.late_policy is LatePolicy.CLOSED,
    )
    return AssignmentRules(policy.count_rule, late)


def rules_of(assignment: Assignment) -> AssignmentRules:
    """The rules of one assignment, loaded on their own (submitting, the policy form)."""
    return assignment_rules(assignment, db.session.get(ScoringPolicy, assignment.id))


def failed_run_policy() -> str:
    """The course's FAILED_RUN_POLICY (webapp.gradebook.rules.FAILED_RUN_POLICIES)."""
    return current_app.config.get("FAILED_RUN_POLICY", "keep")


def extension_due(user_id: int, assignment_id: int) -> datetime | None:
    return db.session.scalar(
        select(Extension.due).where(
            Extension.user_id == user_id, Extension.assignment_id == assignment_id
        )
    )


def effective_deadline(user_id: int, assignment: Assignment) -> datetime | None:
    """When on-time work on `assignment` ends for this user (extension and grace included);
    None when it has no deadline."""
    return rules.on_time_until(rules_of(assignment).late, extension_due(user_id, assignment.id))


@dataclass(frozen=True)
class FailedLatest:
    """A submission whose latest ended run failed, and what that means for its score."""

    run: GradingRun  # the failed run
    earlier: GradingRun | None  # the graded run whose score it has (None: never graded)
    held: bool  # its score is withheld from the gradebook until regraded or acknowledged


def failed_latest(submission: Submission) -> FailedLatest | None:
    """The submission's failed latest run under the course's FAILED_RUN_POLICY, else None."""
    run = submission.failed_run
    if run is None:
        return None
    attempt = rules.Attempt(
        submission.id,
        submission.created_at,
        None,
        0.0,
        failed=run.message,
        acknowledged=run.acknowledged_at is not None,
    )
    held = rules.is_held(attempt, failed_run_policy())
    return FailedLatest(run, submission.result_run, held)


def submission_lateness(user: User, assignment: Assignment, now: datetime) -> rules.Lateness:
    """How late a submission made now would be, with grace and the user's extension."""
    return rules.lateness(now, rules_of(assignment).late, extension_due(user.id, assignment.id))


def load_scheme() -> tuple[list[CategorySpec], list[Column]]:
    """The categories in order and their item columns, with each assignment's rules."""
    categories = db.session.scalars(
        select(Category)
        .order_by(Category.position, Category.id)
        .options(
            selectinload(Category.items)
            .selectinload(GradeItem.assignment)
            .selectinload(Assignment.current_suite)
        )
    ).all()
    policies = {p.assignment_id: p for p in db.session.scalars(select(ScoringPolicy))}
    specs, columns = [], []
    for category in categories:
        specs.append(
            CategorySpec(
                category.name,
                category.weight,
                category.best_n,
                tuple(i.key for i in category.items),
            )
        )
        columns += [_column(category.name, item, policies) for item in category.items]
    return specs, columns


def _column(category: str, item: GradeItem, policies: dict[int, ScoringPolicy]) -> Column:
    assignment = item.assignment
    if assignment is None:
        return Column(item.key, item.title, category, item.max_score)
    return Column(
        key=item.key,
        title=item.title,
        category=category,
        max_score=assignment.max_score,
        assignment_id=assignment.id,
        slug=assignment.slug,
        rules=assignment_rules(assignment, policies.get(assignment.id)),
    )


def students(user_ids: Collection[int] | None = None) -> list[StudentName]:
    """Students (id, username, display_name) in username order: all, or those in `user_ids`.
    Plain rows, not User objects: a thousand of those would cost more than the rules."""
    query = (
        select(User.id, User.username, User.display_name)
        .where(User.role == Role.STUDENT)
        .order_by(User.username)
    )
    return [StudentName(*row) for row in db.session.execute(_limit(query, User.id, user_ids))]


def _limit(query: Select, column: object, user_ids: Collection[int] | None) -> Select:
    return query if user_ids is None else query.where(column.in_(user_ids))  # type: ignore[attr-defined]


def load_attempts(
    assignment_ids: Collection[int], user_ids: Collection[int] | None
) -> dict[tuple[int, int], list[rules.Attempt]]:
    """(user, assignment) -> attempts, each scored by its submission's latest graded run and
    carrying the message of its latest ended run when that one failed (Submission.failed_run)."""
    latest_graded = _latest_run(GradingRun.status == RunState.GRADED)
    latest = _latest_run(GradingRun.status.in_(RunState.finals()))
    graded_run, latest_run = aliased(GradingRun), aliased(GradingRun)
    query = (
        select(
            Submission.id,
            Submission.user_id,
            Submission.assignment_id,
            Submission.created_at,
            graded_run.score,
            graded_run.max_score,
            ActiveSubmission.submission_id,
            latest_run.status,
            latest_run.message,
            latest_run.acknowledged_at,
        )
        .outerjoin(latest_graded, latest_graded.c.submission_id == Submission.id)
        .outerjoin(graded_run, graded_run.id == latest_graded.c.run_id)
        .outerjoin(latest, latest.c.submission_id == Submission.id)
        .outerjoin(latest_run, latest_run.id == latest.c.run_id)
        .outerjoin(ActiveSubmission, ActiveSubmission.submission_id == Submission.id)
        .where(Submission.assignment_id.in_(assignment_ids))
        .order_by(Submission.id)
    )
    attempts: dict[tuple[int, int], list[rules.Attempt]] = defaultdict(list)
    for row in db.session.execute(_limit(query, Submission.user_id, user_ids)):
        sub_id, user_id, assignment_id, created, score, max_score, active = row[:7]
        status, message, acknowledged_at = row[7:]
        failed = (message or "grading failed") if status is RunState.FAILED else None
        attempts[user_id, assignment_id].append(
            rules.Attempt(
                sub_id,
                created,
                score,
                max_score or 0.0,
                active is not None,
                failed=failed,
                acknowledged=acknowledged_at is not None,
            )
        )
    return attempts


def _latest_run(*where: ColumnElement[bool]) -> Subquery:
    """submission_id -> run_id of each submission's latest run (among those matching)."""
    return (
        select(GradingRun.submission_id, func.max(GradingRun.id).label("run_id"))
        .where(*where)
        .group_by(GradingRun.submission_id)
        .subquery()
    )


def _load_facts(columns: list[Column], user_ids: Collection[int] | None) -> _Facts:
    assignment_ids = [c.assignment_id for c in columns if c.assignment_id is not None]
    facts = _Facts(
        failed_policy=failed_run_policy(), attempts=load_attempts(assignment_ids, user_ids)
    )
    ext_query = select(Extension.user_id, Extension.assignment_id, Extension.due)
    for user_id, assignment_id, due in db.session.execute(
        _limit(ext_query, Extension.user_id, user_ids)
    ):
        facts.extensions[user_id, assignment_id] = due
    facts.item_ids = dict(db.session.execute(select(GradeItem.key, GradeItem.id)).all())
    score_query = select(ManualScore.user_id, ManualScore.item_id, ManualScore.score)
    for user_id, item_id, score in db.session.execute(
        _limit(score_query, ManualScore.user_id, user_ids)
    ):
        facts.manual[user_id, item_id] = score
    return facts


def compute_gradebook(user_ids: Collection[int] | None = None) -> Gradebook:
    """The gradebook of every student (or of `user_ids`), computed from the database now."""
    categories, columns = load_scheme()
    book = Gradebook(categories, columns)
    facts = _load_facts(columns, user_ids)
    for student in students(user_ids):
        cells = {c.key: _cell(student.id, c, facts) for c in columns}
        book.rows.append(_row(student, cells, categories))
    return book


def _cell(user_id: int, column: Column, facts: _Facts) -> Cell:
    if column.is_manual:
        score = facts.manual.get((user_id, facts.item_ids[column.key]))
        return Cell(score, column.max_score)
    key = (user_id, column.assignment_id)
    assert column.rules is not None and column.assignment_id is not None
    attempts = facts.attempts.get(key, ())
    counted = rules.counted_submission(
        attempts,
        column.rules.count_rule,
        column.rules.late,
        facts.extensions.get(key),
        facts.failed_policy,
    )
    failed = rules.failed_runs(attempts, facts.failed_policy)
    if counted is None:
        return Cell(None, column.max_score, failed=failed)
    return Cell(counted.score, counted.max_score, counted, failed=failed)


def _row(student: StudentName, cells: dict[str, Cell], categories: list[CategorySpec]) -> Row:
    results = {}
    for spec in categories:
        result = rules.category_result({k: cells[k].fraction for k in spec.keys}, spec.best_n)
        for key in result.dropped:
            cells[key] = replace(cells[key], dropped=True)
        results[spec.name] = result
    total = rules.weighted_total(
        {name: r.percent for name, r in results.items()},
        {spec.name: spec.weight for spec in categories},
    )
    return Row(student.id, student.username, student.display_name, cells, results, total)
