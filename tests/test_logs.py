"""Logs: Powertools JSON, the RequestId as correlation id, one decision line per request,
and never the ResponseURL, whatever the log level."""

from __future__ import annotations

import io
import json
import logging
from typing import Any

import pytest

from devkit.aws_lambda.context import LambdaContext
from devkit.cloudformation.receiver import Receiver
from handler import app
from tests.helpers import PUBLIC, create_event


def invoke_and_read_logs(receiver: Receiver, event: dict[str, Any]) -> tuple[str, str]:
    """Run one request; return its ResponseURL and everything the provider logged."""
    url = receiver.url()
    buffer = io.StringIO()
    streams = [handler.setStream(buffer) for handler in app.logger.handlers]  # type: ignore[attr-defined]
    try:
        app.lambda_handler({**event, "ResponseURL": url}, LambdaContext())
    finally:
        for handler, stream in zip(app.logger.handlers, streams, strict=True):
            handler.setStream(stream)  # type: ignore[attr-defined]
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
    original = app.logger.log_level
    app.logger.setLevel(level)
    try:
        for properties in (PUBLIC, {**PUBLIC, "Bogus": "x"}):
            url, out = invoke_and_read_logs(receiver, create_event(properties))
            signature = url.split("X-Amz-Signature=")[1]
            assert '"message":"decision"' in out
            assert signature not in out
            assert "cloudformation-responses" not in out
    finally:
        app.logger.setLevel(original)


def test_crhelper_debug_lines_stay_off_even_at_debug() -> None:
    assert logging.getLogger("crhelper.resource_helper").getEffectiveLevel() >= logging.INFO
    assert logging.getLogger("crhelper.utils").getEffectiveLevel() >= logging.INFO
