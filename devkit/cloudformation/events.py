"""CloudFormation request events: the files in events/ and ones built on the fly."""

from __future__ import annotations

import copy
import json
import uuid
from pathlib import Path
from typing import Any

from devkit.aws_lambda.context import FUNCTION_ARN

EVENTS_DIR = Path(__file__).resolve().parents[2] / "events"
STACK_ID = (
    "arn:aws:cloudformation:us-east-1:123456789012:stack/demo-stack/1b2c3d4e-0000-0000-0000-00000000abcd"
)
SERVICE_TOKEN = FUNCTION_ARN


def load(name: str) -> dict[str, Any]:
    """An event from events/, by file name (with or without .json)."""
    path = EVENTS_DIR / (name if name.endswith(".json") else f"{name}.json")
    return dict(json.loads(path.read_text()))


def names() -> list[str]:
    """The event files in the order the demo runs them (their numeric prefixes)."""
    return sorted(p.name for p in EVENTS_DIR.glob("*.json"))


def request(
    request_type: str,
    properties: dict[str, Any],
    physical_id: str | None = None,
    old_properties: dict[str, Any] | None = None,
    logical_id: str = "Cache",
    request_id: str | None = None,
) -> dict[str, Any]:
    """A request as CloudFormation sends it (ServiceToken added, no ResponseURL yet)."""
    event: dict[str, Any] = {
        "RequestType": request_type,
        "RequestId": request_id or str(uuid.uuid4()),
        "ResponseURL": "",
        "ResourceType": "Custom::PullThroughCacheRule",
        "LogicalResourceId": logical_id,
        "StackId": STACK_ID,
        "ResourceProperties": {"ServiceToken": SERVICE_TOKEN, **properties},
    }
    if physical_id is not None:
        event["PhysicalResourceId"] = physical_id
    if old_properties is not None:
        event["OldResourceProperties"] = {"ServiceToken": SERVICE_TOKEN, **old_properties}
    return copy.deepcopy(event)
