"""The Lambda entry point. It only wires the parts together: logging, the ECR client (and, on the
few paths that need one, a CloudFormation client), crhelper's resource and the dispatcher
that serves Create, Update and Delete."""

from __future__ import annotations

import gc
import os
import time

STARTED = time.monotonic()  # CloudFormation's ServiceTimeout counts the container's start too
# The cold start runs without the cyclic garbage collector, whose passes over the imports'
# objects were about a fifth of the init (251.7 -> 200.5 ms in-process, median of 11). At the
# end of this module what the init made is frozen out of later passes and the collector is on.
gc.disable()

from typing import Any  # noqa: E402

import boto3  # noqa: E402
from aws_lambda_powertools import Logger  # noqa: E402
from botocore.config import Config  # noqa: E402

from ecr_ptc_contract import VERSION  # noqa: E402
from handler import logs  # noqa: E402
from handler.calls import AttemptTimeouts, Caller  # noqa: E402
from handler.deadline import Deadline, RetryPolicy  # noqa: E402
from handler.dispatch import Dispatcher  # noqa: E402
from handler.ecr import EcrRules  # noqa: E402
from handler.errors import ProviderError  # noqa: E402
from handler.resource import ProviderResource  # noqa: E402
from handler.stacks import Stacks  # noqa: E402

retry_policy = RetryPolicy()
# Retries are the provider's own (within the deadline), so botocore makes one attempt; each
# attempt's timeouts are bounded by the time left (handler.calls.AttemptTimeouts).
CLIENT_CONFIG = Config(
    connect_timeout=retry_policy.connect_timeout_s,
    read_timeout=retry_policy.read_timeout_s,
    retries={"total_max_attempts": 1, "mode": "standard"},
    user_agent_extra=f"ecr-pull-through-cache-provider/{VERSION}",
)

scrubber = logs.Scrubber()
logger = Logger(
    service=os.environ.get("POWERTOOLS_SERVICE_NAME", "ecr-pull-through-cache-provider"),
    json_serializer=logs.serializer(scrubber),
)
logs.configure(logger, scrubber)  # before any client exists: botocore logs from its creation on
resource = ProviderResource(started=STARTED)

ecr_client: Any = None
ecr_timeouts: AttemptTimeouts | None = None
try:
    ecr_client = boto3.client("ecr", config=CLIENT_CONFIG)
    ecr_timeouts = AttemptTimeouts(ecr_client)
except Exception as error:  # noqa: BLE001 -- e.g. no Region: every request is answered FAILED, none hangs
    resource.init_failure(
        ProviderError(
            f"The provider could not start ({error}). Check the function's environment "
            "(AWS_REGION, AWS_DEFAULT_REGION) and redeploy it from template.yaml."
        )
    )

_cloudformation: tuple[Any, AttemptTimeouts] | None = None


def cloudformation() -> tuple[Any, AttemptTimeouts]:
    """The CloudFormation client, made on first use: only an Update that meets an existing rule
    (or an adoption) reads the stack, so most containers never pay for it."""
    global _cloudformation  # noqa: PLW0603 -- one client per container, like ecr_client
    if _cloudformation is None:
        client = boto3.client("cloudformation", config=CLIENT_CONFIG)
        _cloudformation = (client, AttemptTimeouts(client))
    return _cloudformation


def rules_for(deadline: Deadline) -> EcrRules:
    return EcrRules(
        Caller(ecr_client, ecr_timeouts, deadline, retry_policy),
        Caller(ecr_client, ecr_timeouts, deadline.after_answer(), retry_policy),
    )


def stacks_for(deadline: Deadline) -> Stacks:
    return Stacks(lambda: Caller(*cloudformation(), deadline, retry_policy))


dispatcher = Dispatcher(resource, rules_for, stacks_for)
resource.create(dispatcher)
resource.update(dispatcher)
resource.delete(dispatcher)
gc.freeze()
gc.enable()


def lambda_handler(event: dict[str, Any], context: Any) -> None:
    _serve(event, CompleteContext(context))


@logger.inject_lambda_context(correlation_id_path="RequestId")
def _serve(event: dict[str, Any], context: Any) -> None:
    scrubber.url = str(event.get("ResponseURL", "")) if isinstance(event, dict) else ""
    try:
        resource(event, context)
    finally:
        scrubber.url = ""


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
