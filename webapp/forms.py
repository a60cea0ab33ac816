"""Flask-WTF forms (each carries the CSRF token; CSRFProtect checks every other POST too)."""

from __future__ import annotations

from flask_wtf import FlaskForm
from flask_wtf.file import FileField, FileRequired
from wtforms import DateTimeLocalField, MultipleFileField, PasswordField, SelectField, StringField
from wtforms.fields.choices import SelectChoice
from wtforms.validators import DataRequired, Length, Optional

from webapp.models import LatePolicy


class LoginForm(FlaskForm):
    username = StringField("Username", validators=[DataRequired(), Length(max=40)])
    password = PasswordField("Password", validators=[DataRequired(), Length(max=200)])


class SubmitForm(FlaskForm):
    files = MultipleFileField("Files")


class DeadlineForm(FlaskForm):
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


class RosterForm(FlaskForm):
    roster = FileField("Roster CSV", validators=[FileRequired()])


class TokenForm(FlaskForm):
    name = StringField("Token name", validators=[DataRequired(), Length(max=80)])


class PackageForm(FlaskForm):
    package = FileField("Assignment package (zip)", validators=[FileRequired()])
