"""template.yaml's health function: its read-only role, its schedule, its alarm.

Read from the files, as tests/test_template.py reads the provider's resources (which also runs
cfn-lint, checkov, sam validate and sam build on the whole template, the health function's
resources included). The metric names and the namespace the alarm watches are read from
src/health/app.py's source, so the two cannot drift apart without a failure here.
"""

from __future__ import annotations

import ast
import re
from typing import Any

import pytest

from tests.test_template import (
    HEALTH_FUNCTION,
    ROOT,
    TEMPLATE,
    as_list,
    load_cfn,
    resource_text,
    resources_of_type,
    role_statements,
)

STACKS = "arn:${AWS::Partition}:cloudformation:${AWS::Region}:${AWS::AccountId}:stack/*/*"
OWN_LOG_GROUP = "GetAtt:HealthLogGroup.Arn"
# Every action the health role may have, and where. Reads only, but for writing its own logs.
HEALTH_ALLOWED: dict[str, frozenset[str]] = {
    # lists take no resource: "*" is their only form
    "cloudformation:ListStacks": frozenset({"*"}),
    "cloudformation:ListExports": frozenset({"*"}),
    "cloudformation:DescribeStacks": frozenset({STACKS}),
    "cloudformation:ListStackResources": frozenset({STACKS}),
    "cloudformation:GetTemplate": frozenset({STACKS}),
    # no resource-level permissions for these
    "ecr:DescribePullThroughCacheRules": frozenset({"*"}),
    "ecr:ValidatePullThroughCacheRule": frozenset({"*"}),
    "logs:CreateLogStream": frozenset({OWN_LOG_GROUP}),
    "logs:PutLogEvents": frozenset({OWN_LOG_GROUP}),
}
READ = re.compile(r"[a-z0-9-]+:(Describe|List|Get|Validate)[A-Za-z]*")
APP = ROOT / "src" / "health" / "app.py"


@pytest.fixture(scope="module")
def template() -> dict[str, Any]:
    return load_cfn(TEMPLATE)


def health_statements(template: dict[str, Any]) -> list[tuple[str, list[str], list[str]]]:
    """(where, actions, resources) of every statement that reaches HealthRole."""
    found = []
    for statement in role_statements(template, "HealthRole"):
        body = statement.body
        assert body.get("Effect") == "Allow", statement
        for forbidden in ("NotAction", "NotResource", "NotPrincipal", "Condition"):
            assert forbidden not in body, f"{statement.where}: {forbidden}"
        actions = [str(a) for a in as_list(body["Action"])]
        resources = [resource_text(r) for r in as_list(body["Resource"])]
        found.append((f"{statement.where}/{body.get('Sid', '?')}", actions, resources))
    return found


def constants_of_app() -> dict[str, Any]:
    """The module-level constants of src/health/app.py (literal values only)."""
    values: dict[str, Any] = {}
    for node in ast.parse(APP.read_text(encoding="utf-8")).body:
        if isinstance(node, ast.Assign | ast.AnnAssign):
            targets = node.targets if isinstance(node, ast.Assign) else [node.target]
            for target in targets:
                if isinstance(target, ast.Name) and node.value is not None:
                    try:
                        values[target.id] = ast.literal_eval(node.value)
                    except ValueError:
                        continue
    return values


# ---------------------------------------------------------------------------------------
# The role: reads, and its own log group
# ---------------------------------------------------------------------------------------


def test_the_health_role_holds_exactly_its_actions_and_nothing_that_writes(template: dict[str, Any]) -> None:
    statements = health_statements(template)
    granted = {action for _, actions, _ in statements for action in actions}
    assert granted == set(HEALTH_ALLOWED), (
        f"extra {granted - set(HEALTH_ALLOWED)}, missing {set(HEALTH_ALLOWED) - granted}"
    )
    for where, actions, resources in statements:
        for action in actions:
            assert "*" not in action and "?" not in action, f"{where}: wildcard action {action}"
            assert set(resources) <= HEALTH_ALLOWED[action], f"{where}: {action} on {resources}"
            # no write of any kind: every action reads, but for the two that write its own logs
            if not action.startswith("logs:"):
                assert READ.fullmatch(action), f"{where}: {action} is not a read"
            else:
                assert resources == [OWN_LOG_GROUP], f"{where}: {action} only on its own log group"


def test_no_provider_permission_reaches_the_health_role_nor_the_other_way(template: dict[str, Any]) -> None:
    provider = {a for s in role_statements(template, "ProviderRole") for a in as_list(s.body["Action"])}
    health = {a for s in role_statements(template, "HealthRole") for a in as_list(s.body["Action"])}
    assert "ecr:CreatePullThroughCacheRule" in provider and "ecr:CreatePullThroughCacheRule" not in health
    assert "cloudformation:ListStacks" not in provider and "cloudformation:GetTemplate" not in provider
    logs = resources_of_type(template, "AWS::IAM::Policy")
    assert logs["HealthLogsPolicy"]["Properties"]["Roles"] == [{"Ref": "HealthRole"}]


