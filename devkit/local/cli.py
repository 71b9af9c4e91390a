"""./dev local: deploy your own templates against the demo's local stack, kept running.

    ./dev local start                       MiniStack + the ECR emulator + the provider (sam)
    ./dev local env                         the export lines: eval "$(./dev local env)"
    ./dev local deploy --stack-name NAME --template-file FILE [--parameter-overrides K=V ...]
    ./dev local delete --stack-name NAME
    ./dev local stop                        stops everything start started

deploy and delete print what the operation did as ./dev demo does (devkit/demo/report.py) and
exit 1 when it failed or rolled back.
"""

from __future__ import annotations

import argparse
import contextlib
import json
import os
import signal
import subprocess
import sys
import textwrap
import time
from pathlib import Path
from typing import Any

from botocore.exceptions import ClientError

from devkit.cloudformation import templates
from devkit.cloudformation.ministack import CAPABILITIES, PROVIDER_STACK, ROOT, MiniStack, Operation
from devkit.demo import report
from devkit.local import state

SUCCEEDED = {"CREATE_COMPLETE", "UPDATE_COMPLETE", "DELETE_COMPLETE"}
NOT_RUNNING = "no local stack is running: ./dev local start"
STOP_TIMEOUT_S = 60.0
EXPORT = f"{PROVIDER_STACK}-ServiceToken"


class Refused(Exception):
    """What the user asked cannot be done; the message says why and what to do (exit 1)."""


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="./dev local", description=__doc__.split("\n\n", 1)[0])
    commands = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")
    commands.add_parser("start", help="start MiniStack, the ECR emulator and the provider; keep them running")
    commands.add_parser("env", help="print the export lines that point the AWS CLI and boto3 at it")
    deploy = commands.add_parser("deploy", help="create or update a stack (as aws cloudformation deploy)")
    deploy.add_argument("--stack-name", required=True)
    deploy.add_argument("--template-file", required=True, type=Path)
    deploy.add_argument("--parameter-overrides", nargs="*", default=[], metavar="KEY=VALUE")
    delete = commands.add_parser("delete", help="delete a stack")
    delete.add_argument("--stack-name", required=True)
    commands.add_parser("stop", help="stop everything start started and remove its state")
    args = parser.parse_args(argv)
    where = state.directory()
    try:
        if args.command == "start":
            return start(where)
        if args.command == "stop":
            return stop(where)
        running = _running(where)
        if args.command == "env":
            print(_exports(running))
            return 0
        ms = MiniStack.attach(running.url, running.ecr_url, Path(running.workdir))
        if args.command == "deploy":
            return deploy_stack(ms, args.stack_name, args.template_file, _overrides(args.parameter_overrides))
        return delete_stack(ms, args.stack_name)
    except Refused as refused:
        print(f"error: {refused}", file=sys.stderr)
        return 1
    except ClientError as error:
        print(f"error: {error}", file=sys.stderr)
        return 1


# ---- start, env, stop -------------------------------------------------------------------------


def start(where: Path) -> int:
    running = state.ready(where)
    if running is not None:
        print(f"A local stack is already running (supervisor pid {running.supervisor}):")
        _describe(running)
        return 0
    if state.supervisor_pid(where) is not None:
        raise Refused(
            f"a local stack is starting (supervisor pid {state.supervisor_pid(where)}); wait for it"
        )
    if state.leftovers(where):
        print(f"Cleaning up after a local stack whose supervisor died ({where}).")
        state.clean(where)
    where.mkdir(parents=True)
    (where / "tmp").mkdir()
    print("Starting MiniStack and the ECR emulator, then sam build && sam deploy of template.yaml ...")
    began = time.monotonic()
    env = {**os.environ, "TMPDIR": str(where / "tmp"), "PYTHONPATH": os.environ.get("PYTHONPATH", str(ROOT))}
    with open(where / "supervisor.log", "wb") as log:
        supervisor = subprocess.Popen(
            [sys.executable, "-m", state.SUPERVISOR_MODULE, str(where)],
            cwd=ROOT,
            env=env,
            stdin=subprocess.DEVNULL,
            stdout=subprocess.PIPE,
            stderr=log,
            start_new_session=True,  # not ended by this terminal's Ctrl-C or its hang-up
        )
    state.pid_file(where).write_text(str(supervisor.pid))
    assert supervisor.stdout is not None
    try:
        line = supervisor.stdout.readline()  # one line when ready (or failed), EOF if it died
    except BaseException:
        _end(supervisor.pid, where)
        raise
    finally:
        supervisor.stdout.close()
    message: dict[str, Any] = json.loads(line) if line.strip() else {"error": "the supervisor died"}
    running = state.ready(where)
    if "error" in message or running is None:
        _end(supervisor.pid, where)
        raise Refused(f"the local stack did not start: {message.get('error', message)}")
    print(f"Provider stack {PROVIDER_STACK}: {message['status']} ({message['seconds']} s of sam deploy)")
    print(
        f"Started in {time.monotonic() - began:.1f} s; it runs in the background (supervisor pid "
        f"{running.supervisor}, state in {where})."
    )
    _describe(running)
    return 0


