"""AWS partitions as botocore's own partition data states them (not a table kept here): the DNS
suffix of each partition's hosts, and the partition a Region belongs to."""

from __future__ import annotations

import re
from functools import cache
from typing import Any

from botocore.loaders import create_loader

__all__ = ["DEFAULT", "dns_suffix", "partition_of"]

DEFAULT = "aws"  # botocore's own choice for a Region no partition claims


@cache
def _partitions() -> dict[str, dict[str, Any]]:
    data = create_loader().load_data("partitions")
    return {p["id"]: p for p in data["partitions"]}


def dns_suffix(partition: str) -> str:
    """The DNS suffix of `partition`'s hosts (aws: amazonaws.com, aws-cn: amazonaws.com.cn,
    aws-eusc: amazonaws.eu, aws-iso: c2s.ic.gov, ...); the aws partition's for one botocore
    does not know, as botocore itself resolves endpoints."""
    known = _partitions()
    found = known.get(partition) or known[DEFAULT]
    return str(found["outputs"]["dnsSuffix"])


def partition_of(region: str) -> str:
    """The partition `region` belongs to: the one that lists it, or whose Region pattern it
    matches; the aws partition otherwise."""
    known = _partitions()
    for partition_id, partition in known.items():
        if region in partition.get("regions", {}):
            return partition_id
    for partition_id, partition in known.items():
        if re.match(partition["regionRegex"], region):
            return partition_id
    return DEFAULT