def test_the_health_function_runs_the_shared_package_with_its_own_role(template: dict[str, Any]) -> None:
    function = template["Resources"][HEALTH_FUNCTION]
    assert function["Type"] == "AWS::Serverless::Function"
    assert function["Metadata"]["BuildMethod"] == "makefile"
    props = function["Properties"]
    assert props["CodeUri"] == "src/"
    assert props["Handler"] == "health.app.lambda_handler"
    assert props["Role"] == {"Fn::GetAtt": ["HealthRole", "Arn"]}
    for key in ("Policies", "Events", "FunctionUrlConfig", "PermissionsBoundary"):
        assert key not in props, f"{HEALTH_FUNCTION} must not declare {key}"
    assert 120 <= props["Timeout"] <= 900
    makefile = (ROOT / "src" / "Makefile").read_text(encoding="utf-8")
    assert re.search(r"^build-ProviderFunction build-HealthFunction:", makefile, re.M), "one recipe, both"
    assert re.search(r"^\tcp -R handler health ecr_ptc_contract ", makefile, re.M)
    assert APP.is_file()


# ---------------------------------------------------------------------------------------
# The schedule: on by default, changed or turned off by a parameter
# ---------------------------------------------------------------------------------------


def test_the_schedule_is_a_parameter_and_an_empty_one_turns_it_off(template: dict[str, Any]) -> None:
    parameter = template["Parameters"]["HealthCheckSchedule"]
    assert parameter["Default"] == "rate(1 day)"
    pattern = re.compile(parameter["AllowedPattern"])
    for value in ("", "rate(1 day)", "rate(6 hours)", "cron(0 6 * * ? *)"):
        assert pattern.fullmatch(value), value
    for value in ("daily", "rate(1 day", " "):
        assert not pattern.fullmatch(value), value
    assert template["Conditions"]["HealthScheduled"] == {
        "Fn::Not": [{"Fn::Equals": [{"Ref": "HealthCheckSchedule"}, ""]}]
    }
    rules = resources_of_type(template, "AWS::Events::Rule")
    assert list(rules) == ["HealthSchedule"]
    rule = rules["HealthSchedule"]
    assert rule["Condition"] == "HealthScheduled"
    assert rule["Properties"]["ScheduleExpression"] == {"Ref": "HealthCheckSchedule"}
    assert rule["Properties"]["State"] == "ENABLED"
    # no Input: the function receives the rule's own Scheduled Event (devkit/aws_lambda/scheduled.py)
    assert rule["Properties"]["Targets"] == [
        {"Arn": {"Fn::GetAtt": [HEALTH_FUNCTION, "Arn"]}, "Id": "HealthFunction"}
    ]
    assert "RoleArn" not in rule["Properties"], "a rule invoking Lambda needs no role: the permission below"


def test_only_the_schedule_may_invoke_the_health_function(template: dict[str, Any]) -> None:
    permissions = {
        name: resource
        for name, resource in resources_of_type(template, "AWS::Lambda::Permission").items()
        if resource["Properties"]["FunctionName"] == {"Fn::GetAtt": [HEALTH_FUNCTION, "Arn"]}
    }
    assert list(permissions) == ["HealthSchedulePermission"]
    permission = permissions["HealthSchedulePermission"]
    assert permission["Condition"] == "HealthScheduled"
    assert permission["Properties"] == {
        "Action": "lambda:InvokeFunction",
        "FunctionName": {"Fn::GetAtt": [HEALTH_FUNCTION, "Arn"]},
        "Principal": "events.amazonaws.com",
        "SourceAccount": {"Ref": "AWS::AccountId"},
        "SourceArn": {"Fn::GetAtt": ["HealthSchedule", "Arn"]},
    }
    assert not resources_of_type(template, "AWS::Scheduler::Schedule"), "EventBridge Scheduler needs a role"


# ---------------------------------------------------------------------------------------
# The metrics and the alarm
# ---------------------------------------------------------------------------------------


