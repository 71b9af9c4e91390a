"""./dev import on MiniStack: the rules of every upstream family, made by hand in the registry,
read through the emulator's HTTP endpoint (--endpoint-url) into a template that passes cfn-lint
with E9101; deploying that template adopts every rule without an ECR write: each resource's
Create is refused (already exists) and read back, nothing else, and the registry is exactly as
before. The generated CDK app, synthesized by the real aws-cdk-lib, adopts them the same way."""

from __future__ import annotations

import json
import os
import subprocess
from pathlib import Path
from typing import Any

from devkit.cloudformation import templates
from devkit.cloudformation.ministack import MiniStack
from devkit.importer import cli, rules
from tests import importing
from tests.ministack.conftest import BYSTANDER, REPOSITORY_HOST, Stacks, requests
from tests.test_import import lint

ROOT = Path(__file__).resolve().parents[2]


def hand_made(ministack: MiniStack, stacks: Stacks) -> dict[str, dict[str, str]]:
    return importing.every_family(ministack.create_rule, lambda family: stacks.secret(f"import-{family}"))


def run_import(ministack: MiniStack, path: Path, *options: str) -> None:
    argv = ["--endpoint-url", ministack.ecr_url, "--region", ministack.region, "--exclude", BYSTANDER]
    assert cli.main([*argv, *options, "-o", str(path)]) == 0


def assert_adopted_without_a_write(op: Any, made: dict[str, dict[str, str]], before: dict[str, Any]) -> None:
    assert op.status == "CREATE_COMPLETE", op.reasons()
    assert op.rules == before  # every field, createdAt and updatedAt included: nothing changed
    by_prefix: dict[str, list[str]] = {}
    for name, params in op.ecr_calls:
        prefix = params.get("ecrRepositoryPrefix") or "/".join(params.get("ecrRepositoryPrefixes") or [])
        by_prefix.setdefault(prefix, []).append(name)
    expected = ["CreatePullThroughCacheRule", "DescribePullThroughCacheRules"]
    assert by_prefix == dict.fromkeys(made, expected)
    answers = {(kind, status, physical_id) for kind, _, status, physical_id in requests(op)}
    assert answers == {("Create", "SUCCESS", prefix) for prefix in made}


def test_the_imported_template_adopts_every_rule_without_an_ecr_write(
    ministack: MiniStack, stacks: Stacks, tmp_path: Path
) -> None:
    made = hand_made(ministack, stacks)
    before = ministack.ecr_rules()
    calls_before = len(ministack.ecr_calls())
    path = tmp_path / "imported.yaml"
    run_import(ministack, path, "--page-size", "4")
    reads = ministack.ecr_calls()[calls_before:]
    assert [name for name, _ in reads] == [
        "DescribePullThroughCacheRules"
    ] * 3  # 12 rules (the bystander too)
    lint_result = lint(path)
    assert (lint_result.returncode, lint_result.stdout) == (0, ""), lint_result.stdout + lint_result.stderr

    body = templates.load(path)
    assert set(templates.custom_resources(body)) == set(rules.logical_ids(made).values())
    name = stacks.name("imported-rules")
    created = stacks.create(name, path.read_text())
    assert_adopted_without_a_write(created, made, before)
    assert created.outputs["RootCacheUriPrefix"] == REPOSITORY_HOST
    assert created.outputs["GhcrCacheUriPrefix"] == f"{REPOSITORY_HOST}/ghcr"

    # from now on the stack owns them: deleting it deletes them (and only them)
    deleted = stacks.delete(name)
    assert deleted.status == "DELETE_COMPLETE", deleted.reasons()
    assert set(deleted.rules) == set(before) - set(made)


def test_the_imported_cdk_app_adopts_every_rule_without_an_ecr_write(
    ministack: MiniStack, stacks: Stacks, tmp_path: Path
) -> None:
    from tests.cdk import cdk_env

    made = hand_made(ministack, stacks)
    before = ministack.ecr_rules()
    app = tmp_path / "imported_rules.py"
    run_import(ministack, app, "--cdk", "--stack-name", "Adopted")
    out = tmp_path / "cdk.out"
    # what `pip install ./tools/contract ./tools/cdk-ptc` installs: the contract (src/) and the construct
    pythonpath = os.pathsep.join(str(path) for path in (ROOT / "src", ROOT / "tools" / "cdk-ptc" / "src"))
    environment = {k: v for k, v in os.environ.items() if k != "PYTHONPATH"}
    environment.update(cdk_env.QUIET_NODE, PYTHONPATH=pythonpath, CDK_OUTDIR=str(out))
    result = subprocess.run(  # noqa: PLW1510 -- asserted below with the output
        [str(cdk_env.PYTHON), str(app)],
        cwd=tmp_path,
        env=environment,
        capture_output=True,
        text=True,
        timeout=600,
    )
    assert result.returncode == 0, result.stdout + result.stderr
    body = json.loads((out / "Adopted.template.json").read_text())
    # deployed as `aws cloudformation deploy` would (`cdk deploy` needs a bootstrapped account):
    # without the bootstrap version check, which reads an SSM parameter `cdk bootstrap` makes,
    # and without the CDK's usage metadata resource
    body.pop("Rules", None)
    body["Parameters"].pop("BootstrapVersion", None)
    body["Resources"].pop("CDKMetadata", None)
    body.pop("Conditions", None)

    created = stacks.create(stacks.name("imported-cdk"), body)
    assert_adopted_without_a_write(created, made, before)
