"""The cfn-lint rule package (tools/cfn-lint-ptc), through the real cfn-lint.

The `tools` tests build the package's wheel and the contract's it depends on, and install both
into a directory of their own (no index, no network; removed at the end), then run
.venv-tools' cfn-lint with only that directory on PYTHONPATH, as a user who installed them
would: none of the Lambda's code is importable there. Every example
template is clean; each class of mistake in tests/lint/mistakes.yaml is found at the line its
comment announces, and nothing else is. The pure part (what a template value sends) runs here.
"""

from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
import tempfile
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from cfn_lint_ptc import check, schema, warnings
from cfn_lint_ptc.values import COMPUTED, known_start, sent

from ecr_ptc_contract import ATTRIBUTES, VERSION, attribute_problem, declared_secret_problem, json_schema
from tests import wheels

ROOT = Path(__file__).resolve().parents[1]
LINT = ROOT / "tests" / "lint"
EXAMPLES = sorted((ROOT / "examples").glob("*.yaml"))
RULE = "E9101"  # what the provider refuses
LEFT_TO_ECR = "W9101"  # what it leaves to ECR: an upstream this version does not know


# ---------------------------------------------------------------------------------------
# Pure: values as CloudFormation sends them, and the package's own API
# ---------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        ("quay.io", "quay.io"),
        (True, "true"),
        (False, "false"),
        (12, "12"),
        (None, None),
        (["a"], ["a"]),
        ({"Ref": "Prefix"}, COMPUTED),
        ({"Ref": "AWS::Region"}, COMPUTED),
        ({"Fn::GetAtt": ["Role", "Arn"]}, COMPUTED),
        ({"Fn::ImportValue": "x"}, COMPUTED),
        ({"Fn::FindInMap": ["M", "k", "v"]}, COMPUTED),
        ({"Fn::Sub": "plain"}, "plain"),
        ({"Fn::Sub": "a-${!Literal}"}, "a-${Literal}"),
        ({"Fn::Sub": "${AWS::AccountId}.dkr.ecr"}, COMPUTED),
        ({"Fn::Sub": ["${Host}.io", {"Host": "quay"}]}, "quay.io"),
        ({"Fn::Sub": ["${Host}.io", {"Host": {"Ref": "H"}}]}, COMPUTED),
        ({"Fn::Join": [".", ["quay", "io"]]}, "quay.io"),
        ({"Fn::Join": [".", ["quay", {"Ref": "Tld"}]]}, COMPUTED),
        ({"Fn::Join": [".", {"Fn::Split": [",", "a,b"]}]}, COMPUTED),
        ({"Key": "value"}, {"Key": "value"}),  # a literal object: CloudFormation sends it as one
    ],
)
def test_what_a_template_value_sends(value: Any, expected: Any) -> None:
    assert sent(value) == expected


def test_the_package_offers_the_contracts_checks_and_schema_without_cfn_lint() -> None:
    assert schema() == json_schema()
    (problem,) = check({"EcrRepositoryPrefix": "hub", "UpstreamRegistryUrl": "docker.io"}, {"CredentialArn"})
    assert problem.property == "UpstreamRegistryUrl"
    assert problem.message.endswith("write 'registry-1.docker.io'.")
    assert check({"EcrRepositoryPrefix": "hub"}, {"UpstreamRegistryUrl", "CredentialArn"}) == []
    unknown = {"EcrRepositoryPrefix": "hub", "UpstreamRegistryUrl": "registry.example.dev"}
    assert check(unknown) == []
    assert [w.property for w in warnings(unknown)] == ["UpstreamRegistryUrl"]


