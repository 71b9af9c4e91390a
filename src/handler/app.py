"""The Lambda entry point. It only wires the parts together: logging, the ECR client,
crhelper's resource and the dispatcher that serves Create, Update and Delete."""

from __future__ import annotations

import os
import time
from typing import Any

import boto3
from aws_lambda_powertools import Logger
from botocore.config import Config

from handler import logs
from handler.deadline import Deadline, RetryPolicy
from handler.dispatch import Dispatcher
from handler.ecr import EcrRules
from handler.errors import ProviderError
from handler.resource import ProviderResource
from handler.version import VERSION

ANSWER_RESERVE_S = 2.0  # the answer goes out this long before the Lambda's deadline
CONNECT_TIMEOUT_S, READ_TIMEOUT_S = 2, 6
# Retries are the provider's own (within the deadline), so botocore makes one attempt.
CLIENT_CONFIG = Config(
    connect_timeout=CONNECT_TIMEOUT_S,
    read_timeout=READ_TIMEOUT_S,
    retries={"total_max_attempts": 1, "mode": "standard"},
    user_agent_extra=f"ecr-pull-through-cache-provider/{VERSION}",
)

logger = Logger(service=os.environ.get("POWERTOOLS_SERVICE_NAME", "ecr-pull-through-cache-provider"))
resource = ProviderResource(answer_reserve_s=ANSWER_RESERVE_S)
retry_policy = RetryPolicy()

ecr_client: Any = None
try:
    ecr_client = boto3.client("ecr", config=CLIENT_CONFIG)
except Exception as error:  # noqa: BLE001 -- e.g. no Region: every request is answered FAILED, none hangs
    resource.init_failure(
        ProviderError(
            f"The provider could not start ({error}). Check the function's environment "
            "(AWS_REGION, AWS_DEFAULT_REGION) and redeploy it from template.yaml."
        )
    )


def rules_for(context: Any) -> EcrRules:
    deadline = Deadline(resource.remaining_ms, ANSWER_RESERVE_S)
    return EcrRules(ecr_client, deadline, retry_policy)


dispatcher = Dispatcher(resource, rules_for)
resource.create(dispatcher)
resource.update(dispatcher)
resource.delete(dispatcher)
redactor = logs.configure(logger)


def lambda_handler(event: dict[str, Any], context: Any) -> None:
    _serve(event, CompleteContext(context))


@logger.inject_lambda_context(correlation_id_path="RequestId")
def _serve(event: dict[str, Any], context: Any) -> None:
    redactor.url = str(event.get("ResponseURL", ""))
    try:
        resource(event, context)
    finally:
        redactor.url = ""


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
