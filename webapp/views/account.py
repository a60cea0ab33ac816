"""A person's own account: password, logins (sessions), and API tokens (create, shown once;
list; revoke)."""

from __future__ import annotations

import logging

from flask import Blueprint, abort, current_app, flash, redirect, render_template, url_for
from flask_login import current_user, login_required
from sqlalchemy import select
from werkzeug.wrappers import Response

from webapp import logins, user_sessions
from webapp.extensions import db
from webapp.forms import PasswordForm, TokenForm
from webapp.models import ApiToken, UserSession

bp = Blueprint("account", __name__, url_prefix="/account")


def account_page(form: PasswordForm) -> str:
    """The account page: the password form and this person's logins, newest first."""
    rows = db.session.scalars(
        select(UserSession)
        .where(UserSession.user_id == current_user.id)
        .order_by(UserSession.last_seen_at.desc(), UserSession.id.desc())
    ).all()
    here = user_sessions.current_row()
    return render_template(
        "account/index.html", form=form, sessions=rows, here=here.id if here else None
    )


@bp.route("")
@login_required
def index() -> str:
    return account_page(PasswordForm(formdata=None))


@bp.route("/password", methods=["POST"])
@login_required
def password() -> Response | tuple:
    """Change the password; every other login of this person ends, this one stays."""
    form = PasswordForm()
    if not form.validate_on_submit():
        return account_page(form), 400
    username = current_user.username
    throttle = logins.login_throttle(username)
    wait = throttle.retry_after()
    if wait:
        logins.audit("password change throttled", username, "too many failures")
        headers = logins.ask_to_wait(wait)  # flashes: before the page renders
        return account_page(form), 429, headers
    if not logins.verify_password(current_user, form.current.data):
        throttle.failed()
        logins.audit("password change failed", username, "bad current password")
        flash("The current password is wrong.", "error")
        return account_page(form), 400
    current_user.set_password(form.new.data, method=current_app.config["PASSWORD_HASH_METHOD"])
    db.session.commit()
    ended = user_sessions.revoke_others(current_user)
    logins.audit("password changed", username, f"{ended} other logins ended", logging.INFO)
    flash(f"Password changed. Other logins ended: {ended}.", "info")
    return redirect(url_for("account.index"))


@bp.route("/signout-everywhere", methods=["POST"])
@login_required
def signout_everywhere() -> Response:
    """End every login of this person, this one included."""
    username = current_user.username
    ended = user_sessions.revoke_all(current_user)
    logins.audit("signed out everywhere", username, f"{ended} logins ended", logging.INFO)
    user_sessions.end()
    flash(f"Signed out everywhere ({ended} logins ended).", "info")
    return redirect(url_for("auth.login"))


@bp.route("/tokens", methods=["GET", "POST"])
@login_required
def tokens() -> str:
    form = TokenForm()
    raw = None
    if form.validate_on_submit():
        _token, raw = ApiToken.issue(current_user, form.name.data.strip())
        db.session.commit()
        form = TokenForm(formdata=None)
    # The raw token is rendered in this response only: never flashed (the session is a cookie).
    return render_template("account/tokens.html", form=form, new_token=raw)


@bp.route("/tokens/<int:token_id>/revoke", methods=["POST"])
@login_required
def revoke(token_id: int) -> Response:
    token = db.session.get(ApiToken, token_id)
    if token is None or token.user_id != current_user.id:
        abort(404)
    db.session.delete(token)
    db.session.commit()
    flash(f"Token {token.name!r} revoked.", "info")
    return redirect(url_for("account.tokens"))
