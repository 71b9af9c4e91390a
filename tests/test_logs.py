"""Logs: Powertools JSON, the RequestId as correlation id, one decision line per request,
and never the ResponseURL, whatever the log level."""

from __future__ import annotations

import contextlib
import io
import json
import logging
from collections.abc import Iterator
from typing import Any

import pytest

from devkit.aws_lambda.context import LambdaContext
from devkit.cloudformation.receiver import Receiver
from handler import app, wiring
from handler.logs import Scrubber
from tests.helpers import PUBLIC, create_event


@contextlib.contextmanager
def provider_output() -> Iterator[io.StringIO]:
    """Everything the provider's Powertools handler writes in the block. (Its one handler: during a
    test, pytest attaches its own capture handlers to every logger that does not propagate.)"""
    handler = wiring.logger.registered_handler
    assert isinstance(handler, logging.StreamHandler)
    buffer = io.StringIO()
    stream = handler.setStream(buffer)
    try:
        yield buffer
    finally:
        handler.setStream(stream)


def invoke_and_read_logs(receiver: Receiver, event: dict[str, Any]) -> tuple[str, str]:
    """Run one request; return its ResponseURL and everything the provider logged."""
    url = receiver.url()
    with provider_output() as buffer:
        app.lambda_handler({**event, "ResponseURL": url}, LambdaContext())
    return url, buffer.getvalue()


def test_one_json_decision_line_per_request_with_the_request_id(
    receiver: Receiver, pauses: list[float]
) -> None:
    event = create_event(PUBLIC)
    _, out = invoke_and_read_logs(receiver, event)
    lines = [json.loads(line) for line in out.splitlines()]

    decisions = [line for line in lines if line.get("message") == "decision"]
    assert len(decisions) == 1
    decision = decisions[0]
    assert decision["correlation_id"] == event["RequestId"]
    assert decision["decision"]["asked"] == PUBLIC
    assert decision["decision"]["done"] == ["created the rule"]
    assert decision["decision"]["status"] == "SUCCESS"
    assert decision["decision"]["ecr_calls"] == 1
    assert all(line.get("correlation_id") == event["RequestId"] for line in lines)


@pytest.mark.parametrize("level", [logging.INFO, logging.DEBUG])
def test_the_response_url_is_never_logged(receiver: Receiver, pauses: list[float], level: int) -> None:
    original = wiring.logger.log_level
    wiring.logger.setLevel(level)
    try:
        for properties in (PUBLIC, {**PUBLIC, "Bogus": "x"}):
            url, out = invoke_and_read_logs(receiver, create_event(properties))
            signature = url.split("X-Amz-Signature=")[1]
            assert '"message":"decision"' in out
            assert signature not in out
            assert "cloudformation-responses" not in out
    finally:
        wiring.logger.setLevel(original)


def test_crhelper_debug_lines_stay_off_even_at_debug() -> None:
    assert logging.getLogger("crhelper.resource_helper").getEffectiveLevel() >= logging.INFO
    assert logging.getLogger("crhelper.utils").getEffectiveLevel() >= logging.INFO


def test_the_scrubber_removes_credentials_wherever_they_appear(monkeypatch: pytest.MonkeyPatch) -> None:
    token = "IQoJb3JpZ2luX2VjEJr//////////wEaCXVzLWVhc3QtMSJHMEUCIQDs3cr3tS3ssI0nT0k3n"
    secret = "wJalrXUtnFEMI/K7MDENG/bPxRfiCYzq8Xv3Ls0A"
    monkeypatch.setenv("AWS_SESSION_TOKEN", token)
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", secret)
    scrub = Scrubber()
    scrub.url = "https://bucket.s3.amazonaws.com/resp?X-Amz-Signature=abc123"
    lines = [
        f"headers={{'X-Amz-Security-Token': '{token}', 'Authorization': 'AWS4-HMAC-SHA256 "
        "Credential=ASIAQ3EGRZVX7LK2M4PA/20261202/us-east-1/ecr/aws4_request, Signature=00ff00ff'}",
        f"aws_secret_access_key = {secret}",
        f"put to {scrub.url} failed",
        "https://x.s3.amazonaws.com/k?X-Amz-Algorithm=A&X-Amz-Credential=ASIAQ3EGRZVX7LK2M4PA%2F2026&X-Amz-Signature=ff",
        "Traceback: ... session_token='abcdefgh12345678'",
    ]
    out = [scrub(line) for line in lines]

    for leaked in (token, secret, "ASIAQ3EGRZVX7LK2M4PA", "00ff00ff", "abc123", "abcdefgh12345678"):
        assert not any(leaked in line for line in out), leaked
    assert "<ResponseURL redacted>" in out[2]


def test_a_logged_exception_is_scrubbed_too(receiver: Receiver, pauses: list[float]) -> None:
    """A traceback is formatted into the line by Powertools: the serialiser sees it whole."""
    url = receiver.url()
    wiring.scrubber.url = url
    try:
        with provider_output() as buffer:
            try:
                raise RuntimeError(f"PUT {url} refused")
            except RuntimeError:
                logging.getLogger("handler.dispatch").exception("boom")
    finally:
        wiring.scrubber.url = ""
    assert "X-Amz-Signature=sig" not in buffer.getvalue()
    assert "<ResponseURL redacted>" in buffer.getvalue()
