"""Stacks made with the construct, and what CloudFormation will compute from their templates.

`evaluate` computes the intrinsic functions the construct writes (Ref, Fn::GetAtt, Fn::Join,
Fn::Split, Fn::ImportValue) from given values, so a test can check what a URI or an ARN will be
at deploy time, for any prefix, rather than the shape of the expression.
"""

from __future__ import annotations

import contextlib
import tempfile
from collections.abc import Iterator, Mapping
from pathlib import Path
from typing import Any

import aws_cdk as cdk
from aws_cdk import assertions

ACCOUNT = "123456789012"
REGION = "us-east-1"

# An App without an outdir writes its cloud assembly to a new cdk.out* in the system's temp
# directory, and leaves it there: each App of new_stack writes its own under this directory.
_assemblies: list[Path] = []


@contextlib.contextmanager
def assemblies_under(directory: Path) -> Iterator[None]:
    """Meanwhile, new_stack's Apps write their cloud assemblies under `directory` (a pytest
    temporary directory: tests/cdk/conftest.py, tests/ministack/test_cdk.py)."""
    _assemblies.append(directory)
    try:
        yield
    finally:
        _assemblies.remove(directory)


def new_stack(
    name: str = "Consumer", bootstrap_rule: bool = True, region: str = REGION, **kwargs: Any
) -> cdk.Stack:
    """A stack of a fresh App, in ACCOUNT and `region`. bootstrap_rule=False: no CDK bootstrap
    version check (its SSM parameter), no CDKMetadata: a template any CloudFormation takes."""
    if not _assemblies:
        raise RuntimeError("new_stack needs a directory for its cloud assembly: use assemblies_under")
    outdir = tempfile.mkdtemp(prefix="cdk.out", dir=_assemblies[-1])
    app = cdk.App(analytics_reporting=bootstrap_rule, outdir=outdir)
    synthesizer = cdk.DefaultStackSynthesizer(generate_bootstrap_version_rule=bootstrap_rule)
    return cdk.Stack(
        app, name, env=cdk.Environment(account=ACCOUNT, region=region), synthesizer=synthesizer, **kwargs
    )


def template(stack: cdk.Stack) -> assertions.Template:
    return assertions.Template.from_stack(stack)


def rules(stack: cdk.Stack) -> dict[str, dict[str, Any]]:
    """The stack's Custom::PullThroughCacheRule resources, by logical id."""
    found: dict[str, dict[str, Any]] = template(stack).find_resources("Custom::PullThroughCacheRule")
    return found


def only_rule(stack: cdk.Stack) -> dict[str, Any]:
    (resource,) = rules(stack).values()
    return resource


def logical_id(construct: Any) -> str:
    """The logical id of an L2 construct's resource (its default child)."""
    return str(cdk.Stack.of(construct).get_logical_id(construct.node.default_child))


def evaluate(value: Any, refs: Mapping[str, str], attributes: Mapping[tuple[str, str], str] = {}) -> Any:
    """`value` (a resolved template value) with its intrinsic functions computed."""
    if isinstance(value, list):
        return [evaluate(v, refs, attributes) for v in value]
    if not isinstance(value, dict):
        return value
    if len(value) != 1:
        return {k: evaluate(v, refs, attributes) for k, v in value.items()}
    ((key, argument),) = value.items()
    if key == "Ref":
        return refs[argument]
    if key == "Fn::GetAtt":
        return attributes[(argument[0], argument[1])]
    if key == "Fn::Join":
        delimiter, items = argument
        return delimiter.join(evaluate(items, refs, attributes))
    if key == "Fn::Split":
        delimiter, text = argument
        return evaluate(text, refs, attributes).split(delimiter)
    raise AssertionError(f"the tests do not compute {key}")


PSEUDO = {
    "AWS::Partition": "aws",
    "AWS::Region": REGION,
    "AWS::AccountId": ACCOUNT,
    "AWS::URLSuffix": "amazonaws.com",
}
