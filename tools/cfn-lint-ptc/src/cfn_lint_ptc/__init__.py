"""Lint Custom::PullThroughCacheRule resources before deploy, with the provider's own checks.

cfn-lint loads the rule from `cfn_lint_ptc.rules` (`cfn-lint-ptc ...`, the package's script;
`cfn-lint ... -a cfn_lint_ptc.rules`; or `append_rules: [cfn_lint_ptc.rules]` in .cfnlintrc), and
only when told to: installed alone, the rule checks nothing. This module imports nothing of
cfn-lint: `check` (the provider's messages), `warnings` (what it leaves to ECR: an upstream
it does not know) and `schema` (the JSON Schema of the properties) serve any tool. All come
from the provider's contract, the package ecr_ptc_contract (the distribution
ecr-pull-through-cache-contract, at this package's own version).
"""

from __future__ import annotations

from typing import Any

from ecr_ptc_contract import RESOURCE_TYPE, VERSION, Problem, check, json_schema, warnings

__all__ = ["RESOURCE_TYPE", "Problem", "__version__", "check", "schema", "warnings"]
__version__ = VERSION  # the provider's: this package pins the contract of its own version


def schema() -> dict[str, Any]:
    """The JSON Schema (draft 07) of a Custom::PullThroughCacheRule's Properties."""
    return json_schema()
