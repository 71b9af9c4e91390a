"""The SAM template, the example consumer templates and the built artifact.

Pure checks (the IAM policy, the template's shape, the examples, samconfig.toml) read the
files. The `tools` tests run the real cfn-lint, sam and checkov found on PATH (./dev test
puts .venv-tools/bin there) and fail, never skip, when one is missing.
"""

from __future__ import annotations

import gzip
import json
import os
import re
import shutil
import subprocess
import sys
import tomllib
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

from devkit.cloudformation import templates

ROOT = Path(__file__).resolve().parents[1]
TEMPLATE = ROOT / "template.yaml"
# examples/ also holds templates that are not one-rule consumers of an upstream: the stack that
# nests the provider from SAR and the StackSet of standard rules (tests/test_distribution.py),
# and the pull side (tests/test_pull_side.py): a role that pulls through a rule, and a rule with
# the repository creation template of its cached repositories. The pull side is linted here.
PULL_SIDE_EXAMPLES = [
    ROOT / "examples" / f"{name}.yaml" for name in ("puller-role", "repository-creation-template")
]
NOT_UPSTREAM_EXAMPLES = {"sar-consumer", "stackset-standard-rules", *(p.stem for p in PULL_SIDE_EXAMPLES)}
EXAMPLES = sorted(p for p in (ROOT / "examples").glob("*.yaml") if p.stem not in NOT_UPSTREAM_EXAMPLES)
FUNCTION = "ProviderFunction"
HEALTH_FUNCTION = "HealthFunction"  # the scheduled read-only health check
SERVICE_NAME = "pullthroughcache.ecr.amazonaws.com"

# ---------------------------------------------------------------------------------------
# Shared helpers (kept in this module: tests/conftest.py belongs to the handler tests)
# ---------------------------------------------------------------------------------------


def load_cfn(path: Path) -> dict[str, Any]:
    """A CloudFormation/SAM YAML template as plain data, intrinsic functions in long form."""
    data = templates.load(path)
    assert isinstance(data, dict), f"{path} is not a YAML mapping"
    return data


def require_tool(name: str) -> str:
    """The binary's path on PATH, or a test failure that says how to get it."""
    found = shutil.which(name)
    if found is None:
        pytest.fail(
            f"`{name}` is not on PATH. Run ./dev test: it installs the tools into .venv-tools "
            "(requirements-tools.txt) and puts .venv-tools/bin and .venv/bin on PATH."
        )
    return found


def tool_env(tmpdir: Path | None = None) -> dict[str, str]:
    """`tmpdir`: the tool's TMPDIR, for a tool that leaves files in it (checkov: its grammar and
    update caches; sam package: a directory); a test's tmp_path, so they go with it."""
    env = dict(os.environ)
    env["SAM_CLI_TELEMETRY"] = "0"
    env.setdefault("AWS_DEFAULT_REGION", "us-east-1")
    env.setdefault("AWS_REGION", env["AWS_DEFAULT_REGION"])
    if tmpdir is not None:
        tmpdir.mkdir(exist_ok=True)
        env["TMPDIR"] = str(tmpdir)
    return env


def run_tool(
    args: list[str], cwd: Path, timeout: float = 600, tmpdir: Path | None = None
) -> subprocess.CompletedProcess[str]:
    return subprocess.run(  # noqa: PLW1510 -- callers assert on returncode with the output
        args, cwd=cwd, env=tool_env(tmpdir), capture_output=True, text=True, timeout=timeout
    )


def output_of(result: subprocess.CompletedProcess[str]) -> str:
    return f"exit {result.returncode}\n--- stdout\n{result.stdout}\n--- stderr\n{result.stderr}"


def pinned_versions() -> dict[str, str]:
    """name -> version of every `name==version` line in src/requirements.txt (names lowered)."""
    pins: dict[str, str] = {}
    for raw in (ROOT / "src" / "requirements.txt").read_text(encoding="utf-8").splitlines():
        line = raw.split("#", 1)[0].strip()
        if "==" in line:
            name, version = (part.strip() for part in line.split("==", 1))
            pins[re.sub(r"[-_.]+", "-", name).lower()] = version
    return pins


def resources_of_type(template: dict[str, Any], kind: str) -> dict[str, dict[str, Any]]:
    return {
        name: resource
        for name, resource in template.get("Resources", {}).items()
        if resource.get("Type") == kind
    }


def as_list(value: Any) -> list[Any]:
    return value if isinstance(value, list) else [value]


@dataclass(frozen=True)
class Grant:
    """What one action may be granted on, and the condition it must carry."""

    resources: frozenset[str]
    condition: tuple[str, str, str] | None = None  # (operator, key, value)
    required: bool = True


SLR_ARN = (
    "arn:${AWS::Partition}:iam::${AWS::AccountId}:role/aws-service-role/"
    "pullthroughcache.ecr.amazonaws.com/AWSServiceRoleForECRPullThroughCache"
)
ROLES_IN_ACCOUNT = "arn:${AWS::Partition}:iam::${AWS::AccountId}:role/*"
PTC_SECRETS = (
    "arn:${AWS::Partition}:secretsmanager:${AWS::Region}:${AWS::AccountId}:secret:ecr-pullthroughcache/*"
)
OWN_LOG_GROUP = "GetAtt:ProviderLogGroup.Arn"
STACKS_IN_ACCOUNT = "arn:${AWS::Partition}:cloudformation:${AWS::Region}:${AWS::AccountId}:stack/*/*"
ANY = frozenset({"*"})

# The complete list of what the provider's role may do. Anything else fails the policy test.
ALLOWED: dict[str, Grant] = {
    # ECR has no resource-level permissions or condition keys for these: "*" is the only form.
    "ecr:CreatePullThroughCacheRule": Grant(ANY),
    "ecr:UpdatePullThroughCacheRule": Grant(ANY),
    "ecr:DeletePullThroughCacheRule": Grant(ANY),
    "ecr:DescribePullThroughCacheRules": Grant(ANY),
    "ecr:ValidatePullThroughCacheRule": Grant(ANY),
    "iam:CreateServiceLinkedRole": Grant(
        frozenset({SLR_ARN}), ("StringEquals", "iam:AWSServiceName", SERVICE_NAME)
    ),
    "iam:PassRole": Grant(
        frozenset({ROLES_IN_ACCOUNT}), ("StringEquals", "iam:PassedToService", SERVICE_NAME)
    ),
    "secretsmanager:GetSecretValue": Grant(frozenset({PTC_SECRETS})),
    "secretsmanager:DescribeSecret": Grant(frozenset({PTC_SECRETS}), required=False),
    # reading the request's own stack, on the few paths where only CloudFormation's record tells
    "cloudformation:DescribeStacks": Grant(frozenset({STACKS_IN_ACCOUNT})),
    "cloudformation:ListStackResources": Grant(frozenset({STACKS_IN_ACCOUNT})),
    "logs:CreateLogStream": Grant(frozenset({OWN_LOG_GROUP})),
    "logs:PutLogEvents": Grant(frozenset({OWN_LOG_GROUP})),
}


