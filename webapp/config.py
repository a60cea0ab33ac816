"""Configuration read from the environment; tests pass a dict to create_app that overrides it."""

from __future__ import annotations

import os
import secrets
from pathlib import Path

from limits import parse as parse_limit

from webapp.gradebook.rules import FAILED_RUN_POLICIES

MIB = 1024 * 1024
SECRET_KEY_FILE = "secret_key"


def database_url(raw: str) -> str:
    """Normalise a DATABASE_URL: bare postgres URLs use the psycopg 3 driver we ship."""
    for prefix in ("postgres://", "postgresql://"):
        if raw.startswith(prefix):
            return "postgresql+psycopg://" + raw[len(prefix) :]
    return raw


def engine_options(url: str) -> dict:
    """Short connect timeouts so /healthz and requests fail fast when the database is down."""
    options: dict = {"pool_pre_ping": True}
    if url.startswith("postgresql"):
        options["connect_args"] = {"connect_timeout": 5}
    elif url.startswith("sqlite"):
        # Web and worker processes share the file: wait for a lock instead of failing at once.
        options["connect_args"] = {"timeout": 15}
    return options


def instance_secret_key(instance_path: str) -> str:
    """The secret key kept in the instance folder, generated (mode 0600) on first use.

    Web and worker processes may start together: the key is written to a temporary file and
    linked into place, which fails if another process won, so every process reads one key.
    """
    path = Path(instance_path) / SECRET_KEY_FILE
    if not path.exists():
        tmp = path.with_name(f"{SECRET_KEY_FILE}.{os.getpid()}.tmp")
        fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
        with os.fdopen(fd, "w") as out:
            out.write(secrets.token_hex(32))
        try:
            os.link(tmp, path)
        except FileExistsError:
            pass
        finally:
            tmp.unlink()
    return path.read_text().strip()


def failed_run_policy(raw: str) -> str:
    """FAILED_RUN_POLICY, checked: "keep" or "hold" (webapp.gradebook.rules says what each
    means)."""
    policy = raw.strip().lower() or "keep"
    if policy not in FAILED_RUN_POLICIES:
        raise ValueError(f"FAILED_RUN_POLICY must be one of {', '.join(FAILED_RUN_POLICIES)}")
    return policy


def _env_int(name: str, default: int) -> int:
    raw = os.environ.get(name)
    return int(raw) if raw else default


