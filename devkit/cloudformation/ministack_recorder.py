"""MiniStack's gateway (`python -m ministack`) with a recorder of its custom-resource traffic.

Run by devkit/cloudformation/ministack.py with MiniStack's own interpreter (.venv-ministack),
as `python -P ministack_recorder.py` (-P: this directory stays off sys.path); it ends when the
driver's process dies (ECR_PTC_PARENT_PID, PR_SET_PDEATHSIG). It wraps two
MiniStack functions without changing what they do, and appends one JSON line per call to the
file named by ECR_PTC_CR_RECORD:

- the invocation of a custom resource's function: {"kind": "request", "answer_key", "event"},
  the event exactly as the function receives it, its ResponseURL replaced by "<ResponseURL>";
- the PUT to a ResponseURL: {"kind": "answer", "answer_key", "answer"}, the body MiniStack
  read.

`answer_key` pairs the two: a digest of the ResponseURL's token, which is never written (a
ResponseURL is a credential on AWS, and is treated as one here).
"""

from __future__ import annotations

import contextlib
import ctypes
import hashlib
import importlib
import json
import os
import signal
import sys
import threading
import time
from typing import Any

_lock = threading.Lock()
_PATH = os.environ["ECR_PTC_CR_RECORD"]
_URL_MARK = "/_ministack/cfn-response/"


def _key(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()[:16]


def _write(record: dict[str, Any]) -> None:
    line = json.dumps({"t": time.time(), **record}, default=str)
    with _lock, open(_PATH, "a", encoding="utf-8") as out:
        out.write(line + "\n")


def _install() -> None:
    lambda_svc: Any = importlib.import_module("ministack.services.lambda_svc")
    custom_resource: Any = importlib.import_module("ministack.services.cloudformation.custom_resource")
    invoke = lambda_svc._execute_function_with_config_scope
    deliver = custom_resource.deliver_response

    def recording_invoke(func: Any, event: Any, *args: Any, **kwargs: Any) -> Any:
        url = event.get("ResponseURL") if isinstance(event, dict) else None
        if isinstance(url, str) and _URL_MARK in url and "RequestType" in event:
            token = url.rsplit(_URL_MARK, 1)[1]
            shown = {**event, "ResponseURL": "<ResponseURL>"}
            _write({"kind": "request", "answer_key": _key(token), "event": shown})
        return invoke(func, event, *args, **kwargs)

    def recording_deliver(token: str, response: Any) -> Any:
        _write({"kind": "answer", "answer_key": _key(token), "answer": response})
        return deliver(token, response)

    lambda_svc._execute_function_with_config_scope = recording_invoke
    custom_resource.deliver_response = recording_deliver


def _die_with_parent() -> None:
    """SIGTERM when the driver's process dies (as devkit/cloudformation/lifeline.py; this
    interpreter cannot import devkit). MiniStack's Lambda workers follow: their stdin, a pipe
    from MiniStack, closes."""
    with contextlib.suppress(OSError, AttributeError):
        ctypes.CDLL(None, use_errno=True).prctl(1, int(signal.SIGTERM))  # PR_SET_PDEATHSIG
    parent = os.environ.get("ECR_PTC_PARENT_PID")
    if parent and os.getppid() != int(parent):
        sys.exit(1)


def main() -> None:
    _die_with_parent()
    _install()
    app: Any = importlib.import_module("ministack.app")
    app.main()


if __name__ == "__main__":
    main()
