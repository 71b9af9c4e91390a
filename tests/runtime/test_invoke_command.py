"""`./dev invoke` (sam local invoke without Docker) on every file in events/, as a user runs it."""

from __future__ import annotations

import json
import os
import subprocess
from pathlib import Path

from devkit.cloudformation import events
from tests.runtime.conftest import Functions

ROOT = Path(__file__).resolve().parents[2]


def test_dev_invoke_runs_every_event_file_and_prints_what_cloudformation_receives(
    functions: Functions,  # the package is built once, before
) -> None:
    files = [f"events/{name}" for name in events.names()]
    result = subprocess.run(
        ["./dev", "invoke", *files],
        cwd=ROOT,
        env={k: v for k, v in os.environ.items() if not k.startswith("AWS_")},
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )
    out = result.stdout
    assert result.returncode == 0, result.stderr[-3000:]
    assert out.count("-> SUCCESS") == 6 and out.count("-> FAILED") == 1, out
    assert out.count("runtime:   response (cold start") == 1
    assert out.count("runtime:   response (warm") == len(files) - 1
    assert (
        "ECR calls: DescribePullThroughCacheRules, DeletePullThroughCacheRule, CreatePullThroughCacheRule"
        in out
    )
    assert "Reason: Invalid properties, 5 problems:" in out
    assert out.count('"message":"decision"') == len(files)  # the log lines are printed
    assert json.loads(out.rsplit("Rules left in the emulator's registry:", 1)[1]) == []
    assert "X-Amz-Signature" not in out + result.stderr
    assert "cloudformation-responses" not in out + result.stderr
