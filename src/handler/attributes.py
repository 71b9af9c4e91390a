"""The Fn::GetAtt attributes' values (their names are the contract's ATTRIBUTES): every name
always present, every value a string."""

from __future__ import annotations

from datetime import datetime

from ecr_ptc_contract import ROOT
from ecr_ptc_contract.attributes import CREATED_AT, REGISTRY_ID, REPOSITORY_URI_PREFIX, UPDATED_AT
from handler.partitions import dns_suffix
from handler.properties import RuleSpec, canonical_prefix
from handler.rules import Rule


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
        REGISTRY_ID: registry_id,
        CREATED_AT: _timestamp(rule.created_at),
        UPDATED_AT: _timestamp(rule.updated_at or rule.created_at),
        REPOSITORY_URI_PREFIX: host if prefix == ROOT else f"{host}/{prefix}",
    }


def _timestamp(moment: datetime | None) -> str:
    return moment.isoformat() if moment else ""
