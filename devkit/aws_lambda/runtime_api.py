"""The Lambda Runtime API on 127.0.0.1, for AWS's runtime interface client (awslambdaric).

One `RuntimeApi` serves one runtime process (one sandbox), as in Lambda; a new process gets a
new one. What the client sends and expects was read from awslambdaric 4.2.2 (its Python
part, and the aws-lambda-cpp 0.2.6 client it is built on) and from AWS's runtime interface
emulator:

    GET  /2018-06-01/runtime/invocation/next          blocks until an invocation is queued;
         200, the event as the body (Content-Type: application/json) and the headers
         Lambda-Runtime-Aws-Request-Id, Lambda-Runtime-Deadline-Ms (epoch ms),
         Lambda-Runtime-Invoked-Function-Arn, Lambda-Runtime-Trace-Id
    POST /2018-06-01/runtime/invocation/{id}/response  the handler's result: 202 {"status": "OK"}
    POST /2018-06-01/runtime/invocation/{id}/error     an unhandled exception: 202; the body is
         {"errorMessage", "errorType", "requestId", "stackTrace"}, the header
         Lambda-Runtime-Function-XRay-Error-Cause the X-Ray fault
    POST /2018-06-01/runtime/init/error                the handler could not be loaded: 202;
         header Lambda-Runtime-Function-Error-Type (e.g. Runtime.ImportModuleError)

awslambdaric's C client accepts any 2xx for /response and /error; its Python /init/error
call accepts 202 only. Errors are JSON {"errorMessage", "errorType"} as Lambda renders them:
400 InvalidRequestID for an id that is not the invocation in progress, 403
InvalidStateTransition for a call out of turn (a result when none is in progress, a second
/next before the result), 413 for a result over 6 MB.
Every call is recorded (`calls`), and every result (`results`).
"""

from __future__ import annotations

import json
import re
import threading
import time
import uuid
from collections.abc import Callable
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from types import TracebackType
from typing import Any

PREFIX = "/2018-06-01/runtime"
MAX_RESPONSE_BYTES = 6 * 1024 * 1024
_RESULT = re.compile(rf"^{PREFIX}/invocation/(?P<id>[^/]+)/(?P<kind>response|error)$")


@dataclass
class Invocation:
    """One invoke: what the runtime is given, and what it answered."""

    event: bytes
    timeout_s: float
    request_id: str = field(default_factory=lambda: str(uuid.uuid4()))
    function_arn: str = ""
    trace_id: str = ""
    deadline_ms: int = 0  # set when the runtime receives it (the timeout runs from then)
    received_at: float = 0.0  # time.monotonic() then: the deadline is received_at + timeout_s
    answered_at: float = 0.0  # time.monotonic() when the result came in
    kind: str = ""  # "response" | "error" once answered
    body: bytes = b""
    headers: dict[str, str] = field(default_factory=dict)
    received: threading.Event = field(default_factory=threading.Event)  # the runtime has it
    answered: threading.Event = field(default_factory=threading.Event)


@dataclass
class InitError:
    error_type: str
    body: bytes


