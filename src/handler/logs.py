"""Logging: one JSON schema (Powertools') for every line the function writes, its own and every
library's, each with the RequestId as correlation id; and no credential in any of them.

Lambda's runtime client puts a handler of its own on the root logger, at the function's log
level (DEBUG when LogLevel is DEBUG). Libraries log through the root logger, and botocore's
DEBUG lines carry the signed request: the session token, the access key id, the signature.
So here:

- the root logger's handlers are replaced by the provider's Powertools handler: a library's
  line that is logged at all comes out in the provider's schema, with service and correlation_id;
- the AWS SDK's own loggers never log below INFO (the provider logs each ECR attempt itself);
- every line, whatever logged it, is scrubbed as it is serialised: the current ResponseURL,
  presigned-URL signatures and credentials, the values of the function's credentials, and
  header-shaped tokens and secrets are replaced before the line is written;
- lines are ASCII JSON, so any string a request carries (a lone surrogate) can be written.
"""

from __future__ import annotations

import json
import logging
import os
import re
from collections.abc import Callable
from typing import Any

from aws_lambda_powertools.logging.utils import copy_config_to_registered_loggers

REDACTED = "<redacted>"
REDACTED_URL = "<ResponseURL redacted>"
SDK_LOGGERS = ("botocore", "boto3", "urllib3", "s3transfer")
CREDENTIAL_VARIABLES = ("AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY", "AWS_SESSION_TOKEN")
_MIN_SECRET_CHARS = 12  # shorter "values" (test placeholders) would redact ordinary words
_PATTERNS = (
    # presigned URLs (the ResponseURL) and SigV4 headers
    re.compile(
        r"(?i)(X-Amz-(?:Security-Token|Signature|Credential)(?:=|['\"]?\s*[:=]\s*['\"]?))[^&\s'\",}]+"
    ),
    re.compile(r"(?i)((?:Credential|Signature)=)[^,\s'\"&]+"),
    # credentials as key/value text (dict reprs, ini files, environment dumps)
    re.compile(
        r"(?i)((?:aws_)?(?:session_token|secret_access_key|secret_key|access_key_id|token)['\"]?\s*[:=]\s*['\"]?)"
        r"[A-Za-z0-9/+=_-]{8,}"
    ),
    # access key ids, wherever they appear
    re.compile(r"()\b(?:AKIA|ASIA)[0-9A-Z]{16}\b"),
)


# Every text a pattern above can match contains one of these (lowercased).
_MARKERS = (
    "x-amz-",
    "credential=",
    "signature=",
    "token",
    "secret_key",
    "secret_access_key",
    "access_key_id",
    "akia",
    "asia",
)


class Scrubber:
    """Replaces credentials in text; `url` is the ResponseURL of the request being served."""

    def __init__(self, environ: Callable[[], Any] = lambda: os.environ) -> None:
        self.url = ""
        self._environ = environ

    def __call__(self, text: str) -> str:
        if self.url and self.url in text:
            text = text.replace(self.url, REDACTED_URL)
        environ = self._environ()
        for name in CREDENTIAL_VARIABLES:
            value = str(environ.get(name) or "")
            if len(value) >= _MIN_SECRET_CHARS and value in text:
                text = text.replace(value, REDACTED)
        lowered = text.lower()
        if any(marker in lowered for marker in _MARKERS):  # most lines have none: no regex runs
            for pattern in _PATTERNS:
                text = pattern.sub(lambda m: f"{m.group(1)}{REDACTED}", text)
        return text


def serializer(scrub: Scrubber) -> Callable[[Any], str]:
    """Powertools' JSON serialiser with every line scrubbed (exceptions and extras included)."""

    def dumps(record: Any) -> str:
        return scrub(json.dumps(record, default=str, separators=(",", ":"), ensure_ascii=True))

    return dumps


def quiet_libraries() -> None:
    """The AWS SDK's loggers and crhelper's at INFO or above, whatever LOG_LEVEL says: botocore's
    DEBUG lines carry the signed request, crhelper's the event with its ResponseURL."""
    for name in ("crhelper", "crhelper.resource_helper", "crhelper.utils", *SDK_LOGGERS):
        library = logging.getLogger(name)
        library.setLevel(max(library.getEffectiveLevel(), logging.INFO))


def configure(logger: Any, scrub: Scrubber) -> None:
    """Route every logger's lines through `logger`'s Powertools handler (built with
    `serializer(scrub)`), and keep the AWS SDK's loggers at INFO or above.

    crhelper logs the whole event, ResponseURL included, at DEBUG: its loggers are kept at
    INFO or above whatever LOG_LEVEL says.
    """
    copy_config_to_registered_loggers(source_logger=logger, include={"crhelper", "handler"})
    quiet_libraries()
    root = logging.getLogger()
    for handler in list(root.handlers):  # the runtime client's, in Lambda
        root.removeHandler(handler)
    for handler in logger.handlers:
        root.addHandler(handler)
    # The root logger now writes through `logger`'s own handler: a line of `logger` itself (Powertools'
    # log_event, say) must not go up to the root as well, or it is written twice. (Powertools keeps
    # it from the root by a filter on the root's handlers it found, the runtime client's, gone now.)
    logging.getLogger(logger.name).propagate = False
