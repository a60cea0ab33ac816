"""`flask --app webapp ...` commands: users, tokens, assignments, demo, reconcile, workers."""

from __future__ import annotations

from pathlib import Path

import click
from flask import Flask, current_app
from flask.cli import AppGroup, with_appcontext

from grader import PackageError, format_table, fresh_seeds, load_package
from webapp.extensions import db
from webapp.gradebook.cli import gradebook_cli
from webapp.jobs.fleet import fleet
from webapp.jobs.reconcile import reconcile_and_enqueue
from webapp.jobs.selfchecks import check_now, check_package
from webapp.models import ApiToken, Assignment, Role, SelfCheckStatus, Suite, User
from webapp.roster import RosterError, create_users, generate_password, parse_roster, user_problems
from webapp.submitting import SubmissionRefused, regrade_assignment
from webapp.suites import go_live, store_package
from webapp.user_sessions import revoke_all as revoke_all_sessions
from webapp.words import plural

users_cli = AppGroup("users", help="Create people and import the roster.")
tokens_cli = AppGroup("tokens", help="API tokens.")
assignments_cli = AppGroup("assignments", help="Assignments and their suites.")

ROLE_CHOICE = click.Choice([r.value for r in Role])
DEMO_USERS = (
    ("instructor", "Ada Instructor", Role.INSTRUCTOR, "instructor-demo"),
    ("ta", "Tom Assistant", Role.TA, "ta-demo-pass"),
    ("alice", "Alice Student", Role.STUDENT, "alice-demo"),
    ("bob", "Bob Student", Role.STUDENT, "bob-demo-pass"),
    ("carol", "Carol Student", Role.STUDENT, "carol-demo"),
)


def _hash_method() -> str:
    return current_app.config["PASSWORD_HASH_METHOD"]


@users_cli.command("create")
@click.argument("name")
@click.option("--role", type=ROLE_CHOICE, default=Role.STUDENT.value, show_default=True)
@click.option("--password", help="Generated and printed when left out.")
@click.option("--display-name", help="Defaults to NAME.")
def create_user(name: str, role: str, password: str | None, display_name: str | None) -> None:
    """Create one person."""
    problems = user_problems(name, display_name or name, role, password or "")
    if User.by_username(name) is not None:
        problems.append(f"username {name!r} already exists")
    if problems:
        raise click.ClickException("; ".join(problems))
    user = User(username=name, display_name=display_name or name, role=Role(role))
    generated = None if password else generate_password()
    user.set_password(password or generated, method=_hash_method())
    db.session.add(user)
    db.session.commit()
    click.echo(f"created {role} {name}" + (f" with password {generated}" if generated else ""))


@users_cli.command("import")
@click.argument("csv_file", type=click.File("rb"))
def import_users(csv_file: click.File) -> None:
    """Import a roster CSV (username, display_name, role, password): all rows or none."""
    try:
        rows = parse_roster(csv_file.read())
    except RosterError as exc:
        for problem in exc.problems:
            click.echo(problem, err=True)
        raise click.ClickException("nothing was imported") from exc
    create_users(rows, _hash_method())
    click.echo(f"imported {len(rows)} people")
    for row in rows:
        if row.generated:
            click.echo(f"{row.username},{row.password}")


@users_cli.command("signout")
@click.argument("name")
def signout_user(name: str) -> None:
    """End every login of the person NAME, in every browser (API tokens stay)."""
    user = User.by_username(name)
    if user is None:
        raise click.ClickException(f"no user {name!r}")
    ended = revoke_all_sessions(user)
    click.echo(f"{name}: signed out everywhere ({ended} logins ended)")


@tokens_cli.command("create")
@click.argument("name")
@click.option("--label", default="cli", show_default=True, help="The token's name.")
def create_token(name: str, label: str) -> None:
    """Create an API token for the person NAME; prints only the token."""
    user = User.by_username(name)
    if user is None:
        raise click.ClickException(f"no user {name!r}")
    _token, raw = ApiToken.issue(user, label)
    db.session.commit()
    click.echo(raw)


def sync_one(folder: Path, check: bool = False) -> tuple[str, bool]:
    """Load one assignment folder, store it as a suite version and publish it: at once, or with
    `check` only after its self-check passes. Returns (a line for the console, success)."""
    package = load_package(folder)
    suite = store_package(package).suite
    db.session.commit()
    assignment, slug = suite.assignment, package.config.slug
    if assignment.current_suite is suite and assignment.published:
        return f"{slug}: unchanged (suite v{suite.version})", True
    label = f"{slug}: suite v{suite.version} ({package.sha256[:12]})"
    if check and suite.selfcheck_status is not SelfCheckStatus.PASSED:
        report = check_now(suite, current_app.config["SANDBOX_IMAGE"])
        click.echo(format_table(report))
        if not report.passed:
            return f"{label}: self-check failed, not published", False
    go_live(suite)
    db.session.commit()
    return f"{label}, published", True


