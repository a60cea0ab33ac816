"""`flask --app webapp gradebook ...`: seed the course's scheme."""

from __future__ import annotations

import click
from flask.cli import AppGroup

from webapp.gradebook.seed import seed_course_scheme

gradebook_cli = AppGroup("gradebook", help="The gradebook's course rules.")


@gradebook_cli.command("seed")
def seed() -> None:
    """Create the course's categories and items unless they exist; add new programming
    assignments to the programming category. Safe to run again."""
    for message in seed_course_scheme():
        click.echo(message)
