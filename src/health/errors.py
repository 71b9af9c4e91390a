"""The one error the health check raises: a read it needs was refused or failed for good.
Told apart by the service's error code, never by its message."""

from __future__ import annotations

from botocore.exceptions import BotoCoreError, ClientError

# the identity may not make the call
DENIED = frozenset({"AccessDenied", "AccessDeniedException", "UnauthorizedOperation"})
# the credentials themselves are refused (wrong, expired, or of another partition)
BAD_CREDENTIALS = frozenset(
    {"UnrecognizedClientException", "InvalidClientTokenId", "ExpiredToken", "ExpiredTokenException"}
)


class CannotRead(Exception):
    """`action` (e.g. 'ecr:DescribePullThroughCacheRules') failed with the service's error `code`."""

    def __init__(self, action: str, code: str, message: str) -> None:
        self.action, self.code, self.message = action, code, message
        super().__init__(self.explain())

    @property
    def denied(self) -> bool:
        """True when no further call can succeed as things are: the action or the credentials are refused."""
        return self.code in DENIED or self.code in BAD_CREDENTIALS

    def explain(self) -> str:
        if self.code in DENIED:
            return (
                f"{self.action} was refused ({self.code}): the health check needs it; give the identity "
                f"that runs the check the action {self.action} (the read-only policy in "
                f"docs/reference.md#health-check). {self.message}"
            )
        if self.code in BAD_CREDENTIALS:
            return (
                f"{self.action} was refused ({self.code}): the credentials are not valid here; renew "
                f"them, or choose another --profile. {self.message}"
            )
        return (
            f"{self.action} failed ({self.code}): {self.message} (throttling and server errors are "
            "retried, 10 attempts in all: check the Region and the endpoint, then run the check again)"
        )


def cannot_read(action: str, error: ClientError | BotoCoreError) -> CannotRead:
    """`action`'s failure as CannotRead: the service's error code, or botocore's own error (a
    connection or a timeout, after the client's retries) by its class name."""
    if isinstance(error, ClientError):
        details = error.response.get("Error", {})
        return CannotRead(action, str(details.get("Code", "Unknown")), str(details.get("Message", "")))
    return CannotRead(action, type(error).__name__, str(error))