def resource_text(value: Any) -> str:
    """A statement's Resource entry as comparable text (Sub strings, GetAtt as GetAtt:X.Y)."""
    if isinstance(value, str):
        return value
    if isinstance(value, dict) and "Fn::Sub" in value and isinstance(value["Fn::Sub"], str):
        return str(value["Fn::Sub"])
    if isinstance(value, dict) and "Fn::GetAtt" in value:
        return "GetAtt:" + ".".join(as_list(value["Fn::GetAtt"]))
    raise AssertionError(f"unexpected Resource form {value!r}: use a string, !Sub or !GetAtt")


@dataclass(frozen=True)
class Statement:
    where: str
    body: dict[str, Any]


def role_statements(template: dict[str, Any], role: str = "ProviderRole") -> list[Statement]:
    """Every statement that can reach the execution role `role` (ProviderRole: the provider's;
    HealthRole: the health function's, tests/test_health_template.py). A policy resource that
    names no role of the template, or names it otherwise than by Ref, is counted for every role,
    so that it fails both allowed lists."""
    statements: list[Statement] = []
    for name, resource in resources_of_type(template, "AWS::IAM::Role").items():
        if name != role:
            continue
        for policy in resource["Properties"].get("Policies", []):
            for statement in as_list(policy["PolicyDocument"]["Statement"]):
                statements.append(Statement(f"{name}/{policy['PolicyName']}", statement))
    for kind in ("AWS::IAM::Policy", "AWS::IAM::RolePolicy", "AWS::IAM::ManagedPolicy"):
        for name, policy in resources_of_type(template, kind).items():
            properties = policy["Properties"]
            attached = as_list(properties.get("Roles", [])) + as_list(properties.get("RoleName", []))
            elsewhere = all(isinstance(r, dict) and "Ref" in r for r in attached)
            if attached and elsewhere and {"Ref": role} not in attached:
                continue
            for statement in as_list(properties["PolicyDocument"]["Statement"]):
                statements.append(Statement(name, statement))
    return statements


@pytest.fixture(scope="module")
def template() -> dict[str, Any]:
    return load_cfn(TEMPLATE)


# ---------------------------------------------------------------------------------------
# IAM: nothing broader than the list above
# ---------------------------------------------------------------------------------------


def test_every_statement_is_within_the_allowed_list(template: dict[str, Any]) -> None:
    problems: list[str] = []
    statements = role_statements(template)
    assert statements, "no IAM statements found in template.yaml"
    for statement in statements:
        body, where = statement.body, statement.where
        sid = body.get("Sid", "?")
        for forbidden in ("NotAction", "NotResource", "NotPrincipal"):
            if forbidden in body:
                problems.append(f"{where}/{sid}: {forbidden} is not allowed")
        if body.get("Effect") != "Allow":
            problems.append(f"{where}/{sid}: Effect must be Allow, got {body.get('Effect')!r}")
        actions = [str(a) for a in as_list(body.get("Action", []))]
        resources = [resource_text(r) for r in as_list(body.get("Resource", []))]
        if not actions or not resources:
            problems.append(f"{where}/{sid}: needs both Action and Resource")
        for action in actions:
            if "*" in action or "?" in action:
                problems.append(f"{where}/{sid}: wildcard action {action!r}")
                continue
            grant = ALLOWED.get(action)
            if grant is None:
                problems.append(f"{where}/{sid}: action {action!r} is not on the allowed list")
                continue
            for resource in resources:
                if resource not in grant.resources:
                    problems.append(
                        f"{where}/{sid}: {action} on {resource!r}; allowed only on {sorted(grant.resources)}"
                    )
            if grant.condition is not None:
                operator, key, value = grant.condition
                held = body.get("Condition", {}).get(operator, {}).get(key)
                if held is None or set(as_list(held)) != {value}:
                    problems.append(
                        f"{where}/{sid}: {action} needs Condition {operator} {key} = {value!r}, "
                        f"got {body.get('Condition')!r}"
                    )
        if "*" in resources and not all(a.startswith("ecr:") for a in actions):
            problems.append(f"{where}/{sid}: Resource '*' is only for the ECR rule actions")
    assert not problems, "IAM broader than allowed:\n" + "\n".join(problems)


def test_every_needed_action_is_granted(template: dict[str, Any]) -> None:
    granted = {
        str(action)
        for statement in role_statements(template)
        for action in as_list(statement.body.get("Action", []))
    }
    missing = sorted(a for a, grant in ALLOWED.items() if grant.required and a not in granted)
    assert not missing, f"the provider needs these actions and the role lacks them: {missing}"


def test_role_is_the_only_identity_and_has_nothing_attached(template: dict[str, Any]) -> None:
    function = template["Resources"][FUNCTION]
    props = function["Properties"]
    # An explicit role: SAM would otherwise attach AWSLambdaBasicExecutionRole (logs:* on "*").
    assert props.get("Role") == {"Fn::GetAtt": ["ProviderRole", "Arn"]}
    for key in ("Policies", "Events", "FunctionUrlConfig", "PermissionsBoundary"):
        assert key not in props, f"{FUNCTION} must not declare {key}"
    # the provider's role, and the health function's (tests/test_health_template.py checks it)
    roles = resources_of_type(template, "AWS::IAM::Role")
    assert sorted(roles) == ["HealthRole", "ProviderRole"]
    for name, resource in roles.items():
        role = resource["Properties"]
        assert "ManagedPolicyArns" not in role, f"{name}: managed policies would bypass the allowed list"
        trust = as_list(role["AssumeRolePolicyDocument"]["Statement"])
        assert trust == [
            {
                "Effect": "Allow",
                "Principal": {"Service": "lambda.amazonaws.com"},
                "Action": "sts:AssumeRole",
            }
        ], name
    policies = resources_of_type(template, "AWS::IAM::Policy")
    for name, policy in policies.items():
        assert policy["Properties"]["Roles"] in ([{"Ref": "ProviderRole"}], [{"Ref": "HealthRole"}]), name
        assert "Users" not in policy["Properties"] and "Groups" not in policy["Properties"]
    assert not resources_of_type(template, "AWS::IAM::RolePolicy")
    assert not resources_of_type(template, "AWS::IAM::ManagedPolicy")


