"""Flask-WTF forms (each carries the CSRF token; CSRFProtect checks every other POST too)."""

from __future__ import annotations

from flask_wtf import FlaskForm
from flask_wtf.file import FileField, FileRequired
from wtforms import (
    DateTimeLocalField,
    DecimalField,
    IntegerField,
    MultipleFileField,
    PasswordField,
    SelectField,
    StringField,
)
from wtforms.fields.choices import SelectChoice
from wtforms.validators import DataRequired, EqualTo, Length, NumberRange, Optional

from webapp.gradebook.scheme import MAX_GRACE_MINUTES
from webapp.models import LatePolicy


class LoginForm(FlaskForm):
    username = StringField("Username", validators=[DataRequired(), Length(max=40)])
    password = PasswordField("Password", validators=[DataRequired(), Length(max=200)])


class PasswordForm(FlaskForm):
    """Change one's own password: the current one, then the new one twice."""

    current = PasswordField("Current password", validators=[DataRequired(), Length(max=200)])
    new = PasswordField(
        "New password",
        validators=[
            DataRequired(),
            Length(min=10, max=200, message="The new password needs 10 to 200 characters."),
        ],
    )
    confirm = PasswordField(
        "New password again",
        validators=[DataRequired(), EqualTo("new", message="The two new passwords differ.")],
    )


class SignOutUserForm(FlaskForm):
    """Staff: end every login of one person."""

    username = StringField("Username", validators=[DataRequired(), Length(max=40)])


class SubmitForm(FlaskForm):
    files = MultipleFileField("Files")


class DeadlineForm(FlaskForm):
    """An assignment's deadline and every late rule, edited together: whether late work is
    accepted, the grace period and the per-day penalty (left out: unchanged)."""

    deadline = DateTimeLocalField(
        "Deadline (UTC)", format="%Y-%m-%dT%H:%M", validators=[Optional()]
    )
    late_policy = SelectField(
        "After the deadline",
        choices=[
            SelectChoice(LatePolicy.OPEN.value, "accept, marked late"),
            SelectChoice(LatePolicy.CLOSED.value, "refuse"),
        ],
    )
    grace_minutes = IntegerField(
        "Grace (minutes)",
        validators=[
            Optional(),
            NumberRange(0, MAX_GRACE_MINUTES, f"Grace must be 0-{MAX_GRACE_MINUTES} minutes."),
        ],
    )
    penalty_percent = DecimalField(
        "Penalty per started day late (%)",
        places=None,
        validators=[Optional(), NumberRange(0, 100, "The penalty per day must be 0-100%%.")],
    )


class RosterForm(FlaskForm):
    roster = FileField("Roster CSV", validators=[FileRequired()])


class TokenForm(FlaskForm):
    name = StringField("Token name", validators=[DataRequired(), Length(max=80)])


class PackageForm(FlaskForm):
    package = FileField("Assignment package (zip)", validators=[FileRequired()])
