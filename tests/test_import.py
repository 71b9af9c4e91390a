"""./dev import (devkit/importer) against the ECR emulator in process: every page of a registry
holding a rule of every upstream family read with DescribePullThroughCacheRules alone; the
template declares each with AdoptExisting "true" and exactly the values ECR holds (what the
provider parses from it is the rule ECR holds), this account's secrets and roles as parameters,
logical ids from the prefixes; it passes cfn-lint with E9101; --cdk writes an app that the real
aws-cdk-lib synthesizes into the same rules. tests/ministack/test_import.py deploys it."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
from pathlib import Path
from typing import Any

import boto3
import pytest

import ecr_ptc_emulator
from devkit.cloudformation import templates
from devkit.importer import cli, rules
from handler.properties import RuleSpec, parse
from tests import importing, wheels

ROOT = Path(__file__).resolve().parents[1]
SERVICE_TOKEN = {"Fn::ImportValue": {"Fn::Sub": "${ProviderStackName}-ServiceToken"}}


@pytest.fixture
def ecr(emulator: None) -> Any:
    return boto3.client("ecr", region_name=importing.REGION)


@pytest.fixture
def registry(ecr: Any) -> dict[str, dict[str, str]]:
    secrets = boto3.client("secretsmanager", region_name=importing.REGION)

    def secret(family: str) -> str:
        made = secrets.create_secret(
            Name=f"ecr-pullthroughcache/{family}", SecretString='{"username":"u","accessToken":"t"}'
        )
        return str(made["ARN"])

    def create(prefix: str, url: str, **extra: str) -> None:
        ecr.create_pull_through_cache_rule(ecrRepositoryPrefix=prefix, upstreamRegistryUrl=url, **extra)

    return importing.every_family(create, secret)


def imported(ecr: Any, tmp_path: Path, *options: str) -> tuple[dict[str, Any], str]:
    """Run the command (writing to a file), return the template as data and as text."""
    path = tmp_path / "imported.yaml"
    assert cli.main([*options, "-o", str(path)], client=ecr) == 0
    return templates.load(path), path.read_text()


# ---- logical ids ---------------------------------------------------------------------------


def test_logical_ids_come_from_the_prefixes_words() -> None:
    assert rules.logical_ids(["docker-hub", "team/quay.io", "ROOT", "k8s", "a__b"]) == {
        "ROOT": "RootCache",
        "a__b": "ABCache",
        "docker-hub": "DockerHubCache",
        "k8s": "K8sCache",
        "team/quay.io": "TeamQuayIoCache",
    }


def test_prefixes_that_would_share_a_logical_id_get_numbers_in_prefix_order() -> None:
    assert rules.logical_ids(["a.b", "a/b", "a-b", "ab"]) == {
        "a-b": "ABCache",
        "a.b": "ABCache2",
        "a/b": "ABCache3",
        "ab": "AbCache4",  # logical ids are compared without case
    }


# ---- the template --------------------------------------------------------------------------


def test_every_rule_of_every_page_is_declared_for_adoption(
    ecr: Any, registry: dict[str, dict[str, str]], tmp_path: Path
) -> None:
    body, _ = imported(ecr, tmp_path, "--page-size", "3")
    calls = ecr_ptc_emulator.calls()
    assert [name for name, _ in calls][len(registry) :] == ["DescribePullThroughCacheRules"] * 4  # 11 in 3s
    pages = [params for _, params in calls[len(registry) :]]
    assert [("nextToken" in p, p.get("maxResults")) for p in pages] == [(False, 3)] + [(True, 3)] * 3

    resources = templates.custom_resources(body)
    ids = rules.logical_ids(registry)
    assert set(resources) == set(ids.values())
    for prefix, asked in registry.items():
        properties = resources[ids[prefix]]["Properties"]
        assert properties["ServiceToken"] == SERVICE_TOKEN
        assert properties["EcrRepositoryPrefix"] == prefix
        assert properties["AdoptExisting"] == "true"
        assert properties["UpstreamRegistryUrl"] == asked["upstreamRegistryUrl"]
        assert "DeletionPolicy" not in resources[ids[prefix]]
    parameters = body["Parameters"]
    assert parameters["ProviderStackName"]["Default"] == "ecr-ptc-provider"
    for family in importing.CREDENTIALED:
        name = ids[family].removesuffix("Cache") + "CredentialArn"
        assert resources[ids[family]]["Properties"]["CredentialArn"] == {"Ref": name}
        assert parameters[name]["Default"] == registry[family]["credentialArn"]
    shared = resources[ids["ecr-shared"]]["Properties"]
    assert shared["CustomRoleArn"] == {"Ref": "EcrSharedCustomRoleArn"}
    assert parameters["EcrSharedCustomRoleArn"]["Default"] == importing.ROLE_ARN
    assert resources[ids["ecr-team"]]["Properties"]["UpstreamRepositoryPrefix"] == "team"
    assert len(parameters) == 1 + len(importing.CREDENTIALED) + 1


def test_what_the_provider_reads_from_the_template_is_the_rule_ecr_holds(
    ecr: Any, registry: dict[str, dict[str, str]], tmp_path: Path
) -> None:
    body, _ = imported(ecr, tmp_path)
    defaults = {name: p["Default"] for name, p in body["Parameters"].items()}
    held = ecr_ptc_emulator.rules()
    for resource in templates.custom_resources(body).values():
        sent = {
            k: defaults[v["Ref"]] if isinstance(v, dict) and "Ref" in v else v
            for k, v in resource["Properties"].items()
            if k != "ServiceToken"
        }
        spec = parse(sent)
        rule = held[spec.ecr_repository_prefix]
        assert spec == RuleSpec(
            ecr_repository_prefix=rule["ecrRepositoryPrefix"],
            upstream_registry_url=rule["upstreamRegistryUrl"],
            upstream_registry=rule["upstreamRegistry"],
            upstream_repository_prefix=spec.upstream_repository_prefix,
            credential_arn=rule.get("credentialArn"),
            custom_role_arn=rule.get("customRoleArn"),
            adopt_existing=True,
        )
        assert spec.effective_upstream_repository_prefix == rule.get("upstreamRepositoryPrefix")


def test_the_outputs_give_each_rules_repository_uri_prefix_as_the_provider_answers_it(
    ecr: Any, registry: dict[str, dict[str, str]], tmp_path: Path
) -> None:
    body, _ = imported(ecr, tmp_path)  # the provider's attribute: right in every partition
    outputs = body["Outputs"]
    assert outputs["RootCacheUriPrefix"]["Value"] == {"Fn::GetAtt": ["RootCache", "RepositoryUriPrefix"]}
    assert outputs["QuayCacheUriPrefix"]["Value"] == {"Fn::GetAtt": ["QuayCache", "RepositoryUriPrefix"]}


def test_the_template_as_written(ecr: Any, tmp_path: Path) -> None:
    ecr.create_pull_through_cache_rule(ecrRepositoryPrefix="ROOT", upstreamRegistryUrl="public.ecr.aws")
    ecr.create_pull_through_cache_rule(
        ecrRepositoryPrefix="team/ecr",
        upstreamRegistryUrl="444455556666.dkr.ecr.us-east-1.amazonaws.com",
        customRoleArn=importing.ROLE_ARN,
    )
    _, text = imported(ecr, tmp_path, "--retain")
    assert text == EXPECTED_YAML


EXPECTED_YAML = """\
# The 2 pull-through cache rules of account 123456789012 in us-east-1, written by
# ./dev import. Deploy in that account and Region, after the provider:
#   aws cloudformation deploy --stack-name pull-through-cache-rules --template-file <this file>
# Each resource adopts its rule (AdoptExisting) and changes nothing in ECR; from then on the
# stack owns the rules: deleting a resource deletes its rule unless it is retained (--retain).
AWSTemplateFormatVersion: '2010-09-09'
Description: Pull-through cache rules of 123456789012 in us-east-1, adopted unchanged (./dev import)
Parameters:
  ProviderStackName:
    Type: String
    Default: ecr-ptc-provider
    Description: Stack that deployed the provider (it exports <name>-ServiceToken)
  TeamEcrCustomRoleArn:
    Type: String
    Default: arn:aws:iam::123456789012:role/ecr-ptc-cross-account
    Description: The role of the rule 'team/ecr' (CustomRoleArn); ECR holds the default.
