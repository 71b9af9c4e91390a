"""src/health/app.py, the scheduled health function's wiring around the check.

The check itself (health.check: every Custom::PullThroughCacheRule of the account and Region,
and what ECR holds; tests/test_health_*.py) is stood in for by a function returning a real
health.Report made here, so that what is tested is only what the wiring does with a report: one
JSON log line per rule, one summary line, and one CloudWatch metric per state in the embedded
metric format (EMF), which CloudWatch Logs turns into metrics without any PutMetricData call.
"""

from __future__ import annotations

import importlib
import io
import json
import sys
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any

import pytest

from devkit.aws_lambda.context import LambdaContext
from devkit.aws_lambda.scheduled import scheduled_event
from health import Report, RuleReport, State
from health.report import Drift

HUB = "hub-cache"
REPORT = Report(
    (
        RuleReport(HUB, "Hub", "hub", State.HEALTHY),
        RuleReport(HUB, "Quay", "quay", State.MISSING, detail="ECR has no rule under 'quay'"),
        RuleReport(
            "ghcr-cache", "Ghcr", "ghcr", State.DRIFTED,
            drifted=(Drift("CredentialArn", "arn:by-hand", "arn:asked"),), not_checked=("CustomRoleArn",),
        ),
        RuleReport(None, None, "stray", State.UNMANAGED, detail="no stack holds this rule"),
    )
)  # fmt: skip


@dataclass
class StandIn:
    report: Report | Exception = field(default_factory=lambda: REPORT)
    calls: list[tuple[Any, Any]] = field(default_factory=list)

    def check(self, cloudformation: Any, ecr: Any) -> Report:
        self.calls.append((cloudformation, ecr))
        if isinstance(self.report, Exception):
            raise self.report
        return self.report


@pytest.fixture
def stand_in() -> StandIn:
    return StandIn()


@pytest.fixture
def app(monkeypatch: pytest.MonkeyPatch, stand_in: StandIn) -> Iterator[Any]:
    """health.app imported afresh, its check stood in for; its log lines go to a buffer."""
    sys.modules.pop("health.app", None)
    app = importlib.import_module("health.app")
    monkeypatch.setattr(app, "check", stand_in.check)
    app.logger.registered_handler.setStream(io.StringIO())
    try:
        yield app
    finally:
        sys.modules.pop("health.app", None)


def log_lines(app: Any) -> list[dict[str, Any]]:
    return [json.loads(line) for line in app.logger.registered_handler.stream.getvalue().splitlines()]


def emf_lines(out: str) -> list[dict[str, Any]]:
    return [json.loads(line) for line in out.splitlines() if line.startswith("{") and '"_aws"' in line]


def test_one_log_line_per_rule_with_its_fields_and_a_summary(
    app: Any, capsys: pytest.CaptureFixture[str]
) -> None:
    result = app.lambda_handler(scheduled_event(), LambdaContext())
    lines = log_lines(app)
    rules = [line for line in lines if line["message"] == "rule"]
    assert [(r["prefix"], r["state"]) for r in rules] == [
        ("hub", "HEALTHY"), ("quay", "MISSING"), ("ghcr", "DRIFTED"), ("stray", "UNMANAGED")
    ]  # fmt: skip
    assert [r["level"] for r in rules] == ["INFO", "WARNING", "WARNING", "INFO"]
    drifted = rules[2]
    assert drifted["stack"] == "ghcr-cache" and drifted["logical_id"] == "Ghcr"
    assert drifted["drifted"] == [{"field": "CredentialArn", "held": "arn:by-hand", "asked": "arn:asked"}]
    assert drifted["not_checked"] == ["CustomRoleArn"]
    assert rules[1]["detail"] == "ECR has no rule under 'quay'"
    # an UNMANAGED rule has no stack: Powertools leaves a None field out of the line
    assert "stack" not in rules[3] and "logical_id" not in rules[3]
    (summary,) = [line for line in lines if line["message"] == "summary"]
    assert summary["level"] == "WARNING"  # two rules need repair
    assert summary["counts"] == {"HEALTHY": 1, "MISSING": 1, "INVALID": 0, "DRIFTED": 1, "UNMANAGED": 1}
    assert summary["not_healthy"] == 2 and summary["rules"] == 4
    assert summary["text"] == "4 rules: 1 HEALTHY, 1 MISSING, 1 DRIFTED, 1 UNMANAGED"
    assert all(line["service"] == app.SERVICE for line in lines)
    assert all(line["function_request_id"] for line in lines), "the invocation's request id on every line"
    assert result == {"counts": summary["counts"], "not_healthy": 2}


