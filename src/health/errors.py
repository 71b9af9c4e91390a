"""The one error the health check raises: a read it needs was refused or failed for good."""

from __future__ import annotations


class CannotRead(Exception):
    """`action` (e.g. 'ecr:DescribePullThroughCacheRules') failed with the service's error `code`."""

    def __init__(self, action: str, code: str, message: str) -> None:
        self.action, self.code, self.message = action, code, message
        super().__init__(self.explain())

    def explain(self) -> str:
        if "AccessDenied" in self.code or self.code in {
            "UnauthorizedOperation",
            "UnrecognizedClientException",
        }:
            return (
                f"{self.action} was refused ({self.code}): the health check needs it; give the identity "
                f"that runs the check the action {self.action} (the read-only policy in "
                f"docs/reference.md#health-check). {self.message}"
            )
        return f"{self.action} failed ({self.code}): {self.message}"
