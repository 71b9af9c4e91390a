"""The health function (template.yaml: HealthFunction) in the built package, under AWS's runtime
interface client, fed the event its EventBridge schedule sends (devkit/aws_lambda/scheduled.py),
with template.yaml's own configuration of it (Globals merged: JSON logging, its handler, its
timeout). Its CloudFormation and ECR are the emulator server's (moto's CloudFormation, the
emulator's ECR): what Lambda's log stream receives is one JSON line per rule, the summary and one
EMF record, the form CloudWatch Logs turns into the metrics template.yaml's HealthAlarm watches."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import boto3

from devkit.aws_lambda import environment
from devkit.aws_lambda.emulator_server import EmulatorServer
from devkit.aws_lambda.ric import RIC_VENV, RuntimeContainer
from devkit.aws_lambda.scheduled import scheduled_event
from tests.runtime.conftest import CREDENTIALS, REGION

NAME = "ecr-ptc-provider-HealthFunction-5F6E7D8C9B0A"
ARN = f"arn:aws:lambda:{REGION}:123456789012:function:{NAME}"


def container(task_root: Path, server: EmulatorServer) -> RuntimeContainer:
    config = environment.function_config(function="HealthFunction")
    assert config.handler == "health.app.lambda_handler"
    env = environment.runtime_environment(
        config,
        task_root=task_root,
        function_name=NAME,
        region=REGION,
        credentials=CREDENTIALS,
        runtime_bin=RIC_VENV / "bin",
        extra={"AWS_ENDPOINT_URL_ECR": server.url, "AWS_ENDPOINT_URL_CLOUDFORMATION": server.url},
    )
    return RuntimeContainer(task_root, env, config.handler, float(config.timeout_s), ARN)


def json_lines(records: list[Any]) -> list[dict[str, Any]]:
    lines = []
    for record in records:
        for text in record.text.splitlines():
            if text.startswith("{"):
                lines.append(json.loads(text))
    return lines


def test_a_scheduled_run_logs_each_rule_its_summary_and_its_metrics(
    task_root: Path, ecr_server: EmulatorServer
) -> None:
    ecr = boto3.client(
        "ecr", endpoint_url=ecr_server.url, region_name=REGION,
        aws_access_key_id="testing", aws_secret_access_key="testing",
    )  # fmt: skip
    ecr.create_pull_through_cache_rule(ecrRepositoryPrefix="stray", upstreamRegistryUrl="public.ecr.aws")
    with container(task_root, ecr_server) as health:
        result = health.invoke(scheduled_event())
    assert result.status == "response", result.body
    counts = {"HEALTHY": 0, "MISSING": 0, "INVALID": 0, "DRIFTED": 0, "UNMANAGED": 1}
    assert result.answer() == {"counts": counts, "not_healthy": 0}
    lines = json_lines(result.logs)
    (rule,) = [line for line in lines if line.get("message") == "rule"]
    assert (rule["prefix"], rule["state"], rule["level"]) == ("stray", "UNMANAGED", "INFO")
    (summary,) = [line for line in lines if line.get("message") == "summary"]
    assert summary["counts"] == counts and summary["not_healthy"] == 0
    assert summary["function_name"] == NAME and summary["function_request_id"] == result.request_id
    (emf,) = [line for line in lines if "_aws" in line]
    (directive,) = emf["_aws"]["CloudWatchMetrics"]
    assert directive["Namespace"] == "ECRPullThroughCache" and directive["Dimensions"] == [["service"]]
    assert emf["service"] == "ecr-pull-through-cache-health"
    assert emf["RulesUnmanaged"] == [1.0] and emf["RulesNotHealthy"] == [0.0]
