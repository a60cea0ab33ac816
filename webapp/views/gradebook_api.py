"""GET /api/v1/gradebook: every student's item scores, category percentages and total, for
staff; students get 403. Authenticated like the rest of the API (webapp.views.api)."""

from __future__ import annotations

from flask import Blueprint, abort, g, jsonify
from werkzeug.wrappers import Response

from webapp.gradebook.export import gradebook_json
from webapp.gradebook.service import compute_gradebook
from webapp.views.api import authenticate

bp = Blueprint("gradebook_api", __name__, url_prefix="/api/v1")
bp.before_request(authenticate)


@bp.get("/gradebook")
def gradebook() -> Response:
    if not g.user.is_staff:
        abort(403, "the gradebook is for staff")
    return jsonify(gradebook_json(compute_gradebook()))
