"""The health function's entry point (template.yaml: HealthFunction, Handler health.app.lambda_handler).

Run by its EventBridge schedule (HealthCheckSchedule), or by hand (`aws lambda invoke`); the
event is not read: every run checks every Custom::PullThroughCacheRule of the account and Region
(health.check) and says what it found where people look:

- one JSON log line per rule (Powertools Logger): `stack`, `logical_id`, `prefix`, `state`,
  `drifted` (the fields that differ), `not_checked` (properties it could not resolve), `detail`;
  WARNING for a rule to repair (MISSING, INVALID, DRIFTED), INFO otherwise;
- one `summary` line: the count of each state, and how many need repair;
- one record in CloudWatch's embedded metric format (Powertools Metrics), which CloudWatch Logs
  turns into metrics, so the role needs no cloudwatch:PutMetricData: namespace NAMESPACE,
  dimension `service`, one metric per state (METRICS) and NOT_HEALTHY_METRIC, the sum of the
  states to repair, which template.yaml's HealthAlarm watches.

A check that fails raises: the invocation fails (the function's Errors metric) and no count is
written, so that the alarm never takes a run that could not count for a recovery.
"""

from __future__ import annotations

from typing import Any

import boto3
from aws_lambda_powertools import Logger, Metrics
from aws_lambda_powertools.metrics import MetricUnit
from botocore.config import Config

from ecr_ptc_contract import VERSION
from health.check import check

NAMESPACE = "ECRPullThroughCache"
SERVICE = "ecr-pull-through-cache-health"
# state -> its metric; a state the check reports under no other name
METRICS = {
    "HEALTHY": "RulesHealthy",
    "MISSING": "RulesMissing",
    "INVALID": "RulesInvalid",
    "DRIFTED": "RulesDrifted",
    "UNMANAGED": "RulesUnmanaged",
}
# What a stack's update has to repair (issue 20): an UNMANAGED rule is no stack's, so not counted.
NOT_HEALTHY = ("MISSING", "INVALID", "DRIFTED")
NOT_HEALTHY_METRIC = "RulesNotHealthy"

# CloudFormation's and ECR's read APIs throttle an account-wide scan: botocore's standard retry
# mode (exponential backoff with jitter, throttling errors included), up to 10 retries a call
# (botocore's max_attempts counts the retries: 11 attempts in all).
CLIENT_CONFIG = Config(
    retries={"mode": "standard", "max_attempts": 10},
    user_agent_extra=f"ecr-pull-through-cache-health/{VERSION}",
)

logger = Logger(service=SERVICE)
metrics = Metrics(namespace=NAMESPACE, service=SERVICE)
cloudformation = boto3.client("cloudformation", config=CLIENT_CONFIG)
ecr = boto3.client("ecr", config=CLIENT_CONFIG)


@metrics.log_metrics
@logger.inject_lambda_context
def lambda_handler(event: dict[str, Any], context: Any) -> dict[str, Any]:
    return publish(check(cloudformation, ecr))


def publish(report: Any) -> dict[str, Any]:
    """Log each rule of `report` and the summary, and add the metrics (flushed by log_metrics)."""
    for rule in report.rules:
        fields = rule_fields(rule)
        log = logger.warning if fields["state"] in NOT_HEALTHY else logger.info
        log("rule", extra=fields)
    counted = {state_name(state): int(count) for state, count in dict(report.counts).items()}
    counts = {state: counted.get(state, 0) for state in METRICS}
    not_healthy = sum(counts[state] for state in NOT_HEALTHY)
    for state, name in METRICS.items():
        metrics.add_metric(name=name, unit=MetricUnit.Count, value=counts[state])
    metrics.add_metric(name=NOT_HEALTHY_METRIC, unit=MetricUnit.Count, value=not_healthy)
    log = logger.warning if not_healthy else logger.info
    log("summary", extra={"counts": counts, "not_healthy": not_healthy, "rules": len(report.rules)})
    return {"counts": counts, "not_healthy": not_healthy}


def rule_fields(rule: Any) -> dict[str, Any]:
    """One rule of the report as its log line's fields."""
    return {
        "stack": rule.stack,
        "logical_id": rule.logical_id,
        "prefix": rule.prefix,
        "state": state_name(rule.state),
        "drifted": list(rule.drifted),
        "not_checked": list(rule.not_checked),
        "detail": rule.detail,
    }


def state_name(state: Any) -> str:
    """A state as its name, whether the check gives it as a string or as an Enum member."""
    return str(getattr(state, "value", state))
