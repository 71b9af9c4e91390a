"""The clients' configuration: throttling and transient errors retried by botocore's standard
mode, up to 10 attempts in all (the first and 9 retries) with its exponential backoff: a
500-stack account reads a few thousand pages, and CloudFormation's reads are throttled per
account."""

from __future__ import annotations

from typing import Any

from botocore.config import Config

RETRIES = Config(retries={"mode": "standard", "total_max_attempts": 10}, connect_timeout=5, read_timeout=30)


def clients(session: Any) -> tuple[Any, Any]:
    """(cloudformation, ecr) clients of a boto3 session, with RETRIES."""
    return session.client("cloudformation", config=RETRIES), session.client("ecr", config=RETRIES)