def test_only_cloudformation_in_this_account_is_granted_invoke(template: dict[str, Any]) -> None:
    permissions = [
        resource
        for resource in resources_of_type(template, "AWS::Lambda::Permission").values()
        if resource["Properties"]["FunctionName"] != {"Fn::GetAtt": [HEALTH_FUNCTION, "Arn"]}
    ]  # the health function's one (its schedule's) is tests/test_health_template.py's
    assert len(permissions) == 1, "exactly one resource-policy statement on the function"
    (permission,) = permissions
    assert permission["Properties"] == {
        "Action": "lambda:InvokeFunction",
        "FunctionName": {"Fn::GetAtt": [FUNCTION, "Arn"]},
        "Principal": "cloudformation.amazonaws.com",
        "SourceAccount": {"Ref": "AWS::AccountId"},
    }


def test_no_hard_coded_partition_anywhere() -> None:
    for path in [TEMPLATE, *EXAMPLES, *PULL_SIDE_EXAMPLES]:
        text = path.read_text(encoding="utf-8")
        assert not re.search(r"arn:aws(-[a-z-]+)?:", text), f"{path.name}: use ${{AWS::Partition}}"


# ---------------------------------------------------------------------------------------
# The template's shape
# ---------------------------------------------------------------------------------------


def test_function_runtime_handler_and_environment(template: dict[str, Any]) -> None:
    glob = template["Globals"]["Function"]
    assert glob["Runtime"] == "python3.13"
    assert glob["Architectures"] == ["arm64"]
    assert 30 <= glob["Timeout"] <= 900
    assert glob["MemorySize"] in (128, 256, 512)
    env = glob["Environment"]["Variables"]
    assert env["POWERTOOLS_SERVICE_NAME"] == "ecr-pull-through-cache-provider"
    assert env["POWERTOOLS_LOG_LEVEL"] == {"Ref": "LogLevel"}
    assert env["LOG_LEVEL"] == {"Ref": "LogLevel"}
    assert glob["LoggingConfig"]["LogFormat"] == "JSON"
    props = template["Resources"][FUNCTION]["Properties"]
    assert props["CodeUri"] == "src/"
    assert props["Handler"] == "handler.app.lambda_handler"
    assert (ROOT / "src" / "requirements.txt").is_file()


def test_log_levels_agree_between_powertools_and_lambda(template: dict[str, Any]) -> None:
    # Lambda's advanced logging controls filter JSON lines by their level, and Powertools
    # defers to AWS_LAMBDA_LOG_LEVEL: both must follow the one LogLevel parameter.
    levels = template["Parameters"]["LogLevel"]
    assert levels["Default"] == "INFO"
    mapping = template["Mappings"]["LambdaLogLevel"]
    assert set(mapping) == set(levels["AllowedValues"])
    lambda_names = {"TRACE", "DEBUG", "INFO", "WARN", "ERROR", "FATAL"}
    assert all(entry["Value"] in lambda_names for entry in mapping.values())
    logging_config = template["Globals"]["Function"]["LoggingConfig"]
    assert logging_config["ApplicationLogLevel"] == {
        "Fn::FindInMap": ["LambdaLogLevel", {"Ref": "LogLevel"}, "Value"]
    }


def test_log_group_is_the_functions_and_has_retention(template: dict[str, Any]) -> None:
    groups = resources_of_type(template, "AWS::Logs::LogGroup")
    assert sorted(groups) == ["HealthLogGroup", "ProviderLogGroup"]
    assert groups["HealthLogGroup"]["Properties"] == {
        "LogGroupName": {"Fn::Sub": f"/aws/lambda/${{{HEALTH_FUNCTION}}}"},
        "RetentionInDays": {"Ref": "LogRetentionInDays"},
    }
    props = groups["ProviderLogGroup"]["Properties"]
    assert props["LogGroupName"] == {"Fn::Sub": f"/aws/lambda/${{{FUNCTION}}}"}
    assert props["RetentionInDays"] == {"Ref": "LogRetentionInDays"}
    retention = template["Parameters"]["LogRetentionInDays"]
    cloudwatch_values = [1, 3, 5, 7, 14, 30, 60, 90, 120, 150, 180, 365, 400, 545, 731, 1096]
    cloudwatch_values += [1827, 2192, 2557, 2922, 3288, 3653]
    assert retention["AllowedValues"] == cloudwatch_values
    assert retention["Default"] in cloudwatch_values


def test_outputs_export_the_service_token(template: dict[str, Any]) -> None:
    outputs = template["Outputs"]
    assert outputs["ServiceToken"]["Value"] == {"Fn::GetAtt": [FUNCTION, "Arn"]}
    # <stack name>-ServiceToken unless ServiceTokenExportName names it (StackSets: docs/rollout.md)
    assert outputs["ServiceToken"]["Export"]["Name"] == {
        "Fn::If": [
            "ExportNamedAfterStack",
            {"Fn::Sub": "${AWS::StackName}-ServiceToken"},
            {"Ref": "ServiceTokenExportName"},
        ]
    }
    assert template["Conditions"]["ExportNamedAfterStack"] == {
        "Fn::Equals": [{"Ref": "ServiceTokenExportName"}, ""]
    }
    assert template["Parameters"]["ServiceTokenExportName"]["Default"] == ""
    assert outputs["FunctionName"]["Value"] == {"Ref": FUNCTION}
    assert outputs["LogGroupName"]["Value"] == {"Ref": "ProviderLogGroup"}


def test_samconfig_has_working_defaults() -> None:
    config = tomllib.loads((ROOT / "samconfig.toml").read_text(encoding="utf-8"))
    default = config["default"]
    assert default["global"]["parameters"]["stack_name"] == "ecr-ptc-provider"
    assert default["validate"]["parameters"]["lint"] is True
    deploy = default["deploy"]["parameters"]
    assert deploy["capabilities"] == "CAPABILITY_IAM"
    assert deploy["resolve_s3"] is True
    assert "LogLevel=" in deploy["parameter_overrides"]
    assert "LogRetentionInDays=" in deploy["parameter_overrides"]


# ---------------------------------------------------------------------------------------
# The examples
# ---------------------------------------------------------------------------------------

