"""The network between a function's sandbox and its ResponseURL, as Lambda has it.

Lambda freezes the execution environment once the function has returned and the runtime asks
for its next event: every thread stops, and bytes not yet sent stay where they are. They go on
when the next event thaws the environment, or never, if it is retired first. An answer still on
its way to S3 at that moment reaches CloudFormation late or not at all.

`ResponseLink` stands for that path: a TCP proxy on 127.0.0.1 in front of each ResponseURL
host, which delivers every chunk `latency_s` after it was sent (what the path from the function
to S3 takes, each way), holds everything while the sandbox is frozen, and drops what it holds
when the sandbox is retired. `in_flight()` counts the exchanges still on the way: a connection
the function still holds open that has not had its reply (bytes held in either direction, bytes
not read yet, a request delivered whose reply has not come back, or no reply at all yet).
"""

from __future__ import annotations

import contextlib
import select
import socket
import threading
import time
from collections import deque
from collections.abc import Callable
from urllib.parse import urlsplit, urlunsplit

CHUNK = 65536


class ResponseLink:
    """See the module's docstring. `route(url)` is the URL to give the function instead;
    `on_open()` is called as the function opens a connection to a ResponseURL."""

    def __init__(self, latency_s: float, on_open: Callable[[], None] | None = None) -> None:
        self.latency_s = latency_s
        self._on_open = on_open
        self._cond = threading.Condition()
        self._frozen = False
        self._retired = False
        self._proxies: dict[tuple[str, int], socket.socket] = {}
        self._exchanges: list[_Exchange] = []
        self._accepting = threading.Lock()

    def route(self, url: str) -> str:
        """`url` through the link, when it names a server on 127.0.0.1 that accepts connections
        (one that refuses them is left alone: the function must see the refusal itself)."""
        parts = urlsplit(url)
        if parts.scheme != "http" or parts.hostname != "127.0.0.1" or parts.port is None:
            return url
        upstream = ("127.0.0.1", parts.port)
        with self._cond:
            listener = self._proxies.get(upstream)
        if listener is None:
            try:
                socket.create_connection(upstream, timeout=2).close()
            except OSError:
                return url
            listener = socket.create_server(("127.0.0.1", 0))
            listener.setblocking(False)
            with self._cond:
                self._proxies[upstream] = listener
            threading.Thread(target=self._accept, args=(listener, upstream), daemon=True).start()
        port = listener.getsockname()[1]
        return urlunsplit(parts._replace(netloc=f"127.0.0.1:{port}"))

    def freeze(self) -> int:
        """The sandbox stops: nothing moves until `thaw`. The exchanges still on the way (those
        the function opened and the proxy has not accepted yet included)."""
        with self._cond:
            self._frozen = True
            listeners = list(self._proxies.items())
        for upstream, listener in listeners:
            self._accept_pending(listener, upstream)
        return self.in_flight()

    def thaw(self) -> None:
        with self._cond:
            self._frozen = False
            self._cond.notify_all()

    def in_flight(self) -> int:
        with self._cond:
            return sum(1 for exchange in self._exchanges if exchange.on_the_way())

    def retire(self) -> None:
        """The sandbox is gone: what the link holds is dropped, and it carries nothing more."""
        with self._cond:
            self._retired = True
            self._cond.notify_all()
            listeners, exchanges = list(self._proxies.values()), list(self._exchanges)
        for listener in listeners:
            listener.close()
        for exchange in exchanges:
            exchange.close()

    # -- plumbing ---------------------------------------------------------------------------

    def _accept(self, listener: socket.socket, upstream: tuple[str, int]) -> None:
        while not self._retired:
            try:
                ready, _, _ = select.select([listener], [], [], 0.2)  # (and look at _retired)
            except (OSError, ValueError):
                return  # retired: the listener is closed
            if ready and not self._accept_pending(listener, upstream):
                return

    def _accept_pending(self, listener: socket.socket, upstream: tuple[str, int]) -> bool:
        """Take every connection waiting on `listener`; False once it is closed."""
        while True:
            with self._accepting:
                try:
                    client, _ = listener.accept()
                except BlockingIOError:
                    return True
                except OSError:
                    return False
                client.setblocking(True)
                exchange = _Exchange(self, client)
                with self._cond:
                    if self._retired:
                        exchange.close()
                        return False
                    self._exchanges.append(exchange)
            if self._on_open is not None:
                self._on_open()
            exchange.start(upstream)

    def _deliver_when_due(self, due: float) -> bool:
        """Wait until `due` and the sandbox is not frozen; False once it is retired."""
        with self._cond:
            while not self._retired and (self._frozen or time.monotonic() < due):
                self._cond.wait(None if self._frozen else max(due - time.monotonic(), 0.0))
            return not self._retired


