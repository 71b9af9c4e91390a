"""./dev demo (devkit/demo/stacks.py) end to end, and the driver's promise that every process it
started is gone after stop()."""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import sys
import time
from pathlib import Path

from devkit.cloudformation.ministack import MiniStack

ROOT = Path(__file__).resolve().parents[2]


def run_demo(*arguments: str) -> subprocess.CompletedProcess[str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("AWS_")}
    env["PYTHONPATH"] = f"{ROOT / 'src'}:{ROOT}"
    return subprocess.run(
        [sys.executable, "-m", "devkit.demo.stacks", *arguments],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=600,
        check=False,
    )


def steps(out: str) -> dict[str, str]:
    """The demo's output cut into its numbered steps, by title."""
    parts = re.split(r"\n\[\d+\] ", out)
    return {part.split("\n", 1)[0]: part for part in parts[1:]}


def test_the_demo_deploys_real_stacks_and_shows_each_operation() -> None:
    result = run_demo("--logs")
    assert result.returncode == 0, result.stdout + result.stderr
    out = result.stdout
    assert out.startswith("MiniStack demo: the provider deployed with sam")
    found = steps(out)
    titles = list(found)
    assert titles[0].startswith("Deploy the provider from template.yaml")
    deploy = found[titles[0]]
    assert "$ sam build && sam deploy" in deploy
    assert "CREATE_COMPLETE" in deploy
    assert "ecr-ptc-provider-ServiceToken = arn:aws:lambda:us-east-1:123456789012:function:" in deploy
    by_kind = {title.split(":", 1)[0]: body for title, body in found.items()}
    rotate = by_kind["Rotate the credential"]
    assert "status:    UPDATE_COMPLETE" in rotate
    in_place = "DescribePullThroughCacheRules, UpdatePullThroughCacheRule, ValidatePullThroughCacheRule"
    assert f"ECR calls: {in_place}" in rotate
    assert "CredentialArn = !GetAtt PullThroughCacheRule.CredentialArn -> arn:aws:secretsmanager:" in rotate
    assert "EcrRepositoryPrefix = !Ref PullThroughCacheRule -> azure\n" in rotate
    # an output is shown with the attribute it comes from, under the attribute's real name
    uri = "RepositoryUri = !GetAtt PullThroughCacheRule.RepositoryUriPrefix -> 123456789012.dkr.ecr."
    assert f"{uri}us-east-1.amazonaws.com/azure\n" in rotate
    same_prefix = by_kind["Change the upstream, same prefix"]
    assert "DeletePullThroughCacheRule, CreatePullThroughCacheRule" in same_prefix
    assert (
        "UpstreamRegistryUrl = !GetAtt PullThroughCacheRule.UpstreamRegistryUrl -> fabrikam.azurecr.io"
        in same_prefix
    )
    moved = by_kind["Change the prefix"]
    assert "Delete PullThroughCacheRule azure -> SUCCESS azure" in moved
    failed = by_kind["An update that fails"]
    assert "UPDATE_ROLLBACK_COMPLETE" in failed
    assert "Reason: EcrRepositoryPrefix 'team-quay'" in failed
    assert_the_health_step(by_kind["Health check"])
    assert titles.index(next(t for t in titles if t.startswith("Health check"))) < titles.index(
        "Delete k8s-cache"
    )
    assert "Rules left in the registry: team-quay\n" in out
    # --logs: each step holds exactly its own requests' decision lines (after its header)
    for title, body in found.items():
        answered = len(re.findall(r" -> (SUCCESS|FAILED) ", body))
        assert body.count('"message":"decision"') == answered, title
    assert sum(body.count('"message":"decision"') for body in found.values()) >= 10
    assert "X-Amz-Signature" not in out + result.stderr
    assert "/_ministack/cfn-response/" not in out + result.stderr