PROPERTY_NAMES = {
    "ServiceToken",
    "ServiceTimeout",
    "EcrRepositoryPrefix",
    "UpstreamRegistryUrl",
    "UpstreamRegistry",
    "UpstreamRepositoryPrefix",
    "CredentialArn",
    "CustomRoleArn",
    "AdoptExisting",
    "ValidateCredentials",
}
FAMILIES = {
    "ecr-public": "ecr-public",
    "quay": "quay",
    "k8s": "k8s",
    "docker-hub": "docker-hub",
    "ghcr": "github-container-registry",
    "gitlab": "gitlab-container-registry",
    "azure": "azure-container-registry",
    "chainguard": "chainguard",
    "ecr-same-account": "ecr",
    "ecr-cross-account": "ecr",
}
NEEDS_CREDENTIAL = {
    "docker-hub",
    "github-container-registry",
    "azure-container-registry",
    "gitlab-container-registry",
    "chainguard",
}


def custom_rules(template: dict[str, Any]) -> dict[str, dict[str, Any]]:
    return resources_of_type(template, "Custom::PullThroughCacheRule")


def test_one_example_per_upstream_family() -> None:
    assert {path.stem for path in EXAMPLES} == set(FAMILIES)


@pytest.mark.parametrize("path", EXAMPLES, ids=lambda p: p.stem)
def test_example_uses_the_exported_token_and_known_properties(path: Path) -> None:
    example = load_cfn(path)
    rules = custom_rules(example)
    assert list(rules) == ["PullThroughCacheRule"], "one rule, same logical id in every example"
    props = rules["PullThroughCacheRule"]["Properties"]
    assert set(props) <= PROPERTY_NAMES, f"unknown properties {set(props) - PROPERTY_NAMES}"
    assert props["ServiceToken"] == {"Fn::ImportValue": {"Fn::Sub": "${ProviderStackName}-ServiceToken"}}
    assert example["Parameters"]["ProviderStackName"]["Default"] == "ecr-ptc-provider"
    assert props["UpstreamRegistry"] == FAMILIES[path.stem]
    if props["UpstreamRegistry"] in NEEDS_CREDENTIAL:
        assert "CredentialArn" in props, "this upstream requires authentication"
    if props["UpstreamRegistry"] != "ecr":
        assert "CustomRoleArn" not in props and "UpstreamRepositoryPrefix" not in props
    outputs = json.dumps(example["Outputs"])
    assert '{"Ref": "PullThroughCacheRule"}' in outputs
    assert '"Fn::GetAtt": ["PullThroughCacheRule", "RegistryId"]' in outputs


def test_docker_hub_example_makes_its_secret() -> None:
    example = load_cfn(ROOT / "examples" / "docker-hub.yaml")
    secrets = resources_of_type(example, "AWS::SecretsManager::Secret")
    assert len(secrets) == 1
    ((name, secret),) = secrets.items()
    assert secret["Properties"]["Name"]["Fn::Sub"].startswith("ecr-pullthroughcache/")
    assert custom_rules(example)["PullThroughCacheRule"]["Properties"]["CredentialArn"] == {"Ref": name}
    assert example["Parameters"]["DockerHubAccessToken"]["NoEcho"] is True


def test_ecr_examples_name_the_upstream_registry() -> None:
    same = custom_rules(load_cfn(ROOT / "examples" / "ecr-same-account.yaml"))
    same_props = same["PullThroughCacheRule"]["Properties"]
    assert "${AWS::AccountId}.dkr.ecr." in json.dumps(same_props["UpstreamRegistryUrl"])
    assert same_props["UpstreamRepositoryPrefix"] == {"Ref": "UpstreamRepositoryPrefix"}
    assert "CustomRoleArn" not in same_props
    cross = load_cfn(ROOT / "examples" / "ecr-cross-account.yaml")
    cross_props = custom_rules(cross)["PullThroughCacheRule"]["Properties"]
    assert cross_props["CustomRoleArn"] == {"Fn::GetAtt": ["PullThroughCacheRole", "Arn"]}
    role = resources_of_type(cross, "AWS::IAM::Role")["PullThroughCacheRole"]["Properties"]
    (trust,) = role["AssumeRolePolicyDocument"]["Statement"]
    assert trust["Principal"] == {"Service": SERVICE_NAME}


# ---------------------------------------------------------------------------------------
# The real tools
# ---------------------------------------------------------------------------------------


@pytest.mark.tools
@pytest.mark.parametrize("path", [TEMPLATE, *EXAMPLES, *PULL_SIDE_EXAMPLES], ids=lambda p: p.name)
def test_cfn_lint_is_clean(path: Path) -> None:
    cfn_lint = require_tool("cfn-lint")
    result = run_tool([cfn_lint, str(path)], cwd=ROOT)
    assert result.returncode == 0, output_of(result)


@pytest.mark.tools
def test_sam_validate_lint_is_clean() -> None:
    sam = require_tool("sam")
    result = run_tool([sam, "validate", "--lint", "--template", str(TEMPLATE)], cwd=ROOT)
    assert result.returncode == 0, output_of(result)
    assert "is a valid SAM Template" in result.stdout + result.stderr, output_of(result)


# Each suppression lives in template.yaml's Metadata with its justification; this list
# only makes a new one visible in review.
CHECKOV_SUPPRESSED = {
    ("CKV_AWS_115", f"AWS::Serverless::Function.{FUNCTION}"),
    ("CKV_AWS_116", f"AWS::Serverless::Function.{FUNCTION}"),
    ("CKV_AWS_117", f"AWS::Serverless::Function.{FUNCTION}"),
    ("CKV_AWS_173", f"AWS::Serverless::Function.{FUNCTION}"),
    ("CKV_AWS_158", "AWS::Logs::LogGroup.ProviderLogGroup"),
    ("CKV_AWS_115", f"AWS::Serverless::Function.{HEALTH_FUNCTION}"),
    ("CKV_AWS_116", f"AWS::Serverless::Function.{HEALTH_FUNCTION}"),
    ("CKV_AWS_117", f"AWS::Serverless::Function.{HEALTH_FUNCTION}"),
    ("CKV_AWS_173", f"AWS::Serverless::Function.{HEALTH_FUNCTION}"),
    ("CKV_AWS_158", "AWS::Logs::LogGroup.HealthLogGroup"),
}


