"""A person's own API tokens: create (shown once), list, revoke."""

from __future__ import annotations

from flask import Blueprint, abort, flash, redirect, render_template, url_for
from flask_login import current_user, login_required
from werkzeug.wrappers import Response

from webapp.extensions import db
from webapp.forms import TokenForm
from webapp.models import ApiToken

bp = Blueprint("account", __name__, url_prefix="/account")


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
