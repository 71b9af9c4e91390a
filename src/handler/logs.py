"""Logging: Powertools JSON for every logger the provider uses, the RequestId as correlation
id, and a filter that keeps the ResponseURL (a credential) out of every line."""

from __future__ import annotations

import logging

from aws_lambda_powertools import Logger
from aws_lambda_powertools.logging.utils import copy_config_to_registered_loggers

REDACTED = "<ResponseURL redacted>"


class ResponseUrlRedactor(logging.Filter):
    """Replaces the current request's ResponseURL wherever a log line would carry it."""

    def __init__(self) -> None:
        super().__init__()
        self.url = ""

    def filter(self, record: logging.LogRecord) -> bool:
        if self.url and self.url in record.getMessage():
            record.msg, record.args = record.getMessage().replace(self.url, REDACTED), None
        if self.url and record.__dict__:
            for key, value in list(record.__dict__.items()):
                if isinstance(value, str) and self.url in value:
                    record.__dict__[key] = value.replace(self.url, REDACTED)
        return True


def configure(logger: Logger) -> ResponseUrlRedactor:
    """Route crhelper's and the provider's loggers through `logger`, redacting ResponseURLs.

    crhelper logs the whole event, ResponseURL included, at DEBUG: its loggers are kept at
    INFO or above whatever LOG_LEVEL says.
    """
    copy_config_to_registered_loggers(source_logger=logger, include={"crhelper", "handler"})
    for name in ("crhelper", "crhelper.resource_helper", "crhelper.utils"):
        crhelper_logger = logging.getLogger(name)
        crhelper_logger.setLevel(max(crhelper_logger.getEffectiveLevel(), logging.INFO))
    redactor = ResponseUrlRedactor()
    for handler in logger.handlers:
        handler.addFilter(redactor)
    return redactor
