"""./dev local (devkit/local/): the local stack started once and kept running by a detached
supervisor, then a user's own templates deployed, updated and deleted against it through the real
command, run as a subprocess as a user runs it; and stop leaving nothing behind.

One start for the module (MiniStack, the ECR emulator and the provider by sam build + sam deploy,
about 12 s); its state goes under tmp_path (ECR_PTC_LOCAL_DIR), not the repository's .local-stack/.
The tests run in order: each continues with the stack the previous one left.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

from devkit.cloudformation.ministack import MiniStack

ROOT = Path(__file__).resolve().parents[1]
ACCOUNT = "123456789012"
HOST = f"{ACCOUNT}.dkr.ecr.us-east-1.amazonaws.com"
NOT_RUNNING = "no local stack is running: ./dev local start"


def local(where: Path, *arguments: str) -> subprocess.CompletedProcess[str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("AWS_")}
    env.update(PYTHONPATH=f"{ROOT / 'src'}:{ROOT}", ECR_PTC_LOCAL_DIR=str(where), PYTHONDONTWRITEBYTECODE="1")
    return subprocess.run(
        [sys.executable, "-m", "devkit.local.cli", *arguments],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=600,
        check=False,
    )


def flat(text: str) -> str:
    """The report with its wrapped lines joined (a Reason wraps at 100 columns)."""
    return " ".join(text.split())


@pytest.fixture(scope="module")
def where(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Path]:
    directory = tmp_path_factory.mktemp("local") / "state"
    started = local(directory, "start")
    try:
        assert started.returncode == 0, started.stdout + started.stderr
        (directory.parent / "start.out").write_text(started.stdout)
        yield directory
    finally:
        if directory.exists():  # a test failed before stopping it
            local(directory, "stop")


def test_start_prints_the_endpoints_the_export_and_the_env_and_runs_one_stack(where: Path) -> None:
    out = (where.parent / "start.out").read_text()
    running = json.loads((where / "state.json").read_text())
    assert f"MiniStack (CloudFormation, Lambda, S3, IAM, Secrets Manager, ...): {running['url']}" in out
    assert "ECR emulator (pull-through cache rules):" in out and running["ecr_url"] in out
    assert f"ecr-ptc-provider-ServiceToken = arn:aws:lambda:us-east-1:{ACCOUNT}:function:" in out
    assert f"export AWS_ENDPOINT_URL={running['url']}\n" in out
    assert f"export AWS_ENDPOINT_URL_ECR={running['ecr_url']}\n" in out
    assert "./dev local stop" in out
    again = local(where, "start")
    assert again.returncode == 0, again.stderr
    assert again.stdout.startswith(
        f"A local stack is already running (supervisor pid {running['supervisor']})"
    )
    assert f"export AWS_ENDPOINT_URL={running['url']}\n" in again.stdout
    assert json.loads((where / "state.json").read_text()) == running  # no second stack


def test_env_points_boto3_at_the_local_stack(where: Path) -> None:
    result = local(where, "env")
    assert result.returncode == 0, result.stderr
    lines = result.stdout.splitlines()
    assert all(line.startswith("export ") for line in lines)
    exported = dict(line.removeprefix("export ").split("=", 1) for line in lines)
    assert {"AWS_ENDPOINT_URL", "AWS_ENDPOINT_URL_ECR", "AWS_DEFAULT_REGION"} <= set(exported)
    env = {k: v for k, v in os.environ.items() if not k.startswith("AWS_")}
    listing = """if True:
        import boto3
        print(*sorted(s["StackName"] for s in boto3.client("cloudformation").list_stacks()["StackSummaries"]))
        ecr = boto3.client("ecr")
        ecr.create_pull_through_cache_rule(ecrRepositoryPrefix="by-hand", upstreamRegistryUrl="quay.io")
    """
    found = subprocess.run(
        [sys.executable, "-c", listing], env={**env, **exported}, capture_output=True, text=True, check=True
    )
    assert found.stdout == "aws-sam-cli-managed-default ecr-ptc-provider\n"  # MiniStack's CloudFormation
    running = json.loads((where / "state.json").read_text())
    emulator = MiniStack.attach(running["url"], running["ecr_url"], Path(running["workdir"]))
    assert set(emulator.ecr_rules()) == {"by-hand"}  # AWS_ENDPOINT_URL_ECR reached the emulator
    emulator.delete_rule("by-hand")


def test_an_example_is_created_updated_with_a_parameter_and_deleted(where: Path) -> None:
    deploy = ("deploy", "--stack-name", "k8s-cache", "--template-file", "examples/k8s.yaml")
    created = local(where, *deploy)
    assert created.returncode == 0, created.stdout + created.stderr
    out = created.stdout
    assert "status:    CREATE_COMPLETE" in out
    assert "provider:  Create PullThroughCacheRule -> SUCCESS k8s" in out
    assert "ECR calls: CreatePullThroughCacheRule" in out
    assert "EcrRepositoryPrefix = !Ref PullThroughCacheRule -> k8s\n" in out
    assert f"RepositoryUri = !GetAtt PullThroughCacheRule.RepositoryUriPrefix -> {HOST}/k8s\n" in out
    assert "rules:     k8s -> registry.k8s.io\n" in out

    updated = local(where, *deploy, "--parameter-overrides", "EcrRepositoryPrefix=k8s-eu")
    assert updated.returncode == 0, updated.stdout + updated.stderr
    out = updated.stdout
    assert "status:    UPDATE_COMPLETE" in out
    assert "Update PullThroughCacheRule k8s -> SUCCESS k8s-eu" in out
    assert "Delete PullThroughCacheRule k8s -> SUCCESS k8s" in out
    assert f"RepositoryUri = !GetAtt PullThroughCacheRule.RepositoryUriPrefix -> {HOST}/k8s-eu\n" in out
    assert "rules:     k8s-eu -> registry.k8s.io\n" in out

    # as `aws cloudformation deploy`: a parameter not overridden keeps its value
    same = local(where, *deploy)
    assert same.returncode == 0, same.stderr
    assert "No changes to deploy: stack k8s-cache is up to date." in same.stdout

    deleted = local(where, "delete", "--stack-name", "k8s-cache")
    assert deleted.returncode == 0, deleted.stdout + deleted.stderr
    assert "status:    DELETE_COMPLETE" in deleted.stdout
    assert "Delete PullThroughCacheRule k8s-eu -> SUCCESS k8s-eu" in deleted.stdout
    assert "rules:     (none)" in deleted.stdout


def test_a_template_with_a_mistake_fails_with_the_providers_reason(where: Path, tmp_path: Path) -> None:
    mistaken = tmp_path / "mistake.yaml"
    right = (ROOT / "examples" / "k8s.yaml").read_text()
    mistaken.write_text(
        right.replace("UpstreamRegistryUrl: registry.k8s.io", "UpstreamRegistryUrl: registry.k8s.io/pause")
    )
    deploy = ("deploy", "--stack-name", "mine", "--template-file", str(mistaken))
    failed = local(where, *deploy)
    assert failed.returncode == 1, failed.stdout + failed.stderr
    out = flat(failed.stdout)
    assert "status: ROLLBACK_COMPLETE" in out
    assert "PullThroughCacheRule CREATE_FAILED Reason: Invalid properties: UpstreamRegistryUrl " in out
    assert "'registry.k8s.io/pause' has a path: drop the path, write 'registry.k8s.io'." in out
    assert "ECR calls: (none)" in out
    assert "Stack mine ended ROLLBACK_COMPLETE: the operation failed" in out

    mistaken.write_text(right)  # fixed: the failed stack goes first, as sam deploy does
    fixed = local(where, *deploy)
    assert fixed.returncode == 0, fixed.stdout + fixed.stderr
    assert "Stack mine is in ROLLBACK_COMPLETE (its create failed): deleting it first." in fixed.stdout
    assert "status:    CREATE_COMPLETE" in fixed.stdout

    refused = local(where, "deploy", "--stack-name", "k8s-mine", "--template-file", str(mistaken))
    assert refused.returncode == 1  # the prefix 'k8s' is the stack mine's
    assert "Reason: EcrRepositoryPrefix 'k8s'" in flat(refused.stdout)
    assert "status: ROLLBACK_COMPLETE" in flat(refused.stdout)


def test_a_secret_named_without_the_prefix_fails_naming_credential_arn(where: Path, tmp_path: Path) -> None:
    """The mistake only a deploy can catch: CredentialArn is the ARN of a secret the same template
    names outside ecr-pullthroughcache/ (the example, its secret renamed). MiniStack's Ref of a
    secret gives its name, not its ARN, so the copy takes the ARN with !GetAtt Secret.Id (the ARN
    on CloudFormation too)."""
    mistaken = tmp_path / "docker-hub.yaml"
    example = (ROOT / "examples" / "docker-hub.yaml").read_text()
    right = "Name: !Sub ecr-pullthroughcache/${EcrRepositoryPrefix}"
    assert right in example
    ref = "CredentialArn: !Ref DockerHubCredentials"
    assert ref in example
    hub = ("--parameter-overrides", "DockerHubUsername=me", "DockerHubAccessToken=not-a-token")
    as_written = local(
        where, "deploy", "--stack-name", "hub", "--template-file", "examples/docker-hub.yaml", *hub
    )
    assert as_written.returncode == 1  # MiniStack gives the provider the secret's name
    assert flat(as_written.stdout).startswith(
        "note: CredentialArn of PullThroughCacheRule is !Ref DockerHubCredentials, an "
        "AWS::SecretsManager::Secret: MiniStack gives its name there, where CloudFormation gives its "
        "ARN, so the provider will refuse it here; write !GetAtt DockerHubCredentials.Id (the ARN on both)."
    )
    assert "is not a Secrets Manager secret ARN" in flat(as_written.stdout)

    mistaken.write_text(
        example.replace(right, "Name: !Sub ${EcrRepositoryPrefix}").replace(
            ref, "CredentialArn: !GetAtt DockerHubCredentials.Id"
        )
    )
    failed = local(
        where,
        *("deploy", "--stack-name", "hub", "--template-file", str(mistaken)),
        *hub,
    )
    assert failed.returncode == 1, failed.stdout + failed.stderr
    out = flat(failed.stdout)
    assert "DockerHubCredentials CREATE_COMPLETE" in out
    assert (
        "PullThroughCacheRule CREATE_FAILED Reason: Invalid properties: "
        "CredentialArn names the secret 'docker-hub'" in out
    )
    assert "create the secret as 'ecr-pullthroughcache/docker-hub' and pass its ARN." in out
    assert "ECR calls: (none)" in out
    assert "note: CredentialArn" not in out
    assert "DockerHubCredentials DELETE_COMPLETE" in out  # the rollback removed the secret
    assert "Stack hub ended ROLLBACK_COMPLETE: the operation failed" in out
    assert local(where, "delete", "--stack-name", "hub").returncode == 0


def test_stop_ends_every_process_and_removes_the_state(where: Path) -> None:
    groups = json.loads((where / "state.json").read_text())["groups"]
    assert len(groups) == 3 and len(members(groups)) >= 4  # supervisor, emulator, MiniStack, a worker
    stopped = local(where, "stop")
    assert stopped.returncode == 0, stopped.stdout + stopped.stderr
    assert members(groups) == []
    assert not where.exists()
    for command in (
        ("env",),
        ("stop",),
        ("deploy", "--stack-name", "x", "--template-file", "examples/k8s.yaml"),
    ):
        result = local(where, *command)
        assert result.returncode == 1, command
        assert result.stderr.startswith("error: no local stack is running"), command


def test_the_state_of_a_dead_supervisor_is_cleaned(tmp_path: Path) -> None:
    where = tmp_path / "state"
    where.mkdir()
    dead = subprocess.Popen(["true"])
    dead.wait()
    (where / "supervisor.pid").write_text(str(dead.pid))
    (where / "state.json").write_text(json.dumps({"supervisor": dead.pid, "groups": []}))
    result = local(where, "env")
    assert result.returncode == 1
    assert (
        result.stderr == f"error: {NOT_RUNNING} (the last one's supervisor had died; its state is removed)\n"
    )
    assert not where.exists()


def members(groups: list[int]) -> list[int]:
    """The live (not zombie) processes of these process groups."""
    found = []
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            fields = (entry / "stat").read_text().rsplit(")", 1)[1].split()
        except OSError:
            continue
        if fields[0] != "Z" and int(fields[2]) in groups:
            found.append(int(entry.name))
    return found
