"""The rules as a CDK app in Python: one PullThroughCacheRule (tools/cdk-ptc) each, with
adopt_existing=True, this account's secrets and roles as CfnParameters defaulting to the values
ECR holds. `python imported_rules.py` (or `cdk synth --app "python imported_rules.py"`)
synthesizes the same rules as the template ./dev import writes."""

from __future__ import annotations

import keyword
import re
from collections.abc import Sequence

from devkit.importer.rules import Declared
from ecr_ptc_contract import python_name
from ecr_ptc_contract.properties import RULE_FIELDS

# The construct's keyword argument for each property ECR holds.
KEYWORDS = {name: python_name(name) for name in RULE_FIELDS}


def variable(logical_id: str) -> str:
    """DockerHubCache -> docker_hub_cache (a Python name, never a keyword)."""
    name = re.sub(r"(?<=[a-z0-9])(?=[A-Z])", "_", logical_id).lower()
    if not name.isidentifier() or keyword.iskeyword(name):
        name = f"rule_{name}"
    return name


def cdk_app(
    declared: Sequence[Declared], account: str, region: str, stack_name: str, retain: bool = False
) -> str:
    """The app's source."""
    lines = [
        f'"""The pull-through cache rules of account {account} in {region}, adopted as they are.',
        "",
        "Written by ./dev import --cdk. Deploying it changes no rule: each PullThroughCacheRule",
        "finds its rule in ECR and takes it over (adopt_existing). Needs the provider deployed in",
        "the account and Region, and: pip install aws-cdk-lib ./tools/contract ./tools/cdk-ptc",
        '"""',
        "",
        "from typing import Any",
        "",
        "import aws_cdk as cdk",
        "from constructs import Construct",
        "",
        "from cdk_ecr_pull_through_cache import PullThroughCacheRule",
        "",
        "",
        "class ImportedPullThroughCacheRules(cdk.Stack):",
        "    def __init__(self, scope: Construct, construct_id: str, **kwargs: Any) -> None:",
        "        super().__init__(scope, construct_id, **kwargs)",
    ]
    for rule in declared:
        lines.append("")
        arguments = [f"self, {rule.logical_id!r}"]
        for name, value in rule.properties.items():
            parameter = rule.parameters.get(name)
            if parameter is None:
                arguments.append(f"{KEYWORDS[name]}={value!r}")
                continue
            holder = variable(parameter.name)
            lines += [
                f"        {holder} = cdk.CfnParameter(",
                f"            self, {parameter.name!r}, default={parameter.default!r},",
                f"            description={parameter.description!r},",
                "        )",
            ]
            arguments.append(f"{KEYWORDS[name]}={holder}.value_as_string")
        arguments.append("adopt_existing=True")
        if retain:
            arguments.append("removal_policy=cdk.RemovalPolicy.RETAIN")
        lines.append(f"        self.{variable(rule.logical_id)} = PullThroughCacheRule(")
        lines += [f"            {argument}," for argument in arguments]
        lines.append("        )")
    lines += [
        "",
        "",
        'if __name__ == "__main__":',
        "    app = cdk.App()",
        "    ImportedPullThroughCacheRules(",
        f"        app, {stack_name!r}, env=cdk.Environment(account={account!r}, region={region!r})",
        "    )",
        "    app.synth()",
        "",
    ]
    return "\n".join(lines)
