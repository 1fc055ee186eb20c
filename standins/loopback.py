"""A small HTTP server on 127.0.0.1 that records requests and answers with scripted replies."""

from __future__ import annotations

import json
import sys
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any, TypeVar
from urllib.parse import parse_qs, urlsplit

_Server = TypeVar("_Server", bound="LoopbackServer")


@dataclass(frozen=True)
class Request:
    method: str
    path: str
    query: dict[str, list[str]]
    headers: dict[str, str]  # lower-cased names
    body: bytes

    def json(self) -> Any:
        return json.loads(self.body)


@dataclass(frozen=True)
class Reply:
    status: int = 200
    body: bytes | str | dict[str, Any] | list[Any] = b""
    headers: dict[str, str] = field(default_factory=dict)
    delay: float = 0.0  # seconds to wait before answering (to provoke client timeouts)

    def encoded(self) -> tuple[bytes, dict[str, str]]:
        headers = dict(self.headers)
        if isinstance(self.body, (dict, list)):
            headers.setdefault("Content-Type", "application/json")
            return json.dumps(self.body).encode(), headers
        return (self.body.encode() if isinstance(self.body, str) else self.body), headers


class _RecordingServer(ThreadingHTTPServer):
    """Records a connection's failure (a client that refused our certificate, or hung up
    mid-request) in `errors` instead of printing socketserver's traceback to stderr."""

    errors: list[BaseException]

    def handle_error(self, request: Any, client_address: Any) -> None:
        error = sys.exc_info()[1]
        if error is not None:
            self.errors.append(error)


class LoopbackServer:
    """Serve `answer(request)` on 127.0.0.1:<free port> in a thread; use as a context manager."""

    def __init__(self, answer: Callable[[Request], Reply]) -> None:
        self._answer = answer
        self.requests: list[Request] = []
        self.connection_errors: list[BaseException] = []  # connections that failed (recorded)
        self._server: ThreadingHTTPServer | None = None
        self._thread: threading.Thread | None = None

    @property
    def url(self) -> str:
        assert self._server is not None, "start the server first"
        return f"http://127.0.0.1:{self._server.server_port}"

    def start(self: _Server) -> _Server:
        owner = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"
            # TCP_NODELAY: the handler writes the status and headers, then the body, in two
            # sends. With Nagle's algorithm on, the second waits for the client's ACK of the
            # first, which Linux delays by 40 ms: every request took ~44 ms instead of ~1 ms.
            disable_nagle_algorithm = True

            def _handle(self) -> None:
                parts = urlsplit(self.path)
                length = int(self.headers.get("Content-Length") or 0)
                request = Request(
                    method=self.command,
                    path=parts.path,
                    query=parse_qs(parts.query),
                    headers={k.lower(): v for k, v in self.headers.items()},
                    body=self.rfile.read(length) if length else b"",
                )
                owner.requests.append(request)
                reply = owner._answer(request)
                if reply.delay:
                    time.sleep(reply.delay)
                body, headers = reply.encoded()
                try:
                    self.send_response(reply.status)
                    for name, value in headers.items():
                        self.send_header(name, value)
                    self.send_header("Content-Length", str(len(body)))
                    self.end_headers()
                    self.wfile.write(body)
                except (BrokenPipeError, ConnectionResetError):
                    pass  # the client gave up (a timeout test): nothing left to answer

            do_GET = do_POST = do_PUT = do_DELETE = _handle

            def log_message(self, format: str, *args: Any) -> None:
                pass  # requests are recorded in `owner.requests`, not printed

        self._server = _RecordingServer(("127.0.0.1", 0), Handler)
        self._server.errors = self.connection_errors
        self._server.daemon_threads = True
        self._thread = threading.Thread(
            target=self._server.serve_forever, kwargs={"poll_interval": 0.01}, daemon=True
        )
        self._thread.start()
        return self

    def stop(self) -> None:
        if self._server is not None:
            self._server.shutdown()
            self._server.server_close()
            self._server = None

    def __enter__(self: _Server) -> _Server:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()


class Script:
    """Replies given in order, then `default` for every later request."""

    def __init__(self, default: Callable[[Request], Reply]) -> None:
        self._queue: list[Reply] = []
        self._default = default
        self._lock = threading.Lock()

    def then(self, *replies: Reply) -> Script:
        with self._lock:
            self._queue.extend(replies)
        return self

    @property
    def pending(self) -> int:
        """Scripted replies not yet given."""
        with self._lock:
            return len(self._queue)

    def __call__(self, request: Request) -> Reply:
        with self._lock:
            if self._queue:
                return self._queue.pop(0)
        return self._default(request)