ALL_ATTRIBUTES = ", ".join(ATTRIBUTES)


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        ("dockerhub", ("dockerhub", True)),
        ({"Fn::Sub": "ecr-pullthroughcache/${Env}"}, ("ecr-pullthroughcache/", False)),
        ({"Fn::Sub": "docker-${Env}/hub"}, ("docker-", False)),
        ({"Fn::Sub": "a-${!Literal}-${Env}"}, ("a-${Literal}-", False)),
        ({"Fn::Sub": ["${Team}/${Env}", {"Team": "ecr-pullthroughcache"}]}, ("ecr-pullthroughcache/", False)),
        ({"Fn::Sub": "plain"}, ("plain", True)),
        ({"Fn::Join": ["/", ["ecr-pullthroughcache", {"Ref": "Env"}]]}, ("ecr-pullthroughcache/", False)),
        ({"Fn::Join": ["", [{"Ref": "Env"}, "x"]]}, ("", False)),
        ({"Ref": "Name"}, ("", False)),
        ({"Fn::ImportValue": "x"}, ("", False)),
        (12, ("12", True)),
    ],
)
def test_what_a_value_is_known_to_start_with(value: Any, expected: tuple[str, bool]) -> None:
    assert known_start(value) == expected


def test_an_attribute_the_resource_does_not_have_names_it_the_closest_one_and_the_list() -> None:
    problem = attribute_problem("Fn::GetAtt Cache.RepositoryUrl", "RepositoryUrl")
    assert problem is not None
    assert problem.message == (
        "Fn::GetAtt Cache.RepositoryUrl: Custom::PullThroughCacheRule has no attribute 'RepositoryUrl'; "
        f"did you mean 'RepositoryUriPrefix'? Its attributes: {ALL_ATTRIBUTES}."
    )
    far = attribute_problem("Fn::Sub ${Cache.Arn}", "Arn")
    assert far is not None
    assert far.message == (
        "Fn::Sub ${Cache.Arn}: Custom::PullThroughCacheRule has no attribute 'Arn'. "
        f"Its attributes: {ALL_ATTRIBUTES}."
    )
    by_case = attribute_problem("Fn::GetAtt Cache.registryId", "registryId")
    assert by_case is not None
    assert "did you mean 'RegistryId'?" in by_case.message
    assert [a for a in ATTRIBUTES if attribute_problem(f"Fn::GetAtt Cache.{a}", a)] == []


def test_a_declared_secret_outside_the_prefix_is_the_mistake_of_an_arn_outside_it() -> None:
    named = declared_secret_problem("HubSecret", "dockerhub")
    assert named is not None
    assert (named.property, named.message) == (
        "CredentialArn",
        "CredentialArn is the secret HubSecret, whose Name 'dockerhub' does not start with "
        "'ecr-pullthroughcache/', and ECR only reads secrets whose name does: "
        "write Name: ecr-pullthroughcache/dockerhub in HubSecret.",
    )
    unnamed = declared_secret_problem("HubSecret", None)
    assert unnamed is not None
    assert unnamed.message == (
        "CredentialArn is the secret HubSecret, which has no Name: CloudFormation names it "
        "'HubSecret-<random characters>', and ECR only reads secrets whose name starts with "
        "'ecr-pullthroughcache/': give HubSecret a Name under it (Name: ecr-pullthroughcache/<name>)."
    )
    started = declared_secret_problem("HubSecret", "dockerhub-", complete=False)
    assert started is not None
    assert started.message == (
        "CredentialArn is the secret HubSecret, whose Name starts with 'dockerhub-', not "
        "'ecr-pullthroughcache/', and ECR only reads secrets whose name does: start its Name with "
        "ecr-pullthroughcache/ (Name: !Sub 'ecr-pullthroughcache/...')."
    )
    assert declared_secret_problem("HubSecret", "ecr-pullthroughcache/hub") is None
    assert declared_secret_problem("HubSecret", "ecr-pullthroughcache/", complete=False) is None
    assert declared_secret_problem("HubSecret", "ecr-", complete=False) is None  # not decided yet
    assert declared_secret_problem("HubSecret", "", complete=False) is None


# ---------------------------------------------------------------------------------------
# Through cfn-lint, with the package installed from its wheel
# ---------------------------------------------------------------------------------------


def require_tool(name: str) -> Path:
    found = shutil.which(name)
    if found is None:
        pytest.fail(f"`{name}` is not on PATH. Run ./dev test: it installs the tools into .venv-tools.")
    return Path(found)


