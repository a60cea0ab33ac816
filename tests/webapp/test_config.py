"""Configuration from the environment: defaults, URL normalisation, the instance secret key,
and an app factory that opens no connection."""

from __future__ import annotations

import stat

import pytest

from webapp import create_app
from webapp.config import Config, database_url, instance_secret_key


def test_defaults_from_environment(monkeypatch, tmp_path):
    """Unset variables give the documented defaults; set ones are read (typed)."""
    for name in ("DATABASE_URL", "REDIS_URL", "SECRET_KEY", "MAX_CONTENT_LENGTH", "GRADER_GPUS"):
        monkeypatch.delenv(name, raising=False)
    config = Config(str(tmp_path))
    assert f"sqlite:///{tmp_path / 'dlgrader.db'}" == config.SQLALCHEMY_DATABASE_URI
    assert config.REDIS_URL == "redis://localhost:6379/0"
    assert config.MAX_CONTENT_LENGTH == 8 * 1024 * 1024
    assert config.SECRET_KEY is None and config.GRADER_GPUS is None
    monkeypatch.setenv("MAX_CONTENT_LENGTH", "1000")
    monkeypatch.setenv("DATABASE_URL", "postgres://u@db:5432/grader")
    config = Config(str(tmp_path))
    assert config.MAX_CONTENT_LENGTH == 1000
    assert config.SQLALCHEMY_DATABASE_URI == "postgresql+psycopg://u@db:5432/grader"


def test_database_url_keeps_explicit_drivers():
    assert database_url("postgresql+psycopg://x/y") == "postgresql+psycopg://x/y"
    assert database_url("sqlite:///a.db") == "sqlite:///a.db"


def test_secret_key_is_generated_once(tmp_path):
    """The instance key is created on first use (owner-only) and then reused."""
    first = instance_secret_key(str(tmp_path))
    assert len(first) == 64 and instance_secret_key(str(tmp_path)) == first
    assert stat.S_IMODE((tmp_path / "secret_key").stat().st_mode) == 0o600
    assert [p.name for p in tmp_path.iterdir()] == ["secret_key"]


def test_factory_opens_no_connection(app_config):
    """Building the app touches neither the database nor the broker (both may be down)."""
    app = create_app(
        {
            **app_config,
            "DATABASE_URL": "postgresql+psycopg://nobody@127.0.0.1:1/none",
            "REDIS_URL": "redis://127.0.0.1:1/0",
        }
    )
    assert app.extensions["celery"].conf.task_acks_late is True
    assert app.extensions["celery"].conf.accept_content == ["json"]


def test_failed_run_policy_is_checked(monkeypatch, tmp_path):
    """FAILED_RUN_POLICY defaults to keep, accepts hold, and refuses anything else."""
    monkeypatch.delenv("FAILED_RUN_POLICY", raising=False)
    assert Config(str(tmp_path)).FAILED_RUN_POLICY == "keep"
    monkeypatch.setenv("FAILED_RUN_POLICY", " Hold ")
    assert Config(str(tmp_path)).FAILED_RUN_POLICY == "hold"
    monkeypatch.setenv("FAILED_RUN_POLICY", "forget")
    with pytest.raises(ValueError, match="keep, hold"):
        Config(str(tmp_path))
