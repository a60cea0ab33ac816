"""Shared by the browser tests: serve a Flask app over real HTTP and open Debian's Chromium on it
through Playwright (its own browser download does not work here)."""

from __future__ import annotations

import os
import shutil
import threading
from collections.abc import Callable, Iterable, Iterator
from contextlib import contextmanager

from playwright.sync_api import Page, sync_playwright
from werkzeug.serving import WSGIRequestHandler, make_server

CHROMIUM = os.environ.get("CHROMIUM") or shutil.which("chromium") or "/usr/bin/chromium"
Wsgi = Callable[..., Iterable[bytes]]  # a Flask app or any WSGI callable
BROWSER_ARGS = ["--headless", "--no-sandbox", "--disable-background-networking", "--disable-gpu"]


_RESPONSE = "tests.response"


class _ClosingHandler(WSGIRequestHandler):
    """Werkzeug's development server skips closing a response when the browser resets the
    connection while the server drains the request (werkzeug 3.1: `rfile.read` raises inside
    `execute`'s finally, before `application_iter.close()`), leaving a static file open; the
    ResourceWarning then surfaces in whichever test is running. Close it here instead."""

    def connection_dropped(self, error: BaseException, environ: dict | None = None) -> None:
        response = (environ or {}).get(_RESPONSE)
        if response is not None and hasattr(response, "close"):
            response.close()


def _remembering(app: Wsgi) -> Wsgi:
    """The app, with each response iterable kept in its environ for `_ClosingHandler`."""

    def wsgi(environ, start_response):
        environ[_RESPONSE] = response = app(environ, start_response)
        return response

    return wsgi


@contextmanager
def serve(app: Wsgi) -> Iterator[str]:
    """The app served over HTTP on a free port, in a thread of this process; yields its URL."""
    server = make_server(
        "127.0.0.1", 0, _remembering(app), threaded=True, request_handler=_ClosingHandler
    )
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_port}"
    finally:
        server.shutdown()
        thread.join(timeout=5)
        server.server_close()


@contextmanager
def browser_page(base_url: str) -> Iterator[Page]:
    """A fresh headless Chromium page whose relative URLs go to `base_url`."""
    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=CHROMIUM, args=BROWSER_ARGS)
        try:
            yield browser.new_page(base_url=base_url)
        finally:
            browser.close()
