"""./dev health on MiniStack with the ECR emulator: the provider deployed by sam (with an alarm
topic: both alarms are made), three consumer
stacks (quay and ghcr from examples/, and k8s as a nested stack of a 'platform' stack: ListStacks
lists nested stacks too), then a rule deleted by hand, a credential changed by hand, a rule failing
validation (the emulator's fault for one prefix) and a rule no stack holds. The real command,
run as a user runs it (its own process, the endpoints in the environment), must report exactly
those, and so must the provider stack's HealthFunction, deployed by sam and invoked on
MiniStack's Lambda as its schedule invokes it: one log line per rule, a summary line and the
metrics in the embedded metric format, read back from MiniStack's CloudWatch Logs. A stack update
then repairs the missing and the drifted rules, and both report them HEALTHY.

MiniStack's departure: Ref of an AWS::SecretsManager::Secret gives its name, not its ARN, so
examples/docker-hub.yaml fails there; the credential comes in as the ghcr example's
CredentialArn parameter (a secret made with create_secret), which resolves from the parameters.
"""

from __future__ import annotations

import json
import os
import subprocess
from pathlib import Path
from typing import Any

import pytest

from devkit.aws_lambda.scheduled import scheduled_event
from devkit.cloudformation import templates
from devkit.cloudformation.ministack import PROVIDER_STACK, MiniStack
from health.app import METRICS, NAMESPACE, NOT_HEALTHY, NOT_HEALTHY_METRIC

ROOT = Path(__file__).resolve().parents[1]
SECRET_VALUE = {"username": "user", "accessToken": "token"}
FAILURE = "Authentication failed: 401 Unauthorized from registry.k8s.io"