@pytest.mark.tools
def test_checkov_finds_nothing_unsuppressed(tmp_path: Path) -> None:
    checkov = require_tool("checkov")
    result = run_tool(
        [
            checkov,
            "--file",
            str(TEMPLATE),
            "--framework",
            "cloudformation",
            "--skip-download",  # no network: no guideline links, nothing else changes
            "--output",
            "json",
        ],
        cwd=tmp_path,
        tmpdir=tmp_path / "tmp",
    )
    report = json.loads(result.stdout)
    results = report["results"]
    failed = [(c["check_id"], c["resource"], c["check_name"]) for c in results["failed_checks"]]
    assert not failed, f"checkov failed checks: {failed}\n{output_of(result)}"
    assert result.returncode == 0, output_of(result)
    assert len(results["passed_checks"]) >= 10, "checkov did not read the template's resources"
    skipped = {(c["check_id"], c["resource"]) for c in results["skipped_checks"]}
    assert skipped == CHECKOV_SUPPRESSED
    for check in results["skipped_checks"]:
        comment = check["check_result"].get("suppress_comment", "")
        assert len(comment) > 40, f"{check['check_id']} is suppressed without a justification"


@pytest.fixture(scope="module")
def built_function(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Path]:
    """`sam build` of template.yaml into a temporary directory; yields the function's artifact.

    Runs with a temporary working directory so nothing (not even .aws-sam/deps) lands in the
    repository. Needs python3.13 on PATH, as sam's Python builder uses it.
    """
    sam = require_tool("sam")
    if shutil.which("python3.13") is None:
        pytest.fail("python3.13 is not on PATH (sam build needs it); run ./dev test")
    work = tmp_path_factory.mktemp("sam-build")
    build_dir = work / "build"
    result = run_tool(
        [
            sam,
            "build",
            "--template",
            str(TEMPLATE),
            "--build-dir",
            str(build_dir),
            "--cached",
            "--cache-dir",
            str(work / "cache"),
        ],
        cwd=work,
        timeout=900,
    )
    assert result.returncode == 0, output_of(result)
    yield build_dir / FUNCTION


def dist_version(artifact: Path, name: str) -> str | None:
    """The version of an installed distribution, read from its .dist-info directory name."""
    wanted = re.sub(r"[-_.]+", "_", name).lower()
    for info in artifact.glob("*.dist-info"):
        dist, _, version = info.name.removesuffix(".dist-info").rpartition("-")
        if re.sub(r"[-_.]+", "_", dist).lower() == wanted:
            return version
    return None


def load_service_model(artifact: Path, service: str) -> dict[str, Any]:
    """The newest API version of a service model inside the artifact's botocore."""
    versions = sorted((artifact / "botocore" / "data" / service).iterdir())
    assert versions, f"the artifact's botocore has no {service} model"
    newest = versions[-1]
    plain, packed = newest / "service-2.json", newest / "service-2.json.gz"
    if plain.is_file():
        return dict(json.loads(plain.read_text(encoding="utf-8")))
    return dict(json.loads(gzip.decompress(packed.read_bytes())))


FAILING_SHIM = """#!/bin/sh
echo "pyenv: python3.13: command not found" >&2
echo "The python3.13 command exists in these Python versions: 3.13.9" >&2
exit 127
"""


@pytest.mark.tools
def test_sam_build_works_where_python313_is_a_pyenv_shim_not_selected(tmp_path: Path) -> None:
    """Where pyenv's shim for python3.13 is first on PATH but 3.13 is not the selected version,
    the shim fails when run (exit 127), and ./dev still finds pyenv's 3.13. So must `sam build`:
    src/Makefile passes the shim over and uses `$(pyenv root)/versions/3.13.*/bin/python3.13`.
    Reproduced with a PATH whose python3.13 is such a shim and a pyenv whose only 3.13 is a
    wrapper that records its use and runs this interpreter (3.13, with pip)."""
    sam = require_tool("sam")
    shims, root = tmp_path / "shims", tmp_path / "pyenv-root"
    used = tmp_path / "used-python.log"
    real = root / "versions" / "3.13.9" / "bin" / "python3.13"
    for path, text in [
        (shims / "python3.13", FAILING_SHIM),
        (shims / "pyenv", f'#!/bin/sh\n[ "$1" = root ] && exec echo "{root}"\nexit 1\n'),
        (real, f'#!/bin/sh\necho "$*" >> "{used}"\nexec "{sys.executable}" "$@"\n'),
        # a 3.12 that has a python3.13 name must not be taken for a 3.13
        (root / "versions" / "3.12.1" / "bin" / "python3.13", "#!/bin/sh\nexit 1\n"),
    ]:
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text, encoding="utf-8")
        path.chmod(0o755)
    path_variable = os.pathsep.join([str(shims), os.environ.get("PATH", "")])
    assert shutil.which("python3.13", path=path_variable) == str(shims / "python3.13")
    shim = subprocess.run([str(shims / "python3.13"), "-V"], capture_output=True, text=True, check=False)
    assert shim.returncode == 127, "the shim must fail as pyenv's does when 3.13 is not selected"

    build_dir = tmp_path / "build"
    result = subprocess.run(  # noqa: PLW1510 -- asserted below with the output
        [sam, "build", "--template", str(TEMPLATE), "--build-dir", str(build_dir)],
        cwd=tmp_path,
        env=tool_env() | {"PATH": path_variable},
        capture_output=True,
        text=True,
        timeout=900,
    )
    assert result.returncode == 0, output_of(result)
    calls = used.read_text(encoding="utf-8")
    assert "-m pip install" in calls and "-m compileall" in calls, calls
    assert (build_dir / FUNCTION / "handler" / "__pycache__" / "app.cpython-313.pyc").is_file()


@pytest.mark.tools
def test_dev_sam_runs_the_pinned_sam_cli() -> None:
    """`./dev sam ARGS` is the SAM CLI the tests use (.venv-tools/bin/sam, requirements-sam.txt),
    installed on first use, with the user's own AWS settings (README: Deploy)."""
    pinned = re.search(r"^aws-sam-cli==(\S+)$", (ROOT / "requirements-sam.txt").read_text(), re.MULTILINE)
    assert pinned is not None
    result = run_tool(["bash", str(ROOT / "dev"), "sam", "--version"], cwd=ROOT, timeout=600)
    assert result.returncode == 0, output_of(result)
    assert result.stdout.strip() == f"SAM CLI, version {pinned[1]}", output_of(result)


