"""GET /healthz checks the real database and the real Redis, with short timeouts."""

from __future__ import annotations

import time

from webapp import create_app
from webapp.extensions import db


def test_healthy(client):
    """With the database and Redis up: 200 and every check ok."""
    response = client.get("/healthz")
    assert response.status_code == 200
    assert response.get_json() == {"status": "ok", "database": "ok", "broker": "ok"}


def test_broker_down_is_503_naming_it(app, client):
    """An unreachable Redis gives 503 and says the broker failed, quickly."""
    app.config["REDIS_URL"] = "redis://127.0.0.1:1/0"  # nothing listens on port 1
    started = time.monotonic()
    response = client.get("/healthz")
    assert time.monotonic() - started < 5
    body = response.get_json()
    assert response.status_code == 503
    assert (body["status"], body["database"]) == ("unavailable", "ok")
    assert body["broker"].startswith("error")


def test_database_down_is_503_naming_it(app_config, tmp_path):
    """An unreachable database gives 503 and says the database failed."""
    missing = tmp_path / "no-such-dir" / "x.db"  # SQLite cannot create a file there
    app = create_app({**app_config, "DATABASE_URL": f"sqlite:///{missing}"})
    response = app.test_client().get("/healthz")
    body = response.get_json()
    assert response.status_code == 503
    assert body["database"].startswith("error") and body["broker"] == "ok"
    with app.app_context():
        db.engine.dispose()