def health(ms: MiniStack, *arguments: str) -> subprocess.CompletedProcess[str]:
    """./dev health with MiniStack's endpoints, as `./dev local env` exports them."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("AWS_")}
    env.update(ms.cli_env(), PYTHONDONTWRITEBYTECODE="1")
    return subprocess.run(
        ["bash", str(ROOT / "dev"), "health", *arguments],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )


def states(ms: MiniStack) -> tuple[int, dict[str, dict[str, Any]]]:
    result = health(ms, "--json")
    assert result.returncode in (0, 1), result.stdout + result.stderr
    report = json.loads(result.stdout)
    return result.returncode, {r["prefix"]: r for r in report["rules"]}


def function_reports(
    ms: MiniStack, function_name: str, found: dict[str, dict[str, Any]]
) -> tuple[dict[str, int], dict[str, dict[str, Any]], dict[str, Any]]:
    """Invoke the deployed health function as its schedule does (EventBridge's scheduled event,
    synchronously) and read its log lines of that run: one `rule` line per rule, each the report
    entry ./dev health gave (`found`, by prefix; Powertools leaves out the None fields), one
    `summary` line agreeing with the function's answer, one record in the embedded metric format
    in the namespace NAMESPACE. Returns the counts, the rule lines by prefix and the EMF record."""
    answer, lines = ms.invoke(function_name, scheduled_event())
    logged = [json.loads(line) for line in lines if line.startswith("{")]
    rules = [line for line in logged if line.get("message") == "rule"]
    by_prefix = {line["prefix"]: line for line in rules}
    assert len(by_prefix) == len(rules) == len(found), rules
    for prefix, rule in found.items():
        given = {k: v for k, v in rule.items() if v is not None}
        assert {k: by_prefix[prefix].get(k) for k in rule} == {**rule, **given}, prefix
        assert by_prefix[prefix]["function_name"] == function_name
    (summary,) = [line for line in logged if line.get("message") == "summary"]
    assert (summary["counts"], summary["not_healthy"]) == (answer["counts"], answer["not_healthy"])
    assert summary["rules"] == len(found)
    assert answer["not_healthy"] == sum(answer["counts"][s] for s in NOT_HEALTHY)
    (record,) = [line for line in logged if "_aws" in line]
    assert [d["Namespace"] for d in record["_aws"]["CloudWatchMetrics"]] == [NAMESPACE]
    return answer["counts"], by_prefix, record


def the_function_reports_what_was_done_by_hand(ms: MiniStack, found: dict[str, dict[str, Any]]) -> str:
    """After break_by_hand: its worker's ECR client reaches the emulator (AWS_ENDPOINT_URL_ECR,
    inherited from MiniStack) and only reads, its CloudFormation client finds the stacks on
    MiniStack, and its lines and metrics count one MISSING, DRIFTED, INVALID and UNMANAGED.
    Returns the function's name (the provider stack's HealthFunctionName output)."""
    health_function = ms.outputs(PROVIDER_STACK)["HealthFunctionName"]
    reads = {"DescribePullThroughCacheRules", "ValidatePullThroughCacheRule"}
    calls_before = len(ms.ecr_calls())
    counts, by_function, record = function_reports(ms, health_function, found)
    function_calls = [op for op, _ in ms.ecr_calls()[calls_before:]]
    assert "DescribePullThroughCacheRules" in function_calls and set(function_calls) <= reads
    assert counts == {"HEALTHY": 0, "MISSING": 1, "INVALID": 1, "DRIFTED": 1, "UNMANAGED": 1}
    assert "stack" not in by_function["by-hand"] and "logical_id" not in by_function["by-hand"]
    levels = {p: r["level"] for p, r in by_function.items()}
    assert levels == {"quay": "WARNING", "ghcr": "WARNING", "k8s": "WARNING", "by-hand": "INFO"}
    named = [m["Name"] for m in record["_aws"]["CloudWatchMetrics"][0]["Metrics"]]
    assert sorted(named) == sorted([*METRICS.values(), NOT_HEALTHY_METRIC])
    assert {name: record[name] for name in named} == {
        "RulesHealthy": [0.0],
        "RulesMissing": [1.0],
        "RulesInvalid": [1.0],
        "RulesDrifted": [1.0],
        "RulesUnmanaged": [1.0],
        "RulesNotHealthy": [3.0],
    }
    print(json.dumps(by_function["ghcr"]), "\n", json.dumps(record))  # for the record (pytest -s)
    return health_function


def nested_platform(ms: MiniStack) -> dict[str, Any]:
    """A stack whose one resource is a nested stack made from examples/k8s.yaml."""
    s3 = ms.client("s3")
    s3.create_bucket(Bucket="nested-templates")
    s3.put_object(Bucket="nested-templates", Key="k8s.yaml", Body=(ROOT / "examples/k8s.yaml").read_bytes())
    nested = {
        "TemplateURL": f"{ms.url}/nested-templates/k8s.yaml",
        "Parameters": {"EcrRepositoryPrefix": "k8s"},
    }
    return {"Resources": {"K8s": {"Type": "AWS::CloudFormation::Stack", "Properties": nested}}}


def break_by_hand(ms: MiniStack, other_secret: str) -> None:
    """A rule deleted, a credential changed, a rule failing validation, a rule no stack holds."""
    ms.delete_rule("quay")
    ms.ecr().update_pull_through_cache_rule(ecrRepositoryPrefix="ghcr", credentialArn=other_secret)
    ms.ecr_fault("validation_result", is_valid=False, failure=FAILURE, prefix="k8s")
    ms.create_rule("by-hand", "public.ecr.aws")


def update_what_ecr_does_not_hold(ms: MiniStack, ghcr_secret: str) -> None:
    """Updates of a property ECR does not hold (ValidateCredentials, ServiceTimeout): the provider's
    Update reads the rule and puts it back as the stack asks."""
    quay = ms.update_stack("quay-cache", ROOT / "examples/quay.yaml", {"ValidateCredentials": "true"})
    assert quay.status == "UPDATE_COMPLETE", quay.reasons()
    longer = templates.example("ghcr")
    longer["Resources"]["PullThroughCacheRule"]["Properties"]["ServiceTimeout"] = "60"
    ghcr = ms.update_stack("ghcr-cache", longer, {"CredentialArn": ghcr_secret})
    assert ghcr.status == "UPDATE_COMPLETE", ghcr.reasons()
    assert [r.request_type for r in quay.requests + ghcr.requests] == ["Update", "Update"]


def deploy_provider_with_alarms(ms: MiniStack, build_dir: Path) -> None:
    """The provider deployed with HealthAlarmTopicArn: both alarms exist, on that topic, one on the
    rules to repair, one on the health function's own Errors."""
    topic = ms.client("sns").create_topic(Name="ops-alerts")["TopicArn"]
    provider = ms.deploy_provider(build_dir=build_dir, parameters={"HealthAlarmTopicArn": topic})
    assert provider.status == "CREATE_COMPLETE", provider.output_text
    function_name = ms.outputs(PROVIDER_STACK)["HealthFunctionName"]
    described = ms.client("cloudwatch").describe_alarms()["MetricAlarms"]
    alarms = {(a["Namespace"], a["MetricName"]): a for a in described}
    assert set(alarms) == {(NAMESPACE, NOT_HEALTHY_METRIC), ("AWS/Lambda", "Errors")}
    assert all(a["AlarmActions"] == [topic] for a in alarms.values())
    errors = alarms["AWS/Lambda", "Errors"]
    assert errors["Dimensions"] == [{"Name": "FunctionName", "Value": function_name}]


