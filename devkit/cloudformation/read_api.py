"""CloudFormation's five reads the health check makes (ListStacks, ListStackResources,
GetTemplate, DescribeStacks, ListExports), answered in-process from a table of stacks, on the
wire: it hooks the client's before-send event, so botocore serializes the request, applies its
retry mode (a throttled answer is retried as from AWS) and parses the XML answer with
CloudFormation's model; the XML is written from that model's output shapes.

Pages as CloudFormation's: 100 stack summaries, 100 resources, 100 exports a page (the three
operations have no page-size parameter: the service chooses). Used by the benchmark (a 500-stack
account would take MiniStack minutes to create) and the health check's tests.
"""

from __future__ import annotations

import threading
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any
from urllib.parse import parse_qs
from xml.sax.saxutils import escape

from botocore.awsrequest import AWSResponse, HTTPHeaders

PAGE = 100
NAMESPACE = "http://cloudformation.amazonaws.com/doc/2010-05-15/"
CREATED = datetime(2026, 1, 1, tzinfo=UTC)


@dataclass
class Stack:
    """One stack: its template's text (as GetTemplate returns it), its parameters' values, and
    its resources: logical id -> (type, physical id)."""

    name: str
    template: str = '{"Resources": {}}'
    parameters: dict[str, str] = field(default_factory=dict)
    resources: dict[str, tuple[str, str]] = field(default_factory=dict)
    status: str = "CREATE_COMPLETE"

    @property
    def stack_id(self) -> str:
        return f"arn:aws:cloudformation:us-east-1:123456789012:stack/{self.name}/0a1b2c3d"


class ReadApi:
    """The stacks and exports of one account; `calls` counts each request of each operation
    (throttled ones too); `throttle` answers an operation's next requests 400 Throttling."""

    def __init__(self) -> None:
        self.stacks: list[Stack] = []
        self.exports: dict[str, str] = {}
        self.calls: dict[str, int] = {}
        self._throttled: dict[str, int] = {}
        self._each: dict[str, int] = {}
        self._attempts: dict[str, int] = {}  # request's text -> its attempts so far
        self._lock = threading.Lock()

    def throttle(self, operation: str, times: int) -> None:
        """Answer the next `times` requests of `operation` (-1: every one) as CloudFormation
        answers past its rate: HTTP 400, code Throttling, "Rate exceeded"."""
        with self._lock:
            self._throttled[operation] = times

    def throttle_each(self, operation: str, attempts: int) -> None:
        """Answer the first `attempts` attempts of every request of `operation` 400 Throttling
        (a retry is the same request again): throttling that lasts the whole check."""
        with self._lock:
            self._each[operation] = attempts

    def install(self, client: Any) -> ReadApi:
        """Answer `client`'s requests (register_first: before any other answer)."""
        model = client.meta.service_model
        client.meta.events.register_first(
            "before-send.cloudformation", lambda request, **_: self._answer(model, request)
        )
        return self

    def _answer(self, model: Any, request: Any) -> AWSResponse:
        body = request.body or b""
        text = body.decode() if isinstance(body, bytes) else str(body)
        query = {k: v[0] for k, v in parse_qs(text).items()}
        operation = query["Action"]
        with self._lock:
            self.calls[operation] = self.calls.get(operation, 0) + 1
            left = self._throttled.get(operation, 0)
            self._attempts[text] = self._attempts.get(text, 0) + 1
            if self._attempts[text] <= self._each.get(operation, 0):
                return error(400, "Throttling", "Rate exceeded")
            if left:
                self._throttled[operation] = left - 1 if left > 0 else left
                return error(400, "Throttling", "Rate exceeded")
            try:
                result = self._result(operation, query)
            except LookupError as missing:
                return error(400, "ValidationError", f"Stack with id {missing} does not exist")
        shape = model.operation_model(operation).output_shape
        body = f"<{operation}Result>{_xml(shape, result)}</{operation}Result>"
        return _response(200, f'<{operation}Response xmlns="{NAMESPACE}">{body}</{operation}Response>')

    def _result(self, operation: str, query: dict[str, str]) -> dict[str, Any]:
        start = int(query.get("NextToken", "0"))
        if operation == "ListStacks":
            summaries = [
                {"StackId": s.stack_id, "StackName": s.name, "StackStatus": s.status, "CreationTime": CREATED}
                for s in self.stacks
            ]
            return _page("StackSummaries", summaries, start)
        if operation == "ListExports":
            exports = [{"Name": k, "Value": v, "ExportingStackId": "x"} for k, v in self.exports.items()]
            return _page("Exports", exports, start)
        stack = self._find(query["StackName"])
        if operation == "ListStackResources":
            resources = [
                {
                    "LogicalResourceId": logical,
                    "PhysicalResourceId": physical,
                    "ResourceType": kind,
                    "LastUpdatedTimestamp": CREATED,
                    "ResourceStatus": "CREATE_COMPLETE",
                }
                for logical, (kind, physical) in stack.resources.items()
            ]
            return _page("StackResourceSummaries", resources, start)
        if operation == "GetTemplate":
            return {"TemplateBody": stack.template, "StagesAvailable": ["Original", "Processed"]}
        if operation == "DescribeStacks":
            parameters = [{"ParameterKey": k, "ParameterValue": v} for k, v in stack.parameters.items()]
            return {
                "Stacks": [
                    {
                        "StackId": stack.stack_id,
                        "StackName": stack.name,
                        "Parameters": parameters,
                        "CreationTime": CREATED,
                        "StackStatus": stack.status,
                    }
                ]
            }
        raise NotImplementedError(f"{operation} is not one of the health check's reads")

    def _find(self, name: str) -> Stack:
        for stack in self.stacks:
            if name in (stack.name, stack.stack_id):
                return stack
        raise LookupError(name)