def test_the_metrics_are_one_emf_record_one_metric_per_state(
    app: Any, capsys: pytest.CaptureFixture[str]
) -> None:
    app.lambda_handler(scheduled_event(), LambdaContext())
    (record,) = emf_lines(capsys.readouterr().out)
    (directive,) = record["_aws"]["CloudWatchMetrics"]
    assert directive["Namespace"] == "ECRPullThroughCache"
    assert directive["Dimensions"] == [["service"]] and record["service"] == app.SERVICE
    names = {m["Name"]: m["Unit"] for m in directive["Metrics"]}
    assert names == dict.fromkeys(
        ["RulesHealthy", "RulesMissing", "RulesInvalid", "RulesDrifted", "RulesUnmanaged", "RulesNotHealthy"],
        "Count",
    )
    values = {name: record[name] for name in names}
    assert values == {
        "RulesHealthy": [1.0], "RulesMissing": [1.0], "RulesInvalid": [0.0], "RulesDrifted": [1.0],
        "RulesUnmanaged": [1.0], "RulesNotHealthy": [2.0],
    }  # fmt: skip


def test_an_all_healthy_account_writes_zeros_so_the_alarm_sees_recovery(
    app: Any, stand_in: StandIn, capsys: pytest.CaptureFixture[str]
) -> None:
    stand_in.report = Report(())
    app.lambda_handler(scheduled_event(), LambdaContext())
    (record,) = emf_lines(capsys.readouterr().out)
    assert record["RulesNotHealthy"] == [0.0] and record["RulesHealthy"] == [0.0]
    (summary,) = [line for line in log_lines(app) if line["message"] == "summary"]
    assert summary["level"] == "INFO" and summary["rules"] == 0


def test_the_check_gets_the_two_clients_retrying_throttling(app: Any, stand_in: StandIn) -> None:
    app.lambda_handler(scheduled_event(), LambdaContext())
    ((cloudformation, ecr),) = stand_in.calls
    assert cloudformation.meta.service_model.service_name == "cloudformation"
    assert ecr.meta.service_model.service_name == "ecr"
    for client in (cloudformation, ecr):
        # ./dev health's clients (health.clients.RETRIES): 10 attempts in all
        assert client.meta.config.retries == {"mode": "standard", "total_max_attempts": 10}
        assert client.meta.region_name == "us-east-1"


def test_a_check_that_fails_fails_the_invocation_and_publishes_no_counts(
    app: Any, stand_in: StandIn, capsys: pytest.CaptureFixture[str]
) -> None:
    """No zeros for a run that could not count: the alarm must not read it as a recovery."""
    stand_in.report = RuntimeError("AccessDenied on ListStacks")
    with (
        pytest.raises(RuntimeError, match="AccessDenied"),
        pytest.warns(UserWarning, match="No application metrics to publish"),  # Powertools' own
    ):
        app.lambda_handler(scheduled_event(), LambdaContext())
    assert not [r for r in emf_lines(capsys.readouterr().out) if "RulesNotHealthy" in r]


def test_every_state_of_the_check_has_its_metric(app: Any) -> None:
    assert set(app.METRICS) == {str(state) for state in State}
    assert set(app.NOT_HEALTHY) == {"MISSING", "INVALID", "DRIFTED"}
