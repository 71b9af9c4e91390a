"""Every YAML snippet of README.md, docs/*.md and tools/cfn-lint-ptc/README.md that is a
CloudFormation template, or part of one, passes the real cfn-lint (.venv-tools) with the
project's own rule E9101 loaded (`--append-rules=cfn_lint_ptc.rules`, the package's and the
contract's sources on PYTHONPATH): what the docs show deploys, as far as a linter can tell.

Each YAML snippet is one of these, decided by its top-level keys; a snippet that is none of
them fails the test, so a new kind of snippet has to be placed here on purpose:

- a **template** (it has `Resources`): linted exactly as written, nothing added. A template that
  uses a parameter it does not declare fails, as it would on deploy.
- a **fragment of resources** (logical ids, each with a `Type`): what a template's `Resources`
  holds. It is wrapped in a template, indented under `Resources:`; its `!Ref`s and `${...}` to
  names it does not declare (neither its resources nor pseudo parameters) are declared as
  `String` parameters, being what the rest of the reader's template holds; a fragment with
  `AWS::Serverless::` types gets SAM's `Transform`, which such a template must have.
- a **resource** (`Type`, `Properties` at the top): the same, under one logical id.
- a **cfn-lint configuration** (`append_rules` only): not a template; it must be exactly the
  `.cfnlintrc` that tests/test_lint_rule.py proves loads the rule.
- a **pre-commit configuration** (`repos` only): not a template; each hook it names is one of
  the repository's .pre-commit-hooks.yaml (tests/test_lint_hook.py installs and runs it).
- the **syntax block** of docs/reference.md (`Syntax > YAML`, `String` in place of each value,
  as CloudFormation's own reference writes it): not a template, so not linted; checked here
  instead to name exactly the contract's properties, as the JSON one beside it.

A copy of the reference's complete example with a mistake only E9101 knows is linted in the
same run and must be found: proof that the rule was loaded.
"""

from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
import textwrap
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

from devkit.cloudformation import templates
from ecr_ptc_contract import CLOUDFORMATION_OWNED, PROPERTIES
from tests import wheels
from tests.snippets import ROOT, Snippet, code_blocks, yaml_snippets

REFERENCE = ROOT / "docs" / "reference.md"
CFNLINTRC = {"append_rules": ["cfn_lint_ptc.rules"]}
HOOKS = ROOT / ".pre-commit-hooks.yaml"
SYNTAX_BLOCK = (REFERENCE, "Syntax > YAML", "Type: Custom::PullThroughCacheRule\nProperties:")
PSEUDO_PARAMETERS = {
    "AWS::AccountId",
    "AWS::NotificationARNs",
    "AWS::NoValue",
    "AWS::Partition",
    "AWS::Region",
    "AWS::StackId",
    "AWS::StackName",
    "AWS::URLSuffix",
}
SAM_TRANSFORM = "AWS::Serverless-2016-10-31"
CANARY = "canary.yaml"


@dataclass
class Lintable:
    snippet: Snippet
    kind: str
    text: str  # what cfn-lint reads
    offset: int  # lines added before the snippet's first line


def data(snippet: Snippet) -> Any:
    return templates.parse(snippet.text)


def is_syntax_block(snippet: Snippet) -> bool:
    path, heading, start = SYNTAX_BLOCK
    return snippet.path == path and snippet.heading == heading and snippet.text.startswith(start)


def referenced(value: Any) -> set[str]:
    """Names a value refers to: Ref targets, ${X} and ${X.Attr} of Fn::Sub (not ${!X})."""
    found: set[str] = set()
    if isinstance(value, dict):
        for key, inner in value.items():
            if key == "Ref" and isinstance(inner, str):
                found.add(inner)
            elif key == "Fn::Sub":
                text = inner[0] if isinstance(inner, list) else inner
                local = set(inner[1]) if isinstance(inner, list) and len(inner) > 1 else set()
                names = {m.split(".")[0] for m in re.findall(r"\$\{(?!!)([^}]+)\}", str(text))}
                found |= (names - local) | referenced(inner)
            else:
                found |= referenced(inner)
    elif isinstance(value, list):
        for inner in value:
            found |= referenced(inner)
    return found


def wrap(snippet: Snippet, resources: dict[str, Any], body: str) -> Lintable:
    """A fragment of resources (as `body`, already indented under Resources) as a template."""
    free = sorted(referenced(resources) - set(resources) - PSEUDO_PARAMETERS)
    head = ['AWSTemplateFormatVersion: "2010-09-09"']
    if any(str(r.get("Type", "")).startswith("AWS::Serverless::") for r in resources.values()):
        head.append(f"Transform: {SAM_TRANSFORM}")
    if free:
        head.append("Parameters:")
        head += [f"  {name}:\n    Type: String" for name in free]
    head.append("Resources:")
    header = "\n".join(head) + "\n"
    return Lintable(snippet, "fragment", header + body, header.count("\n"))


