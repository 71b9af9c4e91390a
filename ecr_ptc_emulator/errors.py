"""Errors of the pull-through cache operations, as ECR's service model names them.

Modeled errors are moto ``ServiceException``s: moto serialises them against the ECR
model, so botocore raises the matching ``client.exceptions.<Code>``. Injected faults
may carry any code and HTTP status (``ThrottlingException`` is not in the ECR model),
so they are werkzeug ``HTTPException``s (moto's ``JsonRESTError``), which moto sends as is.

This module's name must not start with ``moto``: moto derives a service name from
the module of a ``ServiceException`` whose module does.
"""

from botocore.exceptions import ReadTimeoutError
from moto.core.exceptions import JsonRESTError, ServiceException


class InvalidParameterException(ServiceException):
    code = "InvalidParameterException"


class ValidationException(ServiceException):
    code = "ValidationException"


class LimitExceededException(ServiceException):
    code = "LimitExceededException"


class SecretNotFoundException(ServiceException):
    code = "SecretNotFoundException"


class UnsupportedUpstreamRegistryException(ServiceException):
    code = "UnsupportedUpstreamRegistryException"


class PullThroughCacheRuleAlreadyExistsException(ServiceException):
    code = "PullThroughCacheRuleAlreadyExistsException"

    def __init__(self, prefix: str, registry_id: str) -> None:
        super().__init__(
            f"A pull through cache rule with the prefix '{prefix}' already exists "
            f"in the registry with id '{registry_id}'"
        )


class PullThroughCacheRuleNotFoundException(ServiceException):
    code = "PullThroughCacheRuleNotFoundException"

    def __init__(self, prefix: str, registry_id: str) -> None:
        super().__init__(
            f"The pull through cache rule with the prefix '{prefix}' does not exist "
            f"in the registry with id '{registry_id}'"
        )


class AnyError(JsonRESTError):
    """An error with any code and HTTP status (injected faults, SerializationException)."""

    def __init__(self, code: str, message: str, status: int = 400) -> None:
        super().__init__(code, message)
        self.code = status


class ResponseLost(ReadTimeoutError):
    """The call took effect and no answer comes back. In-process (moto's mock answers inside
    botocore's send), raised as is it is exactly what botocore raises when a read times out;
    in server mode the responder holds the connection for ``hang_s`` instead."""

    def __init__(self, hang_s: float) -> None:
        super().__init__(endpoint_url="the ECR emulator (the response was lost)")
        self.hang_s = hang_s
