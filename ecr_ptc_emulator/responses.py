"""The five operations as methods of moto's ``ECRResponse``.

moto dispatches a JSON-protocol call by its ``X-Amz-Target`` header to the method of
``ECRResponse`` named after the operation in snake_case, looked up at call time.
"""

import json
import time
from collections.abc import Callable
from typing import Any

from moto.core.responses import ActionResult
from moto.core.utils import camelcase_to_underscores
from moto.ecr.responses import ECRResponse

from .backend import OPERATIONS, handle
from .errors import AnyError, ResponseLost

_MARK = "__ecr_ptc_emulator__"


def _responder(operation: str) -> Callable[[Any], ActionResult]:
    def respond(self: Any) -> ActionResult:
        try:
            params = json.loads(self.body or "{}")
        except ValueError:
            params = None
        if not isinstance(params, dict):
            raise AnyError("SerializationException", "The request body is not a JSON object")
        try:
            return ActionResult(handle(self.ecr_backend, operation, params))
        except ResponseLost as lost:
            if not getattr(self, "is_werkzeug_request", False):  # in-process: a read timeout
                raise
            time.sleep(lost.hang_s)  # over HTTP: hold the connection past the client's timeout
            raise AnyError("InternalFailure", "the response was lost", 500) from lost

    respond.__name__ = respond.__qualname__ = camelcase_to_underscores(operation)
    setattr(respond, _MARK, True)
    return respond


def install() -> None:
    """Add the pull-through cache operations to moto's ECR (idempotent)."""
    for operation in OPERATIONS:
        name = camelcase_to_underscores(operation)
        if not getattr(getattr(ECRResponse, name, None), _MARK, False):
            setattr(ECRResponse, name, _responder(operation))