def error(status: int, code: str, message: str) -> AWSResponse:
    """CloudFormation's error answer (the query protocol's XML), e.g. 400 Throttling."""
    body = (
        f'<ErrorResponse xmlns="{NAMESPACE}"><Error><Type>Sender</Type><Code>{code}</Code>'
        f"<Message>{escape(message)}</Message></Error><RequestId>0</RequestId></ErrorResponse>"
    )
    return _response(status, body)


def _page(key: str, items: list[dict[str, Any]], start: int) -> dict[str, Any]:
    page: dict[str, Any] = {key: items[start : start + PAGE]}
    if start + PAGE < len(items):
        page["NextToken"] = str(start + PAGE)
    return page


def _response(status: int, body: str) -> AWSResponse:
    headers = HTTPHeaders()
    headers["Content-Type"] = "text/xml"
    raw = _Raw(body.encode())
    return AWSResponse("https://cloudformation.us-east-1.amazonaws.com/", status, headers, raw)


class _Raw:
    """What AWSResponse reads its content from (urllib3's response, in botocore)."""

    def __init__(self, data: bytes) -> None:
        self.data = data

    def stream(self, *_: Any, **__: Any) -> Any:
        yield self.data


def _xml(shape: Any, value: Any) -> str:
    """`value` as the query protocol's XML of `shape` (structures, lists of members, scalars)."""
    if shape.type_name == "structure":
        parts = []
        for name, member in shape.members.items():
            if name in value:
                tag = member.serialization.get("name", name)
                parts.append(f"<{tag}>{_xml(member, value[name])}</{tag}>")
        return "".join(parts)
    if shape.type_name == "list":
        return "".join(f"<member>{_xml(shape.member, item)}</member>" for item in value)
    if shape.type_name == "timestamp":
        return str(value.strftime("%Y-%m-%dT%H:%M:%S.000Z"))
    if shape.type_name == "boolean":
        return "true" if value else "false"
    return escape(str(value))
