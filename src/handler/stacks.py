"""CloudFormation's own record of the stack a request came from.

Read only where the request and ECR together cannot tell what to do: an Update that finds its
new prefix already holding a rule exactly as asked is either CloudFormation rolling back to the
rule this resource held before (keep it) or a forward update reaching for another owner's rule
(refuse it). The two requests have the same shape; the stack's status tells them apart. And a
rule this resource is about to take as its own must not be held by another resource of the stack.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from handler.calls import Caller, CallError
from handler.errors import StackUnreadable
from handler.properties import canonical_prefix

# The status of a stack while CloudFormation sends the Updates that return its resources to
# their previous properties (after a failed update, and when continuing a failed rollback).
ROLLING_BACK = "UPDATE_ROLLBACK_IN_PROGRESS"
# Resource types whose physical id is a pull-through cache rule's prefix.
RULE_TYPES = ("AWS::ECR::PullThroughCacheRule", "AWS::CloudFormation::CustomResource")
FIX = (
    "The provider's role needs cloudformation:DescribeStacks and cloudformation:ListStackResources "
    "on this account's stacks (template.yaml grants both)"
)


class Stacks:
    """Reads stacks through a Caller made on first use (most requests never need one)."""

    def __init__(self, caller: Callable[[], Caller]) -> None:
        self._make_caller = caller
        self._caller: Caller | None = None
        self._resources: dict[str, list[tuple[str, str]]] = {}
        self._stacks: dict[str, dict[str, Any]] = {}

    @property
    def calls(self) -> int:
        return self._caller.calls if self._caller else 0

    def status(self, stack_id: str) -> str:
        """The stack's StackStatus, e.g. UPDATE_ROLLBACK_IN_PROGRESS."""
        return str(self._describe(stack_id).get("StackStatus", ""))

    def _describe(self, stack_id: str) -> dict[str, Any]:
        """The stack as DescribeStacks reports it (read once per request)."""
        if stack_id not in self._stacks:
            answer = self._call("DescribeStacks", {"StackName": stack_id})
            stacks = answer.get("Stacks") or []
            if not stacks:
                raise StackUnreadable(f"DescribeStacks found no stack {stack_id}. {FIX}.")
            self._stacks[stack_id] = dict(stacks[0])
        return self._stacks[stack_id]

    def holders(self, stack_id: str, prefix: str) -> list[str]:
        """The logical ids of the stack's resources whose physical id is this prefix (the stack's
        resources are read once per request)."""
        if stack_id not in self._resources:
            self._resources[stack_id] = self._list(stack_id)
        return [
            logical_id
            for logical_id, held in self._resources[stack_id]
            if held and canonical_prefix(held) == canonical_prefix(prefix)
        ]

    def _list(self, stack_id: str) -> list[tuple[str, str]]:
        found: list[tuple[str, str]] = []
        params: dict[str, str] = {"StackName": stack_id}
        while True:
            answer = self._call("ListStackResources", params)
            for summary in answer.get("StackResourceSummaries") or []:
                kind = str(summary.get("ResourceType", ""))
                if kind.startswith("Custom::") or kind in RULE_TYPES:
                    found.append(
                        (
                            str(summary.get("LogicalResourceId", "")),
                            str(summary.get("PhysicalResourceId") or ""),
                        )
                    )
            token = answer.get("NextToken")
            if not token:
                return found
            params = {"StackName": stack_id, "NextToken": str(token)}

    def record(self, stack_id: str, logical_id: str) -> StackRecord:
        """The record of one request's stack, as the lifecycle reads it."""
        return StackRecord(self, stack_id, logical_id)

    def _call(self, operation: str, params: dict[str, str]) -> dict[str, Any]:
        if self._caller is None:
            self._caller = self._make_caller()
        try:
            answer, _ = self._caller.call(operation, params, write=False)
        except CallError as error:
            raise StackUnreadable(
                f"{operation} on the request's stack failed ({error.code}: {error.message}). {FIX}."
            ) from error
        return answer


class StackRecord:
    """One request's stack and resource (handler.lifecycle.Record)."""

    def __init__(self, stacks: Stacks, stack_id: str, logical_id: str) -> None:
        self._stacks, self._stack_id, self._logical_id = stacks, stack_id, logical_id

    def rolling_back(self) -> bool:
        return self._stacks.status(self._stack_id) == ROLLING_BACK

    def holds(self, prefix: str) -> bool:
        return self._logical_id in self._stacks.holders(self._stack_id, prefix)

    def others_holding(self, prefix: str) -> list[str]:
        return [h for h in self._stacks.holders(self._stack_id, prefix) if h != self._logical_id]
