"""The provider's own exceptions. Each carries the Reason CloudFormation will show."""

from __future__ import annotations


class ProviderError(Exception):
    """A request that cannot succeed; `reason` says why and what to do."""

    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason


class EcrError(ProviderError):
    """ECR refused a call, or kept failing it; `code` is ECR's error code."""

    def __init__(self, reason: str, code: str) -> None:
        super().__init__(reason)
        self.code = code


class RuleAlreadyExists(EcrError):
    """ECR already holds a rule with this prefix."""

    def __init__(self, reason: str) -> None:
        super().__init__(reason, "PullThroughCacheRuleAlreadyExistsException")


class RuleNotFound(EcrError):
    """ECR holds no rule with this prefix."""

    def __init__(self, reason: str) -> None:
        super().__init__(reason, "PullThroughCacheRuleNotFoundException")


class OutOfTime(ProviderError):
    """Too little of the Lambda's time is left to start another ECR call."""
