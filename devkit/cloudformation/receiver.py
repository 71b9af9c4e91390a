"""A real HTTP server on 127.0.0.1 standing in for CloudFormation's presigned ResponseURL."""

from __future__ import annotations

import json
import socket
import ssl
import threading
import time
import uuid
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from types import TracebackType
from typing import Any


class Receiver:
    """Records every PUT it receives, per URL path; answers `status` (200 unless set). With `tls`
    (a server context) it listens on https, as S3 does."""

    def __init__(self, status: int = 200, tls: ssl.SSLContext | None = None) -> None:
        self.status = status
        self.scheme = "https" if tls else "http"
        self.requests: list[dict[str, Any]] = []  # every PUT, in order: path, headers, body, status
        self._scripted: dict[str, list[int]] = {}  # per path: the statuses its next PUTs get
        self._stalls: dict[str, float] = {}  # per path: seconds to hold the response after storing
        self._lock = threading.Lock()
        receiver = self

        class Handler(BaseHTTPRequestHandler):
            def do_PUT(self) -> None:
                length = int(self.headers.get("Content-Length", "0"))
                raw = self.rfile.read(length)
                with receiver._lock:
                    script = receiver._scripted.get(self.path)
                    status = script.pop(0) if script else receiver.status
                    stall = receiver._stalls.get(self.path, 0.0)
                    receiver.requests.append(
                        {
                            "path": self.path,
                            "headers": dict(self.headers),
                            "raw": raw,
                            "status": status,
                            "stalled": bool(stall),  # stored, but the client saw no response
                            "at": time.monotonic(),  # when it was stored
                        }
                    )
                if stall:  # stored; the response comes too late for the client (bounded)
                    time.sleep(stall)
                try:
                    self.send_response(status)
                    self.send_header("Content-Length", "0")
                    self.end_headers()
                except OSError:
                    pass  # the client gave up waiting

            def log_message(self, format: str, *args: Any) -> None:  # quiet
                return

        self._server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        if tls:
            self._server.socket = tls.wrap_socket(self._server.socket, server_side=True)
        # (a 50 ms poll: shutdown() waits for the loop to see it, half a second at the default)
        self._thread = threading.Thread(
            target=self._server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True
        )

    @property
    def port(self) -> int:
        return int(self._server.server_address[1])

    def url(self) -> str:
        """A fresh ResponseURL, shaped like a presigned S3 URL (its signature is a secret)."""
        token = uuid.uuid4().hex
        return (
            f"{self.scheme}://127.0.0.1:{self.port}/cloudformation-responses/{token}"
            f"?X-Amz-Algorithm=AWS4-HMAC-SHA256&X-Amz-Signature=sig{token}"
        )

    def answers(self, url: str) -> list[dict[str, Any]]:
        """The JSON bodies PUT to `url`, in order."""
        path = url.split(str(self.port), 1)[1]
        with self._lock:
            return [json.loads(r["raw"]) for r in self.requests if r["path"] == path]

    def respond(self, url: str, *statuses: int) -> None:
        """The next PUTs to `url` get these HTTP statuses, in order; later ones get `status`."""
        path = url.split(str(self.port), 1)[1]
        with self._lock:
            self._scripted[path] = list(statuses)

    def stall(self, url: str, seconds: float) -> None:
        """PUTs to `url` are stored (status 200), but their response is held for `seconds`."""
        path = url.split(str(self.port), 1)[1]
        with self._lock:
            self._stalls[path] = seconds

    def stalls(self, url: str) -> bool:
        """Whether PUTs to `url` have their response held (`stall`)."""
        _, mine, path = url.partition(f"127.0.0.1:{self.port}")
        with self._lock:
            return bool(mine) and path in self._stalls

    def raw(self, url: str) -> list[dict[str, Any]]:
        path = url.split(str(self.port), 1)[1]
        with self._lock:
            return [r for r in self.requests if r["path"] == path]

    def start(self) -> Receiver:
        self._thread.start()
        return self

    def stop(self) -> None:
        self._server.shutdown()
        self._server.server_close()

    def __enter__(self) -> Receiver:
        return self.start()

    def __exit__(
        self, kind: type[BaseException] | None, error: BaseException | None, tb: TracebackType | None
    ) -> None:
        self.stop()


def refusing_url() -> str:
    """A ResponseURL on 127.0.0.1 where nothing listens: every connection is refused."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    return f"http://127.0.0.1:{port}/refused?X-Amz-Signature=refused"
