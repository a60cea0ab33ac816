"""Flask-WTF forms of the gradebook pages (the scheme forms are plain indexed fields)."""

from __future__ import annotations

from flask_wtf import FlaskForm
from flask_wtf.file import FileField, FileRequired
from wtforms import DateTimeLocalField, SelectField, StringField, TextAreaField
from wtforms.validators import DataRequired, Length

from webapp.gradebook.deadline_extensions import REASON_MAX


class ExtensionForm(FlaskForm):
    student = StringField("Student (username)", validators=[DataRequired(), Length(max=40)])
    assignment = SelectField("Assignment", validators=[DataRequired()])
    due = DateTimeLocalField(
        "New deadline (UTC)", format="%Y-%m-%dT%H:%M", validators=[DataRequired()]
    )
    reason = TextAreaField("Reason", validators=[DataRequired(), Length(max=REASON_MAX)])


class ScoresImportForm(FlaskForm):
    scores = FileField("Scores CSV", validators=[FileRequired()])
