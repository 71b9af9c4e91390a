"""./dev invoke EVENT.json [...]: `sam local invoke` without Docker.

Each event runs through the function as Lambda runs it (devkit.aws_lambda.ric: the package
src/Makefile builds, started by AWS's runtime interface client, fed by a Runtime API on
127.0.0.1, under the managed python3.13 runtime's environment with template.yaml's logging
configuration), one warm container for all the events given, in order, frozen between them
as Lambda freezes it. Its ResponseURL is a real HTTP receiver on 127.0.0.1, reached through a
link that Lambda's freeze holds; what CloudFormation would receive is printed, with the log
lines of each invocation (and a warning when the function returned with its answer still on
the way).

The ECR side is the project's emulator in server mode (started here, reached through
AWS_ENDPOINT_URL_ECR), where the secrets the events name are created first, as the demo does.
With --real-account it is the caller's own account instead: the caller's credentials and
Region, real endpoints (rules are really created and deleted), and each event's ServiceToken,
StackId and secret ARNs moved to the caller's account and Region, so that the provider's
check that a secret is in the rule's own account does not refuse the event files' example
account.
"""

from __future__ import annotations

import argparse
import json
import re
import sys
from pathlib import Path
from typing import Any

from devkit.aws_lambda import environment, package
from devkit.aws_lambda.context import FUNCTION_ARN
from devkit.aws_lambda.ric import RIC_VENV, InvocationResult, RuntimeContainer, ric_python

REGION = "us-east-1"
SECRET_NAME = re.compile(r":secret:(?P<name>.+)-[A-Za-z0-9]{6}$")  # Secrets Manager adds the suffix
_ARN = re.compile(r"^arn:(?P<partition>[^:]+):(?P<service>[^:]+):(?P<region>[^:]*):(?P<account>[0-9]{12}):")
_LAMBDA_ARN = re.compile(r"^arn:[^:]+:lambda:[^:]+:[0-9]{12}:function:(?P<name>[^:]+)")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="./dev invoke", description=__doc__.split("\n\n")[0])
    parser.add_argument("events", nargs="+", type=Path, help="request events (e.g. events/01-create.json)")
    parser.add_argument(
        "--log-level",
        default=None,
        choices=("DEBUG", "INFO", "WARNING", "ERROR"),
        help="template.yaml's LogLevel parameter (default: the template's default)",
    )
    parser.add_argument("--timeout", type=float, default=None, help="seconds (default: template.yaml's)")
    parser.add_argument("--no-logs", action="store_true", help="print the answers only")
    parser.add_argument(
        "--real-account",
        action="store_true",
        help="use your own AWS credentials, Region and real endpoints instead of the emulator "
        "(creates and deletes real pull-through cache rules)",
    )
    args = parser.parse_args(argv)
    events = [json.loads(path.read_text(encoding="utf-8")) for path in args.events]
    parameters = {"LogLevel": args.log_level} if args.log_level else {}
    config = environment.function_config(parameters)
    say("building the function package (src/Makefile, as sam build runs it) ...")
    task_root = package.build()
    say(f"package: {task_root}")

    from devkit.cloudformation.receiver import Receiver

    with Receiver() as receiver:
        if args.real_account:
            return _run_real(args, events, config, task_root, receiver)
        return _run_emulated(args, events, config, task_root, receiver)


def _run_emulated(
    args: argparse.Namespace,
    events: list[dict[str, Any]],
    config: environment.FunctionConfig,
    task_root: Path,
    receiver: Any,
) -> int:
    from devkit.aws_lambda.emulator_server import EmulatorServer

    with EmulatorServer() as emulator:
        say(f"ECR emulator (moto + ecr_ptc_emulator) at {emulator.url}; answers to a receiver on 127.0.0.1")
        secrets = emulator.secrets_client()
        created: dict[str, str] = {}
        for event in events:
            use_secrets(event, lambda name: _emulated_secret(secrets, name, created))
        credentials = environment.Credentials("testing", "testing", "testing")
        extra = {"AWS_ENDPOINT_URL_ECR": emulator.url}
        with _container(args, config, task_root, events, REGION, credentials, extra) as container:
            failures = _run_all(args, events, container, receiver, calls=emulator.calls)
        print("\nRules left in the emulator's registry:", json.dumps(sorted(emulator.rules())))
    return failures


def _run_real(
    args: argparse.Namespace,
    events: list[dict[str, Any]],
    config: environment.FunctionConfig,
    task_root: Path,
    receiver: Any,
) -> int:
    import boto3

    session = boto3.Session()
    region = session.region_name
    if not region:
        say("error: --real-account needs a Region: set AWS_REGION (or a profile's region).")
        return 2
    frozen = session.get_credentials()
    if frozen is None:
        say("error: --real-account found no AWS credentials (environment, profile or SSO).")
        return 2
    account = str(session.client("sts").get_caller_identity()["Account"])
    credentials = frozen.get_frozen_credentials()
    say(f"REAL ACCOUNT {account} in {region}: rules are really created and deleted.")
    secrets = session.client("secretsmanager")
    for event in events:
        move_to_account(event, account, region)
        use_secrets(event, lambda name: _real_secret(secrets, name))
    with _container(
        args,
        config,
        task_root,
        events,
        region,
        environment.Credentials(
            str(credentials.access_key), str(credentials.secret_key), credentials.token or ""
        ),
        {},
    ) as container:
        return _run_all(args, events, container, receiver, calls=None)


