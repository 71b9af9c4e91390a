"""The event EventBridge sends the health function on its schedule (template.yaml: HealthSchedule,
an AWS::Events::Rule whose target has no Input, so the function receives the rule's own event).

EventBridge's "Scheduled Event": `detail` is empty and `resources` names the rule. The health
function reads none of it (it checks the whole account and Region whatever the event says), so a
test or ./dev command invokes it "as the schedule would" with this event.
"""

from __future__ import annotations

import uuid
from typing import Any

from devkit.aws_lambda.context import ACCOUNT, REGION

# The name CloudFormation gives template.yaml's HealthSchedule in the stack ecr-ptc-provider.
RULE_NAME = "ecr-ptc-provider-HealthSchedule-1A2B3C4D5E6F"


def scheduled_event(
    time: str = "2026-01-01T06:00:00Z", account: str = ACCOUNT, region: str = REGION
) -> dict[str, Any]:
    """One scheduled invocation's event, as EventBridge sends it."""
    return {
        "version": "0",
        "id": str(uuid.uuid4()),
        "detail-type": "Scheduled Event",
        "source": "aws.events",
        "account": account,
        "time": time,
        "region": region,
        "resources": [f"arn:aws:events:{region}:{account}:rule/{RULE_NAME}"],
        "detail": {},
    }
