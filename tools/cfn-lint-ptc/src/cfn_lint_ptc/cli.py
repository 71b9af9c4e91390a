"""`cfn-lint-ptc`: cfn-lint with the rule loaded, so that installing the package is enough.

`cfn-lint-ptc ARGS` is `cfn-lint --append-rules=cfn_lint_ptc.rules ARGS`: every option and
template of cfn-lint's, its output and exit codes. The rule is given in the `=` form because
`--append-rules` takes one or more values: `-a cfn_lint_ptc.rules template.yaml` would read
the template as a second rule module.
"""

from __future__ import annotations

import sys

from cfnlint.runner import main as cfn_lint

__all__ = ["APPEND", "main"]

APPEND = "--append-rules=cfn_lint_ptc.rules"


def main() -> None:
    sys.argv[1:1] = [APPEND]
    cfn_lint()  # exits with cfn-lint's code
