"""tests/conftest.py's guard: every test runs with fake AWS credentials and cannot leave
127.0.0.1, except the real-account tests (tests/integration) when a run asks for them with
both PTC_STACK_NAME and `-m integration`; then those alone get the AWS settings the run was
started with back, and the network.

Here, in this run: the guard holds. Then in fresh pytest runs of a copy of tests/conftest.py
(the real file's text) with a probe test of each kind, started as a user with a profile would
start them: which probe ran, with which AWS settings, and whether the guard was in place.
"""

from __future__ import annotations

import json
import os
import socket
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

ROOT = Path(__file__).resolve().parents[1]
CONFTEST = ROOT / "tests" / "conftest.py"
NOT_LOOPBACK = ("192.0.2.1", 443)  # TEST-NET-1: never routed; the guard refuses it before any packet

PROBES = """
import json, os, socket
import pytest

KEYS = ("AWS_PROFILE", "AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY", "AWS_SESSION_TOKEN", "AWS_REGION")


def record(name):
    seen = {key: os.environ.get(key) for key in KEYS}
    guarded = getattr(socket.socket.connect, "__name__", "") == "_loopback_only"
    with open(os.environ["PROBE_OUT"], "a", encoding="utf-8") as out:
        out.write(json.dumps({"probe": name, "guarded": guarded, "env": seen}) + "\\n")


def test_plain():
    record("plain")


@pytest.mark.integration
def test_real_account(real_aws_environment):
    record("real-account")
"""

PYTEST_INI = """[pytest]
addopts = -p no:cacheprovider --strict-markers -rs
markers =
    integration: needs a real AWS account (skipped without one)
"""

# How a user with a profile starts a run; none of it is used: the probes only look.
USER_ENVIRONMENT = {"AWS_PROFILE": "probe-profile", "AWS_REGION": "eu-west-3"}
FAKE = {"AWS_ACCESS_KEY_ID": "testing", "AWS_SECRET_ACCESS_KEY": "testing", "AWS_SESSION_TOKEN": "testing"}


def test_this_run_refuses_every_address_but_loopback() -> None:
    with pytest.raises(OSError, match=r"tests may not reach 192\.0\.2\.1"):
        socket.create_connection(NOT_LOOPBACK, timeout=1)
    assert os.environ["AWS_ACCESS_KEY_ID"] == "testing"
    assert "AWS_PROFILE" not in os.environ


class Probes:
    """A pytest run of the probes in `directory`, started at once: each run is a fresh interpreter
    importing what the conftest imports (about a second), so this module's runs start side by side."""

    def __init__(self, directory: Path, *args: str, stack: str | None) -> None:
        (directory / "conftest.py").write_text(CONFTEST.read_text(encoding="utf-8"), encoding="utf-8")
        (directory / "pytest.ini").write_text(PYTEST_INI, encoding="utf-8")
        (directory / "test_probes.py").write_text(PROBES, encoding="utf-8")
        self.out = directory / "probes.jsonl"
        env = {k: v for k, v in os.environ.items() if not k.startswith("AWS_") and k != "PTC_STACK_NAME"}
        env |= USER_ENVIRONMENT | {
            "PROBE_OUT": str(self.out),
            "PYTHONPATH": f"{ROOT / 'src'}{os.pathsep}{ROOT}",
        }
        if stack is not None:
            env["PTC_STACK_NAME"] = stack
        self.process = subprocess.Popen(
            [sys.executable, "-m", "pytest", *args],
            cwd=directory,
            env=env,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        )

    def result(self) -> tuple[list[dict[str, Any]], str]:
        """The probes' records, and pytest's output."""
        stdout, stderr = self.process.communicate(timeout=300)
        assert self.process.returncode in (0, 5), stdout + stderr  # 5: every probe deselected
        records = (
            [json.loads(line) for line in self.out.read_text().splitlines()] if self.out.exists() else []
        )
        return records, stdout

    def stop(self) -> None:
        if self.process.poll() is None:
            self.process.kill()
        self.process.communicate()


RUNS = {  # each test's run: its pytest arguments, and PTC_STACK_NAME
    "-m integration": (("-m", "integration"), "ecr-ptc-provider"),
    "no -m": ((), "ecr-ptc-provider"),
    "no stack": (("-m", "integration"), None),
    "another expression": (("-m", "integration or not integration"), "ecr-ptc-provider"),
}


@pytest.fixture(scope="module")
def probes(tmp_path_factory: pytest.TempPathFactory) -> Iterator[dict[str, Probes]]:
    started: dict[str, Probes] = {}
    try:
        for name, (args, stack) in RUNS.items():
            started[name] = Probes(tmp_path_factory.mktemp("probes"), *args, stack=stack)
        yield started
    finally:
        for run in started.values():
            run.stop()


def test_a_real_account_run_gives_back_the_users_settings_to_its_tests_only(
    probes: dict[str, Probes],
) -> None:
    records, output = probes["-m integration"].result()
    assert records == [
        {
            "probe": "real-account",
            "guarded": False,
            "env": {
                "AWS_PROFILE": "probe-profile",
                "AWS_ACCESS_KEY_ID": None,
                "AWS_SECRET_ACCESS_KEY": None,
                "AWS_SESSION_TOKEN": None,
                "AWS_REGION": "eu-west-3",
            },
        }
    ], output
    assert "1 deselected" in output  # -m integration selected nothing else


def test_without_m_integration_every_test_keeps_the_guard_and_the_fakes(probes: dict[str, Probes]) -> None:
    records, output = probes["no -m"].result()
    assert records == [
        {"probe": "plain", "guarded": True, "env": {"AWS_PROFILE": None, **FAKE, "AWS_REGION": "us-east-1"}}
    ], output
    assert "select only these tests with -m integration" in output  # the real-account probe's skip


def test_without_a_stack_name_the_real_account_tests_are_skipped(probes: dict[str, Probes]) -> None:
    records, output = probes["no stack"].result()
    assert records == [], output
    assert "1 skipped" in output and "set PTC_STACK_NAME" in output


def test_another_marker_expression_is_not_a_real_account_run(probes: dict[str, Probes]) -> None:
    records, output = probes["another expression"].result()
    assert [r["probe"] for r in records] == ["plain"], output
    assert records[0]["guarded"] is True and records[0]["env"]["AWS_PROFILE"] is None
