"""What ECR knows about upstream registries: the enum, the URLs, which need a secret."""

from __future__ import annotations

import re

ECR = "ecr"

# The API's UpstreamRegistry enum, in the botocore model's order.
UPSTREAM_REGISTRIES: tuple[str, ...] = (
    "ecr",
    "ecr-public",
    "quay",
    "k8s",
    "docker-hub",
    "github-container-registry",
    "azure-container-registry",
    "gitlab-container-registry",
    "chainguard",
)

# Upstreams that ECR refuses to cache without a Secrets Manager secret.
REQUIRES_CREDENTIAL: frozenset[str] = frozenset(
    {
        "docker-hub",
        "github-container-registry",
        "gitlab-container-registry",
        "azure-container-registry",
        "chainguard",
    }
)

_HOSTS: dict[str, str] = {
    "public.ecr.aws": "ecr-public",
    "registry.k8s.io": "k8s",
    "quay.io": "quay",
    "registry-1.docker.io": "docker-hub",
    "ghcr.io": "github-container-registry",
    "registry.gitlab.com": "gitlab-container-registry",
    "cgr.dev": "chainguard",
}
_ECR_HOST = re.compile(r"^[0-9]{12}\.dkr\.ecr\.[a-z0-9-]+\.amazonaws\.com(\.cn)?$")
_AZURE_HOST = re.compile(r"^[a-z0-9]+\.azurecr\.io$")

# URLs people write that ECR does not accept, and what it wants instead.
COMMON_MISTAKES: dict[str, str] = {
    "docker.io": "registry-1.docker.io",
    "index.docker.io": "registry-1.docker.io",
    "hub.docker.com": "registry-1.docker.io",
    "registry.hub.docker.com": "registry-1.docker.io",
    "k8s.gcr.io": "registry.k8s.io",
    "gitlab.com": "registry.gitlab.com",
    "github.com": "ghcr.io",
    "docker.pkg.github.com": "ghcr.io",
}

SUPPORTED_URLS = (
    "public.ecr.aws, registry.k8s.io, quay.io, registry-1.docker.io, ghcr.io, "
    "registry.gitlab.com, <name>.azurecr.io, cgr.dev, <account>.dkr.ecr.<region>.amazonaws.com"
)


def infer_upstream_registry(url: str) -> str | None:
    """The UpstreamRegistry ECR infers from an upstream URL, or None when it is not one it knows."""
    host = url.lower()
    if host in _HOSTS:
        return _HOSTS[host]
    if _ECR_HOST.match(host):
        return ECR
    if _AZURE_HOST.match(host):
        return "azure-container-registry"
    return None
