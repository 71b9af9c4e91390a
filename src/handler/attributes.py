"""The Fn::GetAtt attributes: every name always present, every value a string."""

from __future__ import annotations

from handler.properties import RuleSpec
from handler.rules import Rule

NAMES = (
    "EcrRepositoryPrefix",
    "UpstreamRegistryUrl",
    "UpstreamRegistry",
    "UpstreamRepositoryPrefix",
    "CredentialArn",
    "CustomRoleArn",
    "RegistryId",
    "CreatedAt",
)


def attributes(asked: RuleSpec, rule: Rule, account_id: str) -> dict[str, str]:
    """What the rule now is. CreatedAt is known only when this request created or read the
    rule: the in-place and no-op paths make no call that reports it, so it is "" there."""
    return {
        "EcrRepositoryPrefix": asked.ecr_repository_prefix,
        "UpstreamRegistryUrl": asked.upstream_registry_url,
        "UpstreamRegistry": asked.effective_upstream_registry or rule.upstream_registry or "",
        "UpstreamRepositoryPrefix": (
            rule.upstream_repository_prefix or asked.effective_upstream_repository_prefix or ""
        ),
        "CredentialArn": asked.credential_arn or "",
        "CustomRoleArn": asked.custom_role_arn or "",
        "RegistryId": rule.registry_id or account_id,
        "CreatedAt": rule.created_at.isoformat() if rule.created_at else "",
    }
