"""CloudFormation's API as the project's own stand-ins see their stacks: DescribeStacks and
ListStackResources, answered to the provider's CloudFormation client from a table of stacks
(the lifecycle simulator keeps it current; handler tests set it by hand).

It hooks the client's before-call event, so botocore builds the request and parses nothing:
the answer is the parsed shape CloudFormation's model defines. Errors are raised as botocore
raises them (ClientError with CloudFormation's codes). MiniStack's real CloudFormation answers
the same calls in tests/ministack.
"""

from __future__ import annotations

import threading
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

from botocore.awsrequest import AWSResponse, HTTPHeaders
from botocore.exceptions import ClientError

CUSTOM_TYPE = "Custom::PullThroughCacheRule"


@dataclass
class StackView:
    """What CloudFormation holds for one stack: its status, and each resource's type and id."""

    name: str
    status: str = "CREATE_IN_PROGRESS"
    resources: dict[str, tuple[str, str]] = field(default_factory=dict)  # logical id -> (type, id)


class StackApi:
    """Answers DescribeStacks and ListStackResources from `stacks` (by StackId or name).
    `fail` (an error code) makes every call fail with it; `calls` records each operation."""

    def __init__(self) -> None:
        self.stacks: dict[str, StackView] = {}
        self.calls: list[str] = []
        self.fail: str | None = None
        self._lock = threading.Lock()
        self._clients: list[Any] = []

    def add(self, stack_id: str, status: str = "CREATE_IN_PROGRESS") -> StackView:
        view = StackView(stack_id.split("/")[1] if "/" in stack_id else stack_id, status)
        with self._lock:
            self.stacks[stack_id] = view
        return view

    def install(self, client: Any) -> StackApi:
        client.meta.events.register_first("before-call.cloudformation", self._answer)
        self._clients.append(client)
        return self

    def uninstall(self) -> None:
        for client in self._clients:
            client.meta.events.unregister("before-call.cloudformation", self._answer)
        self._clients.clear()

    def _answer(
        self, model: Any, params: dict[str, Any], **kwargs: Any
    ) -> tuple[AWSResponse, dict[str, Any]]:
        operation = str(model.name)
        params = params.get("body") or {}  # the serialized request: CloudFormation's query fields
        with self._lock:
            self.calls.append(operation)
            if self.fail:
                raise _error(operation, self.fail, "Injected fault", 400)
            view = self._find(str(params.get("StackName", "")))
            if view is None:
                name = params.get("StackName")
                raise _error(operation, "ValidationError", f"Stack with id {name} does not exist", 400)
            stack_id = next(k for k, v in self.stacks.items() if v is view)
            if operation == "DescribeStacks":
                stack = {
                    "StackId": stack_id,
                    "StackName": view.name,
                    "StackStatus": view.status,
                    "CreationTime": datetime(2026, 1, 1, tzinfo=UTC),
                }
                return _ok(), {"Stacks": [stack]}
            if operation == "ListStackResources":
                summaries = [
                    {
                        "LogicalResourceId": logical_id,
                        "PhysicalResourceId": physical_id,
                        "ResourceType": kind,
                        "ResourceStatus": "UPDATE_COMPLETE",
                        "LastUpdatedTimestamp": datetime(2026, 1, 1, tzinfo=UTC),
                    }
                    for logical_id, (kind, physical_id) in view.resources.items()
                ]
                return _ok(), {"StackResourceSummaries": summaries}
        raise _error(operation, "InvalidAction", f"{operation} is not served by the stand-in", 400)

    def _find(self, name: str) -> StackView | None:
        if name in self.stacks:
            return self.stacks[name]
        return next((v for v in self.stacks.values() if v.name == name), None)


def _ok() -> AWSResponse:
    return AWSResponse("https://cloudformation.us-east-1.amazonaws.com/", 200, HTTPHeaders(), None)


def _error(operation: str, code: str, message: str, status: int) -> ClientError:
    response: Any = {
        "Error": {"Code": code, "Message": message},
        "ResponseMetadata": {"HTTPStatusCode": status},
    }
    return ClientError(response, operation)
