"""GET /healthz: 200 when the database and the broker answer, 503 naming the one that did not."""

from __future__ import annotations

import redis
from flask import Blueprint, current_app, jsonify
from sqlalchemy import text
from werkzeug.wrappers import Response

from webapp.extensions import db

bp = Blueprint("health", __name__)
BROKER_TIMEOUT_S = 2.0


def database_status() -> str:
    try:
        with db.engine.connect() as conn:
            conn.execute(text("SELECT 1"))
    except Exception as exc:  # any failure means "not healthy"; the type says which
        return f"error: {type(exc).__name__}"
    return "ok"


def broker_status() -> str:
    client = redis.Redis.from_url(
        current_app.config["REDIS_URL"],
        socket_connect_timeout=BROKER_TIMEOUT_S,
        socket_timeout=BROKER_TIMEOUT_S,
    )
    try:
        client.ping()
    except redis.RedisError as exc:
        return f"error: {type(exc).__name__}"
    finally:
        client.close()
    return "ok"


@bp.get("/healthz")
def healthz() -> tuple[Response, int]:
    checks = {"database": database_status(), "broker": broker_status()}
    healthy = all(v == "ok" for v in checks.values())
    return jsonify(status="ok" if healthy else "unavailable", **checks), 200 if healthy else 503
