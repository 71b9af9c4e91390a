"""The resource's attributes, as Fn::GetAtt names them: every name is always present in the
provider's answer, every value a string. The rule's fields first (as ECR holds them), then
what ECR adds."""

from __future__ import annotations

from .properties import RULE_FIELDS

REGISTRY_ID = "RegistryId"  # the account id of the registry that holds the rule
CREATED_AT = "CreatedAt"  # when ECR created the rule (ISO 8601)
UPDATED_AT = "UpdatedAt"  # when ECR last changed it (ISO 8601; a new rule's is its CreatedAt)
# What an image is pulled through: <it>/<upstream repository>:<tag> (for ROOT, the registry host)
REPOSITORY_URI_PREFIX = "RepositoryUriPrefix"

ATTRIBUTES: tuple[str, ...] = (*RULE_FIELDS, REGISTRY_ID, CREATED_AT, UPDATED_AT, REPOSITORY_URI_PREFIX)
