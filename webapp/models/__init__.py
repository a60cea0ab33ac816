"""The database models. Import them from here."""

from webapp.models.assignments import (
    Assignment,
    LatePolicy,
    ReferenceEntry,
    SelfCheckStatus,
    Suite,
)
from webapp.models.gradebook import (
    ActiveSubmission,
    Category,
    Extension,
    GradeItem,
    ManualScore,
    ScoringPolicy,
)
from webapp.models.submissions import (
    CaseResult,
    GradingRun,
    RunState,
    Submission,
    SubmissionFile,
)
from webapp.models.types import utcnow
from webapp.models.users import ApiToken, Role, User, UserSession

__all__ = [
    "ActiveSubmission",
    "ApiToken",
    "Assignment",
    "CaseResult",
    "Category",
    "Extension",
    "GradeItem",
    "GradingRun",
    "LatePolicy",
    "ManualScore",
    "ReferenceEntry",
    "Role",
    "RunState",
    "ScoringPolicy",
    "SelfCheckStatus",
    "Submission",
    "SubmissionFile",
    "Suite",
    "User",
    "UserSession",
    "utcnow",
]
