"""Where ECR looks up the secret a rule names: moto's own Secrets Manager (the default, in
process and in server mode), or another Secrets Manager over HTTP (server mode with
``--secrets-endpoint URL``): MiniStack's, where consumer stacks create their secrets, so the
rule's CredentialArn is checked against the secrets those stacks really made."""

from __future__ import annotations

import threading

import boto3
from botocore.config import Config
from botocore.exceptions import ClientError

_lock = threading.Lock()
_endpoint: str | None = None


def use_endpoint(url: str | None) -> None:
    """Check secrets at the Secrets Manager served at `url` (None: moto's own)."""
    global _endpoint  # noqa: PLW0603 (one setting per emulator process)
    with _lock:
        _endpoint = url


def endpoint() -> str | None:
    with _lock:
        return _endpoint


def exists_at_endpoint(arn: str, account_id: str, region: str) -> bool:
    """Whether the Secrets Manager at the endpoint holds `arn` (exactly), not scheduled for
    deletion. The caller's account goes as the access key id, as MiniStack reads it."""
    url = endpoint()
    client = boto3.client(
        "secretsmanager",
        endpoint_url=url,
        region_name=region,
        aws_access_key_id=account_id,
        aws_secret_access_key="test",  # noqa: S106 (a local emulator's placeholder)
        config=Config(retries={"max_attempts": 1}, connect_timeout=5, read_timeout=10),
    )
    try:
        secret = client.describe_secret(SecretId=arn)
    except ClientError as e:
        if e.response.get("Error", {}).get("Code") == "ResourceNotFoundException":
            return False
        raise
    return secret.get("ARN") == arn and "DeletedDate" not in secret
