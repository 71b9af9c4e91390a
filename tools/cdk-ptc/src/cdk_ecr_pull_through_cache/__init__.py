"""AWS CDK construct for Amazon ECR pull-through cache rules, served by the
`Custom::PullThroughCacheRule` provider (deployed once per account and Region).

    from cdk_ecr_pull_through_cache import PullThroughCacheRule

    rule = PullThroughCacheRule(self, "EcrPublic", ecr_repository_prefix="ecr-public",
                                upstream_registry_url="public.ecr.aws")
    rule.grant_pull(task_role)
    image = rule.repository_uri("docker/library/nginx")

Nothing of the provider's Lambda code is needed: the synth-time checks, the resource type and
the attribute names are the provider's contract (ecr_ptc_contract, the distribution
ecr-pull-through-cache-contract, at this package's own version).
"""

from __future__ import annotations

from ecr_ptc_contract import VERSION

from .checks import InvalidPullThroughCacheRule
from .rule import (
    AUTHORIZATION_ACTIONS,
    DEFAULT_PROVIDER_STACK_NAME,
    LEFT_TO_ECR_WARNING,
    PULL_ACTIONS,
    RESOURCE_TYPE,
    PullThroughCacheRule,
)

__all__ = [
    "AUTHORIZATION_ACTIONS",
    "DEFAULT_PROVIDER_STACK_NAME",
    "LEFT_TO_ECR_WARNING",
    "PULL_ACTIONS",
    "RESOURCE_TYPE",
    "InvalidPullThroughCacheRule",
    "PullThroughCacheRule",
    "__version__",
]
__version__ = VERSION  # the provider's: this package pins the contract of its own version
