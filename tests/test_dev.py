"""The ./dev entry point's own behaviour (what needs no bootstrap)."""

from __future__ import annotations

import subprocess
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


def dev(*arguments: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        ["bash", str(ROOT / "dev"), *arguments], capture_output=True, text=True, timeout=60, check=False
    )


def test_help_exits_0_and_prints_only_the_usage() -> None:
    for spelling in ("--help", "-h", "help"):
        result = dev(spelling)
        assert result.returncode == 0, spelling
        assert result.stderr == ""
        lines = result.stdout.splitlines()
        assert lines[0].startswith("./dev demo ")
        assert not [line for line in lines if "set -euo" in line or line.startswith("#")]
        for command in (
            "./dev demo ",
            "./dev demo events",
            "./dev test",
            "./dev test --fast",
            "./dev bench",
            "./dev local",
            "./dev health",
        ):
            assert any(line.startswith(command) for line in lines), command


def test_an_unknown_command_exits_2_with_the_usage_on_stderr() -> None:
    result = dev("deploy")
    assert result.returncode == 2
    assert result.stdout == ""
    assert "unknown command: deploy" in result.stderr
    assert "./dev demo events" in result.stderr