@pytest.mark.tools
def test_sam_build_packages_the_handler_and_pinned_sdk(built_function: Path) -> None:
    assert (built_function / "handler" / "app.py").is_file(), "handler/app.py is not in the build"
    # the contract the handler checks with, beside it: every module of it, as written
    contract = ROOT / "src" / "ecr_ptc_contract"
    for module in contract.glob("*.py"):
        packaged = built_function / "ecr_ptc_contract" / module.name
        assert packaged.is_file(), f"ecr_ptc_contract/{module.name} is not in the build"
        assert packaged.read_bytes() == module.read_bytes(), f"ecr_ptc_contract/{module.name} differs"
    for package in ("boto3", "botocore", "crhelper", "aws_lambda_powertools", "yaml"):
        assert (built_function / package).is_dir(), f"{package} is not in the build"
    pins = pinned_versions()
    for name in ("boto3", "botocore", "crhelper", "aws-lambda-powertools", "pyyaml"):
        assert dist_version(built_function, name) == pins[name], f"{name} is not the pinned one"
    init = (built_function / "botocore" / "__init__.py").read_text(encoding="utf-8")
    match = re.search(r"^__version__ = ['\"]([^'\"]+)['\"]", init, re.MULTILINE)
    assert match is not None and match.group(1) == pins["botocore"]
    # Test-only code must not ship.
    for name in ("moto", "ecr_ptc_emulator", "pytest", "tests", "devkit", "tools", "cfn_lint_ptc", "cfnlint"):
        assert not (built_function / name).exists(), f"{name} must not be in the Lambda package"


@pytest.mark.tools
def test_packaged_botocore_knows_the_fields_the_provider_sends(built_function: Path) -> None:
    model = load_service_model(built_function, "ecr")
    operations, shapes = model["operations"], model["shapes"]

    def members(operation: str) -> set[str]:
        shape = operations[operation]["input"]["shape"]
        return set(shapes[shape]["members"])

    assert {
        "ecrRepositoryPrefix",
        "upstreamRegistryUrl",
        "upstreamRegistry",
        "credentialArn",
        "customRoleArn",
        "upstreamRepositoryPrefix",
    } <= members("CreatePullThroughCacheRule")
    assert {"ecrRepositoryPrefix", "credentialArn", "customRoleArn"} <= members("UpdatePullThroughCacheRule")
    assert "ecrRepositoryPrefix" in members("ValidatePullThroughCacheRule")
    assert "ecrRepositoryPrefixes" in members("DescribePullThroughCacheRules")
    assert "ecrRepositoryPrefix" in members("DeletePullThroughCacheRule")


# Run with `python -I -B` and only the package on sys.path: one warm "container" serves a rule's
# whole life, then makes the CloudFormation client the provider may use, and reports which
# modules it imported from the package without a .pyc beside them.
CLEAN_INTERPRETER = """
import importlib.util, json, os, sys
package = sys.argv[1]
sys.path.insert(0, package)
import botocore, boto3
from handler.app import lambda_handler
class Context:
    function_name = 'built'; memory_limit_in_mb = 128; aws_request_id = 'r'
    invoked_function_arn = 'arn:aws:lambda:us-east-1:123456789012:function:built'
    def get_remaining_time_in_millis(self): return 60000
for event in json.loads(sys.argv[2]):
    lambda_handler(event, Context())
stacks = boto3.client('cloudformation').describe_stacks()['Stacks']
uncompiled = sorted(
    name for name, module in list(sys.modules.items())
    if (getattr(module, '__file__', None) or '').startswith(package + os.sep)
    and module.__file__.endswith('.py')
    and not os.path.exists(importlib.util.cache_from_source(module.__file__))
)
print(json.dumps({'botocore': botocore.__file__, 'stacks': len(stacks), 'uncompiled': uncompiled}))
"""


@pytest.mark.tools
def test_the_built_artifact_answers_every_request_type_in_a_clean_interpreter(built_function: Path) -> None:
    """The artifact, not just the source: `python -I` (no PYTHONPATH, no site-packages of the
    test environment) imports handler.app from the build directory alone and answers Create,
    Update (in place, replacement under a new prefix, same-prefix replacement) and Delete
    against the emulator, which runs as a server in this process. Proves the lean package
    (src/Makefile) kept everything botocore reads for the ECR and CloudFormation clients."""
    import boto3

    from devkit.cloudformation.events import request
    from devkit.cloudformation.receiver import Receiver
    from ecr_ptc_emulator import server

    emulator, endpoint = server.start()
    try:
        secrets = boto3.client("secretsmanager", endpoint_url=endpoint)
        body = json.dumps({"username": "u", "accessToken": "t"})
        a, b = (
            secrets.create_secret(Name=f"ecr-pullthroughcache/built-{n}", SecretString=body)["ARN"]
            for n in "ab"
        )
        hub_a = {
            "EcrRepositoryPrefix": "built",
            "UpstreamRegistryUrl": "registry-1.docker.io",
            "CredentialArn": a,
        }
        hub_b = {**hub_a, "CredentialArn": b}
        ghcr_b = {**hub_b, "UpstreamRegistryUrl": "ghcr.io"}
        moved = {**ghcr_b, "EcrRepositoryPrefix": "built-moved"}
        steps = [
            ("Create", request("Create", hub_a), "built"),
            ("Update in place", request("Update", hub_b, "built", hub_a), "built"),
            ("Update, same-prefix replacement", request("Update", ghcr_b, "built", hub_b), "built"),
            ("Update, new prefix", request("Update", moved, "built", ghcr_b), "built-moved"),
            ("Delete of the old rule", request("Delete", ghcr_b, "built"), "built"),
            ("Delete", request("Delete", moved, "built-moved"), "built-moved"),
        ]
        with Receiver() as receiver:
            urls = [receiver.url() for _ in steps]
            events = [{**event, "ResponseURL": url} for (_, event, _), url in zip(steps, urls, strict=True)]
            env = {
                "PATH": os.environ.get("PATH", ""),
                "AWS_ENDPOINT_URL": endpoint,
                "AWS_REGION": "us-east-1",
                "AWS_DEFAULT_REGION": "us-east-1",  # both, as Lambda sets them
                "AWS_ACCESS_KEY_ID": "testing",
                "AWS_SECRET_ACCESS_KEY": "testing",
                "POWERTOOLS_LOG_LEVEL": "WARNING",
            }
            python = shutil.which("python3.13") or sys.executable
            result = subprocess.run(
                [python, "-I", "-B", "-c", CLEAN_INTERPRETER, str(built_function), json.dumps(events)],
                env=env, capture_output=True, text=True, timeout=120, check=False,
            )  # fmt: skip
            assert result.returncode == 0, result.stderr
            answers = [receiver.answers(url) for url in urls]
        rules = boto3.client("ecr", endpoint_url=endpoint).describe_pull_through_cache_rules()
    finally:
        emulator.stop()
    report = json.loads(result.stdout.strip().splitlines()[-1])
    assert report["botocore"].startswith(str(built_function))  # the artifact's botocore, not the venv's
    assert report["stacks"] == 0  # a CloudFormation client made and called from the package alone
    for (step, _, physical_id), answer in zip(steps, answers, strict=True):
        assert len(answer) == 1, f"{step}: {len(answer)} answers"
        assert answer[0]["Status"] == "SUCCESS", f"{step}: {answer[0].get('Reason')}"
        assert answer[0]["PhysicalResourceId"] == physical_id, step
    assert answers[2][0]["Data"]["UpstreamRegistry"] == "github-container-registry"
    assert rules["pullThroughCacheRules"] == [], "every rule the requests made was deleted"
    # Every module the handler imported has its .pyc (src/Makefile's NOT_COMPILED excludes only
    # Powertools parts the handler never imports): none compiles at a cold start.
    assert report["uncompiled"] == [], f"imported without a .pyc: {report['uncompiled']}"


