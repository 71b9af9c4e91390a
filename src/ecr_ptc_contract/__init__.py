"""The contract of Custom::PullThroughCacheRule, stated once: the provider (src/handler), the
cfn-lint rule (tools/cfn-lint-ptc) and the CDK construct (tools/cdk-ptc) all import it.

It holds the resource's properties (names, value shapes, defaults, what a change does to the
rule), the upstreams this version knows, the attribute names, the checks and their messages,
the JSON Schema computed from all that, and the provider's version. It uses only the standard
library (Python 3.10 or newer), so that any tool can install it alone
(`pip install ./tools/contract`, the distribution ecr-pull-through-cache-contract).

- `properties`: the properties; `shapes`: the patterns and lengths of their values
- `upstreams`: the upstream kinds and their hosts; `hosts`: what a host is
- `attributes`: the Fn::GetAtt names
- `checks`: `check`, `warnings`, `examine` (with `prefix_checks`, `arn_checks`,
  `upstream_checks`, and `wording`: how a problem is said)
- what a template says of the resource from elsewhere, for the lint rule: `attribute_problem`
  (`attribute_checks`: an Fn::GetAtt name it does not have) and `declared_secret_problem`
  (`arn_checks`: a CredentialArn that is a secret the template declares, named outside the prefix)
- `schema`: `json_schema()`
- `version`: `VERSION`
"""

from __future__ import annotations

from .arn_checks import declared_secret_problem
from .attribute_checks import attribute_problem
from .attributes import ATTRIBUTES
from .checks import check, examine, warnings
from .examination import Examination
from .properties import (
    BY_NAME,
    CLOUDFORMATION_OWNED,
    IN_PLACE,
    NAMES,
    NEW_RULE,
    PROPERTIES,
    PROVIDER_ONLY,
    REQUIRED,
    RESOURCE_TYPE,
    Property,
    python_name,
)
from .schema import json_schema
from .shapes import ROOT
from .upstreams import ECR, UPSTREAMS, Upstream
from .version import VERSION
from .wording import Problem

__all__ = [
    "ATTRIBUTES",
    "BY_NAME",
    "CLOUDFORMATION_OWNED",
    "ECR",
    "IN_PLACE",
    "NAMES",
    "NEW_RULE",
    "PROPERTIES",
    "PROVIDER_ONLY",
    "REQUIRED",
    "RESOURCE_TYPE",
    "ROOT",
    "UPSTREAMS",
    "VERSION",
    "Examination",
    "Problem",
    "Property",
    "Upstream",
    "attribute_problem",
    "check",
    "declared_secret_problem",
    "examine",
    "json_schema",
    "python_name",
    "warnings",
]