def assert_the_health_step(check: str) -> None:
    """The health step: a rule deleted and another changed by hand, the deployed health function
    invoked as its schedule would, the stacks' update that puts both back, the function's next run."""
    assert "$ aws ecr delete-pull-through-cache-rule --ecr-repository-prefix k8s" in check
    assert "$ aws lambda invoke --function-name ecr-ptc-provider-HealthFunction-" in check
    found, repair = check.split("$ aws cloudformation deploy", 1)
    repaired = repair.split("$ aws lambda invoke", 1)[1]
    assert re.search(r"health: +STACK +RESOURCE +PREFIX +STATE +DETAIL\n", found)
    drifted = r"azure-cache +PullThroughCacheRule +azure-eu +DRIFTED +CredentialArn: ECR holds "
    assert re.search(
        drifted + r"ecr-pullthroughcache/azure-2025-\w+, the stack asks ecr-pullthroughcache/azure-2026-",
        found,
    )
    assert re.search(r"k8s-cache +PullThroughCacheRule +k8s +MISSING +ECR has no rule under 'k8s'\n", found)
    assert re.search(r"- +- +team-quay +UNMANAGED +no stack holds this rule \(upstream quay.io\)\n", found)
    assert "3 rules: 1 MISSING, 1 DRIFTED, 1 UNMANAGED\n" in found
    counted = (
        "RulesHealthy 0, RulesMissing 1, RulesInvalid 0, RulesDrifted 1, RulesUnmanaged 1, RulesNotHealthy 2"
    )
    assert f"metrics:   {counted} (EMF, namespace ECRPullThroughCache)" in found
    assert "Update PullThroughCacheRule k8s -> SUCCESS k8s" in repair
    assert "Update PullThroughCacheRule azure-eu -> SUCCESS azure-eu" in repair
    assert "CreatePullThroughCacheRule" in repair and "UpdatePullThroughCacheRule" in repair
    assert re.search(r"azure-cache +PullThroughCacheRule +azure-eu +HEALTHY", repaired)
    assert re.search(r"k8s-cache +PullThroughCacheRule +k8s +HEALTHY", repaired)
    assert "3 rules: 2 HEALTHY, 1 UNMANAGED\n" in repaired
    assert "RulesMissing 0, RulesInvalid 0, RulesDrifted 0, RulesUnmanaged 1, RulesNotHealthy 0" in repaired


def test_stop_ends_every_process_it_started_workers_included() -> None:
    ms = MiniStack().start()
    try:
        groups = [p.pid for p in ms._processes]
        ms.create_rule("driver-check", "quay.io")  # the emulator answers
        function = {
            "Resources": {
                "Fn": {
                    "Type": "AWS::Lambda::Function",
                    "Properties": {
                        "Runtime": "python3.13",
                        "Handler": "index.handler",
                        "Role": "arn:aws:iam::123456789012:role/none",
                        "Code": {"ZipFile": "def handler(event, context):\n    return 'ok'\n"},
                    },
                }
            },
            "Outputs": {"Name": {"Value": {"Ref": "Fn"}}},
        }
        op = ms.create_stack("worker", function)
        assert op.status == "CREATE_COMPLETE", op.reasons()
        result = ms.client("lambda").invoke(FunctionName=op.outputs["Name"], Payload=b"{}")
        assert result["Payload"].read() == b'"ok"'
        members = _members(groups)
        assert len(members) >= 3  # the emulator, MiniStack and its Lambda worker
    finally:
        ms.stop()
    assert _members(groups) == []
    assert ms.workdir is None


def _members(groups: list[int]) -> list[int]:
    found = []
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            stat = (entry / "stat").read_text()
        except OSError:
            continue
        fields = stat.rsplit(")", 1)[1].split()
        if fields[0] != "Z" and int(fields[2]) in groups:  # state, ppid, pgrp
            found.append(int(entry.name))
    return found


DRIVER = """
import sys
import time
from devkit.cloudformation.ministack import MiniStack
ms = MiniStack().start()
print(ms.workdir, *(p.pid for p in ms._processes), flush=True)
sys.stdin.read()  # until the test kills this process
"""


def test_a_killed_driver_leaves_no_process_behind() -> None:
    """The driver's children end when its process dies without stop() (SIGKILL)."""
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    with subprocess.Popen(
        [sys.executable, "-c", DRIVER], env=env, stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True
    ) as driver:
        assert driver.stdout is not None
        workdir, *pids = driver.stdout.readline().split()
        groups = [int(pid) for pid in pids]
        assert len(groups) == 2 and len(_members(groups)) >= 2
        driver.kill()
        driver.wait(timeout=30)
    for process in groups:  # each child gets SIGTERM from the kernel and exits
        _wait_gone(process)
    assert _members(groups) == []
    shutil.rmtree(workdir)  # what the killed driver could not remove


def _wait_gone(pid: int, timeout_s: float = 30.0) -> None:
    """Wait for `pid` (not our child: reaped by init) to exit, polling /proc."""
    deadline = time.monotonic() + timeout_s
    while Path(f"/proc/{pid}").exists() and _state(pid) not in ("Z", None):
        assert time.monotonic() < deadline, f"{pid} still runs {timeout_s} s after its parent died"
        time.sleep(0.05)


def _state(pid: int) -> str | None:
    try:
        return (Path(f"/proc/{pid}") / "stat").read_text().rsplit(")", 1)[1].split()[0]
    except OSError:
        return None