# The health function's start in a clean interpreter: health.app imported from its own artifact
# alone, one scheduled run of the real check, and the modules it imported from the package
# without a .pyc beside them.
HEALTH_CLEAN_INTERPRETER = """
import importlib.util, json, os, sys
package = sys.argv[1]
sys.path.insert(0, package)
import botocore
from health.app import lambda_handler
class Context:
    function_name = 'health'; memory_limit_in_mb = 256; aws_request_id = 'r'
    invoked_function_arn = 'arn:aws:lambda:us-east-1:123456789012:function:health'
    def get_remaining_time_in_millis(self): return 60000
result = lambda_handler(json.loads(sys.argv[2]), Context())
uncompiled = sorted(
    name for name, module in list(sys.modules.items())
    if (getattr(module, '__file__', None) or '').startswith(package + os.sep)
    and module.__file__.endswith('.py')
    and not os.path.exists(importlib.util.cache_from_source(module.__file__))
)
print(json.dumps({'botocore': botocore.__file__, 'result': result, 'uncompiled': uncompiled}))
"""


@pytest.mark.tools
def test_sam_build_makes_the_health_function_the_same_package(built_function: Path) -> None:
    """HealthFunction is built by the same recipe (src/Makefile) into its own artifact: the
    provider's package, health/ included, so either function's code runs from either."""
    health = built_function.parent / HEALTH_FUNCTION
    for artifact in (built_function, health):
        packaged, source = artifact / "health" / "app.py", ROOT / "src" / "health" / "app.py"
        assert packaged.read_bytes() == source.read_bytes()
        assert (artifact / "health" / "__pycache__" / "app.cpython-313.pyc").is_file()
        assert (artifact / "handler" / "app.py").is_file()
        assert (artifact / "aws_lambda_powertools" / "metrics").is_dir()
    assert sorted(p.name for p in health.iterdir()) == sorted(p.name for p in built_function.iterdir())
    assert dist_version(health, "aws-lambda-powertools") == pinned_versions()["aws-lambda-powertools"]


@pytest.mark.tools
def test_the_health_function_starts_from_its_artifact_with_every_import_compiled(
    built_function: Path,
) -> None:
    """`python -I -S -B` with only HealthFunction's artifact on sys.path (-S: not even the site
    packages of the interpreter, a venv's included, so a dependency missing from
    src/requirements.txt fails here, as PyYAML did): health.app imports (the Powertools Logger
    and Metrics, the check, boto3's ECR and CloudFormation clients) and serves
    one event of its schedule against the emulator (no stack, one rule no stack holds), writes
    its counts as EMF, and every module it imported from the package has its .pyc: src/Makefile's
    NOT_COMPILED leaves out nothing the health function needs at a cold start."""
    import boto3

    from devkit.aws_lambda.scheduled import scheduled_event
    from ecr_ptc_emulator import server

    health = built_function.parent / HEALTH_FUNCTION
    emulator, endpoint = server.start()
    try:
        boto3.client("ecr", endpoint_url=endpoint).create_pull_through_cache_rule(
            ecrRepositoryPrefix="stray", upstreamRegistryUrl="public.ecr.aws"
        )
        env = {
            "PATH": os.environ.get("PATH", ""),
            "AWS_ENDPOINT_URL": endpoint,
            "AWS_REGION": "us-east-1",
            "AWS_DEFAULT_REGION": "us-east-1",
            "AWS_ACCESS_KEY_ID": "testing",
            "AWS_SECRET_ACCESS_KEY": "testing",
        }
        python = shutil.which("python3.13") or sys.executable
        isolated = [python, "-I", "-S", "-B", "-c", HEALTH_CLEAN_INTERPRETER]
        result = subprocess.run(
            [*isolated, str(health), json.dumps(scheduled_event())],
            env=env, capture_output=True, text=True, timeout=120, check=False,
        )  # fmt: skip
    finally:
        emulator.stop()
    assert result.returncode == 0, result.stderr
    report = json.loads(result.stdout.strip().splitlines()[-1])
    assert report["botocore"].startswith(str(health))  # the artifact's botocore, not the venv's
    assert report["result"]["counts"]["UNMANAGED"] == 1 and report["result"]["not_healthy"] == 0
    assert report["uncompiled"] == [], f"imported without a .pyc: {report['uncompiled']}"
    (emf,) = [json.loads(line) for line in result.stdout.splitlines() if '"_aws"' in line]
    assert emf["_aws"]["CloudWatchMetrics"][0]["Namespace"] == "ECRPullThroughCache"
    assert emf["RulesUnmanaged"] == [1.0] and emf["RulesNotHealthy"] == [0.0]


@pytest.mark.tools
def test_the_package_ships_bytecode_python_need_not_compile_at_cold_start(built_function: Path) -> None:
    """Lambda cannot write __pycache__ into /var/task: without .pyc in the package every cold
    start compiles every module it imports (src/Makefile; docs/benchmark.md measures it)."""
    for module in (
        "handler/app.py",
        "handler/lifecycle.py",
        "ecr_ptc_contract/checks.py",
        "botocore/client.py",
        "crhelper/resource_helper.py",
    ):
        source = built_function / module
        compiled = source.parent / "__pycache__" / f"{source.stem}.cpython-313.pyc"
        assert compiled.is_file(), f"{module} has no .pyc in the package"
        flags = int.from_bytes(compiled.read_bytes()[4:8], "little")
        assert flags == 0b01, f"{compiled.name}: not an unchecked hash-based .pyc (flags {flags:#b})"


