"""What the Lambda entry point (handler.app) wires together: logging, the ECR client (and, made on
first use, a CloudFormation client), the provider built from them (handler.provider), and how
an invocation is served (the ResponseURL kept out of the logs, the context completed)."""

from __future__ import annotations

import os
import time
from collections.abc import Callable
from typing import Any

import boto3
from aws_lambda_powertools import Logger
from botocore.config import Config

from ecr_ptc_contract import VERSION
from handler import logs
from handler.answers import Put
from handler.deadline import RetryPolicy
from handler.errors import ProviderError
from handler.provider import Provider, build_provider
from handler.response import put

# Retries are the provider's own (within the deadline), so botocore makes one attempt; each
# attempt's timeouts are bounded by the time left (handler.calls.AttemptTimeouts).
CLIENT_CONFIG = Config(
    connect_timeout=RetryPolicy.connect_timeout_s,
    read_timeout=RetryPolicy.read_timeout_s,
    retries={"total_max_attempts": 1, "mode": "standard"},
    user_agent_extra=f"ecr-pull-through-cache-provider/{VERSION}",
)

scrubber = logs.Scrubber()
logger = Logger(
    service=os.environ.get("POWERTOOLS_SERVICE_NAME", "ecr-pull-through-cache-provider"),
    json_serializer=logs.serializer(scrubber),
)
logs.configure(logger, scrubber)  # before any client exists: botocore logs from its creation on


def make_provider(
    send: Put = put, sleep: Callable[[float], None] = time.sleep, started: float | None = None
) -> Provider:
    """The provider with AWS's clients, answering through `send` and pausing on `sleep`; one that
    answers every request FAILED when the clients cannot be made (e.g. no Region), so that no
    request hangs. `started`: when the container began starting (ServiceTimeout counts it)."""
    try:
        ecr_client = boto3.client("ecr", config=CLIENT_CONFIG)
    except Exception as error:  # noqa: BLE001 -- every request is answered FAILED, none hangs
        provider = build_provider(None, cloudformation_client, send, sleep, started=started)
        provider.init_failure(
            ProviderError(
                f"The provider could not start ({error}). Check the function's environment "
                "(AWS_REGION, AWS_DEFAULT_REGION) and redeploy it from template.yaml."
            )
        )
        return provider
    return build_provider(ecr_client, cloudformation_client, send, sleep, started=started)


def cloudformation_client() -> Any:
    return boto3.client("cloudformation", config=CLIENT_CONFIG)


def serve(provider: Provider, event: dict[str, Any], context: Any) -> None:
    """One invocation: the ResponseURL is a credential the logs never show (logs.Scrubber), from
    the first line on (Powertools' own, the event, when POWERTOOLS_LOGGER_LOG_EVENT is set)."""
    scrubber.url = str(event.get("ResponseURL", "")) if isinstance(event, dict) else ""
    try:
        _serve(event, CompleteContext(context), provider)
    finally:
        scrubber.url = ""


@logger.inject_lambda_context(correlation_id_path="RequestId")
def _serve(event: dict[str, Any], context: Any, provider: Provider) -> None:
    provider(event, context)


class CompleteContext:
    """The Lambda context, with what a hand-made one (or None) lacks filled in, so that no
    missing attribute can stop a request from being answered."""

    DEFAULT_TIMEOUT_MS = 60_000

    def __init__(self, context: Any) -> None:
        self._context = context
        self._started = time.monotonic()
        self.function_name = str(
            getattr(context, "function_name", "") or os.environ.get("AWS_LAMBDA_FUNCTION_NAME", "")
        )
        self.memory_limit_in_mb = getattr(context, "memory_limit_in_mb", 0)
        self.invoked_function_arn = str(getattr(context, "invoked_function_arn", "") or "")
        self.aws_request_id = str(getattr(context, "aws_request_id", "") or "")

    def get_remaining_time_in_millis(self) -> int:
        remaining = getattr(self._context, "get_remaining_time_in_millis", None)
        if callable(remaining):
            return int(remaining())
        return self.DEFAULT_TIMEOUT_MS - int((time.monotonic() - self._started) * 1000)
