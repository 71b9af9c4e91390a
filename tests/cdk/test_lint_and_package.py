"""What a CDK user gets: the synthesized template passes the real cfn-lint with rule E9101 (which
does find a mistake put into it), and the construct package, installed from its wheel beside
the contract's and nothing else, synthesizes with neither the Lambda's code, nor cfn-lint, nor
the lint rule package there."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
from pathlib import Path
from typing import Any

import pytest

from ecr_ptc_contract import VERSION
from tests import wheels
from tests.cdk import apps, cdk_env
from tests.cdk.synth import ACCOUNT, REGION, new_stack, template

ROOT = Path(__file__).resolve().parents[2]
SECRETS = {
    family: f"arn:aws:secretsmanager:{REGION}:{ACCOUNT}:secret:ecr-pullthroughcache/{family}-AbCdEf"
    for family in apps.CREDENTIALED
}


def tool(name: str) -> str:
    found = shutil.which(name)
    if found is None:
        pytest.fail(f"`{name}` is not on PATH. Run ./dev test: it installs the tools into .venv-tools.")
    return found


def run(
    args: list[str | Path], pythonpath: Path | str, cwd: Path, **extra: str
) -> subprocess.CompletedProcess[str]:
    """`extra`: more environment; CDK_OUTDIR for an app's cdk.App() (else a cdk.out* is left in the
    system's temp directory)."""
    env = {k: v for k, v in os.environ.items() if k != "PYTHONPATH"}
    env.update(cdk_env.QUIET_NODE, PYTHONPATH=str(pythonpath), **extra)
    return subprocess.run(  # noqa: PLW1510 -- callers assert on returncode with the output
        [str(a) for a in args], cwd=cwd, env=env, capture_output=True, text=True, timeout=600
    )


def shown(result: subprocess.CompletedProcess[str]) -> str:
    return f"exit {result.returncode}\n--- stdout\n{result.stdout}\n--- stderr\n{result.stderr}"


@pytest.fixture(scope="module")
def synthesized() -> dict[str, Any]:
    """The every-upstream stack as `cdk synth` writes it (bootstrap version rule included)."""
    stack = new_stack("EveryUpstream")
    apps.every_upstream(stack, SECRETS)
    body: dict[str, Any] = template(stack).to_json()
    return body


def lint(body: dict[str, Any], directory: Path) -> subprocess.CompletedProcess[str]:
    path = directory / "EveryUpstream.template.json"
    path.write_text(json.dumps(body, indent=1))
    args: list[str | Path] = [tool("cfn-lint"), "--append-rules", "cfn_lint_ptc.rules", "--", path.name]
    return run(args, wheels.source_path("cfn-lint-ptc"), directory)


def test_the_synthesized_template_passes_cfn_lint_with_the_rule(
    synthesized: dict[str, Any], tmp_path: Path
) -> None:
    rules = [r for r in synthesized["Resources"].values() if r["Type"] == "Custom::PullThroughCacheRule"]
    assert len(rules) == 11
    result = lint(synthesized, tmp_path)
    assert (result.returncode, result.stdout) == (0, ""), shown(result)


def test_the_rule_is_loaded_a_mistake_put_into_that_template_is_found(
    synthesized: dict[str, Any], tmp_path: Path
) -> None:
    broken = json.loads(json.dumps(synthesized))
    (ghcr,) = [
        r for r in broken["Resources"].values() if r["Properties"].get("EcrRepositoryPrefix") == "cdk-ghcr"
    ]
    ghcr["Properties"]["UpstreamRegistryUrl"] = "ghcr.io/myorg"
    result = lint(broken, tmp_path)
    assert result.returncode != 0, shown(result)
    assert (
        "E9101 UpstreamRegistryUrl 'ghcr.io/myorg' has a path: drop the path, write 'ghcr.io'."
        in result.stdout
    )
    assert result.stdout.count("E9101") == 1, shown(result)


# ---- the package, installed alone ------------------------------------------------------------


USER_APP = """
import json, sys
import aws_cdk as cdk
from cdk_ecr_pull_through_cache import PullThroughCacheRule, InvalidPullThroughCacheRule

for name in ("handler", "cfnlint", "cfn_lint_ptc"):
    try:
        __import__(name)
    except ImportError:
        pass
    else:
        sys.exit(f"{name} is importable")
app = cdk.App()
stack = cdk.Stack(app, "Caches")
rule = PullThroughCacheRule(stack, "Quay", ecr_repository_prefix="quay", upstream_registry_url="quay.io")
cdk.CfnOutput(stack, "Uri", value=rule.repository_uri_prefix)
try:
    PullThroughCacheRule(stack, "Bad", ecr_repository_prefix="hub", upstream_registry_url="docker.io")
except InvalidPullThroughCacheRule as e:
    print(json.dumps(e.problems))
print(json.dumps(app.synth().get_stack_by_name("Caches").template))
"""


def test_the_package_installed_from_its_wheel_needs_neither_the_lambdas_code_nor_cfn_lint(
    tmp_path: Path,
) -> None:
    built = [wheels.build(name, tmp_path) for name in ("contract", "cdk-ptc")]
    names = wheels.names(built[1])
    assert {"cdk_ecr_pull_through_cache/py.typed", "cdk_ecr_pull_through_cache/rule.py"} <= names
    assert not [n for n in names if n.startswith(("handler/", "ecr_ptc_contract/", "cfn_lint_ptc/"))]
    requirements = wheels.requirements(built[1])
    assert f"ecr-pull-through-cache-contract=={VERSION}" in requirements
    assert not [r for r in requirements if r.startswith("cfn-lint")], requirements
    target = tmp_path / "site"
    wheels.install(cdk_env.PYTHON, built, target)
    app = tmp_path / "app.py"
    app.write_text(USER_APP)
    result = run([cdk_env.PYTHON, app], target, tmp_path, CDK_OUTDIR=str(tmp_path / "cdk.out"))
    assert result.returncode == 0, shown(result)
    problems_line, template_line = result.stdout.strip().splitlines()[-2:]
    problems = json.loads(problems_line)
    assert len(problems) == 2
    assert problems[0].startswith("upstream_registry_url='docker.io'")
    assert problems[1].startswith("credential_arn= is required for docker-hub upstreams")
    body = json.loads(template_line)
    (rule,) = body["Resources"].values()
    assert rule["Type"] == "Custom::PullThroughCacheRule"
    assert rule["Properties"]["EcrRepositoryPrefix"] == "quay"
