"""Invoke the real handler (crhelper included) and collect what CloudFormation receives."""

from __future__ import annotations

from typing import Any

from devkit.aws_lambda.context import LambdaContext
from devkit.cloudformation.receiver import Receiver


def invoke(
    event: dict[str, Any], receiver: Receiver, context: LambdaContext | None = None
) -> list[dict[str, Any]]:
    """Run one request through handler.app.lambda_handler with a fresh ResponseURL on
    `receiver`; return every answer PUT to it (one, when the handler is right)."""
    from handler.app import lambda_handler  # after the caller has set up Region and emulator

    url = receiver.url()
    lambda_handler({**event, "ResponseURL": url}, context or LambdaContext())
    return receiver.answers(url)
