"""ECR's reads the health check makes: every rule of the registry, and a rule's validation.
Errors are translated by their code (throttling is retried by the client, clients.RETRIES)."""

from __future__ import annotations

from typing import Any

from botocore.exceptions import BotoCoreError, ClientError

from handler.rules import Rule
from health.classification import Validation
from health.errors import cannot_read

NOT_FOUND = "PullThroughCacheRuleNotFoundException"


def rules(ecr: Any) -> list[Rule]:
    """Every pull-through cache rule of the registry (DescribePullThroughCacheRules, paged)."""
    found: list[Rule] = []
    try:
        for page in ecr.get_paginator("describe_pull_through_cache_rules").paginate():
            found.extend(Rule.from_api(r) for r in page.get("pullThroughCacheRules", []))
    except (ClientError, BotoCoreError) as error:
        raise cannot_read("ecr:DescribePullThroughCacheRules", error) from None
    return found


def validation(ecr: Any, prefix: str) -> Validation | None:
    """ECR's validation of the rule at `prefix`; None when the rule is gone meanwhile."""
    try:
        answer = ecr.validate_pull_through_cache_rule(ecrRepositoryPrefix=prefix)
    except ClientError as error:
        refused = cannot_read("ecr:ValidatePullThroughCacheRule", error)
        if refused.code == NOT_FOUND:
            return None
        if refused.denied:
            raise refused from None
        # ECR would not validate this one rule (its own error code): the others still are
        return Validation(True, refused=f"ECR answered {refused.code}: {refused.message}")
    except BotoCoreError as error:
        raise cannot_read("ecr:ValidatePullThroughCacheRule", error) from None
    return Validation(bool(answer.get("isValid")), str(answer.get("failure") or ""))
