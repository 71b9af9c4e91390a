"""./dev demo events: the events in events/, in order, through the real handler (crhelper included)
against the embedded ECR emulator, answered to a real HTTP receiver on 127.0.0.1. Prints what
CloudFormation would receive for each, and the ECR calls each one made."""

from __future__ import annotations

import argparse
import json
import os
import re
from typing import Any

SECRET_NAME = re.compile(r":secret:(?P<name>ecr-pullthroughcache/.+)-[A-Za-z0-9]{6}$")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--logs", action="store_true", help="also print the handler's JSON logs")
    args = parser.parse_args()
    os.environ["POWERTOOLS_LOG_LEVEL"] = "INFO" if args.logs else "CRITICAL"
    os.environ.setdefault("AWS_DEFAULT_REGION", "us-east-1")

    import boto3
    from moto import mock_aws

    import ecr_ptc_emulator
    from devkit.aws_lambda.invoke import invoke
    from devkit.cloudformation import events
    from devkit.cloudformation.receiver import Receiver

    with mock_aws(), Receiver() as receiver:
        ecr_ptc_emulator.install()
        secrets = boto3.client("secretsmanager", region_name="us-east-1")
        real_arns: dict[str, str] = {}
        names = events.names()
        print("Embedded ECR emulator (moto + ecr_ptc_emulator), in this process")
        print(f"Answers go to a ResponseURL receiver on http://127.0.0.1:{receiver.port}/")
        for number, name in enumerate(names, 1):
            event = events.load(name)
            _use_emulator_secrets(event, secrets, real_arns)
            _show_request(number, len(names), name, event)  # before the handler's log lines
            seen = len(ecr_ptc_emulator.calls())
            answers = invoke(event, receiver)
            made = [op for op, _ in ecr_ptc_emulator.calls()[seen:]]
            _show_answers(answers, made)
        print("\nRules left in the registry:", json.dumps(sorted(ecr_ptc_emulator.rules())))


def _use_emulator_secrets(event: dict[str, Any], secrets: Any, real_arns: dict[str, str]) -> None:
    """Create each secret an event names, and point the event at its real (random-suffixed) ARN."""
    for key in ("ResourceProperties", "OldResourceProperties"):
        properties = event.get(key) or {}
        arn = str(properties.get("CredentialArn") or "")
        match = SECRET_NAME.search(arn)
        if not match:
            continue
        if arn not in real_arns:
            real_arns[arn] = secrets.create_secret(
                Name=match["name"], SecretString='{"username": "demo", "accessToken": "demo"}'
            )["ARN"]
        properties["CredentialArn"] = real_arns[arn]


def _show_request(number: int, total: int, name: str, event: dict[str, Any]) -> None:
    asked = {k: v for k, v in event["ResourceProperties"].items() if k != "ServiceToken"}
    print(f"\n[{number}/{total}] {name}: {event['RequestType']} {event['LogicalResourceId']}", end="")
    if "PhysicalResourceId" in event:
        print(f" (id on record: {event['PhysicalResourceId']})", end="")
    print(f"\n  asked:    {json.dumps(asked)}", flush=True)


def _show_answers(answers: list[dict[str, Any]], calls: list[str]) -> None:
    print(f"  ECR calls: {', '.join(calls) if calls else '(none)'}")
    if len(answers) != 1:
        print(f"  !! {len(answers)} answers were PUT (expected exactly 1)")
    for answer in answers:
        print(f"  -> {answer['Status']}  PhysicalResourceId={answer['PhysicalResourceId']}")
        if answer.get("Data"):
            print(f"     Data:   {json.dumps(answer['Data'])}")
        if answer.get("Reason"):
            print(f"     Reason: {answer['Reason']}")


if __name__ == "__main__":
    main()