def tools_python() -> Path:
    """The interpreter that runs cfn-lint (its script's #! line): the package goes there."""
    first = require_tool("cfn-lint").read_text(encoding="utf-8", errors="replace").splitlines()[0]
    assert first.startswith("#!"), first
    words = first[2:].split()
    if Path(words[0]).name == "env":  # #!/usr/bin/env python3
        found = shutil.which(words[-1])
        assert found, first
        return Path(found)
    return Path(words[0])


def run(args: list[str | Path], cwd: Path, pythonpath: Path) -> subprocess.CompletedProcess[str]:
    """Run a tool with only `pythonpath` added: neither src/ nor the repository on the path."""
    env = {k: v for k, v in os.environ.items() if k != "PYTHONPATH"}
    env["PYTHONPATH"] = str(pythonpath)
    return subprocess.run(  # noqa: PLW1510 -- callers assert on returncode with the output
        [str(a) for a in args], cwd=cwd, env=env, capture_output=True, text=True, timeout=600
    )


def shown(result: subprocess.CompletedProcess[str]) -> str:
    return f"exit {result.returncode}\n--- stdout\n{result.stdout}\n--- stderr\n{result.stderr}"


@pytest.fixture(scope="module")
def work() -> Iterator[Path]:
    """Where the wheels are built and installed; removed with all it holds after the tests."""
    with tempfile.TemporaryDirectory(prefix="cfn-lint-ptc-") as directory:
        yield Path(directory)


@pytest.fixture(scope="module")
def built(work: Path) -> dict[str, Path]:
    """The package's wheel and the contract's, built with the setuptools they pin."""
    return {tool: wheels.build(tool, work) for tool in ("contract", "cfn-lint-ptc")}


@pytest.fixture(scope="module")
def wheel(built: dict[str, Path]) -> Path:
    return built["cfn-lint-ptc"]


@pytest.fixture(scope="module")
def installed(built: dict[str, Path], work: Path) -> Path:
    """A directory both wheels are installed into, to put on cfn-lint's PYTHONPATH."""
    target = work / "site"
    wheels.install(tools_python(), list(built.values()), target)
    return target


def lint(installed: Path, *paths: Path, cwd: Path = ROOT, append: bool = True) -> list[dict[str, Any]]:
    """cfn-lint's findings (its JSON output) for the templates, with the rule appended."""
    cfn_lint = require_tool("cfn-lint")
    rules = ["--append-rules=cfn_lint_ptc.rules"] if append else []
    result = run([cfn_lint, "--format", "json", *rules, "--", *paths], cwd, installed)
    assert result.returncode in (0, 2, 4, 6, 8, 10, 12, 14), shown(result)  # 1: cfn-lint failed itself
    findings = json.loads(result.stdout or "[]")
    assert isinstance(findings, list)
    return findings


def ours(findings: list[dict[str, Any]], rule: str = RULE) -> list[tuple[int, str]]:
    return sorted(
        (f["Location"]["Start"]["LineNumber"], f["Message"]) for f in findings if f["Rule"]["Id"] == rule
    )


@pytest.mark.tools
def test_the_wheel_holds_the_rule_and_depends_on_the_contract_of_its_version(wheel: Path) -> None:
    names = wheels.names(wheel)
    for name in ("__init__.py", "rules.py", "values.py", "py.typed"):
        assert f"cfn_lint_ptc/{name}" in names, sorted(names)
    assert not [n for n in names if n.startswith(("handler/", "ecr_ptc_contract/")) or n.endswith(".json")]
    assert f"ecr-pull-through-cache-contract=={VERSION}" in wheels.requirements(wheel)
    assert wheel.name.startswith(f"cfn_lint_ptc-{VERSION}-")


