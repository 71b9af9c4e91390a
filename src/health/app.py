"""The health function's entry point (template.yaml: HealthFunction, Handler health.app.lambda_handler).

Run by its EventBridge schedule (HealthCheckSchedule), or by hand (`aws lambda invoke`); the
event is not read: every run checks every Custom::PullThroughCacheRule of the account and Region
(health.check, as ./dev health does, with the same clients: health.clients) and says what it
found where people look:

- one JSON log line per rule (Powertools Logger), its report entry (RuleReport.as_dict): `stack`,
  `logical_id`, `prefix`, `state`, `drifted` (each differing field with both values),
  `not_checked` (properties it could not resolve), `detail`; WARNING for a rule to repair
  (MISSING, INVALID, DRIFTED), INFO otherwise;
- one `summary` line: the count of each state, how many need repair, the report's summary text;
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

from handler import logs
from health import Report, check
from health.clients import clients

NAMESPACE = "ECRPullThroughCache"
SERVICE = "ecr-pull-through-cache-health"
# every state of health.State -> its metric
METRICS = {
    "HEALTHY": "RulesHealthy",
    "MISSING": "RulesMissing",
    "INVALID": "RulesInvalid",
    "DRIFTED": "RulesDrifted",
    "UNMANAGED": "RulesUnmanaged",
}
# What a stack's update has to repair: an UNMANAGED rule is no stack's, so not counted.
NOT_HEALTHY = ("MISSING", "INVALID", "DRIFTED")
NOT_HEALTHY_METRIC = "RulesNotHealthy"

logger = Logger(service=SERVICE)
# The AWS SDK's loggers at INFO or above, as the provider's (handler.logs): at LogLevel DEBUG,
# botocore's DEBUG lines would show the signed requests, the session token in them.
logs.quiet_libraries()  # before the clients exist: botocore logs from their creation on
metrics = Metrics(namespace=NAMESPACE, service=SERVICE)
# botocore's standard retry mode, 10 attempts a call (health.clients.RETRIES): CloudFormation's
# and ECR's reads are throttled per account, and a 500-stack account reads thousands of pages.
cloudformation, ecr = clients(boto3.session.Session())


@metrics.log_metrics
@logger.inject_lambda_context
def lambda_handler(event: dict[str, Any], context: Any) -> dict[str, Any]:
    return publish(check(cloudformation, ecr))


def publish(report: Report) -> dict[str, Any]:
    """Log each rule of `report` and the summary, and add the metrics (flushed by log_metrics)."""
    for rule in report.rules:
        fields = rule.as_dict()
        log = logger.warning if fields["state"] in NOT_HEALTHY else logger.info
        log("rule", extra=fields)
    counts = report.counts  # every state, 0 included
    not_healthy = sum(counts[state] for state in NOT_HEALTHY)
    for state, name in METRICS.items():
        metrics.add_metric(name=name, unit=MetricUnit.Count, value=counts[state])
    metrics.add_metric(name=NOT_HEALTHY_METRIC, unit=MetricUnit.Count, value=not_healthy)
    log = logger.warning if not_healthy else logger.info
    rules = len(report.rules)
    log(
        "summary",
        extra={"counts": counts, "not_healthy": not_healthy, "rules": rules, "text": report.summary()},
    )
    return {"counts": counts, "not_healthy": not_healthy}
