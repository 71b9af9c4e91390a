"""At every LogLevel, no log line carries the ResponseURL, a session token, an access key or a
secret; third-party lines that reach the log are in the provider's JSON schema with service
and correlation_id. The root logger is configured by AWS's own runtime interface
client (awslambdaric's bootstrap), as in Lambda, in a fresh interpreter started with realistic
credentials, so that botocore logs them the way it would there."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from devkit.cloudformation.receiver import Receiver
from tests.helpers import PUBLIC, create_event

ROOT = Path(__file__).resolve().parent.parent
CREDENTIALS = {
    "AWS_ACCESS_KEY_ID": "ASIAQ3EGRZVX7LK2M4PA",
    "AWS_SECRET_ACCESS_KEY": "wJalrXUtnFEMI/K7MDENG/bPxRfiCYzq8Xv3Ls0A",
    "AWS_SESSION_TOKEN": "IQoJb3JpZ2luX2VjEJr//////////wEaCXVzLWVhc3QtMSJHMEUCIQDs3cr3tS3ssI0nT0k3n",
}
SCRIPT = """
import json, sys
from awslambdaric.bootstrap import StandardLogSink, _setup_logging
from awslambdaric.lambda_runtime_log_utils import LogFormat
_setup_logging(LogFormat.JSON, sys.argv[1], StandardLogSink())  # what the runtime client does
from moto import mock_aws
import ecr_ptc_emulator
with mock_aws():
    ecr_ptc_emulator.install()
    from devkit.aws_lambda.context import LambdaContext
    from handler import app
    for event in json.loads(sys.argv[2]):
        app.lambda_handler(event, LambdaContext())
    # a line of the provider's own Powertools logger, as Powertools writes one (log_event=True)
    from handler import wiring
    wiring.logger.info("a line of the provider's own logger")
"""

# The health function (src/health/app.py), as its schedule runs it: moto's CloudFormation (no
# stack) and the ECR emulator, so that botocore signs and logs real requests of both clients.
HEALTH_SCRIPT = """
import sys
from awslambdaric.bootstrap import StandardLogSink, _setup_logging
from awslambdaric.lambda_runtime_log_utils import LogFormat
_setup_logging(LogFormat.JSON, sys.argv[1], StandardLogSink())
from moto import mock_aws
import ecr_ptc_emulator
with mock_aws():
    ecr_ptc_emulator.install()
    from devkit.aws_lambda.context import LambdaContext
    from devkit.aws_lambda.scheduled import scheduled_event
    from health import app
    app.lambda_handler(scheduled_event(), LambdaContext())
"""


class Run:
    """The handler given `events` in a fresh interpreter at a LogLevel: started at once, so that
    this module's interpreters (about a second of imports each) start side by side."""

    def __init__(self, level: str, events: list[dict[str, Any]], script: str = SCRIPT) -> None:
        env = {
            **{k: v for k, v in os.environ.items() if not k.startswith("AWS_")},
            **CREDENTIALS,
            "AWS_DEFAULT_REGION": "us-east-1",
            "AWS_REGION": "us-east-1",
            "AWS_LAMBDA_LOG_FORMAT": "JSON",
            "AWS_LAMBDA_LOG_LEVEL": level,
            "POWERTOOLS_LOG_LEVEL": level,
            "LOG_LEVEL": level,
            "POWERTOOLS_LOGGER_LOG_EVENT": "true",  # Powertools logs each event (a user may ask so)
            "PYTHONPATH": f"{ROOT / 'src'}{os.pathsep}{ROOT}",
        }
        self.events = events
        self.process = subprocess.Popen(
            [sys.executable, "-c", script, level, json.dumps(events)],
            env=env,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        )

    def lines(self) -> list[str]:
        """Its log lines, once it has ended (it must end well)."""
        stdout, stderr = self.process.communicate(timeout=120)
        assert self.process.returncode == 0, stdout + stderr
        return [line for line in (stdout + stderr).splitlines() if line.strip()]

    def stop(self) -> None:
        if self.process.poll() is None:
            self.process.kill()
        self.process.communicate()


LEVELS = ("DEBUG", "INFO", "WARNING", "ERROR")


@pytest.fixture(scope="module")
def runs(receiver: Receiver) -> Iterator[dict[str, Run]]:
    """Each test's run, by level ("JSON": the one of the last test), all started at once."""
    started: dict[str, Run] = {}
    try:
        for level in LEVELS:
            urls = [receiver.url() for _ in range(3)]
            events = [
                {**create_event(PUBLIC), "ResponseURL": urls[0]},
                # AdoptExisting: it reads the stack
                {**create_event({**PUBLIC, "AdoptExisting": "true"}), "ResponseURL": urls[1]},
                {**create_event({**PUBLIC, "Bogus": "x"}), "ResponseURL": urls[2]},
            ]
            started[level] = Run(level, events)
        event = {**create_event({**PUBLIC, "AdoptExisting": "true"}), "ResponseURL": receiver.url()}
        started["JSON"] = Run("DEBUG", [event])
        started["health"] = Run("DEBUG", [], HEALTH_SCRIPT)
        yield started
    finally:
        for run in started.values():
            run.stop()


@pytest.mark.parametrize("level", LEVELS)
def test_no_log_line_carries_a_credential_or_the_response_url(runs: dict[str, Run], level: str) -> None:
    urls = [event["ResponseURL"] for event in runs[level].events]

    lines = runs[level].lines()

    text = "\n".join(lines)
    for name, value in CREDENTIALS.items():
        assert value not in text, f"{name} is in the log"
    for url in urls:
        assert url.split("?")[0] not in text and url.split("?")[1] not in text
        assert url.split("X-Amz-Signature=")[1] not in text
    assert "X-Amz-Security-Token" not in text or "X-Amz-Security-Token=<redacted>" in text
    if level == "DEBUG":
        assert any('"calling"' in line for line in lines)  # the provider's own request detail


def test_every_line_is_the_providers_json_with_its_request_id(runs: dict[str, Run]) -> None:
    (event,) = runs["JSON"].events

    lines = runs["JSON"].lines()

    records = [json.loads(line) for line in lines]  # every line is JSON (none is text, none doubly encoded)
    assert all(isinstance(record, dict) for record in records)
    assert len(set(lines)) == len(lines), "a line is written twice"
    own = [r for r in records if r.get("message") == "a line of the provider's own logger"]
    assert len(own) == 1, own
    during = [r for r in records if r.get("cold_start") is not None]
    assert during, "the invocation logged nothing"
    assert all(r["service"] == "ecr-pull-through-cache-provider" for r in records)
    assert all(r.get("correlation_id") == event["RequestId"] for r in during)
    assert {r.get("name") for r in during} >= {"handler.dispatch"}
    assert all(
        isinstance(r.get("message"), str | dict) and not str(r["message"]).startswith('{"') for r in records
    )


def test_the_health_function_logs_no_credential_at_debug(runs: dict[str, Run]) -> None:
    lines = runs["health"].lines()

    text = "\n".join(lines)
    for name, value in CREDENTIALS.items():
        assert value not in text, f"{name} is in the health function's log"
    records = [json.loads(line) for line in lines]
    assert any(r.get("message") == "summary" for r in records)  # it ran, and logged
