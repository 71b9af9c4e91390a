"""Every `aws` command of the docs' bash blocks is one the AWS CLI has, with options it takes.

The CLI's API commands are botocore's operations (the CLI is generated from the same models),
so each command is checked against botocore's service model, which .venv has: the operation
exists, each `--option` is a member of its input (or one of the CLI's global options), and
`aws <service> wait <name>` names one of the service's waiters. The few commands the CLI adds
by hand (`cloudformation deploy`, `ecr get-login-password`) are listed with their options.
"""

from __future__ import annotations

import re
import shlex
from pathlib import Path

import botocore.session
import pytest
from botocore import xform_name

ROOT = Path(__file__).resolve().parents[1]
PAGES = ("docs/troubleshooting.md", "docs/reference.md")
GLOBAL = {"--query", "--output", "--region", "--profile", "--no-cli-pager"}
CUSTOMIZATIONS = {  # the CLI's own commands, with the options the docs may use
    ("cloudformation", "deploy"): {
        "--stack-name",
        "--template-file",
        "--parameter-overrides",
        "--capabilities",
    },
    ("ecr", "get-login-password"): set(),
}
SESSION = botocore.session.get_session()


def kebab(name: str) -> str:
    return xform_name(name).replace("_", "-")


def commands(page: str) -> list[list[str]]:
    """Each `aws ...` command line of the page's bash blocks, split as the shell would."""
    found = []
    for block in re.findall(r"^```bash\n(.*?)^```$", (ROOT / page).read_text(encoding="utf-8"), re.M | re.S):
        for line in block.replace("\\\n", " ").splitlines():
            for command in re.split(r"\s[|&;]+\s", line):
                words = shlex.split(command, comments=True)
                if words[:1] == ["aws"]:
                    found.append(words)
    return found


def problems(words: list[str]) -> list[str]:
    service, command, options = words[1], words[2], {w.split("=")[0] for w in words if w.startswith("--")}
    if (service, command) in CUSTOMIZATIONS:
        return sorted(options - CUSTOMIZATIONS[service, command] - GLOBAL)
    model = SESSION.get_service_model(service)
    if command == "wait":
        waiters = SESSION.get_waiter_model(service).waiter_names
        return [] if words[3] in {kebab(w) for w in waiters} else [f"no waiter {words[3]}"]
    operations = {kebab(op): op for op in model.operation_names}
    if command not in operations:
        return [f"no command {command}"]
    shape = model.operation_model(operations[command]).input_shape
    members = {f"--{kebab(m)}" for m in (shape.members if shape else {})}
    return sorted(options - members - GLOBAL)


@pytest.mark.parametrize("page", PAGES)
def test_every_aws_command_of_the_page_exists_with_its_options(page: str) -> None:
    found = commands(page)
    assert found, f"{page}: no aws command found in its bash blocks"
    wrong = {" ".join(words): problems(words) for words in found if problems(words)}
    assert wrong == {}, f"{page}: commands the AWS CLI does not have, or options they do not take"


def test_a_wrong_command_option_or_waiter_is_found() -> None:
    assert problems(["aws", "cloudformation", "delete-stack", "--stack-name", "s", "--retain-resource", "R"])
    assert problems(["aws", "ecr", "delete-pull-through-cache-rules", "--ecr-repository-prefix", "quay"])
    assert problems(["aws", "cloudformation", "wait", "stack-deleted", "--stack-name", "s"])
    assert not problems(["aws", "cloudformation", "wait", "stack-delete-complete", "--stack-name", "s"])
