"""Failed-login throttling, equal-cost password checks, and the audit log of logins.

Only failures are counted: a throttle is tested before a password (or API token) is checked,
hit when the check fails, and the account's count is cleared by a successful login. Past the
limit the attempt is answered 429 with Retry-After and no password is checked at all.

Counting uses the `limits` package (the engine of Flask-Limiter) on Redis with the moving
window strategy: each failure is a timestamp in a Redis list capped at the limit, so
"10 per 15 minutes" means at most 10 failures in any 15 minutes (a fixed window would allow
twice that across a window boundary), the wait ends exactly when the oldest failure ages out
(an exact Retry-After), and nobody is locked out for longer than the window. Test-then-hit is
not atomic: parallel attempts may each pass the test, so a burst of K concurrent requests can
check up to K passwords past the limit, never more.

When Redis cannot be reached the throttle fails open (logged): logins keep working.
"""

from __future__ import annotations

import functools
import hashlib
import logging
import math
import secrets
import time
from collections.abc import Iterator
from dataclasses import dataclass

from flask import current_app, flash, g, request
from limits import RateLimitItem, parse
from limits.errors import StorageError
from limits.storage import storage_from_string
from limits.strategies import MovingWindowRateLimiter
from werkzeug.security import check_password_hash, generate_password_hash

from webapp.models import User

AUDIT = logging.getLogger("webapp.audit")
log = logging.getLogger(__name__)
EXTENSION = "dlgrader.throttle"
UNAVAILABLE = "throttle_unavailable"  # on flask.g: Redis failed during this request
SHOWN_CHARS = 64  # of a username in the audit log
REDIS_TIMEOUT_S = 1.0  # a slow Redis must not stall every login


@dataclass(frozen=True)
class Counter:
    """One kind of failure count: the setting holding its limit, and what it counts per."""

    setting: str
    scope: str


LOGIN_ACCOUNT = Counter("LOGIN_FAILURES_PER_ACCOUNT", "login-account")
LOGIN_ADDRESS = Counter("LOGIN_FAILURES_PER_ADDRESS", "login-address")
API_TOKEN_ADDRESS = Counter("API_TOKEN_FAILURES_PER_ADDRESS", "api-token-address")


def client_address() -> str:
    """The client's address: the connection's peer, or what TRUSTED_PROXIES vouch for."""
    return request.remote_addr or "unknown"


def _limiter() -> MovingWindowRateLimiter:
    """The app's limiter; its Redis storage connects lazily, on the first count."""
    limiter = current_app.extensions.get(EXTENSION)
    if limiter is None:
        storage = storage_from_string(
            current_app.config["REDIS_URL"],
            key_prefix=current_app.config["LOGIN_THROTTLE_KEY_PREFIX"],
            wrap_exceptions=True,
            socket_timeout=REDIS_TIMEOUT_S,
            socket_connect_timeout=REDIS_TIMEOUT_S,
        )
        limiter = current_app.extensions[EXTENSION] = MovingWindowRateLimiter(storage)
    return limiter


@dataclass(frozen=True)
class Throttle:
    """The failure counts that gate one attempt, each as (counter, what it counts per)."""

    keys: tuple[tuple[Counter, str], ...]

    def _items(self) -> Iterator[tuple[RateLimitItem, str, str]]:
        """(limit, scope, identity) per count; none once Redis failed in this request, so a
        hung Redis delays a request by one timeout, not one per count."""
        if g.get(UNAVAILABLE):
            return
        for counter, identity in self.keys:
            yield parse(current_app.config[counter.setting]), counter.scope, identity

    def retry_after(self) -> int:
        """Seconds until another attempt may be checked; 0: now (also when Redis is down)."""
        wait = 0.0
        try:
            for item, scope, identity in self._items():
                stats = _limiter().get_window_stats(item, scope, identity)
                if stats.remaining <= 0:
                    wait = max(wait, stats.reset_time - time.time(), 1.0)
        except StorageError as exc:
            _fail_open(exc)
            return 0
        return math.ceil(wait)

    def failed(self) -> None:
        """Count one failure in every count."""
        try:
            for item, scope, identity in self._items():
                _limiter().hit(item, scope, identity)
        except StorageError as exc:
            _fail_open(exc)

    def clear(self, counter: Counter) -> None:
        """Forget the failures in `counter` (a successful login clears its account's)."""
        try:
            for item, scope, identity in self._items():
                if scope == counter.scope:
                    _limiter().clear(item, scope, identity)
        except StorageError as exc:
            _fail_open(exc)


def _fail_open(exc: StorageError) -> None:
    g.setdefault(UNAVAILABLE, True)
    log.error("login throttle unavailable, not throttling: %s", exc.storage_error)


def _account_key(username: str) -> str:
    """What a username is counted under: a digest, so any text makes a tidy Redis key."""
    return hashlib.sha256(username.encode("utf-8", "backslashreplace")).hexdigest()


def login_throttle(username: str) -> Throttle:
    """Failed logins (or wrong current passwords) for this username and from this address;
    unknown usernames are counted the same way as known ones."""
    return Throttle(((LOGIN_ACCOUNT, _account_key(username)), (LOGIN_ADDRESS, client_address())))


def api_token_throttle() -> Throttle:
    """Invalid bearer tokens from this address."""
    return Throttle(((API_TOKEN_ADDRESS, client_address()),))


@functools.cache
def _dummy_hash(method: str) -> str:
    """A hash of a random password with `method`, checked when the username is unknown."""
    return generate_password_hash(secrets.token_urlsafe(16), method=method)


def verify_password(user: User | None, password: str) -> bool:
    """Whether `password` is `user`'s. Exactly one password-hash check either way: an unknown
    username (None) is checked against a dummy hash of the configured method, so it costs
    the same time as a known one and timing does not tell which usernames exist."""
    if user is None:
        check_password_hash(_dummy_hash(current_app.config["PASSWORD_HASH_METHOD"]), password)
        return False
    return check_password_hash(user.password_hash, password)


def shown(text: str | None) -> str:
    """`text` safe for a log line: truncated, then repr-escaped (no newlines, no controls)."""
    if text is None:
        return "-"
    cut = text[:SHOWN_CHARS]
    return repr(cut) + ("..." if len(text) > SHOWN_CHARS else "")


def audit(event: str, username: str | None, reason: str, level: int = logging.WARNING) -> None:
    """One line in the `webapp.audit` log: event, username, client address, reason. Never
    a password or token."""
    AUDIT.log(
        level,
        "%s username=%s address=%s reason=%s",
        event,
        shown(username),
        shown(client_address()),
        reason,
    )


def wait_words(seconds: int) -> str:
    """'3 minutes', '1 minute', '40 seconds': for the page asking people to wait."""
    if seconds < 60:
        return f"{seconds} second{'s' if seconds != 1 else ''}"
    minutes = math.ceil(seconds / 60)
    return f"{minutes} minute{'s' if minutes != 1 else ''}"


def ask_to_wait(wait_s: int) -> dict[str, str]:
    """Flash the please-wait message for a throttled form; the headers for its 429."""
    flash(f"Too many failed attempts. Wait {wait_words(wait_s)} and try again.", "error")
    return {"Retry-After": str(wait_s)}