class Config:
    """Settings from the environment. Instantiate after the instance folder exists."""

    def __init__(self, instance_path: str) -> None:
        default_db = f"sqlite:///{Path(instance_path) / 'dlgrader.db'}"
        self.SQLALCHEMY_DATABASE_URI = database_url(os.environ.get("DATABASE_URL", default_db))
        self.REDIS_URL = os.environ.get("REDIS_URL", "redis://localhost:6379/0")
        self.SECRET_KEY = os.environ.get("SECRET_KEY") or None  # None: read from instance/
        # Sandbox images: the "torch" environment (NumPy and PyTorch; a CUDA build on GPU
        # workers) and the "numpy" environment (NumPy only: forbidden libraries are absent).
        self.SANDBOX_IMAGE = os.environ.get("SANDBOX_IMAGE", "dlgrader-sandbox:cpu")
        self.SANDBOX_NUMPY_IMAGE = os.environ.get("SANDBOX_NUMPY_IMAGE", "dlgrader-sandbox:numpy")
        # Warm single-use sandboxes (grader/warm.py): containers each worker process keeps
        # started, per kind of run it has graded, for its next run (0: every run starts cold).
        self.SANDBOX_WARM = _env_int("SANDBOX_WARM", 1)
        # Precomputed references (fresh draws) kept per suite version and device for idle
        # workers to fill; each grading run takes one, or computes its own alongside.
        self.REFERENCE_BANK_SIZE = _env_int("REFERENCE_BANK_SIZE", 4)
        # A suite version goes live only if its self-check holds on this many fresh seeds.
        self.SELFCHECK_SEEDS = _env_int("SELFCHECK_SEEDS", 5)
        # The GPUs a worker grades on (grader/gpus.py): "0,1" or GPU/MIG UUIDs, "none" for none;
        # unset, nvidia-smi is asked. Leases: SHARING runs per GPU, locks in LOCK_DIR.
        self.GRADER_GPUS = os.environ.get("GRADER_GPUS")
        self.GRADER_GPU_SHARING = os.environ.get("GRADER_GPU_SHARING") or None
        self.GRADER_GPU_LOCK_DIR = os.environ.get("GRADER_GPU_LOCK_DIR") or None
        self.MAX_CONTENT_LENGTH = _env_int("MAX_CONTENT_LENGTH", 8 * MIB)
        # A student's submissions of one assignment: at most this many not yet graded at once,
        # and at most this many an hour (0: no limit). Staff are not limited.
        self.MAX_WAITING_SUBMISSIONS = _env_int("MAX_WAITING_SUBMISSIONS", 2)
        self.SUBMISSIONS_PER_HOUR = _env_int("SUBMISSIONS_PER_HOUR", 30)
        # Across all assignments: at most this many of a student's submissions not yet graded
        # (0: no cap), and at most this many of their runs graded at once (webapp.jobs.scheduling:
        # one student's stalling submissions hold one worker slot, never the pool).
        self.MAX_IN_FLIGHT_PER_STUDENT = _env_int("MAX_IN_FLIGHT_PER_STUDENT", 3)
        self.MAX_RUNNING_PER_STUDENT = _env_int("MAX_RUNNING_PER_STUDENT", 1)
        # A submission whose latest grading run failed (an internal error, a suite that broke
        # in a regrade): "keep" counts its last graded score, flagged for staff; "hold"
        # withholds it from the gradebook until it is regraded successfully or staff
        # acknowledge the failure.
        self.FAILED_RUN_POLICY = failed_run_policy(os.environ.get("FAILED_RUN_POLICY", "keep"))
        self.PASSWORD_HASH_METHOD = "scrypt"
        # Logins, sessions and cookies (README "Logins, sessions and cookies"). Failed logins
        # and bad API tokens are counted in Redis (webapp.logins); past a limit, 429 until the
        # window frees up. Limits are `limits` strings: "10 per 15 minutes".
        self.LOGIN_FAILURES_PER_ACCOUNT = os.environ.get(
            "LOGIN_FAILURES_PER_ACCOUNT", "10 per 15 minutes"
        )
        self.LOGIN_FAILURES_PER_ADDRESS = os.environ.get(
            "LOGIN_FAILURES_PER_ADDRESS", "50 per 15 minutes"
        )
        self.API_TOKEN_FAILURES_PER_ADDRESS = os.environ.get(
            "API_TOKEN_FAILURES_PER_ADDRESS", "50 per 15 minutes"
        )
        for limit in (
            self.LOGIN_FAILURES_PER_ACCOUNT,
            self.LOGIN_FAILURES_PER_ADDRESS,
            self.API_TOKEN_FAILURES_PER_ADDRESS,
        ):
            parse_limit(limit)  # ValueError at start, not at the first failed login
        self.LOGIN_THROTTLE_KEY_PREFIX = "dlgrader:throttle"  # Redis keys (tests: per test)
        # Reverse proxies in front of the app that set X-Forwarded-For/-Proto (0: none; then
        # the client address is the connection's peer).
        self.TRUSTED_PROXIES = _env_int("TRUSTED_PROXIES", 0)
        # The session cookie is a bearer credential: Secure (https only) unless turned off for
        # plain-http development; a Secure cookie is named __Host- (no Domain, Path=/).
        # Anything but an explicit 0/false/no/off keeps it on (a typo must not turn it off).
        off = ("0", "false", "no", "off")
        secure = os.environ.get("SESSION_COOKIE_SECURE", "1").strip().lower() not in off
        self.SESSION_COOKIE_SECURE = secure
        self.SESSION_COOKIE_NAME = "__Host-dlgrader_session" if secure else "dlgrader_session"
        self.SESSION_COOKIE_SAMESITE = "Lax"
        self.SESSION_COOKIE_HTTPONLY = True
        self.REMEMBER_COOKIE_SECURE = secure  # never set: logins do not use remember-me
        self.REMEMBER_COOKIE_SAMESITE = "Lax"
        self.WTF_CSRF_TIME_LIMIT = None  # tokens live as long as the session
        self.CELERY: dict = {}  # overrides for the Celery config built in webapp.jobs.celery_app

    def as_dict(self) -> dict:
        return dict(vars(self))
