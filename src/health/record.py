"""What CloudFormation says of one stack that holds a managed rule: enough to resolve its
resources' properties without guessing."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

MANAGED_TYPE = "Custom::PullThroughCacheRule"
NATIVE_TYPE = "AWS::ECR::PullThroughCacheRule"  # holds a rule too; CloudFormation's drift detection covers it


@dataclass(frozen=True)
class StackRecord:
    """One stack: its name and id (an ARN), its template (long form), its parameters' values
    (None where CloudFormation does not show the value: NoEcho), its resources' physical ids by
    logical id, and the account's exports by name."""

    name: str
    stack_id: str
    template: Mapping[str, Any]
    parameters: Mapping[str, str | None]
    physical_ids: Mapping[str, str]
    exports: Mapping[str, str] = field(default_factory=dict)


@dataclass(frozen=True)
class ManagedResource:
    """One Custom::PullThroughCacheRule on a stack's record; its physical id is its prefix."""

    stack: StackRecord
    logical_id: str
    prefix: str
