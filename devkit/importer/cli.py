"""`./dev import`: write a template (or with --cdk, a CDK app) that adopts the pull-through
cache rules of an account and Region, without changing them.

Credentials and Region come from the environment, as for the AWS CLI (AWS_PROFILE,
AWS_REGION, ...), or --region; --endpoint-url points at another ECR endpoint (the emulator).
Only DescribePullThroughCacheRules is called.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path
from typing import Any

import boto3
from botocore.exceptions import BotoCoreError, ClientError

from devkit.importer import cdk_app, rules, template
from devkit.importer.ecr import describe_all

DEFAULT_STACK = "ImportedPullThroughCacheRules"


def arguments(argv: list[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(
        prog="./dev import",
        description=(
            "Read the account's pull-through cache rules (DescribePullThroughCacheRules, every page) "
            "and write a template declaring each as a Custom::PullThroughCacheRule with "
            'AdoptExisting "true": deploying it takes the rules over unchanged.'
        ),
    )
    parser.add_argument(
        "--region", help="the Region (default: AWS_REGION / AWS_DEFAULT_REGION / the profile's)"
    )
    parser.add_argument("--endpoint-url", help="the ECR endpoint (e.g. an emulator's)")
    parser.add_argument("-o", "--output", type=Path, help="write here instead of standard output")
    parser.add_argument(
        "--cdk", action="store_true", help="write a CDK app in Python using PullThroughCacheRule"
    )
    parser.add_argument(
        "--stack-name", default=DEFAULT_STACK, help=f"the CDK app's stack (--cdk; default {DEFAULT_STACK})"
    )
    parser.add_argument(
        "--exclude", action="append", default=[], metavar="PREFIX", help="leave this rule out (repeatable)"
    )
    parser.add_argument(
        "--retain",
        action="store_true",
        help="DeletionPolicy and UpdateReplacePolicy Retain: rules stay in ECR when their resources go",
    )
    parser.add_argument("--page-size", type=int, help="rules per DescribePullThroughCacheRules call")
    return parser.parse_args(argv)


def main(argv: list[str] | None = None, client: Any = None) -> int:
    options = arguments(argv)
    if client is None:
        session = boto3.session.Session(region_name=options.region)
        if session.region_name is None:
            print("error: no Region: set AWS_REGION or pass --region.", file=sys.stderr)
            return 2
        client = session.client("ecr", endpoint_url=options.endpoint_url)
    region = str(client.meta.region_name)
    try:
        found = describe_all(client, options.page_size)
    except (ClientError, BotoCoreError) as e:
        print(f"error: DescribePullThroughCacheRules failed: {e}", file=sys.stderr)
        return 1
    declared = rules.declare(found, options.exclude)
    if not declared:
        left_out = f" (besides {len(found)} excluded)" if found else ""
        print(f"error: the registry has no pull-through cache rule in {region}{left_out}.", file=sys.stderr)
        return 1
    account = str(found[0].get("registryId") or "")
    if options.cdk:
        text = cdk_app.cdk_app(declared, account, region, options.stack_name, options.retain)
    else:
        header = (
            f"The {len(declared)} pull-through cache rules of account {account} in {region}, written by\n"
            "./dev import. Deploy in that account and Region, after the provider:\n"
            "  aws cloudformation deploy --stack-name pull-through-cache-rules --template-file <this file>\n"
            "Each resource adopts its rule (AdoptExisting) and changes nothing in ECR; from then on the\n"
            "stack owns the rules: deleting a resource deletes its rule unless it is retained (--retain)."
        )
        text = template.to_yaml(template.template(declared, account, region, options.retain), header)
    if options.output is None:
        sys.stdout.write(text)
    else:
        options.output.write_text(text)
        print(f"wrote {options.output}: {len(declared)} rules of {account} in {region}", file=sys.stderr)
    return 0


if __name__ == "__main__":
    sys.exit(main())
