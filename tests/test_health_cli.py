"""./dev health's command (devkit/health/cli.py) where it needs no AWS: a missing Region or
profile exits 2 naming the option, and the table's layout (devkit/health/table.py)."""

from __future__ import annotations

from pathlib import Path

import pytest

from devkit.health import cli
from devkit.health.table import table
from health.report import Report, RuleReport, State


@pytest.fixture
def no_aws_configuration(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    for name in ("AWS_REGION", "AWS_DEFAULT_REGION", "AWS_PROFILE", "AWS_DEFAULT_PROFILE"):
        monkeypatch.delenv(name, raising=False)
    empty = tmp_path / "empty"
    empty.write_text("")
    monkeypatch.setenv("AWS_CONFIG_FILE", str(empty))
    monkeypatch.setenv("AWS_SHARED_CREDENTIALS_FILE", str(empty))


@pytest.mark.usefixtures("no_aws_configuration")
def test_no_region_exits_2_naming_the_option(capsys: pytest.CaptureFixture[str]) -> None:
    assert cli.main([]) == 2
    out = capsys.readouterr()
    assert out.out == ""
    assert out.err == "error: no Region: give --region REGION, or set AWS_REGION (or a profile's region)\n"


@pytest.mark.usefixtures("no_aws_configuration")
def test_an_unknown_profile_exits_2_naming_it(capsys: pytest.CaptureFixture[str]) -> None:
    assert cli.main(["--profile", "nowhere", "--region", "us-east-1"]) == 2
    err = capsys.readouterr().err
    assert err.startswith("error: --profile 'nowhere': ") and "nowhere" in err.split(": ", 2)[2]


def test_the_table_pads_each_column_and_ends_with_the_summary() -> None:
    report = Report(
        (
            RuleReport("quay-cache", "Cache", "quay", State.HEALTHY),
            RuleReport(None, None, "by-hand", State.UNMANAGED, detail="no stack holds this rule"),
        )
    )
    assert table(report).splitlines() == [
        "STACK       RESOURCE  PREFIX   STATE      DETAIL",
        "quay-cache  Cache     quay     HEALTHY    -",
        "-           -         by-hand  UNMANAGED  no stack holds this rule",
        "2 rules: 1 HEALTHY, 1 UNMANAGED",
    ]
