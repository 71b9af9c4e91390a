"""AWS CDK construct for Amazon ECR pull-through cache rules, served by the
`Custom::PullThroughCacheRule` provider (deployed once per account and Region).

    from cdk_ecr_pull_through_cache import PullThroughCacheRule

    rule = PullThroughCacheRule(self, "EcrPublic", ecr_repository_prefix="ecr-public",
                                upstream_registry_url="public.ecr.aws")
    rule.grant_pull(task_role)
    image = rule.repository_uri("docker/library/nginx")

Nothing of the provider's Lambda code is needed: the synth-time checks are the lint rule
package's (`cfn_lint_ptc.check`), which hold copies of the provider's checking modules.
"""

from __future__ import annotations

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
__version__ = "0.1.0"