def _container(
    args: argparse.Namespace,
    config: environment.FunctionConfig,
    task_root: Path,
    events: list[dict[str, Any]],
    region: str,
    credentials: environment.Credentials,
    extra: dict[str, str],
) -> RuntimeContainer:
    function_arn = _function_arn(events)
    match = _LAMBDA_ARN.match(function_arn)
    name = match["name"] if match else "ecr-ptc-provider-ProviderFunction"
    env = environment.runtime_environment(
        config,
        task_root=task_root,
        function_name=name,
        region=region,
        credentials=credentials,
        runtime_bin=RIC_VENV / "bin",
        extra=extra,
    )
    timeout = args.timeout if args.timeout is not None else float(config.timeout_s)
    return RuntimeContainer(task_root, env, config.handler, timeout, function_arn, python=ric_python())


def _run_all(
    args: argparse.Namespace,
    events: list[dict[str, Any]],
    container: RuntimeContainer,
    receiver: Any,
    calls: Any,
) -> int:
    failures = 0
    for number, (path, event) in enumerate(zip(args.events, events, strict=True), 1):
        url = receiver.url()
        event["ResponseURL"] = url
        seen = len(calls()) if calls else 0
        result = container.invoke(event)
        answers = receiver.answers(url)
        made = calls()[seen:] if calls else None
        failures += show(number, len(events), path, event, result, answers, made, logs=not args.no_logs)
    return 1 if failures else 0


def show(
    number: int,
    total: int,
    path: Path,
    event: dict[str, Any],
    result: InvocationResult,
    answers: list[dict[str, Any]],
    calls: list[str] | None,
    logs: bool = True,
) -> int:
    """Print one invocation; 1 if CloudFormation would not have exactly one answer."""
    print(f"\n[{number}/{total}] {path}: {event.get('RequestType')} {event.get('LogicalResourceId')}", end="")
    if "PhysicalResourceId" in event:
        print(f" (id on record: {event['PhysicalResourceId']})", end="")
    start = f"cold start, init {result.init_s:.2f} s" if result.cold else "warm"
    print(f"\n  runtime:   {result.status} ({start}, pid {result.pid}, {result.duration_s:.2f} s)")
    if result.status != "response":
        print(f"             {result.body.decode(errors='replace')[:500]}")
    if calls is not None:
        print(f"  ECR calls: {', '.join(calls) if calls else '(none)'}")
    if result.in_flight_at_return:
        print(
            f"  !! the function returned with {result.in_flight_at_return} answer(s) still on the way: "
            "Lambda freezes the environment then (CloudFormation gets it late, or never)"
        )
    if len(answers) != 1:
        print(f"  !! {len(answers)} answers were PUT to the ResponseURL (CloudFormation takes exactly 1)")
    for answer in answers:
        print(f"  -> {answer.get('Status')}  PhysicalResourceId={answer.get('PhysicalResourceId')}")
        if answer.get("Data"):
            print(f"     Data:   {json.dumps(answer['Data'])}")
        if answer.get("Reason"):
            print(f"     Reason: {answer['Reason']}")
    if logs:
        records = [*result.init_logs, *result.logs]
        cold = ", the first ones from the cold start" if result.init_logs else ""
        print(f"  log ({len(records)} lines{cold}):")
        for record in records:
            print(f"     {record.text}")
    return 0 if len(answers) == 1 and not result.in_flight_at_return else 1


def say(text: str) -> None:
    print(text, file=sys.stderr, flush=True)


# -- events ----------------------------------------------------------------------------


def use_secrets(event: dict[str, Any], real_arn: Any) -> None:
    """Point each CredentialArn at `real_arn(secret name)` (secret ARNs end in a random suffix
    that the event files cannot know)."""
    for key in ("ResourceProperties", "OldResourceProperties"):
        properties = event.get(key)
        if not isinstance(properties, dict):
            continue
        arn = str(properties.get("CredentialArn") or "")
        match = SECRET_NAME.search(arn)
        if arn.startswith("arn:") and match:
            properties["CredentialArn"] = real_arn(match["name"]) or arn


def move_to_account(event: dict[str, Any], account: str, region: str) -> None:
    """The event as CloudFormation in `account`/`region` would send it: ServiceToken,
    StackId and secret ARNs (which the provider requires in the rule's account and Region)
    moved there. Role ARNs keep their account (IAM is global, a role may be another's)."""

    def move(value: Any) -> Any:
        if not isinstance(value, str):
            return value
        match = _ARN.match(value)
        if not match or match["service"] not in ("lambda", "cloudformation", "secretsmanager"):
            return value
        return f"arn:{match['partition']}:{match['service']}:{region}:{account}:" + value[match.end() :]

    for key in ("ServiceToken", "StackId"):
        if key in event:
            event[key] = move(event[key])
    for key in ("ResourceProperties", "OldResourceProperties"):
        properties = event.get(key)
        if isinstance(properties, dict):
            for name in ("ServiceToken", "CredentialArn"):
                if name in properties:
                    properties[name] = move(properties[name])


def _function_arn(events: list[dict[str, Any]]) -> str:
    for event in events:
        token = str((event.get("ResourceProperties") or {}).get("ServiceToken", ""))
        if _LAMBDA_ARN.match(token):
            return token
    return FUNCTION_ARN


def _emulated_secret(client: Any, name: str, created: dict[str, str]) -> str:
    if name not in created:
        body = json.dumps({"username": "demo", "accessToken": "demo"})
        created[name] = str(client.create_secret(Name=name, SecretString=body)["ARN"])
    return created[name]


def _real_secret(client: Any, name: str) -> str | None:
    """The ARN of the caller's secret of that name, if it can be read (else the event's)."""
    try:
        return str(client.describe_secret(SecretId=name)["ARN"])
    except Exception as error:  # noqa: BLE001 -- keep the event's ARN; the provider will say why
        say(f"note: secret {name!r} not read in your account ({type(error).__name__}): the event's ARN stays")
        return None


if __name__ == "__main__":
    sys.exit(main())
