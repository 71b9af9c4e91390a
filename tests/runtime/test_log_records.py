"""The log records of events/ under the runtime interface client, at every LogLevel, as they
would reach the log group: the telemetry frames of the runtime's root log handler and the
lines of stdout/stderr (where Powertools writes). Every record must be a JSON object, none
double-encoded, every record of an invocation must carry the invocation's correlation_id (the
request's RequestId), and none may carry a credential or the ResponseURL."""

from __future__ import annotations

import json
from collections.abc import Callable, Iterator
from typing import Any

import pytest

from devkit.aws_lambda.log_capture import LogRecord
from tests.runtime.conftest import CREDENTIALS, LOG_LEVELS, EventRun, Outcome

SERVICE = "ecr-pull-through-cache-provider"
# Python's level numbers, by the names either logger writes (Powertools, awslambdaric)
LEVELS = {"DEBUG": 10, "INFO": 20, "WARN": 30, "WARNING": 30, "ERROR": 40, "CRITICAL": 50, "FATAL": 50}


def records(outcome: Outcome, init: bool = True) -> Iterator[LogRecord]:
    if init:
        yield from outcome.result.init_logs
    yield from outcome.result.logs


def every(run: EventRun, init: bool = True) -> Iterator[tuple[str, Outcome, LogRecord]]:
    for name, outcome in run.outcomes.items():
        for record in records(outcome, init):
            yield name, outcome, record


def parsed(record: LogRecord) -> dict[str, Any]:
    document = json.loads(record.text)
    assert isinstance(document, dict), record.text
    return document


def strings(value: Any) -> Iterator[str]:
    if isinstance(value, str):
        yield value
    elif isinstance(value, dict):
        for item in value.values():
            yield from strings(item)
    elif isinstance(value, list):
        for item in value:
            yield from strings(item)


@pytest.mark.parametrize("level", LOG_LEVELS)
def test_every_record_is_one_json_object(event_runs: Callable[[str], EventRun], level: str) -> None:
    run = event_runs(level)
    for name, _, record in every(run):
        try:
            parsed(record)
        except ValueError:
            pytest.fail(f"{name}: a {record.source} record is not JSON: {record.text[:300]!r}")
        if record.source == "telemetry":
            assert record.format == "json", record  # the frame says JSON, as Lambda reads it


def json_inside(document: dict[str, Any]) -> str | None:
    """A string of the record that is itself a JSON object or array (a line formatted twice)."""
    for text in strings(document):
        candidate = text.strip()
        if candidate[:1] in ("{", "[") and candidate[-1:] in ("}", "]"):
            try:
                json.loads(candidate)
            except ValueError:
                continue
            return text
    return None


def test_the_double_encoding_check_finds_a_line_formatted_twice() -> None:
    inner = json.dumps({"level": "INFO", "message": "decision", "correlation_id": "r"})
    assert json_inside({"timestamp": "t", "level": "INFO", "message": inner}) == inner
    assert json_inside({"message": "Response body: b'{\"a\": 1}'", "data": {"a": [1, "{x}"]}}) is None


@pytest.mark.parametrize("level", LOG_LEVELS)
def test_no_record_is_double_encoded(event_runs: Callable[[str], EventRun], level: str) -> None:
    run = event_runs(level)
    for name, _, record in every(run):
        inside = json_inside(parsed(record))
        assert inside is None, f"{name}: a JSON document inside a log record: {record.text[:300]!r}"


@pytest.mark.parametrize("level", LOG_LEVELS)
def test_no_record_is_below_the_log_level(event_runs: Callable[[str], EventRun], level: str) -> None:
    """LogLevel sets Lambda's ApplicationLogLevel and Powertools' level alike: neither lets
    through what the other filters out."""
    run = event_runs(level)
    for name, _, record in every(run):
        written = parsed(record)["level"]
        assert LEVELS[written] >= LEVELS[level], (name, record.text[:300])


def test_the_levels_select_different_records(event_runs: Callable[[str], EventRun]) -> None:
    """What the other tests check is there: more records at DEBUG than INFO, and at INFO than
    ERROR; at INFO each request logs its decision."""
    counts = {level: sum(1 for _ in every(event_runs(level))) for level in LOG_LEVELS}
    assert counts["DEBUG"] > counts["INFO"] > counts["ERROR"]
    for name, outcome in event_runs("INFO").outcomes.items():
        decisions = [r for r in records(outcome, init=False) if parsed(r).get("message") == "decision"]
        assert len(decisions) == 1, name


@pytest.mark.parametrize("level", LOG_LEVELS)
def test_every_record_of_an_invocation_carries_its_correlation_id(
    event_runs: Callable[[str], EventRun], level: str
) -> None:
    run = event_runs(level)
    for name, outcome, record in every(run, init=False):
        document = parsed(record)
        assert document.get("correlation_id") == outcome.event["RequestId"], (name, record.text[:300])
        assert document.get("function_request_id") == outcome.result.request_id, (name, record.text[:300])


@pytest.mark.parametrize(
    "level",
    LOG_LEVELS,
)
def test_every_record_is_in_the_providers_schema(event_runs: Callable[[str], EventRun], level: str) -> None:
    """One schema in the log group, cold start included: the provider's service, level,
    message and timestamp on every record."""
    run = event_runs(level)
    for name, _, record in every(run):
        document = parsed(record)
        assert document.get("service") == SERVICE, (name, record.text[:300])
        assert {"level", "message", "timestamp"} <= set(document), (name, record.text[:300])


@pytest.mark.parametrize("level", LOG_LEVELS)
def test_no_record_carries_a_credential_or_the_response_url(
    event_runs: Callable[[str], EventRun], level: str
) -> None:
    run = event_runs(level)
    secrets = {
        "the access key id": CREDENTIALS.access_key_id,
        "the secret access key": CREDENTIALS.secret_access_key,
        "the session token": CREDENTIALS.session_token,
        "a security token header": "X-Amz-Security-Token",
        "a presigned URL's signature": "X-Amz-Signature",
    }
    for name, outcome, record in every(run):
        url = outcome.event["ResponseURL"]
        path, _, query = url.partition("?")
        found = {
            **secrets,
            "the ResponseURL": path.rsplit("/", 1)[-1],
            "its signature": query.rsplit("=", 1)[-1],
        }
        for what, value in found.items():
            assert value not in record.text, (
                f"{name}: {what} in a {record.source} record: {record.text[:300]!r}"
            )
