"""The browser tests' HTTP server closes every response, even when the browser resets the
connection while the server is still draining the request (werkzeug's development server
leaves it open then, and the unclosed file fails whichever test is running)."""

from __future__ import annotations

import socket
import struct
import threading
import time

from tests.browser_support import serve

BODY = b"x" * 64


class Tracked:
    """A response iterable that remembers whether the server closed it."""

    def __init__(self) -> None:
        self.closed = threading.Event()

    def __iter__(self):
        yield BODY

    def close(self) -> None:
        self.closed.set()


def test_a_response_is_closed_when_the_client_resets_during_the_drain():
    responses: list[Tracked] = []

    def app(environ, start_response):
        start_response("200 OK", [("Content-Length", str(len(BODY)))])
        responses.append(Tracked())
        return responses[-1]

    with serve(app) as url:
        port = int(url.rsplit(":", 1)[1])
        with socket.create_connection(("127.0.0.1", port)) as sock:
            # Bytes past the request keep the server in its drain loop (it reads while
            # anything arrives within 10 ms); the reset then lands inside that loop.
            sock.sendall(b"GET / HTTP/1.1\r\nHost: x\r\n\r\n")
            received = b""
            while BODY not in received:
                sock.sendall(b"-")
                received += sock.recv(4096)
            for _ in range(5):
                sock.sendall(b"-")
                time.sleep(0.002)
            sock.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
        assert responses and responses[0].closed.wait(5), "the response was never closed"
