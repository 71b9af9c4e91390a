"""The Fn::GetAtt attributes: every name always present, every value a string."""

from __future__ import annotations

from datetime import datetime

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
    "UpdatedAt",
)


def attributes(asked: RuleSpec, rule: Rule, account_id: str) -> dict[str, str]:
    """What the rule now is. Every request that leaves a rule has read or made it, so CreatedAt
    and UpdatedAt (when ECR last changed it; a new rule's is its CreatedAt) are always known."""
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
        "CreatedAt": _timestamp(rule.created_at),
        "UpdatedAt": _timestamp(rule.updated_at or rule.created_at),
    }


def _timestamp(moment: datetime | None) -> str:
    return moment.isoformat() if moment else ""