Resources:
  RootCache:
    Type: Custom::PullThroughCacheRule
    DeletionPolicy: Retain
    UpdateReplacePolicy: Retain
    Properties:
      ServiceToken:
        Fn::ImportValue: !Sub '${ProviderStackName}-ServiceToken'
      EcrRepositoryPrefix: ROOT
      UpstreamRegistryUrl: public.ecr.aws
      UpstreamRegistry: ecr-public
      AdoptExisting: 'true'
  TeamEcrCache:
    Type: Custom::PullThroughCacheRule
    DeletionPolicy: Retain
    UpdateReplacePolicy: Retain
    Properties:
      ServiceToken:
        Fn::ImportValue: !Sub '${ProviderStackName}-ServiceToken'
      EcrRepositoryPrefix: team/ecr
      UpstreamRegistryUrl: 444455556666.dkr.ecr.us-east-1.amazonaws.com
      UpstreamRegistry: ecr
      CustomRoleArn: !Ref 'TeamEcrCustomRoleArn'
      AdoptExisting: 'true'
Outputs:
  RootCacheUriPrefix:
    Description: 'Where the rule ''ROOT'' caches: pull <this>/<upstream repository>:<tag>'
    Value: !GetAtt 'RootCache.RepositoryUriPrefix'
  TeamEcrCacheUriPrefix:
    Description: 'Where the rule ''team/ecr'' caches: pull <this>/<upstream repository>:<tag>'
    Value: !GetAtt 'TeamEcrCache.RepositoryUriPrefix'