def _describe(running: state.Running) -> None:
    print(f"  MiniStack (CloudFormation, Lambda, S3, IAM, Secrets Manager, ...): {running.url}")
    print(f"  ECR emulator (pull-through cache rules):                       {running.ecr_url}")
    print(f"  the provider's export: {EXPORT} = {running.outputs.get('ServiceToken', '?')}")
    print("    (in a template: ServiceToken: !ImportValue ecr-ptc-provider-ServiceToken)")
    print('Point the AWS CLI or boto3 at it (or: eval "$(./dev local env)"):')
    print("\n".join(f"  {line}" for line in _exports(running).splitlines()))
    print(
        "Deploy a template:  ./dev local deploy --stack-name NAME --template-file FILE "
        "[--parameter-overrides K=V ...]"
    )
    print("Delete it:          ./dev local delete --stack-name NAME")
    print("Stop everything:    ./dev local stop")


def _exports(running: state.Running) -> str:
    return "\n".join(f"export {name}={value}" for name, value in running.env().items())


def _running(where: Path) -> state.Running:
    running = state.ready(where)
    if running is None:
        if state.leftovers(where):
            state.clean(where)
            raise Refused(f"{NOT_RUNNING} (the last one's supervisor had died; its state is removed)")
        raise Refused(NOT_RUNNING)
    return running


def stop(where: Path) -> int:
    pid = state.supervisor_pid(where)
    if pid is None:
        if state.leftovers(where):
            state.clean(where)
            print(f"The local stack's supervisor had died; what it left is removed ({where}).")
            return 0
        raise Refused("no local stack is running (nothing to stop)")
    _end(pid, where)
    print("Stopped MiniStack, the ECR emulator and the provider's Lambda workers; state removed.")
    return 0


def _end(pid: int, where: Path) -> None:
    """SIGTERM to the supervisor, which stops what it owns; wait for it (it is not our child
    once the start command has exited, so /proc is watched), then clean what is left."""
    with contextlib.suppress(ProcessLookupError):
        os.kill(pid, signal.SIGTERM)
    deadline = time.monotonic() + STOP_TIMEOUT_S
    while state.is_supervisor(pid, where) and time.monotonic() < deadline:
        time.sleep(0.05)
    if state.is_supervisor(pid, where):
        os.killpg(pid, signal.SIGKILL)
    state.clean(where)


# ---- stack operations -------------------------------------------------------------------------


