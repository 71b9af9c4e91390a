"""The provider, built from what it talks to: the ECR client, CloudFormation's (made on first use:
only an Update that meets an existing rule, or an adoption, reads the stack), the transport that
delivers the answer, and the clock its retries pause on. handler.app builds the one Lambda runs;
tests and the devkit build their own the same way."""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from handler.answers import Answers, Put
from handler.calls import AttemptTimeouts, Caller
from handler.cfn_resource import ProviderResource
from handler.deadline import Deadline, RetryPolicy
from handler.dispatch import Dispatcher
from handler.ecr import EcrRules
from handler.response import put
from handler.stacks import Stacks


@dataclass
class Provider:
    """Serves one CloudFormation event per call: `provider(event, context)`."""

    resource: ProviderResource
    answers: Answers
    ecr_client: Any
    retry_policy: RetryPolicy
    ecr_timeouts: AttemptTimeouts | None
    cloudformation: Callable[[], tuple[Any, AttemptTimeouts]]

    def __call__(self, event: Any, context: Any) -> None:
        self.resource(event, context)

    def init_failure(self, error: Exception) -> None:
        """Answer every request FAILED with `error` (the provider could not start)."""
        self.resource.init_failure(error)


def build_provider(
    ecr_client: Any,
    cloudformation_client: Callable[[], Any],
    send: Put = put,
    sleep: Callable[[float], None] = time.sleep,
    started: float | None = None,
) -> Provider:
    """The provider. `ecr_client` may be None when it could not be made: then call init_failure.
    `started` is when the container began starting (CloudFormation's ServiceTimeout counts it)."""
    policy = RetryPolicy(sleep=sleep)
    ecr_timeouts = AttemptTimeouts.of(ecr_client) if ecr_client is not None else None
    made: list[tuple[Any, AttemptTimeouts]] = []

    def cloudformation() -> tuple[Any, AttemptTimeouts]:
        if not made:
            client = cloudformation_client()
            made.append((client, AttemptTimeouts.of(client)))
        return made[0]

    def rules_for(deadline: Deadline) -> EcrRules:
        return EcrRules(
            Caller(ecr_client, ecr_timeouts, deadline, policy),
            Caller(ecr_client, ecr_timeouts, deadline.after_answer(), policy),
        )

    def stacks_for(deadline: Deadline) -> Stacks:
        return Stacks(lambda: Caller(*cloudformation(), deadline, policy))

    answers = Answers(send=send, started=started)
    resource = ProviderResource(answers, Dispatcher(rules_for, stacks_for))
    return Provider(resource, answers, ecr_client, policy, ecr_timeouts, cloudformation)