class RuntimeApi:
    """The Runtime API server of one sandbox; `address` is what AWS_LAMBDA_RUNTIME_API holds.

    `on_next(n)` is called when the runtime asks for its n-th invocation (n from 1), before it
    is handed one: the runtime is idle then, which is when the caller may collect its output.
    `on_change()` is called after an invocation is handed out or answered, and after an init
    error.
    """

    def __init__(
        self,
        on_next: Callable[[int], None] | None = None,
        on_change: Callable[[], None] | None = None,
    ) -> None:
        self._cond = threading.Condition()
        self._queue: list[Invocation] = []
        self._current: Invocation | None = None
        self._closed = False
        self._nexts = 0
        self._on_next = on_next
        self._on_change = on_change or (lambda: None)
        self.init_error: InitError | None = None
        self.calls: list[tuple[str, str, int]] = []  # (method, path, status) in order
        self.results: list[Invocation] = []  # every answered invocation, in order
        api = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def do_GET(self) -> None:
                if self.path != f"{PREFIX}/invocation/next":
                    self._error(404, "NotFound", f"no route GET {self.path}")
                    return
                api._serve_next(self)

            def do_POST(self) -> None:
                length = int(self.headers.get("Content-Length") or 0)
                body = self.rfile.read(length)
                api._serve_post(self, body)

            def _error(self, status: int, error_type: str, message: str) -> None:
                api.reply(self, status, {"errorMessage": message, "errorType": error_type})

            def log_message(self, format: str, *args: Any) -> None:  # quiet
                return

        self._server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self._server.daemon_threads = True
        # (a 50 ms poll: close() waits for the loop to see its shutdown, half a second at the default)
        self._thread = threading.Thread(
            target=self._server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True
        )

    @property
    def address(self) -> str:
        host, port = self._server.server_address[:2]
        return f"{host!s}:{port}"

    def pending(self) -> bool:
        """Whether an invocation is queued for the runtime."""
        with self._cond:
            return bool(self._queue)

    def queue(self, invocation: Invocation) -> Invocation:
        """Queue an invocation for the runtime's next GET /next."""
        with self._cond:
            if self._closed:
                raise RuntimeError("this Runtime API is closed")
            self._queue.append(invocation)
            self._cond.notify_all()
        return invocation

    # -- the routes -------------------------------------------------------------------

    def _serve_next(self, handler: BaseHTTPRequestHandler) -> None:
        with self._cond:
            if self._current is not None:
                current = self._current.request_id
                self.reply(
                    handler,
                    403,
                    {
                        "errorMessage": f"State transition from Invoke to Ready failed for runtime: "
                        f"invocation {current} has no response yet",
                        "errorType": "InvalidStateTransition",
                    },
                    record="GET",
                )
                return
            self._nexts += 1
            number = self._nexts
        if self._on_next is not None:
            self._on_next(number)
        with self._cond:
            while not self._queue and not self._closed:
                self._cond.wait()
            if self._closed:
                return  # the sandbox is gone: nobody reads this connection any more
            invocation = self._queue.pop(0)
            invocation.deadline_ms = int(time.time() * 1000 + invocation.timeout_s * 1000)
            invocation.received_at = time.monotonic()
            self._current = invocation
            invocation.received.set()
        self._on_change()
        headers = {
            "Content-Type": "application/json",
            "Lambda-Runtime-Aws-Request-Id": invocation.request_id,
            "Lambda-Runtime-Deadline-Ms": str(invocation.deadline_ms),
            "Lambda-Runtime-Invoked-Function-Arn": invocation.function_arn,
        }
        if invocation.trace_id:
            headers["Lambda-Runtime-Trace-Id"] = invocation.trace_id
        self._send(handler, 200, invocation.event, headers, record="GET")

    def _serve_post(self, handler: BaseHTTPRequestHandler, body: bytes) -> None:
        path = handler.path
        if path == f"{PREFIX}/init/error":
            with self._cond:
                if self._nexts:
                    self.reply(handler, 403, _transition("Ready", "InitError"), record="POST")
                    return
                error_type = handler.headers.get("Lambda-Runtime-Function-Error-Type", "")
                self.init_error = InitError(error_type, body)
            self.reply(handler, 202, {"status": "OK"}, record="POST")
            self._on_change()
            return
        match = _RESULT.match(path)
        if not match:
            self.reply(handler, 404, {"errorMessage": f"no route POST {path}", "errorType": "NotFound"})
            return
        with self._cond:
            invocation = self._current
            if invocation is None:  # nothing in progress: answered already, or never given
                self.reply(handler, 403, _transition("Ready", match["kind"]), record="POST")
                return
            if invocation.request_id != match["id"]:
                self.reply(
                    handler,
                    400,
                    {"errorMessage": "Invalid request ID", "errorType": "InvalidRequestID"},
                    record="POST",
                )
                return
            if match["kind"] == "response" and len(body) > MAX_RESPONSE_BYTES:
                message = f"Exceeded maximum allowed payload size ({MAX_RESPONSE_BYTES} bytes)."
                document = {"errorMessage": message, "errorType": "RequestEntityTooLarge"}
                self.reply(handler, 413, document, record="POST")
                return
            invocation.kind, invocation.body = match["kind"], body
            invocation.answered_at = time.monotonic()
            invocation.headers = {k: v for k, v in handler.headers.items()}
            self._current = None
            self.results.append(invocation)
            invocation.answered.set()  # accepted when received, as Lambda does
        self._on_change()
        self.reply(handler, 202, {"status": "OK"}, record="POST")

    # -- plumbing ---------------------------------------------------------------------

    def reply(
        self, handler: BaseHTTPRequestHandler, status: int, document: dict[str, Any], record: str = ""
    ) -> None:
        body = (json.dumps(document) + "\n").encode()
        self._send(handler, status, body, {"Content-Type": "application/json"}, record=record or "POST")

    def _send(
        self,
        handler: BaseHTTPRequestHandler,
        status: int,
        body: bytes,
        headers: dict[str, str],
        record: str,
    ) -> None:
        with self._cond:
            self.calls.append((record, handler.path, status))
        try:
            handler.send_response(status)
            for key, value in headers.items():
                handler.send_header(key, value)
            handler.send_header("Content-Length", str(len(body)))
            handler.end_headers()
            handler.wfile.write(body)
        except OSError:
            pass  # the runtime was killed while we answered

    def start(self) -> RuntimeApi:
        self._thread.start()
        return self

    def close(self) -> None:
        """Stop serving; a GET /next still waiting is dropped (its runtime is gone)."""
        with self._cond:
            self._closed = True
            self._cond.notify_all()
        self._server.shutdown()
        self._server.server_close()

    def __enter__(self) -> RuntimeApi:
        return self.start()

    def __exit__(
        self, kind: type[BaseException] | None, error: BaseException | None, tb: TracebackType | None
    ) -> None:
        self.close()


def _transition(state: str, to: str) -> dict[str, str]:
    return {
        "errorMessage": f"State transition from {state} to {to} failed for runtime",
        "errorType": "InvalidStateTransition",
    }