def deploy_stack(ms: MiniStack, name: str, template_file: Path, overrides: dict[str, str]) -> int:
    """Create the stack, or update it (parameters not overridden keep their values, as with
    `aws cloudformation deploy`); a stack left in ROLLBACK_COMPLETE by a failed create is
    deleted first (as `sam deploy` does)."""
    if not template_file.is_file():
        raise Refused(f"--template-file {template_file}: no such file")
    body = template_file.read_text()
    template = _template(body)
    for note in ministack_departures(template or {}):
        print(textwrap.fill(f"note: {note}", width=100, subsequent_indent="      "))
    cfn = ms.client("cloudformation")
    current = _stack(ms, name)
    if current is not None and current["StackStatus"] == "ROLLBACK_COMPLETE":
        print(f"Stack {name} is in ROLLBACK_COMPLETE (its create failed): deleting it first.")
        ms.delete_stack(name)
        current = None
    if current is None:
        print(f"Creating stack {name} from {template_file}")
        op = ms.create_stack(name, body, overrides)
    else:
        declared = set((template or {}).get("Parameters", {}))
        kept = [p["ParameterKey"] for p in current.get("Parameters", [])]
        parameters: list[dict[str, Any]] = [
            {"ParameterKey": k, "ParameterValue": v} for k, v in overrides.items()
        ]
        parameters += [
            {"ParameterKey": k, "UsePreviousValue": True} for k in kept if k in declared - set(overrides)
        ]

        def update() -> str:
            return str(
                cfn.update_stack(
                    StackName=name, TemplateBody=body, Parameters=parameters, Capabilities=CAPABILITIES
                )["StackId"]
            )

        print(f"Updating stack {name} from {template_file}")
        try:
            op = ms.run(name, "update", update)
        except ClientError as error:
            if "No updates are to be performed" not in str(error):
                raise
            print(f"No changes to deploy: stack {name} is up to date.")
            return 0
    return _report(op, template)


def delete_stack(ms: MiniStack, name: str) -> int:
    current = _stack(ms, name)
    if current is None:
        raise Refused(
            f"--stack-name {name}: no such stack (./dev local env, then aws cloudformation list-stacks)"
        )
    print(f"Deleting stack {name}")
    template = _template(ms.client("cloudformation").get_template(StackName=name)["TemplateBody"])
    return _report(ms.delete_stack(name), template)


def ministack_departures(template: dict[str, Any]) -> list[str]:
    """Where this template meets a place MiniStack departs from CloudFormation in a way the
    provider notices: `Ref` of an AWS::SecretsManager::Secret gives its name, not its ARN, so a
    CredentialArn written that way is refused here and works on AWS."""
    resources = template.get("Resources")
    if not isinstance(resources, dict):
        return []  # CloudFormation says what is wrong with it
    notes = []
    for name, resource in resources.items():
        if not isinstance(resource, dict) or resource.get("Type") != "Custom::PullThroughCacheRule":
            continue
        credential = (resource.get("Properties") or {}).get("CredentialArn")
        secret = credential.get("Ref") if isinstance(credential, dict) else None
        if (
            isinstance(secret, str)
            and (resources.get(secret) or {}).get("Type") == "AWS::SecretsManager::Secret"
        ):
            notes.append(
                f"CredentialArn of {name} is !Ref {secret}, an AWS::SecretsManager::Secret: MiniStack gives "
                "its name there, where CloudFormation gives its ARN, so the provider will refuse it here; "
                f"write !GetAtt {secret}.Id (the ARN on both)."
            )
    return notes


def _report(op: Operation, template: dict[str, Any] | None) -> int:
    report.show(op, template)
    if op.status not in SUCCEEDED:
        print(f"Stack {op.stack_name} ended {op.status}: the operation failed (the Reason is above).")
        return 1
    return 0


def _template(body: Any) -> dict[str, Any] | None:
    """The template in long form, to name each output's expression; None if it cannot be read
    (CloudFormation then says what is wrong with it)."""
    if isinstance(body, dict):
        return body
    try:
        parsed = templates.parse(str(body))
    except Exception:  # noqa: BLE001 (any unreadable template: CloudFormation's error is shown)
        return None
    return parsed if isinstance(parsed, dict) else None


def _stack(ms: MiniStack, name: str) -> dict[str, Any] | None:
    try:
        stacks = ms.client("cloudformation").describe_stacks(StackName=name)["Stacks"]
    except ClientError as error:
        if "does not exist" in str(error):
            return None
        raise
    live = [s for s in stacks if s["StackStatus"] != "DELETE_COMPLETE"]
    return dict(live[0]) if live else None


def _overrides(pairs: list[str]) -> dict[str, str]:
    overrides = {}
    for pair in pairs:
        key, equals, value = pair.partition("=")
        if not equals or not key:
            raise Refused(f"--parameter-overrides {pair!r}: write KEY=VALUE, e.g. EcrRepositoryPrefix=k8s")
        overrides[key] = value
    return overrides


if __name__ == "__main__":
    sys.exit(main())