@assignments_cli.command("sync")
@click.argument("directory", required=False, type=click.Path(file_okay=False, path_type=Path))
@click.option("--check", is_flag=True, help="Publish a new version only if its self-check passes.")
def sync_assignments(directory: Path | None, check: bool) -> None:
    """Load every DIRECTORY/*/assignment.toml (default: the repo's assignments/)."""
    root = directory or Path(current_app.root_path).parent / "assignments"
    folders = sorted(p.parent for p in root.glob("*/assignment.toml"))
    if not folders:
        raise click.ClickException(f"no */assignment.toml under {root}")
    failed = 0
    for folder in folders:
        try:
            line, ok = sync_one(folder, check)
        except PackageError as exc:
            db.session.rollback()
            line, ok = f"{folder.name}: not loaded: {exc}", False
        failed += not ok
        click.echo(line, err=not ok)
    if failed:
        raise click.ClickException(f"{plural(failed, 'assignment')} could not be loaded or checked")


@assignments_cli.command("check")
@click.argument("target")
@click.option("--version", type=int, help="The suite version to check (default: the newest).")
@click.option(
    "--seed", "seeds", type=int, multiple=True, help="Check on this seed (repeat for several)."
)
@click.option(
    "--seeds", "count", type=click.IntRange(1, 100),
    help="How many fresh seeds when no --seed is given (default: SELFCHECK_SEEDS, 5).",
)  # fmt: skip
def check_assignment(
    target: str, version: int | None, seeds: tuple[int, ...], count: int | None
) -> None:
    """Self-check TARGET on several seeds: on every one the reference must score full marks,
    the starter 0, and every mutant less than full marks.

    TARGET is an assignment's slug (its newest stored version, or --version; the report is
    stored on it) or a package folder or zip (nothing stored). The seeds are printed; --seed
    replays them.
    """
    image = current_app.config["SANDBOX_IMAGE"]
    chosen = seeds or fresh_seeds(count or current_app.config["SELFCHECK_SEEDS"])
    if Path(target).exists():
        try:
            package = load_package(
                Path(target) if Path(target).is_dir() else Path(target).read_bytes()
            )
        except PackageError as exc:
            raise click.ClickException(f"{target}: {exc}") from exc
        report = check_package(package, image, chosen)
    else:
        report = check_now(suite_to_check(target, version), image, chosen)
    click.echo(format_table(report))
    if not report.passed:
        raise click.ClickException("the self-check failed")


def suite_to_check(slug: str, version: int | None) -> Suite:
    """The assignment's suite version `version`, or its newest one."""
    assignment = Assignment.by_slug(slug)
    if assignment is None:
        raise click.ClickException(f"no assignment {slug!r} and no package folder of that name")
    suites = [s for s in assignment.suites if version is None or s.version == version]
    if not suites:
        raise click.ClickException(f"{slug} has no suite version {version}")
    return suites[-1]


@assignments_cli.command("regrade")
@click.argument("slug")
def regrade_command(slug: str) -> None:
    """Regrade every submission of SLUG with its current suite (results stay until regraded)."""
    assignment = Assignment.by_slug(slug)
    if assignment is None:
        raise click.ClickException(f"no assignment {slug!r}")
    try:
        count = regrade_assignment(assignment)
    except SubmissionRefused as refused:
        raise click.ClickException(refused.message) from refused
    click.echo(
        f"{slug}: queued {plural(count.queued, 'regrade')} with suite"
        f" v{assignment.current_suite.version}; {count.busy} still being graded"
        " were left as they are"
    )


@click.command("demo")
@with_appcontext
def demo() -> None:
    """Create demo staff and students (known passwords) unless they exist; print the logins."""
    for username, display_name, role, password in DEMO_USERS:
        if User.by_username(username) is not None:
            click.echo(f"{role.value:10} {username:10} (exists; password unchanged)")
            continue
        user = User(username=username, display_name=display_name, role=role)
        user.set_password(password, method=_hash_method())
        db.session.add(user)
        click.echo(f"{role.value:10} {username:10} {password}")
    db.session.commit()


@click.command("reconcile")
@with_appcontext
def reconcile_command() -> None:
    """Run the reconciler once: re-send lost queued runs, recover runs of dead workers."""
    report = reconcile_and_enqueue()
    click.echo(
        f"resent {len(report.resent)}, requeued {len(report.requeued)}, failed {len(report.failed)}"
        f"; self-checks resent {len(report.selfchecks_resent)}, failed"
        f" {len(report.selfchecks_failed)}"
    )


@click.command("workers")
@click.option("--require", "required", help="Exit 1 unless the worker NAME is alive.")
@with_appcontext
def workers_command(required: str | None) -> None:
    """List the grading workers alive now (their heartbeats): queues, GPUs, runs at once."""
    workers = fleet()
    for w in workers:
        gpus = ",".join(w.gpus) or "-"
        click.echo(f"{w.name}  queues={','.join(w.queues)}  gpus={gpus}  runs={w.concurrency}")
    if not workers:
        click.echo("no worker is alive", err=True)
    if required and required not in {w.name for w in workers}:
        raise click.ClickException(f"worker {required} has no live heartbeat")


def register_cli(app: Flask) -> None:
    for command in (users_cli, tokens_cli, assignments_cli, demo, reconcile_command):
        app.cli.add_command(command)
    app.cli.add_command(workers_command)
    app.cli.add_command(gradebook_cli)
