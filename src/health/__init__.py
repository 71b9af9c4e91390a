"""The health check of the pull-through cache rules the provider manages: every
Custom::PullThroughCacheRule of the account and Region (read from CloudFormation), compared with
the rule ECR holds under its prefix, and every rule no stack holds.

    from health import check
    report = check(cloudformation_client, ecr_client)   # read-only calls only
    report.rules, report.counts, report.to_json()

Modules: `record.py` (what CloudFormation says of a stack), `discovery.py` (reading it),
`template_text.py` (a template's text as data), `resolution.py` (a resource's properties from its
stack's record), `classification.py` (a rule's state), `registry.py` (ECR's reads), `report.py`
(the report), `run.py` (check), `clients.py` (the clients' retry configuration), `errors.py`.
./dev health (devkit/health/) prints the report from a workstation.
"""

from health.report import Report, RuleReport, State
from health.run import check

__all__ = ["Report", "RuleReport", "State", "check"]
