"""The AWS side of a local invocation: the project's ECR emulator as a server process
(`python -m ecr_ptc_emulator.server`: moto with pull-through cache rules, and moto's Secrets
Manager on the same port), and its control routes over HTTP. The function reaches it through
AWS_ENDPOINT_URL_ECR."""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
import urllib.request
from pathlib import Path
from types import TracebackType
from typing import Any

ROOT = Path(__file__).resolve().parents[2]
_LISTENING = re.compile(r"listening on (?P<url>http://127\.0\.0\.1:\d+)")


class EmulatorServer:
    """`python -m ecr_ptc_emulator.server` on a free port of 127.0.0.1, for as long as the
    context lasts."""

    def __init__(self) -> None:
        env = {**os.environ, "PYTHONPATH": f"{ROOT}{os.pathsep}{os.environ.get('PYTHONPATH', '')}"}
        self.process = subprocess.Popen(
            [sys.executable, "-m", "ecr_ptc_emulator.server", "--port", "0"],
            cwd=ROOT,
            env=env,
            stdin=subprocess.DEVNULL,
            stdout=subprocess.PIPE,
            stderr=subprocess.DEVNULL,
            text=True,
        )
        assert self.process.stdout is not None
        line = self.process.stdout.readline()  # it prints its URL once it listens
        match = _LISTENING.search(line)
        if not match:
            self.process.kill()
            raise RuntimeError(f"the ECR emulator did not start: {line!r} (exit {self.process.wait()})")
        self.url = match["url"]

    # -- control (ecr_ptc_emulator/server.py) ------------------------------------------

    def fault(self, **fault: Any) -> None:
        """POST /_ecr_ptc/faults, e.g. fault(action="fail", operation=None, code="X", times=-1)."""
        self._call("POST", "/_ecr_ptc/faults", fault)

    def rules(self) -> dict[str, dict[str, Any]]:
        """The rules the registry holds, by prefix."""
        rules: dict[str, dict[str, Any]] = self._call("GET", "/_ecr_ptc/rules")
        return rules

    def calls(self) -> list[str]:
        """The pull-through cache operations received so far, in order."""
        return [str(operation) for operation, _ in self._call("GET", "/_ecr_ptc/calls")]

    def reset(self) -> None:
        """Every moto backend (rules, calls, faults, secrets) back to empty."""
        self._call("POST", "/moto-api/reset", {})

    def _call(self, method: str, path: str, body: dict[str, Any] | None = None) -> Any:
        data = None if body is None else json.dumps(body).encode()
        request = urllib.request.Request(f"{self.url}{path}", data=data, method=method)
        with urllib.request.urlopen(request, timeout=30) as response:
            text = response.read()
        return json.loads(text) if text else None

    def secrets_client(self) -> Any:
        """A boto3 Secrets Manager client on the emulator (moto's), with test credentials."""
        import boto3

        return boto3.client(
            "secretsmanager",
            endpoint_url=self.url,
            region_name="us-east-1",
            aws_access_key_id="testing",
            aws_secret_access_key="testing",
        )

    def close(self) -> None:
        if self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(timeout=10)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()
        if self.process.stdout:
            self.process.stdout.close()

    def __enter__(self) -> EmulatorServer:
        return self

    def __exit__(
        self, kind: type[BaseException] | None, error: BaseException | None, tb: TracebackType | None
    ) -> None:
        self.close()
