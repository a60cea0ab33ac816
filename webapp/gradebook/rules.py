"""The course's grading rules as pure functions: which submission counts, late penalties,
best-N-of-M categories and the weighted total.

This is the ONE place these rules live. Everything here works on plain values so the rules
are unit-tested without a database; the gradebook service feeds them rows.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass, replace
from datetime import datetime, timedelta

from webapp.words import plural

COUNT_RULES = ("last", "best", "active")  # which submission counts for an assignment
# What a submission whose latest grading run failed counts with: "keep" its last graded
# score (flagged), or "hold" it back (as if not graded) until it is regraded successfully or
# staff acknowledge the failure.
FAILED_RUN_POLICIES = ("keep", "hold")
DAY = timedelta(days=1)


class RuleError(ValueError):
    """A course rule is inconsistent; the message says how to fix it."""


@dataclass(frozen=True)
class LatePolicy:
    """Deadline rules of one assignment."""

    deadline: datetime | None = None
    grace: timedelta = timedelta(0)  # on time if submitted before deadline + grace
    penalty_per_day: float = 0.0  # fraction of the score lost per started day late
    closed: bool = False  # late work refused after deadline + grace


@dataclass(frozen=True)
class Attempt:
    """One graded (or not yet graded) submission of a student for an assignment."""

    id: int
    submitted_at: datetime
    score: float | None  # None: not graded (queued, running or failed)
    max_score: float
    active: bool = False  # the student chose this one (rule "active")
    failed: str | None = None  # its latest run failed, with this message (score: earlier run)
    acknowledged: bool = False  # staff acknowledged that failure


@dataclass(frozen=True)
class FailedRun:
    """A submission whose latest grading run failed: shown to staff with the error."""

    attempt_id: int
    message: str
    held: bool  # its score is withheld from the gradebook (policy "hold", not acknowledged)
    kept_score: float | None  # the earlier graded score (None: never graded)

    @property
    def note(self) -> str:
        """The failure in words, for staff (the gradebook's tooltip and CSV column)."""
        effect = "held for review" if self.held else "earlier score kept"
        if self.kept_score is None and not self.held:
            effect = "no earlier score"
        return f"#{self.attempt_id} latest run failed ({effect}): {self.message}"


def is_held(attempt: Attempt, failed_policy: str) -> bool:
    """Whether the attempt's score is withheld because its latest run failed."""
    if failed_policy not in FAILED_RUN_POLICIES:
        raise RuleError(
            f"unknown failed-run policy {failed_policy!r}; use one of "
            f"{', '.join(FAILED_RUN_POLICIES)}"
        )
    return attempt.failed is not None and failed_policy == "hold" and not attempt.acknowledged


def failed_runs(attempts: Sequence[Attempt], failed_policy: str) -> tuple[FailedRun, ...]:
    """The attempts whose latest run failed, in id order, each with whether it is held."""
    return tuple(
        FailedRun(a.id, a.failed, is_held(a, failed_policy), a.score)
        for a in sorted(attempts, key=lambda a: a.id)
        if a.failed is not None
    )


@dataclass(frozen=True)
class Lateness:
    days_late: int  # 0 when on time
    penalty: float  # fraction taken off the score, 0..1
    accepted: bool  # False when late work is closed


@dataclass(frozen=True)
class Counted:
    """The submission that counts, with how its score was reached (shown to the student)."""

    attempt_id: int
    raw: float
    penalty: float
    score: float
    max_score: float
    explanation: str


def on_time_until(policy: LatePolicy, extension: datetime | None = None) -> datetime | None:
    """A student's effective deadline: the end of on-time work (their extension or the
    deadline, plus grace); None when there is no deadline."""
    due = extension if extension is not None else policy.deadline
    return None if due is None else due + policy.grace


def lateness(
    submitted_at: datetime, policy: LatePolicy, extension: datetime | None = None
) -> Lateness:
    """How late a submission is under the policy and an optional per-student extension."""
    cutoff = on_time_until(policy, extension)
    if cutoff is None:
        return Lateness(0, 0.0, True)
    if submitted_at <= cutoff:
        return Lateness(0, 0.0, True)
    if policy.closed:
        return Lateness(math.ceil((submitted_at - cutoff) / DAY), 1.0, False)
    days = math.ceil((submitted_at - cutoff) / DAY)
    return Lateness(days, min(1.0, days * policy.penalty_per_day), True)


def late_terms(policy: LatePolicy) -> str:
    """The late rules in a sentence for the assignment page (the deadline is shown apart)."""
    if policy.deadline is None:
        return "No deadline."
    minutes = round(policy.grace.total_seconds() / 60)
    grace = f"A grace period of {plural(minutes, 'minute')} counts as on time. " if minutes else ""
    if policy.closed:
        after = "After that, submissions are refused."
    elif policy.penalty_per_day > 0:
        after = (
            f"After that, {policy.penalty_per_day:.0%} is taken off the score per started day late."
        )
    else:
        after = "Late submissions are accepted without penalty and marked late."
    return grace + after


@dataclass(frozen=True, slots=True)
class _Candidate:
    """An accepted graded attempt with its lateness and its score after the penalty."""

    attempt: Attempt
    late: Lateness
    score: float


def counted_submission(
    attempts: Sequence[Attempt],
    rule: str,
    policy: LatePolicy,
    extension: datetime | None = None,
    failed_policy: str = "keep",
) -> Counted | None:
    """The submission that counts under `rule`, or None when nothing graded counts.

    A submission whose latest run failed counts with its earlier graded score under
    `failed_policy` "keep", and not at all (like one not yet graded) under "hold" until
    that failure is acknowledged. The explanation says which submission was chosen and why,
    then its timing and penalty, and any failed run that changed the choice or the score.
    """
    if rule not in COUNT_RULES:
        raise RuleError(f"unknown rule {rule!r}; use one of {', '.join(COUNT_RULES)}")
    held = [a for a in attempts if is_held(a, failed_policy)]
    graded = [a for a in attempts if a.score is not None and a.id not in {h.id for h in held}]
    candidates = []
    for attempt in graded:
        late = lateness(attempt.submitted_at, policy, extension)
        if late.accepted:
            candidates.append(_Candidate(attempt, late, attempt.score * (1.0 - late.penalty)))
    if not candidates:
        return None
    chosen, reason = _choose(candidates, rule)
    refused = len(graded) - len(candidates)
    if refused:
        reason += f"; {plural(refused, 'late submission')} not accepted (late work is closed)"
    if held:
        ids = ", ".join(f"#{a.id}" for a in held)
        reason += f"; {ids} on hold for review (the latest grading run failed)"
    counted = _counted(chosen, reason, extension is not None)
    if chosen.attempt.failed is None:
        return counted
    note = " Its latest grading run failed; this score is from its last successful run."
    return replace(counted, explanation=counted.explanation + note)


def _choose(candidates: list[_Candidate], rule: str) -> tuple[_Candidate, str]:
    """The counted submission among the accepted graded ones, and why it was chosen."""
    if rule == "best":
        # ties go to the earlier submission: a later resubmission must beat it to replace it
        best = max(
            candidates, key=lambda c: (c.score, -c.attempt.submitted_at.timestamp(), -c.attempt.id)
        )
        counted = plural(len(candidates), "graded submission")
        return best, f"the best of {counted}, after late penalties"
    if rule == "active":
        chosen = next((c for c in candidates if c.attempt.active), None)
        if chosen is not None:
            return chosen, "the submission chosen to count"
    # "last": the last on-time submission; if none was on time, the last late one
    on_time = [c for c in candidates if c.late.days_late == 0]
    last = max(on_time or candidates, key=lambda c: (c.attempt.submitted_at, c.attempt.id))
    why = "the last on-time submission" if on_time else "the last submission (none was on time)"
    if rule == "active":
        why = f"no graded submission chosen, so {why}"
    return last, why


def _counted(chosen: _Candidate, reason: str, extended: bool) -> Counted:
    """The Counted record of `chosen`, its explanation ending with timing and penalty."""
    attempt, late, score = chosen.attempt, chosen.late, chosen.score
    raw = float(attempt.score or 0.0)
    if late.days_late == 0:
        timing = "On time (with the extension)" if extended else "On time"
        timing += f": {raw:g} / {attempt.max_score:g}."
    else:
        timing = (
            f"{plural(late.days_late, 'day')} late: -{late.penalty:.0%}, "
            f"{raw:g} x {1.0 - late.penalty:g} = {score:g} / {attempt.max_score:g}."
        )
    why = f"Submission #{attempt.id} counts: {reason}. {timing}"
    return Counted(attempt.id, raw, late.penalty, score, attempt.max_score, why)


@dataclass(frozen=True)
class CategoryResult:
    percent: float  # 0..100
    counted: tuple[str, ...]
    dropped: tuple[str, ...]


def category_result(fractions: dict[str, float | None], best_n: int | None) -> CategoryResult:
    """Mean of the best `best_n` item fractions (missing counts 0 and may be dropped).

    `fractions` maps item key -> score/max in 0..1 (None: missing), in the category's item
    order; ties are broken by that order, so the later item is the one dropped.
    """
    if not fractions:
        return CategoryResult(0.0, (), ())
    values = {key: (value if value is not None else 0.0) for key, value in fractions.items()}
    order = list(values)
    n = len(order) if best_n is None else max(1, min(best_n, len(order)))
    ranked = sorted(order, key=lambda key: (-values[key], order.index(key)))
    kept, dropped = ranked[:n], ranked[n:]
    percent = 100.0 * sum(values[k] for k in kept) / n
    return CategoryResult(
        percent, tuple(k for k in order if k in kept), tuple(k for k in order if k in dropped)
    )


def weighted_total(category_percents: dict[str, float], weights: dict[str, float]) -> float:
    """The course total in percent: sum of weight x category percent / 100."""
    return sum(weights[name] * category_percents.get(name, 0.0) for name in weights) / 100.0


def check_weights(weights: dict[str, float]) -> None:
    """Refuse a scheme whose weights do not add up to 100."""
    total = sum(weights.values())
    if any(w < 0 for w in weights.values()):
        raise RuleError("weights cannot be negative")
    if not math.isclose(total, 100.0, abs_tol=1e-9):
        raise RuleError(f"the category weights add up to {total:g}%, not 100%")
