"""Where to send someone after logging in: only to a path on this site (no open redirect)."""

from __future__ import annotations

from urllib.parse import urlsplit

# Printable ASCII but space and backslash. Browsers drop tab, CR and LF inside URLs (so
# "/\t/evil" becomes "//evil", another host) and read "\" as "/"; a CR in a Location header
# is refused by the server (a 500). Our own login redirect only ever sends printable ASCII.
ALLOWED = frozenset(chr(c) for c in range(0x21, 0x7F)) - {"\\"}


def safe_next(target: str | None, home: str) -> str:
    """`target` if it is a path on this site, else `home`: it must start with exactly one "/",
    hold only printable ASCII without spaces or backslashes, and have no scheme or host."""
    if not target or not target.startswith("/") or target.startswith("//"):
        return home
    if not set(target) <= ALLOWED:
        return home
    parts = urlsplit(target)
    if parts.scheme or parts.netloc:
        return home
    return target