def test_the_alarm_exists_only_with_a_topic_and_watches_what_the_function_writes(
    template: dict[str, Any],
) -> None:
    parameter = template["Parameters"]["HealthAlarmTopicArn"]
    assert parameter["Default"] == ""
    pattern = re.compile(parameter["AllowedPattern"])
    assert pattern.fullmatch("") and pattern.fullmatch("arn:aws:sns:eu-west-1:123456789012:ops-alerts")
    assert pattern.fullmatch("arn:aws-cn:sns:cn-north-1:123456789012:ops.fifo")
    assert not pattern.fullmatch("arn:aws:sqs:eu-west-1:123456789012:queue")
    assert template["Conditions"]["HealthAlarmed"] == {
        "Fn::Not": [{"Fn::Equals": [{"Ref": "HealthAlarmTopicArn"}, ""]}]
    }
    alarms = resources_of_type(template, "AWS::CloudWatch::Alarm")
    assert sorted(alarms) == ["HealthAlarm", "HealthErrorsAlarm"]
    alarm = alarms["HealthAlarm"]
    assert alarm["Condition"] == "HealthAlarmed"
    props = alarm["Properties"]
    app = constants_of_app()
    assert props["Namespace"] == app["NAMESPACE"] == "ECRPullThroughCache"
    assert props["MetricName"] == app["NOT_HEALTHY_METRIC"] == "RulesNotHealthy"
    assert props["Dimensions"] == [{"Name": "service", "Value": app["SERVICE"]}]
    assert props["AlarmActions"] == [{"Ref": "HealthAlarmTopicArn"}]
    assert props["ComparisonOperator"] == "GreaterThanThreshold" and props["Threshold"] == 0
    assert props["Statistic"] == "Maximum"
    assert props["TreatMissingData"] == "notBreaching"
    assert props["Period"] * props["EvaluationPeriods"] == 86400, "one day: the default schedule's interval"


def test_a_check_that_fails_raises_the_second_alarm_on_the_same_topic(template: dict[str, Any]) -> None:
    """A run that cannot read (a permission missing, throttled past its retries) fails its
    invocation and writes no count: the function's own Errors metric tells, on the same topic."""
    alarm = resources_of_type(template, "AWS::CloudWatch::Alarm")["HealthErrorsAlarm"]
    assert alarm["Condition"] == "HealthAlarmed"
    props = alarm["Properties"]
    assert props["Namespace"] == "AWS/Lambda" and props["MetricName"] == "Errors"
    assert props["Dimensions"] == [{"Name": "FunctionName", "Value": {"Ref": HEALTH_FUNCTION}}]
    assert props["AlarmActions"] == [{"Ref": "HealthAlarmTopicArn"}]
    assert props["ComparisonOperator"] == "GreaterThanThreshold" and props["Threshold"] == 0
    assert props["Statistic"] == "Sum"
    assert props["TreatMissingData"] == "notBreaching"  # no run is no failure
    assert props["Period"] * props["EvaluationPeriods"] == 86400, "one day, as the first alarm"
    assert "HealthFunctionName" in props["AlarmDescription"]


def test_one_metric_per_state_and_the_alarms_sum_of_the_states_that_need_repair() -> None:
    app = constants_of_app()
    assert app["METRICS"] == {
        "HEALTHY": "RulesHealthy",
        "MISSING": "RulesMissing",
        "INVALID": "RulesInvalid",
        "DRIFTED": "RulesDrifted",
        "UNMANAGED": "RulesUnmanaged",
    }
    assert app["NOT_HEALTHY"] == ("MISSING", "INVALID", "DRIFTED")  # UNMANAGED is no stack's to repair


# ---------------------------------------------------------------------------------------
# Where it shows: parameters, outputs, the console's grouping
# ---------------------------------------------------------------------------------------


def test_parameters_are_grouped_and_outputs_name_the_function_and_its_logs(template: dict[str, Any]) -> None:
    groups = template["Metadata"]["AWS::CloudFormation::Interface"]["ParameterGroups"]
    grouped = [name for group in groups for name in group["Parameters"]]
    assert sorted(grouped) == sorted(template["Parameters"]), "every parameter in one group"
    assert {"HealthCheckSchedule", "HealthAlarmTopicArn"} <= set(grouped)
    outputs = template["Outputs"]
    assert outputs["HealthFunctionName"]["Value"] == {"Ref": HEALTH_FUNCTION}
    assert outputs["HealthLogGroupName"]["Value"] == {"Ref": "HealthLogGroup"}
    assert "Export" not in outputs["HealthFunctionName"] and "Export" not in outputs["HealthLogGroupName"]


def test_the_provider_keeps_its_resources_as_they_were(template: dict[str, Any]) -> None:
    """The health function adds resources; none of the provider's takes a condition or a health
    parameter (its ServiceToken must not depend on the health check)."""
    for name in (
        "ProviderFunction",
        "ProviderRole",
        "ProviderLogsPolicy",
        "ProviderLogGroup",
        "ProviderInvokePermission",
    ):
        resource = template["Resources"][name]
        assert "Condition" not in resource, name
        assert "Health" not in str(resource), name
