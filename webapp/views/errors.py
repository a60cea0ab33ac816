"""Error responses: JSON {"error": ...} under /api, a plain page elsewhere."""

from __future__ import annotations

from flask import Flask, current_app, jsonify, render_template, request
from flask_wtf.csrf import CSRFError
from werkzeug.exceptions import HTTPException
from werkzeug.wrappers import Response

MESSAGES = {
    400: "The request could not be understood.",
    401: "Log in, or send a valid API token.",
    403: "You do not have permission to open this page.",
    404: "There is nothing here.",
    405: "That action is not allowed here.",
    500: "Something went wrong on our side.",
}


def describe(exc: HTTPException) -> str:
    """A short message: the one given to abort(), else ours for the code."""
    limit = current_app.config.get("MAX_CONTENT_LENGTH")
    if exc.code == 413:
        if not limit:
            return "The upload is too large."
        return f"The upload is larger than the {limit / (1024 * 1024):g} MiB limit."
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