@pytest.mark.tools
def test_the_contracts_wheel_is_its_package_alone(built: dict[str, Path]) -> None:
    contract = built["contract"]
    names = wheels.names(contract)
    packaged = {n for n in names if not n.startswith("ecr_pull_through_cache_contract-")}
    assert packaged == {
        f"ecr_ptc_contract/{p.relative_to(wheels.CONTRACT_SOURCE)}"
        for p in wheels.CONTRACT_SOURCE.rglob("*")
        if p.is_file() and "__pycache__" not in p.parts
    }
    assert wheels.requirements(contract) == []
    assert contract.name.startswith(f"ecr_pull_through_cache_contract-{VERSION}-")


@pytest.mark.tools
def test_the_installed_rule_needs_none_of_the_lambdas_code(installed: Path) -> None:
    python = tools_python()
    probe = (
        "import importlib.util, cfn_lint_ptc.rules as r, ecr_ptc_contract as c\n"
        "assert importlib.util.find_spec('handler') is None, 'the Lambda code is importable'\n"
        "print(r.__file__)\n"
        "print(c.__file__)\n"
    )
    result = run([python, "-c", probe], ROOT, installed)
    assert result.returncode == 0, shown(result)
    rule, contract = result.stdout.splitlines()
    assert rule.startswith(str(installed)) and contract.startswith(str(installed)), result.stdout


@pytest.mark.tools
def test_every_example_template_is_clean(installed: Path) -> None:
    findings = lint(installed, *EXAMPLES, LINT / "computed.yaml")
    assert findings == [], json.dumps(findings, indent=1)


def announced(path: Path, rule: str) -> list[tuple[int, str]]:
    """(line, text) of every `# <rule>: text` comment of a template."""
    found = []
    for number, line in enumerate(path.read_text(encoding="utf-8").splitlines(), 1):
        if match := re.search(rf"# {rule}: (.+)$", line):
            found.append((number, match[1]))
    return found


@pytest.mark.tools
@pytest.mark.parametrize(
    ("name", "rule", "at_least"),
    [("mistakes.yaml", RULE, 25), ("mistakes.yaml", LEFT_TO_ECR, 3), ("references.yaml", RULE, 10)],
)
def test_each_class_of_mistake_is_found_at_its_line(
    installed: Path, name: str, rule: str, at_least: int
) -> None:
    template = LINT / name
    expected = announced(template, rule)
    found = ours(lint(installed, template), rule)
    unmatched = list(found)
    for line, text in expected:
        hits = [f for f in unmatched if f[0] == line and text in f[1]]
        assert len(hits) == 1, f"line {line}: expected one finding with {text!r}; found {found}"
        unmatched.remove(hits[0])
    assert unmatched == [], f"findings no comment announces: {unmatched}"
    assert len(expected) >= at_least


@pytest.mark.tools
def test_an_upstream_this_version_does_not_know_is_a_warning_that_need_not_fail_the_build(
    installed: Path, tmp_path: Path
) -> None:
    template = tmp_path / "template.yaml"
    template.write_text(
        "Resources:\n"
        "  Cache:\n"
        "    Type: Custom::PullThroughCacheRule\n"
        "    Properties:\n"
        "      ServiceToken: !ImportValue ecr-ptc-provider-ServiceToken\n"
        "      EcrRepositoryPrefix: artifactory\n"
        "      UpstreamRegistryUrl: registry.example.dev\n",
        encoding="utf-8",
    )
    cfn_lint = require_tool("cfn-lint")
    base = [cfn_lint, "--format", "json", "--append-rules=cfn_lint_ptc.rules"]

    warned = run([*base, "--", template], ROOT, installed)
    passed = run([*base, "--non-zero-exit-code", "error", "--", template], ROOT, installed)

    assert warned.returncode == 4, shown(warned)  # cfn-lint's bit for warnings, not 2 (errors)
    ((rule, level, message),) = [
        (f["Rule"]["Id"], f["Level"], f["Message"]) for f in json.loads(warned.stdout)
    ]
    assert (rule, level) == (LEFT_TO_ECR, "Warning")
    assert message.startswith("UpstreamRegistryUrl 'registry.example.dev' is not an upstream this provider")
    assert passed.returncode == 0, shown(passed)


