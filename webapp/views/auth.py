"""Login and logout: throttled password checks (webapp.logins) and server-side sessions
(webapp.user_sessions) behind Flask-Login."""

from __future__ import annotations

import logging

from flask import Blueprint, flash, redirect, render_template, request, url_for
from flask_login import current_user, login_required
from werkzeug.wrappers import Response

from webapp import logins, user_sessions
from webapp.extensions import login_manager
from webapp.forms import LoginForm
from webapp.models import User
from webapp.redirects import safe_next

bp = Blueprint("auth", __name__)

login_manager.user_loader(user_sessions.load)


@bp.route("/login", methods=["GET", "POST"])
def login() -> Response | str | tuple:
    if current_user.is_authenticated:
        return redirect(url_for("assignments.index"))
    form = LoginForm()
    if not form.validate_on_submit():
        return render_template("auth/login.html", form=form)
    username = form.username.data.strip()
    throttle = logins.login_throttle(username)
    wait = throttle.retry_after()
    if wait:
        logins.audit("login throttled", username, "too many failures")
        headers = logins.ask_to_wait(wait)  # flashes: before the page renders
        return render_template("auth/login.html", form=form), 429, headers
    user = User.by_username(username)
    if not logins.verify_password(user, form.password.data):
        throttle.failed()
        logins.audit("login failed", username, "unknown user" if user is None else "bad password")
        flash("Wrong username or password.", "error")
        return render_template("auth/login.html", form=form), 401
    throttle.clear(logins.LOGIN_ACCOUNT)
    user_sessions.begin(user)
    logins.audit("login", username, "ok", level=logging.INFO)
    return redirect(safe_next(request.args.get("next"), url_for("assignments.index")))


@bp.route("/logout", methods=["POST"])
@login_required
def logout() -> Response:
    logins.audit("logout", current_user.username, "ok", level=logging.INFO)
    user_sessions.end()
    flash("You are logged out.", "info")
    return redirect(url_for("auth.login"))
