"""What differs between a held rule and an asked one, and whether it can change in place."""

from __future__ import annotations

from handler.properties import RuleSpec
from handler.rules import Rule, changes

A = "arn:aws:secretsmanager:us-east-1:123456789012:secret:ecr-pullthroughcache/a-AbCdEf"
B = "arn:aws:secretsmanager:us-east-1:123456789012:secret:ecr-pullthroughcache/b-AbCdEf"


def held(**fields: str | None) -> Rule:
    base = {"ecr_repository_prefix": "quay", "upstream_registry_url": "quay.io", "upstream_registry": "quay"}
    return Rule(**{**base, **fields})  # type: ignore[arg-type]


def asked(**fields: str | None) -> RuleSpec:
    base = {"ecr_repository_prefix": "quay", "upstream_registry_url": "quay.io"}
    return RuleSpec(**{**base, **fields})  # type: ignore[arg-type]


def test_same_rule_no_changes() -> None:
    assert changes(held(), asked()) == []
    assert changes(held(ecr_repository_prefix="quay/"), asked()) == []


def test_credential_change_is_in_place_but_removal_is_not() -> None:
    (change,) = changes(held(credential_arn=A), asked(credential_arn=B))
    assert change.in_place and change.name == "CredentialArn"
    (removal,) = changes(held(credential_arn=A), asked())
    assert not removal.in_place
    assert str(removal) == f"CredentialArn is '{A}' in ECR, the template asks (not set)"


def test_upstream_changes_need_a_new_rule() -> None:
    found = changes(held(), asked(upstream_registry_url="public.ecr.aws"))
    assert [(c.name, c.in_place) for c in found] == [
        ("UpstreamRegistryUrl", False),
        ("UpstreamRegistry", False),
    ]


def test_root_upstream_prefix_is_the_default() -> None:
    ecr = {"upstream_registry_url": "123456789012.dkr.ecr.us-east-1.amazonaws.com"}
    assert (
        changes(held(upstream_registry="ecr", upstream_repository_prefix="ROOT", **ecr), asked(**ecr)) == []
    )
    (change,) = changes(
        held(upstream_registry="ecr", upstream_repository_prefix="ROOT", **ecr),
        asked(upstream_repository_prefix="team", **ecr),
    )
    assert change.name == "UpstreamRepositoryPrefix" and not change.in_place


def test_a_partial_answer_compares_only_what_it_knows() -> None:
    partial = Rule(ecr_repository_prefix="quay", credential_arn=A)
    assert changes(partial, asked(credential_arn=A)) == []
