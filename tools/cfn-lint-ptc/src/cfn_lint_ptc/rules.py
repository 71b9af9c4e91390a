"""The cfn-lint rule: `cfn-lint-ptc template.yaml` (cli.py), `cfn-lint template.yaml -a
cfn_lint_ptc.rules` (-a takes every value after it: the templates go before), or in .cfnlintrc:

    append_rules:
      - cfn_lint_ptc.rules

E9101 checks every Custom::PullThroughCacheRule against the provider's property contract and
reports what the provider would refuse, in the provider's own words, at the line of the
property concerned. It also checks what the template says of the resource from elsewhere:
every attribute read from it (Fn::GetAtt in either form, ${Resource.Attribute} in an Fn::Sub,
anywhere in the template) is one it has, and a CredentialArn that is a secret declared in the
template (Ref, or Fn::GetAtt Id: both its ARN) has a Name under ecr-pullthroughcache/, as far as
the template tells. W9101 warns of what the provider leaves to ECR: an upstream host or
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
from cfn_lint_ptc.values import COMPUTED, known_start, sent, sub_references
from ecr_ptc_contract import attribute_problem, declared_secret_problem

__all__ = ["PullThroughCacheRuleProperties", "UpstreamLeftToEcr"]

Examine = Callable[[Mapping[str, Any], Collection[str]], list[Problem]]

SECRET_TYPE = "AWS::SecretsManager::Secret"
# The key under which a scenario carries the Name of a secret its CredentialArn may be: no
# property has a space in its name, so it is never one of the resource's.
_NAME_OF = "Name of "


class PullThroughCacheRuleProperties(CloudFormationLintRule):  # type: ignore[misc]
    """Custom::PullThroughCacheRule properties the provider would refuse."""

    id = "E9101"
    shortdesc = "Custom::PullThroughCacheRule properties the provider would refuse"
    description = (
        "Checks the literal property values of every Custom::PullThroughCacheRule against the "
        "ECR pull-through cache provider's contract (names, lengths, patterns, upstream kinds and "
        "their hosts, credentials, the properties that go together), with the provider's own "
        "messages; the attributes read from it (Fn::GetAtt, Fn::Sub); and the Name of a secret of "
        "the template its CredentialArn refers to. Values computed by intrinsic functions are skipped."
    )
    source_url = "docs/reference.md#properties (the provider's repository)"
    tags: ClassVar[list[str]] = ["resources", "custom", "ecr"]

    def match(self, cfn: Template) -> list[RuleMatch]:
        return _matches(cfn, check, follow_secrets=True) + _attribute_matches(cfn)


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


def _matches(cfn: Template, examine: Examine, follow_secrets: bool = False) -> list[RuleMatch]:
    secrets = _secrets(cfn) if follow_secrets else {}
    matches: list[RuleMatch] = []
    for name, resource in cfn.get_resources([RESOURCE_TYPE]).items():
        matches += _findings(cfn, name, resource, examine, secrets)
    return matches


def _findings(
    cfn: Template, name: str, resource: dict[str, Any], examine: Examine, secrets: dict[str, dict[str, Any]]
) -> list[RuleMatch]:
    path: tuple[str, ...] = ("Resources", name, "Properties")
    properties = resource.get("Properties", {})
    if not isinstance(properties, dict):
        return []  # cfn-lint's own rules report Properties that are not an object
    if "Properties" not in resource:
        path = ("Resources", name)
    # The Names of the secrets CredentialArn may be go into the scenarios with the properties,
    # so that an Fn::If in a Name is a scenario of its own too.
    names = {f"{_NAME_OF}{s}": secrets[s]["Name"] for s in _secrets_named(properties, secrets)}
    scenarios = cfn.get_object_without_conditions({**properties, **names})
    found: dict[tuple[tuple[str, ...], str], list[dict[str, bool] | None]] = {}
    for scenario in scenarios:
        given = {str(k): v for k, v in scenario["Object"].items()}
        values = {k: sent(v) for k, v in given.items() if not k.startswith(_NAME_OF)}
        computed = {k for k, v in values.items() if v is COMPUTED}
        problems = examine({k: v for k, v in values.items() if v is not COMPUTED}, computed)
        if secrets:
            problems += _declared_secret(given, secrets)
        for problem in problems:
            where = path if problem.property not in properties else (*path, str(problem.property))
            found.setdefault((where, problem.message), []).append(scenario["Scenario"])
    matches = []
    for (where, message), when in found.items():
        said = message
        if len(when) < len(scenarios) and when[0]:
            said = f"{message} (when {_scenario(when[0])})"
        matches.append(RuleMatch(list(where), said))
    return matches


def _secrets(cfn: Template) -> dict[str, dict[str, Any]]:
    """The template's secrets, by logical id: their Properties (empty when they have none)."""
    found = {}
    for name, resource in cfn.get_resources([SECRET_TYPE]).items():
        properties = resource.get("Properties", {})
        if isinstance(properties, dict):
            found[str(name)] = properties
    return found


