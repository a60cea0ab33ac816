"""Login and logout (Flask-Login sessions)."""

from __future__ import annotations

from flask import Blueprint, flash, redirect, render_template, request, url_for
from flask_login import current_user, login_required, login_user, logout_user
from werkzeug.wrappers import Response

from webapp.extensions import db, login_manager
from webapp.forms import LoginForm
from webapp.models import User

bp = Blueprint("auth", __name__)


@login_manager.user_loader
def load_user(user_id: str) -> User | None:
    return db.session.get(User, int(user_id))


def safe_next(target: str | None) -> str:
    """Only same-site paths are followed after login (no open redirect)."""
    if target and target.startswith("/") and not target.startswith("//") and "\\" not in target:
        return target
    return url_for("assignments.index")


@bp.route("/login", methods=["GET", "POST"])
def login() -> Response | str | tuple[str, int]:
    if current_user.is_authenticated:
        return redirect(url_for("assignments.index"))
    form = LoginForm()
    if form.validate_on_submit():
        user = User.by_username(form.username.data.strip())
        if user is not None and user.check_password(form.password.data):
            login_user(user)
            return redirect(safe_next(request.args.get("next")))
        flash("Wrong username or password.", "error")
        return render_template("auth/login.html", form=form), 401
    return render_template("auth/login.html", form=form)


@bp.route("/logout", methods=["POST"])
@login_required
def logout() -> Response:
    logout_user()
    flash("You are logged out.", "info")
    return redirect(url_for("auth.login"))
