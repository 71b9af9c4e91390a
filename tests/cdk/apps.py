"""A consumer stack written with the construct: a rule of every upstream family, a task role
granted pulls through two of them, and the attributes as outputs. The lint test synthesizes
it as a user's `cdk synth` does; tests/ministack/test_cdk.py deploys it on MiniStack."""

from __future__ import annotations

from collections.abc import Mapping

import aws_cdk as cdk
from aws_cdk import aws_iam as iam
from aws_cdk import aws_secretsmanager as secretsmanager
from cdk_ecr_pull_through_cache import PullThroughCacheRule

CREDENTIALED = ("docker-hub", "ghcr", "gitlab", "azure", "chainguard")
UPSTREAM_ACCOUNT = "444455556666"


def every_upstream(
    stack: cdk.Stack, secret_arns: Mapping[str, str], prefix: str = "cdk-"
) -> dict[str, PullThroughCacheRule]:
    """One rule per upstream family (and a ROOT rule), by family. `secret_arns`: an existing
    secret's ARN for each of CREDENTIALED (imported here as an ISecret)."""

    def secret(family: str) -> secretsmanager.ISecret:
        return secretsmanager.Secret.from_secret_complete_arn(stack, f"{family}-secret", secret_arns[family])

    role = iam.Role(
        stack,
        "UpstreamRole",
        assumed_by=iam.ServicePrincipal("pullthroughcache.ecr.amazonaws.com"),
        description="Assumed by ECR to pull from the upstream account's registry",
    )
    region, suffix = stack.region, stack.url_suffix
    made = {
        "ecr-public": PullThroughCacheRule(
            stack,
            "EcrPublic",
            ecr_repository_prefix=f"{prefix}ecr-public",
            upstream_registry_url="public.ecr.aws",
        ),
        "quay": PullThroughCacheRule(
            stack, "Quay", ecr_repository_prefix=f"{prefix}quay", upstream_registry_url="quay.io"
        ),
        "k8s": PullThroughCacheRule(
            stack,
            "K8s",
            ecr_repository_prefix=f"{prefix}k8s",
            upstream_registry_url="registry.k8s.io",
            upstream_registry="k8s",
        ),
        "docker-hub": PullThroughCacheRule(
            stack,
            "DockerHub",
            ecr_repository_prefix=f"{prefix}docker-hub",
            upstream_registry_url="registry-1.docker.io",
            credential_arn=secret("docker-hub"),
        ),
        "ghcr": PullThroughCacheRule(
            stack,
            "Ghcr",
            ecr_repository_prefix=f"{prefix}ghcr",
            upstream_registry_url="ghcr.io",
            credential_arn=secret("ghcr"),
        ),
        "gitlab": PullThroughCacheRule(
            stack,
            "Gitlab",
            ecr_repository_prefix=f"{prefix}gitlab",
            upstream_registry_url="registry.gitlab.com",
            credential_arn=secret("gitlab"),
        ),
        "azure": PullThroughCacheRule(
            stack,
            "Azure",
            ecr_repository_prefix=f"{prefix}azure",
            upstream_registry_url="myregistry.azurecr.io",
            credential_arn=secret("azure"),
        ),
        "chainguard": PullThroughCacheRule(
            stack,
            "Chainguard",
            ecr_repository_prefix=f"{prefix}chainguard",
            upstream_registry_url="cgr.dev",
            credential_arn=secret("chainguard"),
        ),
        "ecr-same-account": PullThroughCacheRule(
            stack,
            "EcrSameAccount",
            ecr_repository_prefix=f"{prefix}ecr-team",
            upstream_registry_url=f"{stack.account}.dkr.ecr.{region}.{suffix}",
            upstream_repository_prefix="team",
        ),
        "ecr-cross-account": PullThroughCacheRule(
            stack,
            "EcrCrossAccount",
            ecr_repository_prefix=f"{prefix}ecr-shared",
            upstream_registry_url=f"{UPSTREAM_ACCOUNT}.dkr.ecr.{region}.amazonaws.com",
            upstream_registry="ecr",
            custom_role_arn=role,
        ),
        "root": PullThroughCacheRule(
            stack, "Root", ecr_repository_prefix="ROOT", upstream_registry_url="public.ecr.aws"
        ),
    }
    task = iam.Role(stack, "TaskRole", assumed_by=iam.ServicePrincipal("ecs-tasks.amazonaws.com"))
    made["ghcr"].grant_pull(task)
    made["root"].grant_pull(task)
    for family, rule in made.items():
        name = "".join(part.capitalize() for part in family.split("-"))
        cdk.CfnOutput(stack, f"{name}Prefix", value=rule.ecr_repository_prefix)
        cdk.CfnOutput(stack, f"{name}UriPrefix", value=rule.repository_uri_prefix)
    cdk.CfnOutput(stack, "GhcrImage", value=made["ghcr"].repository_uri("myorg/app"))
    cdk.CfnOutput(stack, "RootImage", value=made["root"].repository_uri("docker/library/nginx"))
    cdk.CfnOutput(stack, "GhcrRegistryId", value=made["ghcr"].registry_id)
    cdk.CfnOutput(stack, "GhcrCreatedAt", value=made["ghcr"].created_at)
    cdk.CfnOutput(stack, "GhcrUpdatedAt", value=made["ghcr"].updated_at)
    return made
