"""Error responses: JSON {"error": ...} under /api, a plain page elsewhere."""

from __future__ import annotations

from flask import Flask, current_app, jsonify, render_template, request
from flask_wtf.csrf import CSRFError
from werkzeug.exceptions import HTTPException
from werkzeug.wrappers import Response

from webapp.models import Assignment

# Where students upload files to an assignment: a 413 there names its per-file limit.
UPLOAD_ENDPOINTS = {"assignments.submit", "api.submit"}

MESSAGES = {
    400: "The request could not be understood.",
    401: "Log in, or send a valid API token.",
    403: "You do not have permission to open this page.",
    404: "There is nothing here.",
    405: "That action is not allowed here.",
    500: "Something went wrong on our side.",
}


def size_in_words(size: int) -> str:
    """Bytes as the app prints sizes everywhere: '256 KiB', '8 MiB', '1.5 MiB'."""
    if size >= 1024 * 1024:
        return f"{size / (1024 * 1024):.3g} MiB"
    return f"{size / 1024:.3g} KiB"


def too_large() -> str:
    """The 413 message: the limit on a whole upload, and the assignment's own per-file limit
    when the upload was to one (the number its page shows)."""
    limit = current_app.config.get("MAX_CONTENT_LENGTH")
    message = (
        f"The upload is larger than the {limit / (1024 * 1024):g} MiB limit."
        if limit
        else "The upload is too large."
    )
    assignment = _uploading_to()
    if assignment is not None:
        per_file = size_in_words(assignment.current_suite.config.max_file_kb * 1024)
        message += (
            f" {assignment.title} takes files of at most {per_file} each: check that you "
            "chose the right files."
        )
    return message


def _uploading_to() -> Assignment | None:
    """The published assignment a refused upload was sent to, when the URL names one with a
    suite (an unpublished one is not named: its title is not for students)."""
    slug = (request.view_args or {}).get("slug")
    if not slug or request.endpoint not in UPLOAD_ENDPOINTS:
        return None
    assignment = Assignment.by_slug(slug)
    if assignment is None or not assignment.published or assignment.current_suite is None:
        return None
    return assignment


def describe(exc: HTTPException) -> str:
    """A short message: the one given to abort(), else ours for the code."""
    if exc.code == 413:
        return too_large()
    if isinstance(exc, CSRFError):
        return "The form expired or was not sent by this site. Reload the page and try again."
    if exc.description and exc.description != type(exc).description:
        return exc.description
    return MESSAGES.get(exc.code or 500, exc.name)


def handle_http_error(exc: HTTPException) -> tuple[Response | str, int]:
    code = exc.code or 500
    if request.path.startswith("/api/"):
        response = jsonify(error=describe(exc))
        if code == 401:
            response.headers["WWW-Authenticate"] = "Bearer"
        return response, code
    return render_template("error.html", code=code, title=exc.name, message=describe(exc)), code


def register_error_handlers(app: Flask) -> None:
    app.register_error_handler(HTTPException, handle_http_error)
