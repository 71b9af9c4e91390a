"""The cfn-lint rule: `cfn-lint -a cfn_lint_ptc.rules template.yaml`, or in .cfnlintrc:

    append_rules:
      - cfn_lint_ptc.rules

E9101 checks every Custom::PullThroughCacheRule against the provider's property contract and
reports what the provider would refuse, in the provider's own words, at the line of the
property concerned. W9101 warns of what the provider leaves to ECR: an upstream host or
UpstreamRegistry this version does not know (ECR adds upstreams between releases), which
deploys if ECR accepts it. Values computed by intrinsic functions are skipped, and so is every check
that depends on one. Each Fn::If scenario is checked on its own; a problem found only in some
says when. Other custom resource types (AWS::CloudFormation::CustomResource, another
Custom:: name) are not checked: a template does not say which provider serves them.
"""

from __future__ import annotations

from collections.abc import Callable, Collection, Mapping
from typing import Any, ClassVar

from cfnlint.rules import CloudFormationLintRule, RuleMatch
from cfnlint.template import Template

from cfn_lint_ptc import RESOURCE_TYPE, Problem, check, warnings
from cfn_lint_ptc.values import COMPUTED, sent

__all__ = ["PullThroughCacheRuleProperties", "UpstreamLeftToEcr"]

Examine = Callable[[Mapping[str, Any], Collection[str]], list[Problem]]


class PullThroughCacheRuleProperties(CloudFormationLintRule):  # type: ignore[misc]
    """Custom::PullThroughCacheRule properties the provider would refuse."""

    id = "E9101"
    shortdesc = "Custom::PullThroughCacheRule properties the provider would refuse"
    description = (
        "Checks the literal property values of every Custom::PullThroughCacheRule against the "
        "ECR pull-through cache provider's contract (names, lengths, patterns, upstream kinds and "
        "their hosts, credentials, the properties that go together), with the provider's own "
        "messages. Values computed by intrinsic functions are skipped."
    )
    source_url = "docs/reference.md#properties (the provider's repository)"
    tags: ClassVar[list[str]] = ["resources", "custom", "ecr"]

    def match(self, cfn: Template) -> list[RuleMatch]:
        return _matches(cfn, check)


class UpstreamLeftToEcr(CloudFormationLintRule):  # type: ignore[misc]
    """Custom::PullThroughCacheRule upstreams the provider leaves to ECR."""

    id = "W9101"
    shortdesc = "Custom::PullThroughCacheRule upstream this provider version does not know"
    description = (
        "Warns when a Custom::PullThroughCacheRule's UpstreamRegistryUrl or UpstreamRegistry is not "
        "one this version of the ECR pull-through cache provider knows. The provider sends it to "
        "ECR as written (ECR adds upstreams between releases): it deploys if ECR caches it."
    )
    source_url = "docs/reference.md#what-is-checked-here-and-what-ecr-decides (the provider's repository)"
    tags: ClassVar[list[str]] = ["resources", "custom", "ecr"]

    def match(self, cfn: Template) -> list[RuleMatch]:
        return _matches(cfn, warnings)


def _matches(cfn: Template, examine: Examine) -> list[RuleMatch]:
    matches: list[RuleMatch] = []
    for name, resource in cfn.get_resources([RESOURCE_TYPE]).items():
        matches += _findings(cfn, name, resource, examine)
    return matches


def _findings(cfn: Template, name: str, resource: dict[str, Any], examine: Examine) -> list[RuleMatch]:
    path: tuple[str, ...] = ("Resources", name, "Properties")
    properties = resource.get("Properties", {})
    if not isinstance(properties, dict):
        return []  # cfn-lint's own rules report Properties that are not an object
    if "Properties" not in resource:
        path = ("Resources", name)
    scenarios = cfn.get_object_without_conditions(properties)
    found: dict[tuple[tuple[str, ...], str], list[dict[str, bool] | None]] = {}
    for scenario in scenarios:
        values = {str(k): sent(v) for k, v in scenario["Object"].items()}
        computed = {k for k, v in values.items() if v is COMPUTED}
        for problem in examine({k: v for k, v in values.items() if v is not COMPUTED}, computed):
            where = path if problem.property not in properties else (*path, str(problem.property))
            found.setdefault((where, problem.message), []).append(scenario["Scenario"])
    matches = []
    for (where, message), when in found.items():
        said = message
        if len(when) < len(scenarios) and when[0]:
            said = f"{message} (when {_scenario(when[0])})"
        matches.append(RuleMatch(list(where), said))
    return matches


def _scenario(conditions: dict[str, bool]) -> str:
    return " and ".join(f"{name} is {'true' if value else 'false'}" for name, value in conditions.items())