# ---------------------------------------------------------------------------------------
# The lean package (src/Makefile): what it keeps, what it drops, its budget
# ---------------------------------------------------------------------------------------

MAKEFILE = ROOT / "src" / "Makefile"
PACKAGE_BUDGET_ZIPPED = 5 * 1024 * 1024  # the lean package's budget: at most 5 MB zipped
BOTOCORE_DATA_FILES = {"endpoints.json", "partitions.json", "sdk-default-configuration.json", "_retry.json"}


def kept_services() -> list[str]:
    """src/Makefile's BOTOCORE_SERVICES: the one list of the botocore models the package keeps."""
    match = re.search(r"^BOTOCORE_SERVICES\s*:=\s*(.+)$", MAKEFILE.read_text(encoding="utf-8"), re.MULTILINE)
    assert match is not None, "src/Makefile has no BOTOCORE_SERVICES := ... line"
    return match.group(1).split()


def services_the_handler_calls() -> set[str]:
    """Every service name given to a client(...) call anywhere in src/handler or src/health (the
    health function's package is the provider's: src/Makefile builds both the same)."""
    found: set[str] = set()
    for path in [*(ROOT / "src" / "handler").rglob("*.py"), *(ROOT / "src" / "health").rglob("*.py")]:
        text = path.read_text(encoding="utf-8")
        found |= set(re.findall(r"""\bclient\(\s*(?:service_name\s*=\s*)?["']([a-z0-9-]+)["']""", text))
    return found


def test_every_client_the_handler_makes_has_its_model_in_the_package() -> None:
    called = services_the_handler_calls()
    assert "ecr" in called, "the search for client(...) calls found not even the ECR client"
    missing = sorted(called - set(kept_services()))
    assert not missing, f"add {missing} to BOTOCORE_SERVICES in src/Makefile: the package has no model for it"
    # what the pins are for: the ECR model (customRoleArn, upstreamRepositoryPrefix), and the
    # CloudFormation model for the provider's DescribeStacks
    assert {"ecr", "cloudformation"} <= set(kept_services())


def test_every_kept_model_is_a_botocore_service() -> None:
    import botocore

    data = Path(botocore.__file__).parent / "data"
    unknown = [s for s in kept_services() if not (data / s).is_dir()]
    assert not unknown, f"BOTOCORE_SERVICES names models botocore does not have: {unknown}"


@pytest.mark.tools
def test_the_package_keeps_only_the_models_it_needs(built_function: Path) -> None:
    data = built_function / "botocore" / "data"
    assert {p.name for p in data.iterdir() if p.is_dir()} == set(kept_services())
    assert {p.name for p in data.iterdir() if p.is_file()} >= BOTOCORE_DATA_FILES
    for service in kept_services():
        (version,) = (data / service).iterdir()
        assert {p.name for p in version.iterdir()} >= {"service-2.json.gz", "endpoint-rule-set-1.json.gz"}
    assert not list(data.rglob("examples-1.json")), "documentation examples are not needed at run time"
    for dropped in ("boto3/data", "boto3/examples", "bin"):
        assert not (built_function / dropped).exists(), f"{dropped} should not be in the package"
    assert not list(built_function.glob("*.dist-info/RECORD"))
    assert list(built_function.glob("*.dist-info/METADATA")), "the distributions' metadata stays"
    # PyYAML's libyaml binding (2.8 MB): the health check parses with the pure-Python SafeLoader
    assert not list(built_function.rglob("*.so")), "no native code: nothing in the package loads it"


@pytest.mark.tools
def test_the_package_fits_its_budget(built_function: Path, tmp_path: Path) -> None:
    import zipfile

    archive = tmp_path / "package.zip"
    with zipfile.ZipFile(archive, "w", zipfile.ZIP_DEFLATED) as zipped:
        for path in sorted(p for p in built_function.rglob("*") if p.is_file()):
            zipped.write(path, path.relative_to(built_function))
    size = archive.stat().st_size
    assert size <= PACKAGE_BUDGET_ZIPPED, f"the package is {size / 1e6:.1f} MB zipped, over its 5 MB budget"


@pytest.mark.tools
def test_sam_package_uploads_the_code_license_and_readme(built_function: Path, tmp_path: Path) -> None:
    """`sam package` of the built template against a local S3 (moto's, in the emulator server):
    the code, and the SAR metadata's LicenseUrl and ReadmeUrl, become s3:// URIs of objects
    holding exactly those files; `sam publish` would then send this template to SAR."""
    import boto3

    from ecr_ptc_emulator import server

    sam = require_tool("sam")
    emulator, endpoint = server.start()
    try:
        s3 = boto3.client("s3", endpoint_url=endpoint)
        s3.create_bucket(Bucket="sar-artifacts")
        packaged = tmp_path / "packaged.yaml"
        result = subprocess.run(  # noqa: PLW1510 -- asserted below with the output
            [
                *(sam, "package", "--template-file", str(built_function.parent / "template.yaml")),
                *("--s3-bucket", "sar-artifacts", "--s3-prefix", "ecr-ptc"),
                *("--output-template-file", str(packaged)),
            ],
            cwd=tmp_path,
            env=tool_env(tmp_path / "tmp") | {"AWS_ENDPOINT_URL_S3": endpoint},
            capture_output=True,
            text=True,
            timeout=300,
        )
        assert result.returncode == 0, output_of(result)
        template = load_cfn(packaged)
        sar = template["Metadata"]["AWS::ServerlessRepo::Application"]

        def stored(uri: str) -> bytes:
            assert uri.startswith("s3://sar-artifacts/ecr-ptc/"), uri
            key = uri.removeprefix("s3://sar-artifacts/")
            return bytes(s3.get_object(Bucket="sar-artifacts", Key=key)["Body"].read())

        assert stored(sar["LicenseUrl"]) == (ROOT / "LICENSE").read_bytes()
        assert stored(sar["ReadmeUrl"]) == (ROOT / "README.md").read_bytes()
        code = stored(template["Resources"][FUNCTION]["Properties"]["CodeUri"])
        assert 0 < len(code) <= PACKAGE_BUDGET_ZIPPED
    finally:
        emulator.stop()