class _Exchange:
    """One connection through the link: each direction read as it arrives, delivered when due."""

    def __init__(self, link: ResponseLink, client: socket.socket) -> None:
        self.link = link
        self.client = client
        self.server: socket.socket | None = None
        self.queued = {"up": 0, "down": 0}  # bytes read, not yet delivered
        self.awaiting = False  # a request was delivered and no reply has come back since
        self.replied = False  # some reply was delivered to the function
        self.client_gone = False

    def start(self, upstream: tuple[str, int]) -> None:
        threading.Thread(target=self._run, args=(upstream,), daemon=True).start()

    def _run(self, upstream: tuple[str, int]) -> None:
        try:
            self.server = socket.create_connection(upstream, timeout=5)
        except OSError:
            self.close()
            return
        self.server.settimeout(None)
        for direction, source, target in (
            ("up", self.client, self.server),
            ("down", self.server, self.client),
        ):
            pending: deque[tuple[float, bytes]] = deque()
            arrived = threading.Condition()
            threading.Thread(
                target=self._read, args=(direction, source, pending, arrived), daemon=True
            ).start()
            threading.Thread(
                target=self._write, args=(direction, target, pending, arrived), daemon=True
            ).start()

    def on_the_way(self) -> bool:
        """(under the link's lock) The function holds the connection open and has not had its
        reply: bytes held either way or not read yet, a request awaiting its reply, or none yet."""
        if self.client_gone:
            return False
        try:
            unread = self.client.recv(1, socket.MSG_PEEK | socket.MSG_DONTWAIT)
        except BlockingIOError:
            unread = None
        except OSError:
            return False
        if unread == b"":
            return False  # the function closed it
        held = self.queued["up"] > 0 or self.queued["down"] > 0
        return bool(unread) or held or self.awaiting or not self.replied

    def _read(
        self,
        direction: str,
        source: socket.socket,
        pending: deque[tuple[float, bytes]],
        arrived: threading.Condition,
    ) -> None:
        while True:
            try:
                data = source.recv(CHUNK)
            except OSError:
                data = b""
            with self.link._cond:
                self.queued[direction] += len(data)
                if not data and direction == "up":
                    self.client_gone = True
            with arrived:
                pending.append((time.monotonic() + self.link.latency_s, data))
                arrived.notify()
            if not data:
                return

    def _write(
        self,
        direction: str,
        target: socket.socket,
        pending: deque[tuple[float, bytes]],
        arrived: threading.Condition,
    ) -> None:
        while True:
            with arrived:
                while not pending:
                    arrived.wait()
                due, data = pending.popleft()
            if not self.link._deliver_when_due(due):
                return
            try:
                if data:
                    target.sendall(data)
                else:
                    target.shutdown(socket.SHUT_WR)
            except OSError:
                pass
            with self.link._cond:
                self.queued[direction] -= len(data)
                if data:
                    self.awaiting = direction == "up"
                    self.replied = self.replied or direction == "down"
            if not data:
                return

    def close(self) -> None:
        for sock in (self.client, self.server):
            if sock is not None:
                with contextlib.suppress(OSError):
                    sock.close()
