"""The shapes of the values: the patterns and lengths every property's value is checked
against, and the words the provider gives a special meaning (ROOT, the secret name prefix).

Patterns are written in the subset that Python's `re` and ECMA-262 (JSON Schema's dialect)
read the same way, anchored with ^...$. Python code matches them with re.fullmatch: in
Python, `$` also matches before a trailing newline.
"""

from __future__ import annotations

ROOT = "ROOT"
SECRET_NAME_PREFIX = "ecr-pullthroughcache/"

# The botocore model's pattern for ecrRepositoryPrefix and upstreamRepositoryPrefix.
PREFIX_PATTERN = r"^([a-z0-9]+((\.|_|__|-+)[a-z0-9]+)*(\/[a-z0-9]+((\.|_|__|-+)[a-z0-9]+)*)*\/?|ROOT)$"
PREFIX_MIN, PREFIX_MAX = 2, 30
# Prefixes the API accepts but the provider refuses: they are almost always ROOT mistyped.
# ECR would make them a literal prefix 'root/', not the whole registry.
ROOT_LOOKALIKES = ("root", "root/")

# A DNS host name: labels of letters, digits and '-' (not at either end), at most 63
# characters each, 253 in all. Lowercase only: ECR stores the URL as it is sent, and the
# provider compares the stored URL with the template's on every later update.
HOST_PATTERN = r"^[a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?(\.[a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?)*$"
HOST_MAX = 253

# The botocore model's credentialArn pattern, narrowed to what a secret ARN is: a partition,
# a Region, a 12-digit account, then the secret's name (which ECR requires to start with
# ecr-pullthroughcache/), followed by Secrets Manager's random suffix.
CREDENTIAL_ARN_PATTERN = (
    r"^arn:aws(-[a-z]+)*:secretsmanager:[a-z0-9]+(-[a-z0-9]+)*:[0-9]{12}:secret:"
    r"ecr-pullthroughcache\/[a-zA-Z0-9\/_+=.@-]+$"
)
CREDENTIAL_ARN_MIN, CREDENTIAL_ARN_MAX = 50, 612

# An IAM role ARN: the role's path and name (IAM allows 512 characters of path, 64 of name).
ROLE_ARN_PATTERN = r"^arn:aws(-[a-z]+)*:iam::[0-9]{12}:role\/[a-zA-Z0-9_+=,.@\/-]{1,512}$"
ROLE_ARN_MAX = 2048

# An UpstreamRegistry: the shape of every kind ECR has named (lowercase words joined by '-'),
# whether or not this version knows it.
KIND_PATTERN = r"^[a-z0-9]+(-[a-z0-9]+)*$"
KIND_MAX = 64

BOOLEAN_PATTERN = r"^([Tt][Rr][Uu][Ee]|[Ff][Aa][Ll][Ss][Ee])?$"

# A private ECR registry's host: <account>.dkr.ecr.<region>.<DNS suffix>, the DNS suffix being
# its partition's (amazonaws.com, amazonaws.com.cn, amazonaws.eu, c2s.ic.gov, ...): any host name
# of two labels or more, so that every partition's hosts are ECR's, those of a partition that
# AWS opens after this release included (the handler builds its own registry's host from
# botocore's partition data).
ECR_HOST_PATTERN = r"^[0-9]{12}\.dkr\.ecr\.[a-z0-9]+(-[a-z0-9]+)*(\.[a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?){2,}$"
