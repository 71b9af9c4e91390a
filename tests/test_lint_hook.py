"""The two ways to lint with the rule without writing it into cfn-lint's options:

- `cfn-lint-ptc`, the package's console script: cfn-lint with the rule appended;
- the pre-commit hook in .pre-commit-hooks.yaml. pre-commit installs a `language: python` hook
  in a clone of the repository with `python -m pip install . <additional_dependencies>` (its
  cwd the clone), then runs the hook's entry with the staged files that match `files`. That
  install is done here as pre-commit does it, on a copy of what the clone holds of it, offline:
  no index, no build isolation, no dependencies (cfn-lint and setuptools are the tools' own).
  pre-commit itself is not run (it would install cfn-lint from an index); CONTRIBUTING.md says
  how to run it by hand (`pre-commit try-repo`).
"""

from __future__ import annotations

import json
import re
import shutil
from pathlib import Path
from typing import Any

import pytest
import yaml

from tests import wheels
from tests.test_lint_rule import LINT, ROOT, lint, ours, run, shown, tools_python

pytestmark = pytest.mark.tools

HOOKS = ROOT / ".pre-commit-hooks.yaml"


@pytest.fixture(scope="module")
def installed(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The package's wheel and the contract's, installed into a directory (scripts in bin/)."""
    work = tmp_path_factory.mktemp("cfn-lint-ptc")
    built = [wheels.build(tool, work) for tool in ("contract", "cfn-lint-ptc")]
    wheels.install(tools_python(), built, work / "site")
    return work / "site"


def findings(result: Any) -> list[tuple[int, str]]:
    assert result.returncode in (0, 2, 4, 6), shown(result)  # 1: cfn-lint failed itself
    return ours(json.loads(result.stdout or "[]"))


def test_cfn_lint_ptc_is_cfn_lint_with_the_rule_appended(installed: Path) -> None:
    script = installed / "bin" / "cfn-lint-ptc"  # pip --target puts the wheel's scripts there
    template = LINT / "references.yaml"
    expected = ours(lint(installed, template))
    assert expected
    # templates after the options, as `cfn-lint -a cfn_lint_ptc.rules template.yaml` cannot
    # (-a takes every value that follows it); and after `--`, and before an option
    orders = (
        ["--format", "json", template],
        ["--format", "json", "--", template],
        [template, "--format", "json"],
    )
    for args in orders:
        result = run([script, *args], ROOT, installed)
        assert result.returncode == 2, shown(result)  # cfn-lint's bit for errors
        assert findings(result) == expected


def test_the_hook_is_one_entry_of_pre_commits_python_language() -> None:
    (hook,) = yaml.safe_load(HOOKS.read_text(encoding="utf-8"))
    assert (hook["id"], hook["language"], hook["entry"]) == ("cfn-lint-ptc", "python", "cfn-lint-ptc")
    assert hook["additional_dependencies"] == ["./tools/contract", "./tools/cfn-lint-ptc"]
    files = re.compile(hook["files"])
    assert [n for n in ("t.yaml", "t.yml", "t.json", "t.template", "t.py", "t.md") if files.search(n)] == [
        "t.yaml",
        "t.yml",
        "t.json",
        "t.template",
    ]


def test_the_hook_installs_as_pre_commit_installs_it_and_finds_the_mistakes(tmp_path: Path) -> None:
    (hook,) = yaml.safe_load(HOOKS.read_text(encoding="utf-8"))
    clone = tmp_path / "clone"
    ignored = shutil.ignore_patterns("__pycache__", "build", "*.egg-info")
    for part in ("src", "tools/contract", "tools/cfn-lint-ptc"):
        shutil.copytree(ROOT / part, clone / part, ignore=ignored)
    shutil.copy(ROOT / "pyproject.toml", clone)
    env = tmp_path / "env"
    # the builder has the setuptools the root's pyproject.toml pins (pre-commit's pip fetches it)
    pip = [wheels.BUILDER, "-m", "pip", "install", "--no-index", "--no-build-isolation", "--no-deps"]
    installing = run([*pip, "--target", env, ".", *hook["additional_dependencies"]], clone, tmp_path)
    assert installing.returncode == 0, shown(installing)
    # the root installs no package of its own: only the rule's, the contract's and the script
    assert sorted(p.name for p in env.iterdir() if not p.name.endswith(".dist-info")) == [
        "bin",
        "cfn_lint_ptc",
        "ecr_ptc_contract",
    ]
    staged = tmp_path / "repo"
    shutil.copytree(LINT, staged)  # a user's repository, the hook run on its files
    names = sorted(p.name for p in staged.iterdir() if re.search(hook["files"], p.name))
    assert "references.yaml" in names
    entry = [env / "bin" / hook["entry"], *hook.get("args", [])]
    result = run([*entry, "--format", "json", *names], staged, env)
    expected = ours(lint(env, *(staged / n for n in names), cwd=staged))
    assert any("Fn::GetAtt Cache.RepositoryUrl" in message for _, message in expected)
    assert findings(result) == expected