"""


def test_excluded_prefixes_are_left_out_and_an_empty_result_is_an_error(
    ecr: Any, registry: dict[str, dict[str, str]], tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    body, _ = imported(ecr, tmp_path, "--exclude", "quay", "--exclude", "ROOT")
    prefixes = {r["Properties"]["EcrRepositoryPrefix"] for r in templates.custom_resources(body).values()}
    assert prefixes == set(registry) - {"quay", "ROOT"}
    everything = [arg for prefix in registry for arg in ("--exclude", prefix)]
    assert cli.main(everything, client=ecr) == 1
    assert "has no pull-through cache rule in us-east-1 (besides 11 excluded)" in capsys.readouterr().err


def test_the_rules_are_only_read(ecr: Any, registry: dict[str, dict[str, str]], tmp_path: Path) -> None:
    before = ecr_ptc_emulator.rules()
    imported(ecr, tmp_path)
    assert cli.main(["--cdk", "-o", str(tmp_path / "app.py")], client=ecr) == 0
    calls = [name for name, _ in ecr_ptc_emulator.calls()][len(registry) :]
    assert set(calls) == {"DescribePullThroughCacheRules"}
    assert ecr_ptc_emulator.rules() == before


# ---- cfn-lint and the CDK app ----------------------------------------------------------------


def tool(name: str) -> str:
    found = shutil.which(name)
    if found is None:
        pytest.fail(f"`{name}` is not on PATH. Run ./dev test: it installs the tools into .venv-tools.")
    return found


def run(args: list[str | Path], cwd: Path, **env: str) -> subprocess.CompletedProcess[str]:
    environment = {k: v for k, v in os.environ.items() if k != "PYTHONPATH"} | env
    return subprocess.run(  # noqa: PLW1510 -- callers assert on returncode with the output
        [str(a) for a in args], cwd=cwd, env=environment, capture_output=True, text=True, timeout=600
    )


def lint(path: Path) -> subprocess.CompletedProcess[str]:
    pythonpath = wheels.source_path("cfn-lint-ptc")
    args: list[str | Path] = [tool("cfn-lint"), "--append-rules", "cfn_lint_ptc.rules", "--", path.name]
    return run(args, path.parent, PYTHONPATH=pythonpath)


@pytest.mark.tools
def test_the_template_passes_cfn_lint_with_the_rule(
    ecr: Any, registry: dict[str, dict[str, str]], tmp_path: Path
) -> None:
    imported(ecr, tmp_path)
    result = lint(tmp_path / "imported.yaml")
    assert (result.returncode, result.stdout) == (0, ""), result.stdout + result.stderr


@pytest.mark.tools
def test_the_cdk_app_synthesizes_the_same_rules(
    ecr: Any, registry: dict[str, dict[str, str]], tmp_path: Path
) -> None:
    from tests.cdk import cdk_env

    body, _ = imported(ecr, tmp_path)
    app = tmp_path / "imported_rules.py"
    assert cli.main(["--cdk", "--stack-name", "Adopted", "-o", str(app)], client=ecr) == 0
    source = app.read_text()
    compile(source, str(app), "exec")
    assert "adopt_existing=True" in source
    if not cdk_env.SITE_PACKAGES.is_dir():
        pytest.fail("the CDK lives in .venv-cdk: run ./dev test (it creates it from requirements-cdk.txt)")
    pythonpath = wheels.source_path("cdk-ptc")
    out = tmp_path / "cdk.out"  # where `cdk synth` has the app write (CDK_OUTDIR)
    result = run(
        [cdk_env.PYTHON, app], tmp_path, PYTHONPATH=pythonpath, CDK_OUTDIR=str(out), **cdk_env.QUIET_NODE
    )
    assert result.returncode == 0, result.stdout + result.stderr
    synthesized = json.loads((out / "Adopted.template.json").read_text())

    def by_prefix(template: dict[str, Any]) -> dict[str, dict[str, Any]]:
        return {
            r["Properties"]["EcrRepositoryPrefix"]: {
                k: v for k, v in r["Properties"].items() if k != "ServiceToken"
            }
            for r in templates.custom_resources(template).values()
        }

    assert by_prefix(synthesized) == by_prefix(body)
    parameters = {k: v["Default"] for k, v in synthesized["Parameters"].items() if k != "BootstrapVersion"}
    assert parameters == {k: v["Default"] for k, v in body["Parameters"].items() if k != "ProviderStackName"}
    result = lint(out / "Adopted.template.json")
    assert (result.returncode, result.stdout) == (0, ""), result.stdout + result.stderr
