"""The answer CloudFormation receives: its body, kept within the protocol's limits, and the
bounded PUT that delivers it. The ResponseURL is a credential: nothing here logs it."""

from __future__ import annotations

import functools
import http.client
import json
import logging
import ssl
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from enum import Enum
from typing import Any
from urllib.parse import urlsplit

log = logging.getLogger(__name__)

SUCCESS, FAILED = "SUCCESS", "FAILED"
MAX_BODY_BYTES = 4095  # CloudFormation takes a body under 4096 bytes
MAX_REASON_CHARS = 1500
MAX_ID_BYTES = 1024
TRUNCATED = " … (shortened; the provider's logs hold the whole text)"


class Delivery(Enum):
    """What became of an answer's PUT."""

    STORED = "stored"  # S3 answered 2xx
    NOT_STORED = "not stored"  # no connection could be made, or S3 answered an error status
    UNKNOWN = "unknown"  # the body went out, but no response came back: S3 may have stored it


@dataclass(frozen=True)
class Result:
    """What a request's work decided to answer: SUCCESS with the id and the attributes (`data`),
    or FAILED with the id and the Reason."""

    status: str
    physical_id: str
    reason: str = ""
    data: Mapping[str, str] = field(default_factory=dict)


def failed_create_id(request_id: str) -> str:
    """The id a failed Create answers with. The ':' keeps it from ever being a valid prefix,
    so the Delete CloudFormation sends for it touches nothing."""
    return f"ecr-ptc:create-failed:{request_id}"


def shorten(text: str, limit: int) -> str:
    """Keep the beginning, where the property and the fix are named."""
    if len(text) <= limit:
        return text
    return text[: max(limit - len(TRUNCATED), 0)].rstrip() + TRUNCATED


def build_body(
    event: Mapping[str, Any],
    status: str,
    reason: str,
    physical_id: str | None,
    data: Mapping[str, Any] | None,
) -> bytes:
    """A protocol-valid response body: non-empty id, copied identifiers, a Reason on FAILED,
    string Data values, under 4096 bytes."""
    request_id = str(event.get("RequestId", ""))
    on_record = "" if event.get("RequestType") == "Create" else str(event.get("PhysicalResourceId") or "")
    physical_id = str(physical_id or "") or on_record or failed_create_id(request_id)
    if len(physical_id.encode("utf-8", "surrogatepass")) > MAX_ID_BYTES:
        physical_id = failed_create_id(request_id)
    if status == FAILED and not reason:
        reason = f"The provider failed without a message; see its logs for RequestId {request_id}."
    body: dict[str, Any] = {
        "Status": status,
        "Reason": shorten(reason, MAX_REASON_CHARS),
        "PhysicalResourceId": physical_id,
        "StackId": str(event.get("StackId", "")),
        "RequestId": request_id,
        "LogicalResourceId": str(event.get("LogicalResourceId", "")),
        "NoEcho": False,
        "Data": {} if status == FAILED else _strings(data or {}),
    }
    encoded = _encode(body)
    while len(encoded) > MAX_BODY_BYTES and len(body["Reason"]) > 200:
        body["Reason"] = shorten(body["Reason"], len(body["Reason"]) - (len(encoded) - 4000))
        encoded = _encode(body)
    if len(encoded) > MAX_BODY_BYTES:  # Data alone is too large: say so instead of failing later
        body.update(Status=FAILED, Data={}, Reason="The provider's answer exceeded 4096 bytes.")
        encoded = _encode(body)
    return encoded


def _strings(data: Mapping[str, Any]) -> dict[str, str]:
    return {str(k): "" if v is None else str(v) for k, v in data.items()}


def _encode(body: Mapping[str, Any]) -> bytes:
    """UTF-8 JSON; a lone surrogate (which UTF-8 cannot hold) is written as its JSON escape, so
    any string a request carries can be sent back."""
    return json.dumps(body, ensure_ascii=False, separators=(",", ":")).encode("utf-8", "backslashreplace")


def put(
    url: str,
    body: bytes,
    time_left: Callable[[], float],
    timeout_s: float = 5.0,
    attempts: int = 3,
    sleep: Callable[[float], None] = time.sleep,
) -> Delivery:
    """PUT the body to the presigned ResponseURL, retrying within the time left when it could not
    connect, got no response, or S3 answered 5xx. A 4xx (403: the URL expired) is not retried."""
    parts = urlsplit(url)
    target = parts.path + (f"?{parts.query}" if parts.query else "")
    maybe_stored = False
    status: int | None = None
    for attempt in range(1, attempts + 1):
        connection = _connection(parts.scheme, parts.netloc, max(min(timeout_s, time_left()), 0.2))
        sent = False
        try:
            connection.connect()
            sent = True  # from here on, S3 may receive the body
            connection.request(
                "PUT", target, body=body, headers={"Content-Type": "", "Content-Length": str(len(body))}
            )
            status = connection.getresponse().status
        except (OSError, http.client.HTTPException) as error:
            maybe_stored |= sent
            status = None
            log.warning(
                "could not deliver the answer to CloudFormation",
                extra={"attempt": attempt, "error": type(error).__name__, "body_sent": sent},
            )
        finally:
            connection.close()
        if status is not None and 200 <= status < 300:
            log.info("answer delivered", extra={"http_status": status, "attempt": attempt})
            return Delivery.STORED
        if status is not None and status < 500:
            break  # S3 refused it for good (403: an expired URL)
        pause = 0.2 * 2**attempt
        if attempt == attempts or time_left() < pause + 0.5:
            break
        sleep(pause)
    if maybe_stored:
        log.error(
            "the answer's PUT got no response: S3 may have stored it or not. If the stack waits on "
            "this resource until its ServiceTimeout, CloudFormation did not get it; the rule is kept "
            "either way (the log's decision line says what it is)",
            extra={"http_status": status},
        )
        return Delivery.UNKNOWN
    log.error("the answer could not be delivered: S3 did not store it", extra={"http_status": status})
    return Delivery.NOT_STORED


def _connection(scheme: str, netloc: str, timeout: float) -> http.client.HTTPConnection:
    if scheme == "http":  # a local receiver (tests, the demo); CloudFormation's is https
        return http.client.HTTPConnection(netloc, timeout=timeout)
    return http.client.HTTPSConnection(netloc, timeout=timeout, context=_tls_context())


@functools.cache
def _tls_context() -> ssl.SSLContext:
    """One TLS context for every answer a container sends: making one loads the CA bundle,
    ~30 ms that every warm request would otherwise pay again (docs/benchmark.md)."""
    return ssl.create_default_context()
