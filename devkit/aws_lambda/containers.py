"""Lambda containers as separate processes, for running invocations concurrently, in virtual time.

The handler module is a singleton (one crhelper resource holding per-invocation state), just as
in Lambda, where one container serves one invocation at a time and concurrent invocations run
in separate containers. `ContainerPool` does the same: `size` Python processes
(`python -m devkit.aws_lambda.container`), each importing `handler.app` once and serving one request at a
time, against the ECR emulator in server mode (AWS_ENDPOINT_URL) and answering to the real
receiver.

Retry pauses do not sleep. Each container sleeps on a `VirtualClock` shared by the pool, which
advances only when every busy container is asleep, straight to the earliest wake-up: a discrete
event simulation in which ECR calls take no time and pauses take exactly their length. The
emulator's throttle reads the same clock, so "N calls per second" means N per virtual second,
and a run takes as long as the calls, not as long as the pauses. The Lambda context in each
container counts down on that clock too.
"""

from __future__ import annotations

import json
import os
import queue
import selectors
import subprocess
import sys
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from types import TracebackType
from typing import IO, Any

from devkit.aws_lambda.context import LambdaContext

ROOT = Path(__file__).resolve().parents[2]
STALL_S = 120.0  # real seconds: a container that says nothing for this long has hung


class VirtualClock:
    """Seconds shared by concurrent sleepers; see the module's docstring."""

    def __init__(self, start: float = 1000.0) -> None:
        self._now = start
        self._busy = 0
        self._sleepers: dict[object, float] = {}  # token -> wake-up time
        self._cond = threading.Condition()
        self.slept = 0.0  # total virtual seconds of every pause

    def now(self) -> float:
        with self._cond:
            return self._now

    @contextmanager
    def busy(self) -> Iterator[None]:
        """While a container runs an invocation (time cannot pass without it)."""
        with self._cond:
            self._busy += 1
        try:
            yield
        finally:
            with self._cond:
                self._busy -= 1
                self._advance_if_all_asleep()

    def sleep(self, seconds: float) -> float:
        """Block until `seconds` of virtual time have passed; the time then."""
        with self._cond:
            token = object()
            self._sleepers[token] = self._now + max(seconds, 0.0)
            self.slept += max(seconds, 0.0)
            self._advance_if_all_asleep()
            while token in self._sleepers:
                if not self._cond.wait(timeout=STALL_S):
                    raise RuntimeError("the virtual clock stalled: a busy container never slept or finished")
            return self._now

    def _advance_if_all_asleep(self) -> None:
        if self._sleepers and len(self._sleepers) >= self._busy:
            self._now = max(self._now, min(self._sleepers.values()))
            for token, wake in list(self._sleepers.items()):
                if wake <= self._now:
                    del self._sleepers[token]
            self._cond.notify_all()

    @contextmanager
    def served(self) -> Iterator[str]:
        """The clock over HTTP on 127.0.0.1 (POST /sleep {"seconds": s} -> {"now": t}); its URL."""
        clock = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:
                length = int(self.headers.get("Content-Length", "0"))
                seconds = float(json.loads(self.rfile.read(length))["seconds"])
                body = json.dumps({"now": clock.sleep(seconds)}).encode()
                self.send_response(200)
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)

            def log_message(self, format: str, *args: Any) -> None:
                return

        server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        # (a 50 ms poll: shutdown() waits for the loop to see it, half a second at the default)
        thread = threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True)
        thread.start()
        try:
            yield f"http://127.0.0.1:{server.server_address[1]}"
        finally:
            server.shutdown()
            server.server_close()


class Container:
    """One Lambda container: a process running `devkit.aws_lambda.container`, one invocation at a time."""

    def __init__(self, env: dict[str, str], clock_url: str, log: IO[bytes]) -> None:
        self.process = subprocess.Popen(
            [sys.executable, "-m", "devkit.aws_lambda.container", clock_url],
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            stderr=log,
            env=env,
            cwd=ROOT,
        )
        self.ready = False

    def call(self, message: dict[str, Any]) -> dict[str, Any]:
        assert self.process.stdin is not None and self.process.stdout is not None
        self.process.stdin.write(json.dumps(message).encode() + b"\n")
        self.process.stdin.flush()
        with selectors.DefaultSelector() as selector:
            selector.register(self.process.stdout, selectors.EVENT_READ)
            if not selector.select(timeout=STALL_S):
                raise RuntimeError(f"container {self.process.pid} did not answer within {STALL_S} s")
        line = self.process.stdout.readline()
        if not line:
            raise RuntimeError(f"container {self.process.pid} exited ({self.process.poll()}); see its log")
        result: dict[str, Any] = json.loads(line)
        return result

    def close(self) -> None:
        if self.process.stdin:
            self.process.stdin.close()
        try:
            self.process.wait(timeout=30)
        except subprocess.TimeoutExpired:
            self.process.kill()
            self.process.wait()


class ContainerPool:
    """`size` containers serving invocations from any number of threads (a `Lambda`)."""

    def __init__(
        self, size: int, endpoint_url: str, clock: VirtualClock, clock_url: str, log: IO[bytes]
    ) -> None:
        env = {
            **os.environ,
            "AWS_ENDPOINT_URL": endpoint_url,
            "AWS_DEFAULT_REGION": "us-east-1",
            "AWS_REGION": "us-east-1",
            "AWS_ACCESS_KEY_ID": "testing",
            "AWS_SECRET_ACCESS_KEY": "testing",
            "AWS_SESSION_TOKEN": "testing",
            "POWERTOOLS_LOG_LEVEL": "WARNING",
            "PYTHONPATH": f"{ROOT / 'src'}{os.pathsep}{ROOT}",
            "PYTHONDONTWRITEBYTECODE": "1",
        }
        env.pop("AWS_PROFILE", None)
        self.clock = clock
        self.containers = [Container(env, clock_url, log) for _ in range(size)]
        self._free: queue.Queue[Container] = queue.Queue()
        for container in self.containers:
            container.call({"ping": True})  # wait for its cold start (imports) to finish
            self._free.put(container)
        self.invocations = 0
        self.retries = 0  # ECR calls the containers retried
        self._lock = threading.Lock()

    def invoke(self, event: dict[str, Any], context: LambdaContext) -> int:
        container = self._free.get()
        try:
            with self.clock.busy():
                result = container.call(
                    {
                        "event": event,
                        "timeout_s": context.get_remaining_time_in_millis() / 1000.0,
                        "now": self.clock.now(),
                    }
                )
        finally:
            self._free.put(container)
        with self._lock:
            self.invocations += 1
            self.retries += int(result["retries"])
        return int(result["remaining_ms"])

    def close(self) -> None:
        for container in self.containers:
            container.close()

    def __enter__(self) -> ContainerPool:
        return self

    def __exit__(
        self, kind: type[BaseException] | None, error: BaseException | None, tb: TracebackType | None
    ) -> None:
        self.close()