def test_health_reports_what_was_done_by_hand_and_an_update_repairs_it(
    tmp_path_factory: pytest.TempPathFactory,
) -> None:
    # (short directories: the build's multiprocessing socket path must fit AF_UNIX's limit)
    ms = MiniStack().start(under=tmp_path_factory.mktemp("ms"))
    try:
        deploy_provider_with_alarms(ms, tmp_path_factory.mktemp("sam"))
        asked = ms.create_secret("ecr-pullthroughcache/ghcr", SECRET_VALUE)
        other = ms.create_secret("ecr-pullthroughcache/ghcr-by-hand", SECRET_VALUE)
        assert ms.create_stack("quay-cache", ROOT / "examples/quay.yaml").status == "CREATE_COMPLETE"
        ghcr = ms.create_stack("ghcr-cache", ROOT / "examples/ghcr.yaml", {"CredentialArn": asked})
        assert ghcr.status == "CREATE_COMPLETE", ghcr.reasons()
        assert ms.create_stack("platform", nested_platform(ms)).status == "CREATE_COMPLETE"
        assert set(ms.ecr_rules()) == {"quay", "ghcr", "k8s"}

        code, found = states(ms)
        assert code == 0
        assert {p: r["state"] for p, r in found.items()} == {
            "quay": "HEALTHY",
            "ghcr": "HEALTHY",
            "k8s": "HEALTHY",
        }
        assert found["k8s"]["stack"].startswith("platform-K8s-")  # the nested stack, found by ListStacks
        assert all(r["not_checked"] == [] for r in found.values())  # every property resolved

        break_by_hand(ms, other)
        calls_before = len(ms.ecr_calls())

        code, found = states(ms)
        assert code == 1
        assert {p: r["state"] for p, r in found.items()} == {
            "quay": "MISSING",
            "ghcr": "DRIFTED",
            "k8s": "INVALID",
            "by-hand": "UNMANAGED",
        }
        assert (found["quay"]["stack"], found["quay"]["logical_id"]) == ("quay-cache", "PullThroughCacheRule")
        assert found["ghcr"]["drifted"] == [{"field": "CredentialArn", "held": other, "asked": asked}]
        assert FAILURE in found["k8s"]["detail"]
        assert found["by-hand"]["stack"] is None and "./dev import" in found["by-hand"]["detail"]
        reads = {"DescribePullThroughCacheRules", "ValidatePullThroughCacheRule"}
        assert {op for op, _ in ms.ecr_calls()[calls_before:]} <= reads  # the check wrote nothing

        # The deployed HealthFunction, invoked as the schedule would, finds the same.
        health_function = the_function_reports_what_was_done_by_hand(ms, found)

        shown = health(ms)
        assert shown.returncode == 1, shown.stderr
        print(shown.stdout)  # the table, for the record (pytest -s)
        lines = shown.stdout.splitlines()
        assert lines[0].split() == ["STACK", "RESOURCE", "PREFIX", "STATE", "DETAIL"]
        assert lines[-1] == "4 rules: 1 MISSING, 1 DRIFTED, 1 INVALID, 1 UNMANAGED"
        assert any(
            line.split()[:4] == ["quay-cache", "PullThroughCacheRule", "quay", "MISSING"] for line in lines
        )

        update_what_ecr_does_not_hold(ms, asked)

        code, found = states(ms)
        assert code == 1  # k8s still fails validation, by-hand is still no stack's
        assert {p: r["state"] for p, r in found.items()} == {
            "quay": "HEALTHY",
            "ghcr": "HEALTHY",
            "k8s": "INVALID",
            "by-hand": "UNMANAGED",
        }
        counts, _, record = function_reports(ms, health_function, found)  # its next run, after the update
        assert counts == {"HEALTHY": 2, "MISSING": 0, "INVALID": 1, "DRIFTED": 0, "UNMANAGED": 1}
        repaired = ("RulesHealthy", "RulesMissing", "RulesDrifted", "RulesNotHealthy")
        assert [record[m] for m in repaired] == [[2.0], [0.0], [0.0], [1.0]]
        ms.ecr_fault("clear")
        ms.delete_rule("by-hand")
        code, found = states(ms)
        assert code == 0 and {r["state"] for r in found.values()} == {"HEALTHY"}
    finally:
        ms.stop()


@pytest.mark.parametrize("missing", ["ecr:DescribePullThroughCacheRules"])
def test_a_refused_read_exits_2_naming_the_action(
    tmp_path_factory: pytest.TempPathFactory, missing: str
) -> None:
    ms = MiniStack().start(under=tmp_path_factory.mktemp("ms"))
    try:
        ms.ecr_fault(
            "fail", operation="DescribePullThroughCacheRules", code="AccessDeniedException", times=-1
        )
        result = health(ms)
        assert result.returncode == 2
        assert result.stdout == ""
        assert f"{missing} was refused (AccessDeniedException)" in result.stderr
        assert "docs/reference.md#health-check" in result.stderr
    finally:
        ms.stop()