def _secret_of(value: Any, secrets: Collection[str]) -> str | None:
    """The declared secret `value` gives the ARN of (Ref, or Fn::GetAtt Id), or None."""
    if not isinstance(value, dict) or len(value) != 1:
        return None
    ((key, argument),) = value.items()
    if key == "Ref" and isinstance(argument, str):
        target = str(argument)
    elif key == "Fn::GetAtt" and _attribute_of(argument)[1] == "Id":
        target = str(_attribute_of(argument)[0])
    else:
        return None
    return target if target in secrets else None


def _secrets_named(properties: dict[str, Any], secrets: dict[str, dict[str, Any]]) -> set[str]:
    """The declared secrets with a Name that CredentialArn is, in some scenario."""
    found = set()
    pending = [properties.get("CredentialArn")]
    while pending:
        value = pending.pop()
        secret = _secret_of(value, secrets)
        if secret is not None and "Name" in secrets[secret]:
            found.add(secret)
        elif isinstance(value, dict):
            pending += value.values()
        elif isinstance(value, list):
            pending += value
    return found


def _declared_secret(given: dict[str, Any], secrets: dict[str, dict[str, Any]]) -> list[Problem]:
    """A scenario's CredentialArn that is a declared secret ECR cannot read."""
    secret = _secret_of(given.get("CredentialArn"), secrets)
    if secret is None:
        return []
    key = f"{_NAME_OF}{secret}"
    if key not in given:  # no Name, or one an Fn::If leaves out (AWS::NoValue)
        problem = declared_secret_problem(secret, None)
    else:
        problem = declared_secret_problem(secret, *known_start(given[key]))
    return [problem] if problem else []


def _attribute_of(argument: Any) -> tuple[Any, Any]:
    """(logical id, attribute) of an Fn::GetAtt's argument, in either form; (None, None) when
    it is neither."""
    if isinstance(argument, list) and len(argument) == 2:
        return argument[0], argument[1]
    if isinstance(argument, str) and "." in argument:
        return tuple(str(argument).split(".", 1))  # type: ignore[return-value]
    return None, None


def _attribute_matches(cfn: Template) -> list[RuleMatch]:
    """Every attribute read from a Custom::PullThroughCacheRule that it does not have."""
    ours = set(cfn.get_resources([RESOURCE_TYPE]))
    read: list[tuple[list[Any], str, str, str]] = []  # (where, how it is written, resource, attribute)
    # Where cfn-lint can place it, a finding points at the attribute (of [Logical, Attr]) or the
    # string (of [String, Variables]); a short form (!GetAtt A.B, !Sub '...') has no node of
    # its own: cfn-lint places it at the key whose value it is.
    for *where, argument in cfn.search_deep_keys("Fn::GetAtt"):
        resource, attribute = _attribute_of(argument)
        if isinstance(resource, str) and isinstance(attribute, str):
            at = [*where, 1] if isinstance(argument, list) else where
            read.append((at, f"Fn::GetAtt {resource}.{attribute}", resource, attribute))
    for *where, argument in cfn.search_deep_keys("Fn::Sub"):
        for variable in sub_references(argument):
            resource, _, attribute = variable.partition(".")
            if attribute:
                at = [*where, 0] if isinstance(argument, list) else where
                read.append((at, f"Fn::Sub ${{{variable}}}", resource, attribute))
    matches, said = [], set()
    for where, written, resource, attribute in read:
        problem = attribute_problem(written, str(attribute)) if resource in ours else None
        if problem is not None and (tuple(where), problem.message) not in said:
            said.add((tuple(where), problem.message))
            matches.append(RuleMatch(where, problem.message))
    return matches


def _scenario(conditions: dict[str, bool]) -> str:
    return " and ".join(f"{name} is {'true' if value else 'false'}" for name, value in conditions.items())
