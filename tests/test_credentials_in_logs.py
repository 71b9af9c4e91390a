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
"""


def run(level: str, events: list[dict[str, Any]]) -> list[str]:
    env = {
        **{k: v for k, v in os.environ.items() if not k.startswith("AWS_")},
        **CREDENTIALS,
        "AWS_DEFAULT_REGION": "us-east-1",
        "AWS_REGION": "us-east-1",
        "AWS_LAMBDA_LOG_FORMAT": "JSON",
        "AWS_LAMBDA_LOG_LEVEL": level,
        "POWERTOOLS_LOG_LEVEL": level,
        "LOG_LEVEL": level,
        "PYTHONPATH": f"{ROOT / 'src'}{os.pathsep}{ROOT}",
    }
    done = subprocess.run(
        [sys.executable, "-c", SCRIPT, level, json.dumps(events)],
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
        check=True,
    )
    return [line for line in (done.stdout + done.stderr).splitlines() if line.strip()]


@pytest.mark.parametrize("level", ["DEBUG", "INFO", "WARNING", "ERROR"])
def test_no_log_line_carries_a_credential_or_the_response_url(receiver: Receiver, level: str) -> None:
    urls = [receiver.url() for _ in range(3)]
    events = [
        {**create_event(PUBLIC), "ResponseURL": urls[0]},
        {**create_event({**PUBLIC, "AdoptExisting": "true"}), "ResponseURL": urls[1]},  # reads the stack
        {**create_event({**PUBLIC, "Bogus": "x"}), "ResponseURL": urls[2]},
    ]

    lines = run(level, events)

    text = "\n".join(lines)
    for name, value in CREDENTIALS.items():
        assert value not in text, f"{name} is in the log"
    for url in urls:
        assert url.split("?")[1] not in text and url.split("X-Amz-Signature=")[1] not in text
    assert "X-Amz-Security-Token" not in text or "X-Amz-Security-Token=<redacted>" in text
    if level == "DEBUG":
        assert any('"calling"' in line for line in lines)  # the provider's own request detail


def test_every_line_is_the_providers_json_with_its_request_id(receiver: Receiver) -> None:
    event = {**create_event({**PUBLIC, "AdoptExisting": "true"}), "ResponseURL": receiver.url()}

    lines = run("DEBUG", [event])

    records = [json.loads(line) for line in lines]  # every line is JSON (none is text, none doubly encoded)
    assert all(isinstance(record, dict) for record in records)
    during = [r for r in records if r.get("cold_start") is not None]
    assert during, "the invocation logged nothing"
    assert all(r["service"] == "ecr-pull-through-cache-provider" for r in records)
    assert all(r.get("correlation_id") == event["RequestId"] for r in during)
    assert {r.get("name") for r in during} >= {"handler.dispatch"}
    assert all(
        isinstance(r.get("message"), str | dict) and not str(r["message"]).startswith('{"') for r in records
    )