def classify(snippet: Snippet) -> Lintable | None:
    """What cfn-lint reads for the snippet; None for the snippets that are not templates."""
    value = data(snippet)
    assert isinstance(value, dict), f"{snippet.where}: a YAML snippet that is not a mapping"
    if value == CFNLINTRC:
        return None
    assert "append_rules" not in value, f"{snippet.where}: a .cfnlintrc other than {CFNLINTRC}"
    if is_syntax_block(snippet):
        return None
    if set(value) == {"repos"}:
        hooks = {h["id"] for h in templates.parse(HOOKS.read_text(encoding="utf-8"))}
        named = {h["id"] for repo in value["repos"] for h in repo["hooks"]}
        assert named and named <= hooks, f"{snippet.where}: hooks {named - hooks} are not in {HOOKS.name}"
        return None
    if "Resources" in value:
        return Lintable(snippet, "template", snippet.text, 0)
    if "Type" in value and set(value) <= {"Type", "Properties", "Condition", "DependsOn", "Metadata"}:
        body = "  Snippet:\n" + textwrap.indent(snippet.text, "    ")
        return wrap(snippet, {"Snippet": value}, body)
    if value and all(isinstance(r, dict) and "Type" in r for r in value.values()):
        return wrap(snippet, value, textwrap.indent(snippet.text, "  "))
    raise AssertionError(
        f"{snippet.where}: a YAML snippet that is neither a template, resources, a resource nor a "
        "cfn-lint configuration: give it a class in tests/test_docs_snippets.py"
    )


def lintables() -> list[Lintable]:
    return [found for s in yaml_snippets() if (found := classify(s)) is not None]


def canary() -> str:
    """The reference's complete example with an upstream host only E9101 refuses."""
    (example,) = [item for item in lintables() if item.snippet.path == REFERENCE and item.kind == "template"]
    assert "UpstreamRegistryUrl: registry-1.docker.io" in example.text
    return example.text.replace("UpstreamRegistryUrl: registry-1.docker.io", "UpstreamRegistryUrl: docker.io")


def test_every_yaml_snippet_has_its_class() -> None:
    kinds = {s.where: (c.kind if (c := classify(s)) else "not a template") for s in yaml_snippets()}
    # the snippets this test was written against: each still there, in its class
    assert sum(k == "not a template" for k in kinds.values()) >= 4, kinds  # three .cfnlintrc + syntax
    assert sum(k == "template" for k in kinds.values()) >= 2, kinds  # README's, the reference's
    assert sum(k == "fragment" for k in kinds.values()) >= 2, kinds  # README's hero, the SAR one


def test_the_syntax_blocks_name_exactly_the_contracts_properties() -> None:
    (block,) = [s for s in yaml_snippets() if is_syntax_block(s)]
    syntax = data(block)
    assert syntax["Type"] == "Custom::PullThroughCacheRule"
    names = {p.name for p in PROPERTIES} | set(CLOUDFORMATION_OWNED)
    assert set(syntax["Properties"]) == names
    placeholders = {k: v for k, v in syntax["Properties"].items() if k != "ServiceToken"}
    assert set(placeholders.values()) == {"String"}
    (json_block,) = [
        s for s in code_blocks(REFERENCE) if s.language == "json" and s.heading == "Syntax > JSON"
    ]
    assert set(re.findall(r'"(\w+)" :', json_block.text)) - {"Type", "Properties", "Fn::ImportValue"} == names


def require_tool(name: str) -> str:
    found = shutil.which(name)
    if found is None:
        pytest.fail(f"`{name}` is not on PATH. Run ./dev test: it installs the tools into .venv-tools.")
    return found


@pytest.mark.tools
def test_every_template_snippet_passes_cfn_lint_with_rule_e9101(tmp_path: Path) -> None:
    items = lintables()
    names: dict[str, Lintable] = {}
    for number, item in enumerate(items):
        name = f"{number:02d}-{item.snippet.path.stem}-L{item.snippet.line}.yaml"
        (tmp_path / name).write_text(item.text, encoding="utf-8")
        names[name] = item
    (tmp_path / CANARY).write_text(canary(), encoding="utf-8")
    env = {k: v for k, v in os.environ.items() if k != "PYTHONPATH"}
    env["PYTHONPATH"] = wheels.source_path("cfn-lint-ptc")
    result = subprocess.run(  # noqa: PLW1510 -- asserted below with the output
        [
            require_tool("cfn-lint"),
            "--format",
            "json",
            "--append-rules=cfn_lint_ptc.rules",
            "--",
            *names,
            CANARY,
        ],
        cwd=tmp_path,
        env=env,
        capture_output=True,
        text=True,
        timeout=600,
    )
    assert result.returncode != 1, result.stderr  # 1: cfn-lint itself failed (e.g. the rule did not load)
    findings = json.loads(result.stdout or "[]")
    caught = [
        f["Message"] for f in findings if Path(f["Filename"]).name == CANARY and f["Rule"]["Id"] == "E9101"
    ]
    assert len(caught) == 1 and "write 'registry-1.docker.io'" in caught[0], findings
    problems = []
    for finding in findings:
        item = names.get(Path(finding["Filename"]).name)
        if item is None:
            continue
        line = item.snippet.line + finding["Location"]["Start"]["LineNumber"] - 1 - item.offset
        problems.append(
            f"{item.snippet.path.relative_to(ROOT)}:{line} ({item.snippet.heading}, {item.kind}): "
            f"{finding['Rule']['Id']} {finding['Message']}"
        )
    assert not problems, "\n".join(problems)
