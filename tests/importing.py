"""A registry holding a rule of every upstream family, made through ECR's API as by hand; the
import tests (tests/test_import.py in process, tests/ministack/test_import.py deployed) read it."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

ACCOUNT = "123456789012"
REGION = "us-east-1"
UPSTREAM_ACCOUNT = "444455556666"
ROLE_ARN = f"arn:aws:iam::{ACCOUNT}:role/ecr-ptc-cross-account"
CREDENTIALED = ("docker-hub", "ghcr", "gitlab", "azure", "chainguard")


def every_family(create: Callable[..., Any], secret: Callable[[str], str]) -> dict[str, dict[str, str]]:
    """Create one rule per upstream family (and a ROOT rule) with `create(prefix, url, **extra)`,
    `secret(family)` giving each credentialed family a secret's ARN. Returns what was asked, by
    prefix (the API's camelCase names)."""
    asked: dict[str, dict[str, str]] = {
        "ecr-public": {"upstreamRegistryUrl": "public.ecr.aws"},
        "quay": {"upstreamRegistryUrl": "quay.io"},
        "k8s": {"upstreamRegistryUrl": "registry.k8s.io", "upstreamRegistry": "k8s"},
        "docker-hub": {"upstreamRegistryUrl": "registry-1.docker.io", "upstreamRegistry": "docker-hub"},
        "ghcr": {"upstreamRegistryUrl": "ghcr.io"},
        "gitlab": {"upstreamRegistryUrl": "registry.gitlab.com"},
        "azure": {"upstreamRegistryUrl": "myregistry.azurecr.io"},
        "chainguard": {"upstreamRegistryUrl": "cgr.dev"},
        "ecr-team": {
            "upstreamRegistryUrl": f"{ACCOUNT}.dkr.ecr.us-west-2.amazonaws.com",
            "upstreamRepositoryPrefix": "team",
        },
        "ecr-shared": {
            "upstreamRegistryUrl": f"{UPSTREAM_ACCOUNT}.dkr.ecr.{REGION}.amazonaws.com",
            "upstreamRegistry": "ecr",
            "customRoleArn": ROLE_ARN,
        },
        "ROOT": {"upstreamRegistryUrl": "public.ecr.aws"},
    }
    for family in CREDENTIALED:
        asked[family]["credentialArn"] = secret(family)
    for prefix, fields in asked.items():
        extra = {k: v for k, v in fields.items() if k != "upstreamRegistryUrl"}
        create(prefix, fields["upstreamRegistryUrl"], **extra)
    return asked
