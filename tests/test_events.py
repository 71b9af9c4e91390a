"""events/: valid requests, run in order through the real handler, and the demo that runs them."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path
from typing import Any

import boto3

from devkit.cloudformation import events
from devkit.demo.events import _use_emulator_secrets
from tests.conftest import Cfn
from tests.helpers import rules

ROOT = Path(__file__).resolve().parent.parent
EXPECTED = {
    "01-create.json": ("SUCCESS", "docker-hub", {"docker-hub"}),
    "02-update-in-place.json": ("SUCCESS", "docker-hub", {"docker-hub"}),
    "03-replacement.json": ("SUCCESS", "hub", {"docker-hub", "hub"}),
    "04-replacement-cleanup-delete.json": ("SUCCESS", "docker-hub", {"hub"}),
    "05-same-prefix-replacement.json": ("SUCCESS", "hub", {"hub"}),
    "06-delete.json": ("SUCCESS", "hub", set()),
    "07-bad-input.json": ("FAILED", None, set()),
}


def test_the_event_files_are_the_documented_set() -> None:
    assert events.names() == sorted(EXPECTED)
    for name in events.names():
        event = events.load(name)
        assert event["ResourceType"] == "Custom::PullThroughCacheRule"
        assert event["RequestType"] in ("Create", "Update", "Delete")
        assert "ServiceToken" in event["ResourceProperties"]


def test_the_events_in_order_give_the_documented_answers(cfn: Cfn) -> None:
    secrets = boto3.client("secretsmanager", region_name="us-east-1")
    arns: dict[str, str] = {}
    for name in events.names():
        event: dict[str, Any] = events.load(name)
        _use_emulator_secrets(event, secrets, arns)
        status, physical_id, held = EXPECTED[name]
        answer = cfn.send(event)
        assert answer["Status"] == status, (name, answer.get("Reason"))
        if physical_id:
            assert answer["PhysicalResourceId"] == physical_id
        assert set(rules()) == held, name


def test_the_bad_input_event_reports_every_problem(cfn: Cfn) -> None:
    answer = cfn.send(events.load("07-bad-input"))
    assert answer["Reason"].startswith("Invalid properties, 5 problems:")
    for text in (
        "'CredentialARN': did you mean 'CredentialArn'?",
        "'Docker_Hub-'",
        "write 'registry-1.docker.io'",
    ):
        assert text in answer["Reason"]


def test_the_demo_runs_the_events_and_prints_what_cloudformation_receives() -> None:
    env = {**os.environ, "PYTHONPATH": f"{ROOT / 'src'}:{ROOT}"}
    result = subprocess.run(
        [sys.executable, "-m", "devkit.demo.events"],
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
        check=True,
    )
    out = result.stdout
    assert out.count("-> SUCCESS") == 6
    assert out.count("-> FAILED") == 1
    assert (
        "ECR calls: DescribePullThroughCacheRules, DeletePullThroughCacheRule, CreatePullThroughCacheRule"
        in out
    )
    assert "Rules left in the registry: []" in out
    assert "X-Amz-Signature" not in out + result.stderr
    assert json.loads(out.rsplit("Rules left in the registry:", 1)[1]) == []


def test_the_events_demo_prints_each_steps_logs_after_its_header() -> None:
    """`--logs`: the first line names the ECR the walk-through runs against, each step's log
    lines (one decision line) come after its header, and the function is named as
    CloudFormation names template.yaml's ProviderFunction."""
    env = {**os.environ, "PYTHONPATH": f"{ROOT / 'src'}:{ROOT}"}
    result = subprocess.run(
        [sys.executable, "-m", "devkit.demo.events", "--logs"],
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
        check=True,
    )
    first, *_ = result.stdout.splitlines()
    assert first == "Embedded ECR emulator (moto + ecr_ptc_emulator), in this process"
    steps = result.stdout.split("\n[")[1:]
    assert len(steps) == 7
    for step in steps:
        header, *lines = step.splitlines()
        decisions = [line for line in lines if '"message":"decision"' in line]
        assert len(decisions) == 1, header
        assert lines.index(decisions[0]) > 0  # after the header and what was asked
        assert '"function_name":"ecr-ptc-provider-ProviderFunction-' in decisions[0]
