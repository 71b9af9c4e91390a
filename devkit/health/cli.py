"""./dev health: the health check with your own credentials, profile and Region.

    python -m devkit.health.cli [--json] [--region REGION] [--profile PROFILE]

Prints the table (or the JSON report) and a summary line; exits 0 when every rule is HEALTHY,
1 when any is not (UNMANAGED included), 2 when a read the check needs fails (the message names
the action) or no Region is set.
"""

from __future__ import annotations

import argparse
import sys

import boto3
from botocore.exceptions import BotoCoreError

from devkit.health.table import table
from health.clients import clients
from health.errors import CannotRead
from health.run import check


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="./dev health",
        description="Report every pull-through cache rule of the account and Region: HEALTHY, MISSING, "
        "DRIFTED, INVALID or UNMANAGED (read-only; docs/reference.md#health-check).",
    )
    parser.add_argument("--json", action="store_true", help="print the report as JSON")
    parser.add_argument("--region", help="the Region to check (default: your AWS configuration's)")
    parser.add_argument("--profile", help="the AWS profile to use (default: your AWS configuration's)")
    options = parser.parse_args(argv)
    try:
        session = boto3.Session(profile_name=options.profile, region_name=options.region)
    except BotoCoreError as problem:
        print(f"error: --profile {options.profile!r}: {problem}", file=sys.stderr)
        return 2
    if session.region_name is None:
        print(
            "error: no Region: give --region REGION, or set AWS_REGION (or a profile's region)",
            file=sys.stderr,
        )
        return 2
    try:
        cloudformation, ecr = clients(session)
        report = check(cloudformation, ecr)
    except CannotRead as problem:
        print(f"error: {problem}", file=sys.stderr)
        return 2
    except BotoCoreError as problem:  # no credentials, an endpoint that cannot be reached
        print(f"error: the health check could not read AWS: {problem}", file=sys.stderr)
        return 2
    print(report.to_json() if options.json else table(report))
    return 0 if report.healthy else 1


if __name__ == "__main__":
    sys.exit(main())
