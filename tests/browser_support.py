"""Shared by the browser tests: serve a Flask app over real HTTP and open Debian's Chromium on it
through Playwright (its own browser download does not work here)."""

from __future__ import annotations

import os
import shutil
import threading
from collections.abc import Iterator
from contextlib import contextmanager

from flask import Flask
from playwright.sync_api import Page, sync_playwright
from werkzeug.serving import make_server

CHROMIUM = os.environ.get("CHROMIUM") or shutil.which("chromium") or "/usr/bin/chromium"
BROWSER_ARGS = ["--headless", "--no-sandbox", "--disable-background-networking", "--disable-gpu"]


@contextmanager
def serve(app: Flask) -> Iterator[str]:
    """The app served over HTTP on a free port, in a thread of this process; yields its URL."""
    server = make_server("127.0.0.1", 0, app, threaded=True)
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
