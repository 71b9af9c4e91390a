"""The provider's own exceptions. Each carries the Reason CloudFormation will show."""

from __future__ import annotations

from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from handler.rules import Window


class ProviderError(Exception):
    """A request that cannot succeed; `reason` says why and what to do."""

    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason


class EcrError(ProviderError):
    """ECR refused a call, or kept failing it; `code` is ECR's error code. `unknown`: the call
    may have taken effect all the same, and reading ECR back could not tell; `window`: when its
    attempts ran."""

    def __init__(self, reason: str, code: str, unknown: bool = False, window: Window | None = None) -> None:
        super().__init__(reason)
        self.code = code
        self.unknown = unknown
        self.window = window


class RuleAlreadyExists(EcrError):
    """ECR already holds a rule with this prefix (one this request did not make)."""

    def __init__(self, reason: str) -> None:
        super().__init__(reason, "PullThroughCacheRuleAlreadyExistsException")


class RuleNotFound(EcrError):
    """ECR holds no rule with this prefix."""

    def __init__(self, reason: str) -> None:
        super().__init__(reason, "PullThroughCacheRuleNotFoundException")


class OutOfTime(ProviderError):
    """Too little time is left before the answer is due to start another call."""


class StackUnreadable(ProviderError):
    """CloudFormation's record of the stack (its status, its resources) could not be read."""
