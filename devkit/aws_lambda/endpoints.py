"""Endpoints on 127.0.0.1 that misbehave, for the deadline tests: one that accepts connections
and never answers (a hung ECR, a hung ResponseURL), and a proxy to the ECR emulator that lets a
call through but withholds its response (ECR slower than the time left): for ever, until told
to let it go, or trickling it one byte at a time (so that no read timeout ever fires)."""

from __future__ import annotations

import http.client
import socket
import threading
import uuid
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from types import TracebackType
from typing import Any
from urllib.parse import urlsplit


class HungEndpoint:
    """Accepts every connection, reads what is sent, never answers."""

    def __init__(self) -> None:
        self._listener = socket.create_server(("127.0.0.1", 0))
        self.port = int(self._listener.getsockname()[1])
        self._lock = threading.Lock()
        self._connections: list[socket.socket] = []
        self.received: list[bytearray] = []  # the bytes of each connection
        self._closed = threading.Event()
        threading.Thread(target=self._accept, daemon=True).start()

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def response_url(self) -> str:
        token = uuid.uuid4().hex
        query = f"X-Amz-Algorithm=AWS4-HMAC-SHA256&X-Amz-Signature=sig{token}"
        return f"{self.url}/cloudformation-responses/{token}?{query}"

    def bodies(self) -> list[bytes]:
        """The body of each complete HTTP request received (by its Content-Length)."""
        found = []
        with self._lock:
            streams = [bytes(b) for b in self.received]
        for data in streams:
            head, _, rest = data.partition(b"\r\n\r\n")
            length = 0
            for line in head.split(b"\r\n")[1:]:
                name, _, value = line.partition(b":")
                if name.strip().lower() == b"content-length":
                    length = int(value.strip())
            if len(rest) >= length and head:
                found.append(rest[:length])
        return found

    def _accept(self) -> None:
        while not self._closed.is_set():
            try:
                connection, _ = self._listener.accept()
            except OSError:
                return
            buffer = bytearray()
            with self._lock:
                self._connections.append(connection)
                self.received.append(buffer)
            threading.Thread(target=self._read, args=(connection, buffer), daemon=True).start()

    def _read(self, connection: socket.socket, buffer: bytearray) -> None:
        while True:
            try:
                data = connection.recv(65536)
            except OSError:
                return
            if not data:
                return
            with self._lock:
                buffer += data

    def close(self) -> None:
        self._closed.set()
        self._listener.close()
        with self._lock:
            for connection in self._connections:
                connection.close()

    def __enter__(self) -> HungEndpoint:
        return self

    def __exit__(
        self, kind: type[BaseException] | None, error: BaseException | None, tb: TracebackType | None
    ) -> None:
        self.close()


class WithholdingProxy:
    """Forwards every call to `upstream` (so ECR does it), but the response of the first
    `withhold` calls of `operation` is held: it never comes back (`how` "never"), comes back
    once `release()` is called ("released"), or comes one byte every `trickle_s` seconds
    ("trickle"; a read timeout restarts with every byte), the rest at once when released."""

    def __init__(
        self, upstream: str, operation: str, withhold: int = 1, how: str = "never", trickle_s: float = 0.5
    ) -> None:
        parts = urlsplit(upstream)
        self._upstream = parts.netloc
        self.operation = operation
        self.left = withhold
        self.how = how
        self.trickle_s = trickle_s
        self.withheld: list[str] = []  # the operations whose response was kept back
        self.released = threading.Event()  # ("released") let the held responses go
        self._closed = threading.Event()
        self._lock = threading.Lock()
        proxy = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def do_POST(self) -> None:
                body = self.rfile.read(int(self.headers.get("Content-Length") or 0))
                target = self.headers.get("X-Amz-Target", "")
                operation = target.rsplit(".", 1)[-1]
                connection = http.client.HTTPConnection(proxy._upstream, timeout=30)
                headers = {k: v for k, v in self.headers.items() if k.lower() != "host"}
                connection.request("POST", self.path, body=body, headers=headers)
                answer = connection.getresponse()
                payload = answer.read()
                connection.close()
                with proxy._lock:
                    hold = operation == proxy.operation and proxy.left > 0
                    if hold:
                        proxy.left -= 1
                        proxy.withheld.append(operation)
                if hold and proxy.how == "never":
                    proxy._closed.wait()  # until the test ends: the caller gives up first
                    return
                if hold and proxy.how == "released":
                    proxy.released.wait()
                head = [f"HTTP/1.1 {answer.status} {answer.reason}"]
                head += [
                    f"{key}: {value}"
                    for key, value in answer.getheaders()
                    if key.lower() not in ("content-length", "transfer-encoding", "connection")
                ]
                head.append(f"Content-Length: {len(payload)}")
                whole = ("\r\n".join(head) + "\r\n\r\n").encode() + payload
                if not (hold and proxy.how == "trickle"):
                    self.wfile.write(whole)
                    return
                for n in range(len(whole)):  # one byte at a time: each well within a read timeout
                    rest = proxy.released.wait(proxy.trickle_s)  # (at once when released)
                    if proxy._closed.is_set():
                        return
                    try:
                        self.wfile.write(whole[n:] if rest else whole[n : n + 1])
                        self.wfile.flush()
                    except OSError:
                        return
                    if rest:
                        return

            def log_message(self, format: str, *args: Any) -> None:
                return

        self._server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self._server.daemon_threads = True
        # (a 50 ms poll: close() waits for the loop to see its shutdown, half a second at the default)
        threading.Thread(
            target=self._server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True
        ).start()

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self._server.server_address[1]}"

    def release(self) -> None:
        self.released.set()

    def close(self) -> None:
        self._closed.set()
        self.released.set()
        self._server.shutdown()
        self._server.server_close()

    def __enter__(self) -> WithholdingProxy:
        return self

    def __exit__(
        self, kind: type[BaseException] | None, error: BaseException | None, tb: TracebackType | None
    ) -> None:
        self.close()
