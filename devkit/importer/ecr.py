"""The rules of one registry, read with DescribePullThroughCacheRules, every page."""

from __future__ import annotations

from typing import Any


def describe_all(client: Any, page_size: int | None = None) -> list[dict[str, Any]]:
    """Every rule of the client's account and Region, in the order ECR lists them. `page_size`:
    rules per call (the API's default when None)."""
    paginator = client.get_paginator("describe_pull_through_cache_rules")
    config = {} if page_size is None else {"PageSize": page_size}
    found: list[dict[str, Any]] = []
    for page in paginator.paginate(PaginationConfig=config):
        found += page.get("pullThroughCacheRules", [])
    return found
