"""One Lambda container for `devkit.aws_lambda.containers.ContainerPool`:
`python -m devkit.aws_lambda.container CLOCK_URL`.

It imports handler.app once (a cold start), then serves one invocation per line of stdin
({"event", "timeout_s", "now"}), answering one line on its stdout ({"remaining_ms", "retries"}).
The handler's own logs go to stderr. Retry pauses sleep on the pool's virtual clock (POST
CLOCK_URL/sleep) and the Lambda context counts down on it. Only 127.0.0.1 may be reached.
"""

from __future__ import annotations

import functools
import json
import os
import socket
import sys
import urllib.request
from typing import Any


def _loopback_only() -> None:
    real_connect = socket.socket.connect

    def connect(self: socket.socket, address: Any) -> Any:
        host = address[0] if isinstance(address, tuple) else address
        if isinstance(host, str) and not (host.startswith("127.") or host in ("localhost", "::1")):
            raise OSError(f"a local container may not reach {host}: only 127.0.0.1")
        return real_connect(self, address)

    setattr(socket.socket, "connect", connect)  # noqa: B010 -- a plain assignment is refused by mypy


def main(clock_url: str) -> None:
    channel = os.fdopen(os.dup(1), "w", buffering=1)  # the pool reads answers here
    os.dup2(2, 1)
    sys.stdout = sys.stderr  # the handler logs to stdout: send it to the log instead
    _loopback_only()

    from devkit.aws_lambda.context import LambdaContext
    from handler import app, response, wiring

    now = [0.0]
    retries = [0]

    def sleep(seconds: float) -> None:
        request = urllib.request.Request(
            f"{clock_url}/sleep", data=json.dumps({"seconds": seconds}).encode(), method="POST"
        )
        with urllib.request.urlopen(request, timeout=180) as answer:
            now[0] = float(json.loads(answer.read())["now"])

    def retry_pause(seconds: float) -> None:
        retries[0] += 1
        sleep(seconds)

    app.provider = wiring.make_provider(send=functools.partial(response.put, sleep=sleep), sleep=retry_pause)

    for line in sys.stdin:
        job = json.loads(line)
        if job.get("ping"):
            channel.write(json.dumps({"pong": True}) + "\n")
            continue
        now[0] = float(job["now"])
        before = retries[0]
        context = LambdaContext(timeout_s=float(job["timeout_s"]), clock=lambda: now[0])
        app.lambda_handler(job["event"], context)
        result = {"remaining_ms": context.get_remaining_time_in_millis(), "retries": retries[0] - before}
        channel.write(json.dumps(result) + "\n")


if __name__ == "__main__":
    main(sys.argv[1])
