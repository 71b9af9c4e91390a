"""What is wrong with an ARN given as a property: CredentialArn (a Secrets Manager secret ECR
can read: its name, its account and Region, or the Name of the secret a template declares for
it) and CustomRoleArn (an IAM role); and where the provider runs, read from a ServiceToken that
is a Lambda function ARN."""

from __future__ import annotations

import re
from collections.abc import Mapping
from typing import Any

from .properties import BY_NAME
from .shapes import (
    CREDENTIAL_ARN_MAX,
    CREDENTIAL_ARN_PATTERN,
    ROLE_ARN_MAX,
    ROLE_ARN_PATTERN,
    SECRET_NAME_PREFIX,
)
from .wording import Problem, quoted, too_long

__all__ = ["credential_problems", "declared_secret_problem", "role_problem", "service_token_location"]

_SECRET_ARN = re.compile(
    r"arn:(?P<partition>aws[a-z-]*):secretsmanager:(?P<region>[a-z0-9-]+):(?P<account>[0-9]{12}):"
    r"secret:(?P<name>.+)"
)
_RANDOM_SUFFIX = re.compile(r"-[A-Za-z0-9]{6}")  # Secrets Manager's, at the end of every secret ARN
_LAMBDA_ARN = re.compile(r"arn:aws[a-z-]*:lambda:(?P<region>[a-z0-9-]+):(?P<account>[0-9]{12}):function:.+")


def service_token_location(properties: Mapping[str, Any]) -> tuple[str, str] | None:
    """(region, account) of the provider, read from the ServiceToken when it is a Lambda ARN."""
    token = properties.get("ServiceToken")
    match = _LAMBDA_ARN.fullmatch(token) if isinstance(token, str) else None
    return (match["region"], match["account"]) if match else None


def role_problem(role: str) -> Problem | None:
    """Why `role` cannot be a CustomRoleArn, or None when it can."""
    if len(role) > ROLE_ARN_MAX:
        return too_long(BY_NAME["CustomRoleArn"], role, "pass the role's ARN (e.g. !GetAtt MyRole.Arn)")
    if not re.fullmatch(ROLE_ARN_PATTERN, role):
        return Problem(
            f"CustomRoleArn {quoted(role)} is not an IAM role ARN: write "
            f"arn:<partition>:iam::<account>:role/<name> (e.g. !GetAtt MyRole.Arn).",
            "CustomRoleArn",
        )
    return None


def credential_problems(arn: str, location: tuple[str, str] | None) -> list[Problem]:
    """What is wrong with the CredentialArn `arn`, for a provider in `location` ((region,
    account), None: not known)."""
    name = "CredentialArn"
    if len(arn) > CREDENTIAL_ARN_MAX:
        return [too_long(BY_NAME[name], arn, "pass the secret's ARN (e.g. !Ref MySecret)")]
    match = _SECRET_ARN.fullmatch(arn)
    if not match:
        return [
            Problem(
                f"CredentialArn {quoted(arn)} is not a Secrets Manager secret ARN: pass the secret's ARN, "
                f"arn:<partition>:secretsmanager:<region>:<account>:secret:{SECRET_NAME_PREFIX}<name> "
                f"(e.g. !Ref MySecret).",
                name,
            )
        ]
    secret = match["name"]
    if not secret.startswith(SECRET_NAME_PREFIX):
        base = secret
        suffix = _RANDOM_SUFFIX.search(secret)
        if suffix and suffix.end() == len(secret) and suffix.start() > 0:
            base = secret[: suffix.start()]
        added = ""
        if suffix and base != secret:
            added = f" (its ARN adds Secrets Manager's random suffix {quoted(suffix[0])})"
        return [
            Problem(
                f"CredentialArn names the secret {quoted(base)}{added}, but ECR only reads secrets whose "
                f"name starts with '{SECRET_NAME_PREFIX}': create the secret as "
                f"{quoted(SECRET_NAME_PREFIX + base)} and pass its ARN.",
                name,
            )
        ]
    # (shorter than CREDENTIAL_ARN_MIN cannot be: the parts already matched are longer)
    found = []
    if not re.fullmatch(CREDENTIAL_ARN_PATTERN, arn):
        found.append(
            Problem(
                f"CredentialArn {quoted(arn)} is not a secret ARN ECR accepts: "
                f"arn:<partition>:secretsmanager:<region>:<account>:secret:{SECRET_NAME_PREFIX}<name>, "
                "the name of letters, digits and / _ + = . @ -.",
                name,
            )
        )
    if location is not None and (match["region"], match["account"]) != location:
        region, account = location
        found.append(
            Problem(
                f"CredentialArn's secret is in {quoted(match['region'])}/{match['account']}, but the rule "
                f"is created in {region}/{account}: ECR reads secrets only from the rule's own "
                "account and Region; create the secret there.",
                name,
            )
        )
    return found


def declared_secret_problem(secret: str, name: str | None, complete: bool = True) -> Problem | None:
    """Why the secret a template declares as `secret` (an AWS::SecretsManager::Secret's logical
    id, given as CredentialArn by Ref or Fn::GetAtt Id) cannot be read by ECR, or None when it can
    or the template does not tell. `name` is its Name (None: it has none, and CloudFormation
    generates one, '<logical id>-<random characters>', never under the prefix); when not
    `complete`, only the literal text its Name starts with (an Fn::Sub's before its first
    variable), which tells only if it already goes past the prefix or leaves it."""
    if name is None:
        return Problem(
            f"CredentialArn is the secret {secret}, which has no Name: CloudFormation names it "
            f"'{secret}-<random characters>', and ECR only reads secrets whose name starts with "
            f"'{SECRET_NAME_PREFIX}': give {secret} a Name under it (Name: {SECRET_NAME_PREFIX}<name>).",
            "CredentialArn",
        )
    if name.startswith(SECRET_NAME_PREFIX) or (not complete and SECRET_NAME_PREFIX.startswith(name)):
        return None
    if not complete:
        return Problem(
            f"CredentialArn is the secret {secret}, whose Name starts with {quoted(name)}, not "
            f"'{SECRET_NAME_PREFIX}', and ECR only reads secrets whose name does: start its Name with "
            f"{SECRET_NAME_PREFIX} (Name: !Sub '{SECRET_NAME_PREFIX}...').",
            "CredentialArn",
        )
    return Problem(
        f"CredentialArn is the secret {secret}, whose Name {quoted(name)} does not start with "
        f"'{SECRET_NAME_PREFIX}', and ECR only reads secrets whose name does: "
        f"write Name: {SECRET_NAME_PREFIX}{name} in {secret}.",
        "CredentialArn",
    )
