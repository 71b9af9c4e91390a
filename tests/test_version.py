"""One version, everywhere: the contract's (src/ecr_ptc_contract/version.py, which the handler
and the lint and CDK packages read), and every place that holds it as a literal (SAR metadata,
the pyproject.toml files and the tools' pins on the contract, the README, the SAR consumer
example); what `./dev version` changes; the ECR client's user agent and the decision log line."""

from __future__ import annotations

import datetime
import json
import re
import shutil
import tomllib
from pathlib import Path
from typing import Any

import pytest

from devkit.cloudformation.receiver import Receiver
from devkit.release import version as tool
from ecr_ptc_contract import VERSION
from handler import app
from tests.helpers import PUBLIC, create_event
from tests.test_logs import invoke_and_read_logs
from tests.test_template import load_cfn

ROOT = Path(__file__).resolve().parents[1]


def test_the_version_is_semantic() -> None:
    assert tool.SEMVER.fullmatch(VERSION), VERSION


def test_the_sar_metadata_states_the_version() -> None:
    metadata = load_cfn(ROOT / "template.yaml")["Metadata"]["AWS::ServerlessRepo::Application"]
    assert metadata["SemanticVersion"] == VERSION


def test_pyproject_states_the_version() -> None:
    project = tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))["project"]
    assert project["version"] == VERSION


TOOLS = ("contract", "cfn-lint-ptc", "cdk-ptc")


def project(path: Path) -> dict[str, Any]:
    loaded: dict[str, Any] = tomllib.loads(path.read_text(encoding="utf-8"))["project"]
    return loaded


@pytest.mark.parametrize("tool_name", TOOLS)
def test_each_tool_package_has_the_providers_version(tool_name: str) -> None:
    assert project(ROOT / "tools" / tool_name / "pyproject.toml")["version"] == VERSION


@pytest.mark.parametrize("tool_name", ["cfn-lint-ptc", "cdk-ptc"])
def test_the_lint_and_cdk_packages_pin_the_contract_of_their_own_version(tool_name: str) -> None:
    dependencies = project(ROOT / "tools" / tool_name / "pyproject.toml")["dependencies"]
    pins = [d for d in dependencies if d.startswith("ecr-pull-through-cache-contract")]
    assert pins == [f"ecr-pull-through-cache-contract=={VERSION}"], dependencies
    assert not [d for d in dependencies if d.startswith("cfn-lint-ptc")], "the CDK needs no lint rule"


def test_the_lint_package_reports_the_providers_version() -> None:
    import cfn_lint_ptc

    assert cfn_lint_ptc.__version__ == VERSION  # (the CDK package's: tests/cdk/test_construct.py)


def test_the_readme_states_the_version() -> None:
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    assert re.search(rf"^\*\*Version {re.escape(VERSION)}\*\*", readme, re.MULTILINE)


def test_the_sar_consumer_example_deploys_this_version() -> None:
    example = load_cfn(ROOT / "examples" / "sar-consumer.yaml")
    assert example["Parameters"]["ProviderVersion"]["Default"] == VERSION


def test_the_changelog_has_this_release_and_an_unreleased_section() -> None:
    changelog = (ROOT / "CHANGELOG.md").read_text(encoding="utf-8")
    assert "## [Unreleased]" in changelog
    assert re.search(rf"^## \[{re.escape(VERSION)}\] - \d{{4}}-\d{{2}}-\d{{2}}$", changelog, re.MULTILINE)


def test_the_tool_finds_every_place_agreeing() -> None:
    assert tool.found(ROOT) == {place.name: VERSION for place in tool.PLACES}
    written = {place.path for place in tool.PLACES}
    assert {f"tools/{name}/pyproject.toml" for name in TOOLS} <= written
    assert "src/ecr_ptc_contract/version.py" in written


@pytest.fixture
def copy_of_the_project(tmp_path: Path) -> Path:
    for relative in [place.path for place in tool.PLACES] + [tool.CHANGELOG]:
        (tmp_path / relative).parent.mkdir(parents=True, exist_ok=True)
        shutil.copy(ROOT / relative, tmp_path / relative)
    return tmp_path


def test_setting_a_version_rewrites_every_place_and_opens_its_release(copy_of_the_project: Path) -> None:
    root = copy_of_the_project
    changed = tool.set_version(root, "1.2.3", datetime.date(2030, 1, 2))
    assert sorted(changed) == sorted({place.path for place in tool.PLACES} | {tool.CHANGELOG})
    assert set(tool.found(root).values()) == {"1.2.3"}
    assert load_cfn(root / "template.yaml")["Metadata"]["AWS::ServerlessRepo::Application"][
        "SemanticVersion"
    ] == ("1.2.3")
    for name in TOOLS:
        assert project(root / "tools" / name / "pyproject.toml")["version"] == "1.2.3"
    lint = project(root / "tools" / "cfn-lint-ptc" / "pyproject.toml")["dependencies"]
    assert "ecr-pull-through-cache-contract==1.2.3" in lint
    assert 'VERSION = "1.2.3"' in (root / "src" / "ecr_ptc_contract" / "version.py").read_text()
    changelog = (root / tool.CHANGELOG).read_text(encoding="utf-8")
    assert changelog.index("## [Unreleased]") < changelog.index("## [1.2.3] - 2030-01-02")
    assert changelog.index("## [1.2.3] - 2030-01-02") < changelog.index(f"## [{VERSION}]")
    # again: nothing changes, the release is not opened twice
    assert tool.set_version(root, "1.2.3", datetime.date(2030, 1, 3)) == []
    assert (root / tool.CHANGELOG).read_text(encoding="utf-8").count("## [1.2.3]") == 1


@pytest.mark.parametrize("bad", ["1.2", "v1.2.3", "1.2.3+build.1", "01.2.3", ""])
def test_a_version_that_is_not_semantic_is_refused(copy_of_the_project: Path, bad: str) -> None:
    with pytest.raises(ValueError, match="not a semantic version"):
        tool.set_version(copy_of_the_project, bad, datetime.date(2030, 1, 2))
    assert set(tool.found(copy_of_the_project).values()) == {VERSION}


def test_the_ecr_client_sends_the_version_in_its_user_agent(receiver: Receiver, pauses: list[float]) -> None:
    sent: list[str] = []

    def capture(request: Any, **_: Any) -> None:
        agent = request.headers["User-Agent"]
        sent.append(agent.decode() if isinstance(agent, bytes) else agent)

    app.provider.ecr_client.meta.events.register("before-send.ecr", capture)
    try:
        invoke_and_read_logs(receiver, create_event(PUBLIC))
    finally:
        app.provider.ecr_client.meta.events.unregister("before-send.ecr", capture)
    assert sent, "the request made no ECR call"
    assert all(f"ecr-pull-through-cache-provider/{VERSION}" in agent for agent in sent), sent


def test_every_decision_line_names_the_provider_version(receiver: Receiver, pauses: list[float]) -> None:
    for properties in (PUBLIC, {**PUBLIC, "Bogus": "x"}):  # a SUCCESS and a FAILED decision
        _, out = invoke_and_read_logs(receiver, create_event(properties))
        decisions = [line for line in map(json.loads, out.splitlines()) if line.get("message") == "decision"]
        assert len(decisions) == 1
        assert decisions[0]["decision"]["provider_version"] == VERSION
