"""The upstream registries this version knows: each kind (the API's UpstreamRegistry enum),
the hosts ECR accepts for it and whether it needs a credential; the hosts people write for
another; and what follows from the table (the kinds, those needing a credential, the hosts as
the messages list them). An upstream outside the table is not refused: ECR adds upstreams
between releases, and decides on them."""

from __future__ import annotations

from dataclasses import dataclass

from .shapes import ECR_HOST_PATTERN

ECR = "ecr"


@dataclass(frozen=True)
class Upstream:
    """One value of the API's UpstreamRegistry enum: the hosts ECR accepts for it."""

    kind: str
    host_pattern: str  # the upstream registry URLs ECR accepts for this kind
    hosts: str  # the same, as the docs and the messages write it
    needs_credential: bool  # ECR refuses to create the rule without a Secrets Manager secret
    note: str = ""  # what to know when a host is not this kind's

    @property
    def literal_host(self) -> str | None:
        """The one host of this kind, when it has exactly one."""
        return None if "<" in self.hosts else self.hosts


# The API's UpstreamRegistry enum, in the botocore model's order.
UPSTREAMS: tuple[Upstream, ...] = (
    Upstream(
        ECR,
        ECR_HOST_PATTERN,
        "<account>.dkr.ecr.<region>.amazonaws.com",
        needs_credential=False,
        note="a private ECR registry is <account>.dkr.ecr.<region>.<the partition's DNS suffix>, e.g. "
        "amazonaws.com, amazonaws.com.cn in China, amazonaws.eu in the European Sovereign Cloud",
    ),
    Upstream("ecr-public", r"^public\.ecr\.aws$", "public.ecr.aws", needs_credential=False),
    Upstream("quay", r"^quay\.io$", "quay.io", needs_credential=False),
    Upstream("k8s", r"^registry\.k8s\.io$", "registry.k8s.io", needs_credential=False),
    Upstream("docker-hub", r"^registry-1\.docker\.io$", "registry-1.docker.io", needs_credential=True),
    Upstream("github-container-registry", r"^ghcr\.io$", "ghcr.io", needs_credential=True),
    Upstream(
        "azure-container-registry",
        r"^[a-z0-9]{5,50}\.azurecr\.io$",
        "<name>.azurecr.io",
        needs_credential=True,
        note="an Azure registry is <name>.azurecr.io, its name being 5 to 50 lowercase letters and digits",
    ),
    Upstream(
        "gitlab-container-registry",
        r"^registry\.gitlab\.com$",
        "registry.gitlab.com",
        needs_credential=True,
        note="ECR caches GitLab.com's registry only, not a self-hosted GitLab",
    ),
    Upstream("chainguard", r"^cgr\.dev$", "cgr.dev", needs_credential=True),
)

# Hosts people write that ECR does not accept, and the upstream host they mean.
COMMON_MISTAKES: dict[str, str] = {
    "docker.io": "registry-1.docker.io",
    "index.docker.io": "registry-1.docker.io",
    "hub.docker.com": "registry-1.docker.io",
    "registry.hub.docker.com": "registry-1.docker.io",
    "k8s.gcr.io": "registry.k8s.io",
    "gitlab.com": "registry.gitlab.com",
    "github.com": "ghcr.io",
    "docker.pkg.github.com": "ghcr.io",
    "chainguard.dev": "cgr.dev",
    "ecr.aws": "public.ecr.aws",
    "gallery.ecr.aws": "public.ecr.aws",
}
# Why a common mistake is one, where it is not plain.
MISTAKE_NOTES: dict[str, str] = {
    "docker.io": "docker.io is Docker Hub's name in image references, not its registry's host",
}

UPSTREAM_REGISTRIES: tuple[str, ...] = tuple(u.kind for u in UPSTREAMS)
# Upstreams that ECR refuses to cache without a Secrets Manager secret.
REQUIRES_CREDENTIAL: frozenset[str] = frozenset(u.kind for u in UPSTREAMS if u.needs_credential)
# In the order people look for them: the public ones first, a private ECR registry last.
SUPPORTED_URLS = ", ".join(u.hosts for u in (*UPSTREAMS[1:], UPSTREAMS[0]))
BY_KIND: dict[str, Upstream] = {u.kind: u for u in UPSTREAMS}
