"""DL Grader web application: `create_app` builds the Flask app (`flask --app webapp run`)."""

from __future__ import annotations

import os
from datetime import datetime
from pathlib import Path

from flask import Flask, g
from markupsafe import Markup, escape
from sqlalchemy import event
from werkzeug.middleware.proxy_fix import ProxyFix

from webapp.config import Config, database_url, engine_options, instance_secret_key
from webapp.extensions import csrf, db, login_manager, migrate
from webapp.jobs.celery_app import celery_init_app
from webapp.words import plural

MIGRATIONS_DIR = Path(__file__).resolve().parent.parent / "migrations"

SECURITY_HEADERS = {
    "X-Content-Type-Options": "nosniff",
    "X-Frame-Options": "DENY",
    "Referrer-Policy": "same-origin",
    # No inline script or style anywhere: student text can never run as code.
    "Content-Security-Policy": "default-src 'self'; object-src 'none'; frame-ancestors 'none'",
}


def create_app(config: dict | None = None) -> Flask:
    """Build the app; `config` overrides settings read from the environment (tests use it)."""
    app = Flask(__name__, instance_relative_config=True)
    os.makedirs(app.instance_path, exist_ok=True)
    app.config.from_mapping(Config(app.instance_path).as_dict())
    overrides = dict(config or {})
    if "DATABASE_URL" in overrides:
        overrides["SQLALCHEMY_DATABASE_URI"] = database_url(overrides.pop("DATABASE_URL"))
    app.config.update(overrides)
    if not app.config["SECRET_KEY"]:
        app.config["SECRET_KEY"] = instance_secret_key(app.instance_path)
    app.config.setdefault(
        "SQLALCHEMY_ENGINE_OPTIONS", engine_options(app.config["SQLALCHEMY_DATABASE_URI"])
    )
    _trust_proxies(app)
    _init_extensions(app)
    celery_init_app(app)
    _register_blueprints(app)
    _register_templating(app)
    return app


def _trust_proxies(app: Flask) -> None:
    """Behind TRUSTED_PROXIES reverse proxies, take the client address and scheme from their
    X-Forwarded-For/-Proto (the login throttle counts per address). Never without them:
    anyone could send those headers."""
    count = app.config["TRUSTED_PROXIES"]
    if count:
        app.wsgi_app = ProxyFix(app.wsgi_app, x_for=count, x_proto=count)


def _init_extensions(app: Flask) -> None:
    db.init_app(app)
    migrate.init_app(app, db, directory=str(MIGRATIONS_DIR))
    csrf.init_app(app)
    login_manager.init_app(app)
    login_manager.login_view = "auth.login"
    login_manager.login_message = "Log in to continue."
    login_manager.login_message_category = "info"
    with app.app_context():
        if db.engine.dialect.name == "sqlite":  # creating the engine opens no connection
            event.listen(db.engine, "connect", _sqlite_pragmas)


def _sqlite_pragmas(dbapi_connection: object, _record: object) -> None:
    """SQLite ignores foreign keys unless asked, per connection."""
    cursor = dbapi_connection.cursor()
    cursor.execute("PRAGMA foreign_keys=ON")
    cursor.close()


def _register_blueprints(app: Flask) -> None:
    from webapp.cli import register_cli
    from webapp.views import (
        account,
        api,
        assignments,
        auth,
        authoring,
        gradebook,
        gradebook_api,
        gradebook_scheme,
        gradebook_scores,
        grades,
        health,
        instructor,
        operations,
        staff,
        submissions,
    )
    from webapp.views.errors import register_error_handlers

    for module in (
        auth,
        assignments,
        submissions,
        staff,
        instructor,
        authoring,
        account,
        api,
        health,
        gradebook,
        gradebook_scores,
        gradebook_scheme,
        grades,
        gradebook_api,
        operations,
    ):
        app.register_blueprint(module.bp)
    csrf.exempt(api.bp)  # bearer-token API; session cookies may only read there
    register_error_handlers(app)
    register_cli(app)

    @app.after_request
    def security_headers(response):  # type: ignore[no-untyped-def]
        for name, value in SECURITY_HEADERS.items():
            response.headers.setdefault(name, value)
        return response


def _register_templating(app: Flask) -> None:
    from webapp.markdown import render_markdown

    app.jinja_env.filters["markdown"] = render_markdown
    app.jinja_env.filters["utc"] = format_utc
    app.jinja_env.filters["local_time"] = local_time
    app.jinja_env.filters["plural"] = plural


def format_utc(moment: datetime | None) -> str:
    """'2026-12-01 23:59 UTC', or an em dash for no time."""
    return moment.strftime("%Y-%m-%d %H:%M UTC") if moment else "—"


def local_time(moment: datetime | None, relative: bool = True, past: str = "") -> Markup:
    """`moment` as <time datetime="ISO UTC">… UTC</time>; static/localtime.js rewrites it into
    the reader's time zone, with "(in 2 days 3 hours)" / "({past} 5 minutes ago)" when
    `relative`. Without JavaScript the UTC text stays."""
    if moment is None:
        return Markup("—")
    g.local_times = True  # base.html loads localtime.js only on pages that show a time
    attrs = f' data-relative data-past="{escape(past)}"' if relative else ""
    iso = moment.strftime("%Y-%m-%dT%H:%M:%SZ")
    return Markup(f'<time class="local-time" datetime="{iso}"{attrs}>{format_utc(moment)}</time>')