@pytest.mark.tools
def test_json_templates_get_findings_at_their_lines(installed: Path) -> None:
    assert ours(lint(installed, LINT / "mistakes.json")) == [
        (
            7,
            "CredentialArn is required for docker-hub upstreams ('registry-1.docker.io'): store the "
            "registry's username and accessToken in a Secrets Manager secret named "
            "'ecr-pullthroughcache/<name>' and pass its ARN (e.g. !Ref MySecret).",
        ),
        (
            18,
            "EcrRepositoryPrefix 'Quay' is not a valid repository prefix: use lowercase letters and "
            "digits, with '.', '_', '-' or '/' only between them, e.g. 'quay' (or ROOT for the whole "
            "registry).",
        ),
        (20, "ValidateCredentials must be 'true' or 'false', not '1'."),
    ]


@pytest.mark.tools
def test_a_cfnlintrc_with_append_rules_loads_the_rule(installed: Path, tmp_path: Path) -> None:
    (tmp_path / ".cfnlintrc").write_text("append_rules:\n  - cfn_lint_ptc.rules\n", encoding="utf-8")
    shutil.copy(LINT / "mistakes.json", tmp_path / "template.json")
    found = ours(lint(installed, Path("template.json"), cwd=tmp_path, append=False))
    assert [line for line, _ in found] == [7, 18, 20]


@pytest.mark.tools
def test_a_wrong_attribute_is_one_message_at_its_line_and_column(installed: Path) -> None:
    """cfn-lint itself says nothing of Fn::GetAtt on a Custom:: type (it cannot know the
    attributes): E9101's finding is the one message. It is placed at the attribute of a
    [Logical, Attr] list and at the string of an [String, Variables] Fn::Sub; a short form has
    no place of its own in cfn-lint's map of the file: the key whose value it is."""
    template = LINT / "references.yaml"
    findings = lint(installed, template)
    assert {f["Rule"]["Id"] for f in findings} == {RULE}, json.dumps(findings, indent=1)
    lines = template.read_text(encoding="utf-8").splitlines()

    def at(written: str, token: str) -> tuple[int, int]:
        (number,) = [n for n, line in enumerate(lines, 1) if written in line]
        return number, lines[number - 1].index(token) + 1

    placed = {
        (f["Location"]["Start"]["LineNumber"], f["Location"]["Start"]["ColumnNumber"])
        for f in findings
        if "has no attribute" in f["Message"]
    }
    assert placed == {
        at("!GetAtt [Cache, RepositoryUrl]", "RepositoryUrl]"),
        at("Value: !GetAtt Cache.RepositoryUrl", "Value"),
        at('!Sub "${Cache.RepositoryUri}/', "Value"),
        at("!Select [0, [!GetAtt Cache.Arn]]", "Value"),
        at('!Sub ["${Cache.RepositoryUrl}:${Tag}"', '"${Cache'),
    }


@pytest.mark.tools
def test_an_attribute_in_a_json_template_in_either_form(installed: Path, tmp_path: Path) -> None:
    template = tmp_path / "template.json"
    resource = {"ServiceToken": "t", "EcrRepositoryPrefix": "quay", "UpstreamRegistryUrl": "quay.io"}
    outputs = {
        "List": {"Value": {"Fn::GetAtt": ["Cache", "RepositoryUrl"]}},
        "Dotted": {"Value": {"Fn::GetAtt": "Cache.RepositoryUri"}},
        "Sub": {"Value": {"Fn::Sub": "${Cache.Prefix}/x"}},
        "Right": {"Value": {"Fn::GetAtt": ["Cache", "RepositoryUriPrefix"]}},
    }
    body = {"Resources": {"Cache": {"Type": "Custom::PullThroughCacheRule", "Properties": resource}}}
    template.write_text(json.dumps({**body, "Outputs": outputs}, indent=1), encoding="utf-8")
    found = [message.split(": ")[0] for _, message in ours(lint(installed, template))]
    assert found == [
        "Fn::GetAtt Cache.RepositoryUrl",
        "Fn::GetAtt Cache.RepositoryUri",
        "Fn::Sub ${Cache.Prefix}",
    ]
