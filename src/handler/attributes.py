"""The Fn::GetAtt attributes: every name always present, every value a string."""

from __future__ import annotations

from datetime import datetime

from handler.partitions import dns_suffix
from handler.properties import ROOT, RuleSpec, canonical_prefix
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
    "RepositoryUriPrefix",
)


def registry_host(registry_id: str, region: str, partition: str) -> str:
    """The host images are pulled from: <account>.dkr.ecr.<region>.<the partition's DNS suffix>."""
    return f"{registry_id}.dkr.ecr.{region}.{dns_suffix(partition)}"


def attributes(asked: RuleSpec, rule: Rule, account_id: str, region: str, partition: str) -> dict[str, str]:
    """What the rule now is. Every request that leaves a rule has read or made it, so CreatedAt
    and UpdatedAt (when ECR last changed it; a new rule's is its CreatedAt) are always known.
    RepositoryUriPrefix is what an image is pulled through: `<it>/<upstream repository>:<tag>`
    (a ROOT rule's is the registry host itself)."""
    registry_id = rule.registry_id or account_id
    host = registry_host(registry_id, region, partition)
    prefix = canonical_prefix(asked.ecr_repository_prefix)
    return {
        "EcrRepositoryPrefix": asked.ecr_repository_prefix,
        "UpstreamRegistryUrl": asked.upstream_registry_url,
        "UpstreamRegistry": asked.effective_upstream_registry or rule.upstream_registry or "",
        "UpstreamRepositoryPrefix": (
            rule.upstream_repository_prefix or asked.effective_upstream_repository_prefix or ""
        ),
        "CredentialArn": asked.credential_arn or "",
        "CustomRoleArn": asked.custom_role_arn or "",
        "RegistryId": registry_id,
        "CreatedAt": _timestamp(rule.created_at),
        "UpdatedAt": _timestamp(rule.updated_at or rule.created_at),
        "RepositoryUriPrefix": host if prefix == ROOT else f"{host}/{prefix}",
    }


def _timestamp(moment: datetime | None) -> str:
    return moment.isoformat() if moment else ""
