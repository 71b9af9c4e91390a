"""Lint Custom::PullThroughCacheRule resources before deploy, with the provider's own checks.

cfn-lint loads the rule from `cfn_lint_ptc.rules` (`cfn-lint -a cfn_lint_ptc.rules ...`, or
`append_rules: [cfn_lint_ptc.rules]` in .cfnlintrc). This module imports nothing of
cfn-lint: `check` (the provider's messages), `warnings` (what it leaves to ECR: an upstream
it does not know) and `schema` (the JSON Schema of the properties) serve any tool. All come
from the provider's property contract: `cfn_lint_ptc.provider` holds unchanged copies of its
checking modules and schema.json its schema, written by the provider repository's
`./dev contract`.
"""

from __future__ import annotations

import json
from importlib import resources
from typing import Any

from cfn_lint_ptc.provider.contract import RESOURCE_TYPE
from cfn_lint_ptc.provider.properties import Problem, check, warnings

__all__ = ["RESOURCE_TYPE", "Problem", "__version__", "check", "schema", "warnings"]
__version__ = "0.1.0"


def schema() -> dict[str, Any]:
    """The JSON Schema (draft 07) of a Custom::PullThroughCacheRule's Properties."""
    text = resources.files(__name__).joinpath("schema.json").read_text(encoding="utf-8")
    loaded: dict[str, Any] = json.loads(text)
    return loaded
