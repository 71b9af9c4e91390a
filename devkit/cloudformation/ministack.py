"""MiniStack (an independent CloudFormation, Lambda, S3, IAM and Secrets Manager) with the
project's ECR emulator beside it, driven the way a user deploys.

    with MiniStack() as ms:
        ms.deploy_provider()                          # the real `sam build` + `sam deploy`
        ms.create_secret("ecr-pullthroughcache/ghcr", {"username": "u", "accessToken": "t"})
        op = ms.create_stack("ghcr-cache", ROOT / "examples/ghcr.yaml", {"CredentialArn": arn})
        op.status, op.events, op.outputs, op.ecr_calls, op.rules, op.requests

`start()` runs, on free ports of 127.0.0.1:
- the ECR emulator (`python -m ecr_ptc_emulator.server`, this interpreter), which checks a
  rule's CredentialArn against MiniStack's Secrets Manager (--secrets-endpoint);
- MiniStack (`python -m ministack` in .venv-ministack, requirements-ministack.txt) with
  AWS_ENDPOINT_URL_ECR pointing at the emulator: MiniStack's Lambda runs the function in a
  worker process that inherits this environment, so the provider's ECR client reaches the
  emulator while every other client (CloudFormation, Secrets Manager) reaches MiniStack.
  devkit/cloudformation/ministack_recorder.py wraps it to record each custom-resource request
  and answer (`requests`).
`MiniStack.attach(url, ecr_url, workdir)` drives one that another process started (./dev
local's supervisor) without owning it. `stop()` (and leaving the `with`) ends both process
groups, MiniStack's Lambda workers included, and removes the working directory. If this
process dies without stopping them, both children get SIGTERM from the kernel
(PR_SET_PDEATHSIG, see lifeline.py): call start() from a thread that lives as long as the
MiniStack (the signal follows the starting thread's exit).

`deploy_provider()` deploys template.yaml exactly as the README says: `sam build` then
`sam deploy` (samconfig.toml's defaults: a SAM-managed bucket, CAPABILITY_IAM), the SAM CLI of
.venv-tools with AWS_ENDPOINT_URL set to MiniStack. Each stack operation returns an
`Operation`: the final status, the stack events it produced (with the provider's Reason), the
outputs, the ECR calls it made, the rules the registry holds after it, and the requests the
provider received with their answers.
"""

from __future__ import annotations

import contextlib
import json
import os
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
import urllib.request
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from types import TracebackType
from typing import Any

import boto3
from botocore.config import Config
from botocore.exceptions import ClientError

ROOT = Path(__file__).resolve().parents[2]
ACCOUNT = "123456789012"
REGION = "us-east-1"
PROVIDER_STACK = "ecr-ptc-provider"
MINISTACK_PYTHON = ROOT / ".venv-ministack" / "bin" / "python"
SAM = ROOT / ".venv-tools" / "bin" / "sam"
RECORDER = Path(__file__).with_name("ministack_recorder.py")
CAPABILITIES = ["CAPABILITY_IAM", "CAPABILITY_NAMED_IAM", "CAPABILITY_AUTO_EXPAND"]
START_TIMEOUT_S = 60.0
OPERATION_TIMEOUT_S = 600.0  # a stack operation; the provider's own Timeout is 120 s a request
POLL_S = 0.05
_CLIENT_CONFIG = Config(retries={"max_attempts": 3, "mode": "standard"}, connect_timeout=5, read_timeout=60)

Template = str | Path | Mapping[str, Any]


class MiniStackError(RuntimeError):
    """MiniStack or the emulator did not start, or a deploy command failed (with its output)."""


@dataclass
class StackEvent:
    logical_id: str
    resource_type: str
    status: str
    reason: str
    physical_id: str

    def __str__(self) -> str:
        reason = f"  {self.reason}" if self.reason else ""
        return f"{self.logical_id} {self.status}{reason}"


@dataclass
class CustomResourceRequest:
    """One request MiniStack sent to a custom resource's function, and the answer it got."""

    event: dict[str, Any]  # as the function received it, ResponseURL replaced by "<ResponseURL>"
    answer: dict[str, Any] | None  # the JSON PUT to the ResponseURL; None if none arrived
    # when MiniStack invoked the function and when the answer reached it (time.time(), as the
    # recorder wrote them; 0.0 when not recorded)
    sent_at: float = 0.0
    answered_at: float = 0.0

    @property
    def request_type(self) -> str:
        return str(self.event["RequestType"])

    @property
    def logical_id(self) -> str:
        return str(self.event["LogicalResourceId"])

    @property
    def physical_id(self) -> str | None:
        value = self.event.get("PhysicalResourceId")
        return None if value is None else str(value)

    @property
    def properties(self) -> dict[str, Any]:
        """ResourceProperties without ServiceToken."""
        return {k: v for k, v in self.event["ResourceProperties"].items() if k != "ServiceToken"}

    @property
    def old_properties(self) -> dict[str, Any] | None:
        old = self.event.get("OldResourceProperties")
        return None if old is None else {k: v for k, v in old.items() if k != "ServiceToken"}

    def summary(self) -> str:
        """e.g. "Update Cache k8s -> SUCCESS k8s-2"."""
        on_record = f" {self.physical_id}" if self.physical_id else ""
        if self.answer is None:
            return f"{self.request_type} {self.logical_id}{on_record} -> (no answer)"
        return (
            f"{self.request_type} {self.logical_id}{on_record} -> "
            f"{self.answer.get('Status')} {self.answer.get('PhysicalResourceId')}"
        )


@dataclass
class Operation:
    """What one stack operation did, read back once the stack reached its final status."""

    stack_name: str
    stack_id: str
    action: str  # create | update | delete | deploy (sam deploy)
    status: str
    status_reason: str
    seconds: float
    events: list[StackEvent] = field(default_factory=list)  # this operation's, oldest first
    outputs: dict[str, str] = field(default_factory=dict)
    ecr_calls: list[tuple[str, dict[str, Any]]] = field(default_factory=list)
    rules: dict[str, dict[str, Any]] = field(default_factory=dict)  # held after the operation
    requests: list[CustomResourceRequest] = field(default_factory=list)
    output_text: str = ""  # what the command printed (sam deploy)

    def reasons(self) -> list[str]:
        """The non-empty resource Reasons of this operation's events (the provider's among them)."""
        return [e.reason for e in self.events if e.reason and e.resource_type != "AWS::CloudFormation::Stack"]

    def request_summaries(self) -> list[str]:
        return [r.summary() for r in self.requests]

    def ecr_operations(self) -> list[str]:
        return [name for name, _ in self.ecr_calls]


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


class MiniStack:
    """MiniStack and the ECR emulator on 127.0.0.1; see the module's docstring."""

    def __init__(
        self,
        root: Path = ROOT,
        account: str = ACCOUNT,
        region: str = REGION,
        ministack_python: Path = MINISTACK_PYTHON,
        sam_cli: Path = SAM,
        log_level: str = "WARNING",
        poll_s: float = POLL_S,
    ) -> None:
        self.root = root
        self.poll_s = poll_s  # between DescribeStacks while waiting for a stack's final status
        self.account = account
        self.region = region
        self.ministack_python = ministack_python
        self.sam_cli = sam_cli
        self.log_level = log_level
        self.url = ""
        self.ecr_url = ""
        self.workdir: Path | None = None
        self._processes: list[subprocess.Popen[bytes]] = []
        self._record: Path | None = None
        self._clients: dict[str, Any] = {}

    # ---- processes ------------------------------------------------------------------------

    def start(self, under: Path | None = None) -> MiniStack:
        """Start both on free ports; the working directory goes in `under` (default: the
        system's temporary directory) and is removed by stop()."""
        if not self.ministack_python.exists():
            raise MiniStackError(
                f"{self.ministack_python} is missing: MiniStack lives in .venv-ministack "
                "(./dev demo or ./dev test creates it from requirements-ministack.txt)"
            )
        self.workdir = Path(tempfile.mkdtemp(prefix="ecr-ptc-ministack-", dir=under))
        (self.workdir / "tmp").mkdir()
        self._record = self.workdir / "custom-resource-requests.jsonl"
        self._record.touch()
        port = free_port()
        self.url = f"http://127.0.0.1:{port}"
        try:
            self.ecr_url = self._start_emulator()
            self._start_ministack(port)
        except BaseException:
            self.stop()
            raise
        return self

    def _start_emulator(self) -> str:
        assert self.workdir is not None
        log = self.workdir / "ecr-emulator.log"
        env = {
            **_base_env(),
            "AWS_ACCESS_KEY_ID": "testing",
            "AWS_SECRET_ACCESS_KEY": "testing",
            "AWS_DEFAULT_REGION": self.region,
            "PYTHONPATH": str(self.root),
            "ECR_PTC_PARENT_PID": str(os.getpid()),
        }
        # lifeline: the emulator ends if this process dies without calling stop()
        command = [sys.executable, "-m", "devkit.cloudformation.lifeline", "ecr_ptc_emulator.server"]
        command += ["--port", "0"]
        command += ["--secrets-endpoint", self.url]
        with open(log, "wb") as out:
            process = subprocess.Popen(
                command,
                cwd=self.root,
                env=env,
                stdout=subprocess.PIPE,
                stderr=out,
                start_new_session=True,
            )
        self._processes.append(process)
        assert process.stdout is not None
        line = process.stdout.readline().decode()  # "ECR emulator listening on http://127.0.0.1:N"
        if "listening on " not in line:
            raise MiniStackError(f"the ECR emulator did not start: {line!r}\n{_tail(log)}")
        return line.rsplit("listening on ", 1)[1].strip()

    def _start_ministack(self, port: int) -> None:
        assert self.workdir is not None and self._record is not None
        log = self.workdir / "ministack.log"
        env = {
            **_base_env(),
            # The Lambda workers inherit all of this: no PYTHONPATH, so the function imports
            # only its own package (and the interpreter's standard library).
            "TMPDIR": str(self.workdir / "tmp"),
            "BIND_HOST": "127.0.0.1",
            "GATEWAY_PORT": str(port),
            "MINISTACK_HOST": "127.0.0.1",
            "MINISTACK_ACCOUNT_ID": self.account,
            "MINISTACK_REGION": self.region,
            "LOG_LEVEL": self.log_level,
            "AWS_SECRET_ACCESS_KEY": "test",
            "AWS_ENDPOINT_URL_ECR": self.ecr_url,
            "ECR_PTC_CR_RECORD": str(self._record),
            "ECR_PTC_PARENT_PID": str(os.getpid()),  # MiniStack ends if this process dies
            "PYTHONDONTWRITEBYTECODE": "1",
        }
        with open(log, "wb") as out:
            process = subprocess.Popen(
                [str(self.ministack_python), "-P", str(RECORDER)],
                cwd=self.workdir,
                env=env,
                stdout=out,
                stderr=subprocess.STDOUT,
                start_new_session=True,
            )
        self._processes.append(process)
        deadline = time.monotonic() + START_TIMEOUT_S
        while True:
            if process.poll() is not None:
                raise MiniStackError(f"MiniStack exited with {process.returncode}:\n{_tail(log)}")
            try:
                with urllib.request.urlopen(f"{self.url}/_ministack/health", timeout=2) as response:
                    if response.status == 200:
                        return
            except OSError:
                pass
            if time.monotonic() > deadline:
                raise MiniStackError(f"MiniStack did not answer in {START_TIMEOUT_S:.0f} s:\n{_tail(log)}")
            time.sleep(0.1)

    @classmethod
    def attach(cls, url: str, ecr_url: str, workdir: Path) -> MiniStack:
        """A driver of a MiniStack another process started (and will stop): its endpoints and the
        working directory where its recorder writes the custom-resource requests. Everything but
        start() works; stop() ends nothing and removes nothing."""
        attached = cls()
        attached.url, attached.ecr_url = url, ecr_url
        attached._record = workdir / "custom-resource-requests.jsonl"
        return attached

    def stop(self) -> None:
        """End every process this object started (each with its process group), then clean up."""
        for process in reversed(self._processes):
            _end_group(process)
        self._processes.clear()
        self._clients.clear()
        if self.workdir is not None:
            shutil.rmtree(self.workdir, ignore_errors=True)
            self.workdir = None

    def __enter__(self) -> MiniStack:
        return self.start()

    def __exit__(
        self, kind: type[BaseException] | None, error: BaseException | None, tb: TracebackType | None
    ) -> None:
        self.stop()

    def log(self, which: str = "ministack") -> str:
        """The output of MiniStack ("ministack") or of the emulator ("ecr-emulator")."""
        assert self.workdir is not None
        path = self.workdir / f"{which}.log"
        return path.read_text(errors="replace") if path.exists() else ""

    # ---- clients and the registry ---------------------------------------------------------

    def client(self, service: str) -> Any:
        """A boto3 client for MiniStack's `service` (credentials: the account id as key id)."""
        if service not in self._clients:
            self._clients[service] = boto3.client(
                service,  # type: ignore[call-overload]
                endpoint_url=self.url,
                region_name=self.region,
                aws_access_key_id=self.account,
                aws_secret_access_key="test",
                aws_session_token="",
                config=_CLIENT_CONFIG,
            )
        return self._clients[service]

    def cli_env(self) -> dict[str, str]:
        """The environment that points the AWS CLI and boto3 at this MiniStack (cli_env)."""
        return cli_env(self.url, self.ecr_url, self.account, self.region)

    def ecr_calls(self) -> list[tuple[str, dict[str, Any]]]:
        """Every pull-through cache call the emulator received, in order (errors included)."""
        return [(str(op), dict(params)) for op, params in self._control_get("calls")]

    def ecr_rules(self) -> dict[str, dict[str, Any]]:
        """The rules the registry holds, by prefix."""
        return dict(self._control_get("rules"))

    def ecr_fault(self, action: str, **arguments: Any) -> None:
        """Inject a fault (see ecr_ptc_emulator.server), e.g. ecr_fault("fail",
        operation="UpdatePullThroughCacheRule", code="AccessDeniedException", status=400)."""
        body = json.dumps({"action": action, "account_id": self.account, "region": self.region, **arguments})
        request = urllib.request.Request(f"{self.ecr_url}/_ecr_ptc/faults", data=body.encode())
        with urllib.request.urlopen(request, timeout=10):
            pass

    def ecr_teach_upstream(self, kind: str, host: str, needs_credential: bool = False) -> None:
        """Make the emulator's ECR cache one more upstream (ecr_ptc_emulator.teach_upstream)."""
        body = {"kind": kind, "host": host, "needs_credential": needs_credential}
        body.update(account_id=self.account, region=self.region)
        request = urllib.request.Request(f"{self.ecr_url}/_ecr_ptc/upstreams", data=json.dumps(body).encode())
        with urllib.request.urlopen(request, timeout=10):
            pass

    def ecr(self) -> Any:
        """A boto3 ECR client for the emulator itself (what a user's `aws ecr` would reach)."""
        if "ecr" not in self._clients:
            self._clients["ecr"] = boto3.client(
                "ecr",
                endpoint_url=self.ecr_url,
                region_name=self.region,
                aws_access_key_id=self.account,
                aws_secret_access_key="test",
                config=_CLIENT_CONFIG,
            )
        return self._clients["ecr"]

    def create_rule(self, prefix: str, upstream_url: str, **extra: Any) -> None:
        """A rule made outside any stack (by hand), straight through the emulator's ECR API."""
        self.ecr().create_pull_through_cache_rule(
            ecrRepositoryPrefix=prefix, upstreamRegistryUrl=upstream_url, **extra
        )

    def delete_rule(self, prefix: str) -> None:
        """Remove a rule by hand (e.g. one a DeletionPolicy Retain left)."""
        self.ecr().delete_pull_through_cache_rule(ecrRepositoryPrefix=prefix)

    def _control_get(self, route: str) -> Any:
        url = f"{self.ecr_url}/_ecr_ptc/{route}?account_id={self.account}&region={self.region}"
        with urllib.request.urlopen(url, timeout=10) as response:
            return json.loads(response.read())

    def create_secret(self, name: str, value: Mapping[str, str] | str) -> str:
        """A Secrets Manager secret in MiniStack (where ECR looks it up); returns its ARN."""
        text = value if isinstance(value, str) else json.dumps(dict(value))
        return str(self.client("secretsmanager").create_secret(Name=name, SecretString=text)["ARN"])

    def requests(self) -> list[CustomResourceRequest]:
        """Every custom-resource request MiniStack has sent so far, with its answer."""
        return _pair(self._read_record(0)[0])

    def _read_record(self, offset: int) -> tuple[list[dict[str, Any]], int]:
        assert self._record is not None
        with open(self._record, "rb") as source:
            source.seek(offset)
            data = source.read()
        complete = data[: data.rfind(b"\n") + 1]
        lines = [json.loads(line) for line in complete.splitlines() if line.strip()]
        return lines, offset + len(complete)

    def function_logs(self, function_name: str, since: float = 0.0) -> list[str]:
        """A function's log lines in MiniStack's CloudWatch Logs (/aws/lambda/<name>): the
        provider's, the health function's, any function's, oldest first."""
        logs = self.client("logs")
        group = f"/aws/lambda/{function_name}"
        lines: list[str] = []
        kwargs: dict[str, Any] = {"logGroupName": group, "startTime": int(since * 1000)}
        try:
            while True:
                page = logs.filter_log_events(**kwargs)
                lines += [str(e["message"]).rstrip("\n") for e in page.get("events", [])]
                if not page.get("nextToken"):
                    return lines
                kwargs["nextToken"] = page["nextToken"]
        except ClientError as e:
            if e.response.get("Error", {}).get("Code") == "ResourceNotFoundException":
                return lines
            raise

    def invoke(self, function_name: str, event: Mapping[str, Any]) -> tuple[Any, list[str]]:
        """Invoke a deployed function synchronously (RequestResponse) with `event`; return its
        answer and the log lines it wrote in this invocation (MiniStack's Lambda has written a
        worker's output to the log group by the time the invocation answers). A function error
        raises, with the function's own error."""
        before = len(self.function_logs(function_name))
        answer = self.client("lambda").invoke(
            FunctionName=function_name, Payload=json.dumps(dict(event)).encode()
        )
        payload = answer["Payload"].read()
        if answer.get("FunctionError"):
            raise MiniStackError(f"{function_name} failed: {payload.decode(errors='replace')}")
        return json.loads(payload or b"null"), self.function_logs(function_name)[before:]

    # ---- stack operations -----------------------------------------------------------------

    def run(self, stack_name: str, action: str, start: Callable[[], str | None]) -> Operation:
        """Run `start` (which begins a stack operation and returns the StackId, or None to look
        it up by name), wait for the stack's final status, and return what the operation did.
        Lets callers drive any operation (change sets, imports) with the same read-back."""
        stack_id = self._stack_id(stack_name)
        seen_events = self._event_ids(stack_id) if stack_id else set()
        calls_before = len(self.ecr_calls())
        _, record_offset = self._read_record(0)
        began = time.monotonic()
        stack_id = start() or stack_id or self._stack_id(stack_name)
        if stack_id is None:
            raise MiniStackError(f"stack {stack_name} was not found after {action}")
        stack = self._wait(stack_id)
        seconds = time.monotonic() - began
        records, _ = self._read_record(record_offset)
        return Operation(
            stack_name=stack_name,
            stack_id=stack_id,
            action=action,
            status=str(stack["StackStatus"]),
            status_reason=str(stack.get("StackStatusReason") or ""),
            seconds=seconds,
            events=self._events(stack_id, seen_events),
            outputs={str(o["OutputKey"]): str(o["OutputValue"]) for o in stack.get("Outputs", [])},
            ecr_calls=self.ecr_calls()[calls_before:],
            rules=self.ecr_rules(),
            requests=[r for r in _pair(records) if r.event.get("StackId") == stack_id],
        )

    def create_stack(
        self,
        stack_name: str,
        template: Template,
        parameters: Mapping[str, str] | None = None,
        disable_rollback: bool = False,
    ) -> Operation:
        cfn = self.client("cloudformation")
        body = _template_body(template)

        def start() -> str:
            return str(
                cfn.create_stack(
                    StackName=stack_name,
                    TemplateBody=body,
                    Parameters=_parameters(parameters),
                    Capabilities=CAPABILITIES,
                    DisableRollback=disable_rollback,
                )["StackId"]
            )

        return self.run(stack_name, "create", start)

    def update_stack(
        self, stack_name: str, template: Template, parameters: Mapping[str, str] | None = None
    ) -> Operation:
        """UpdateStack; raises ClientError "No updates are to be performed." on a no-op."""
        cfn = self.client("cloudformation")
        body = _template_body(template)

        def start() -> str:
            return str(
                cfn.update_stack(
                    StackName=stack_name,
                    TemplateBody=body,
                    Parameters=_parameters(parameters),
                    Capabilities=CAPABILITIES,
                )["StackId"]
            )

        return self.run(stack_name, "update", start)

    def delete_stack(self, stack_name: str) -> Operation:
        cfn = self.client("cloudformation")
        stack_id = self._stack_id(stack_name)
        if stack_id is None:
            raise MiniStackError(f"stack {stack_name} does not exist")

        def start() -> str:
            cfn.delete_stack(StackName=stack_id)
            return stack_id

        return self.run(stack_name, "delete", start)

    def deploy(
        self, stack_name: str, template: Template, parameters: Mapping[str, str] | None = None
    ) -> Operation:
        """Create the stack, or update it if it exists (as `aws cloudformation deploy`)."""
        if self._stack_id(stack_name) is None:
            return self.create_stack(stack_name, template, parameters)
        return self.update_stack(stack_name, template, parameters)

    def outputs(self, stack_name: str) -> dict[str, str]:
        stack = self.client("cloudformation").describe_stacks(StackName=stack_name)["Stacks"][0]
        return {str(o["OutputKey"]): str(o["OutputValue"]) for o in stack.get("Outputs", [])}

    # ---- the provider, as `sam build && sam deploy` --------------------------------------

    def sam_env(self) -> dict[str, str]:
        """The environment the SAM CLI runs in: MiniStack as every endpoint, no profile, no
        telemetry, no version check (a SAM config directory of its own)."""
        assert self.workdir is not None
        app_dir = self.workdir / "sam-cli"
        app_dir.mkdir(exist_ok=True)
        metadata = {"telemetryEnabled": False, "lastVersionCheck": time.time()}
        (app_dir / "metadata.json").write_text(json.dumps(metadata))
        path = [str(self.root / ".venv" / "bin"), str(Path(sys.executable).parent)]
        path.append(os.environ.get("PATH", ""))
        return {
            **_base_env(),
            "PATH": os.pathsep.join(p for p in path if p),  # python3.13 for src/Makefile; make
            "AWS_ENDPOINT_URL": self.url,
            "AWS_ACCESS_KEY_ID": self.account,
            "AWS_SECRET_ACCESS_KEY": "test",
            "AWS_REGION": self.region,
            "AWS_DEFAULT_REGION": self.region,
            "AWS_CONFIG_FILE": os.devnull,
            "AWS_SHARED_CREDENTIALS_FILE": os.devnull,
            "AWS_EC2_METADATA_DISABLED": "true",
            "SAM_CLI_TELEMETRY": "0",
            "SAM_CLI_POLL_DELAY": "0.2",  # seconds between sam deploy's polls (default 5)
            "__SAM_CLI_APP_DIR": str(app_dir),
            "TMPDIR": str(self.workdir / "tmp"),  # sam build leaves empty directories in it
        }

    def sam(self, *arguments: str, cwd: Path | None = None) -> str:
        """Run the SAM CLI of .venv-tools against MiniStack; return its output, raise on failure."""
        if not self.sam_cli.exists():
            raise MiniStackError(f"{self.sam_cli} is missing (./dev demo or ./dev test installs it)")
        result = subprocess.run(  # noqa: PLW1510 (the status is checked below)
            [str(self.sam_cli), *arguments],
            cwd=cwd or self.root,
            env=self.sam_env(),
            stdin=subprocess.DEVNULL,
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
            timeout=OPERATION_TIMEOUT_S,
        )
        text = result.stdout.decode(errors="replace")
        if result.returncode != 0:
            raise MiniStackError(f"sam {' '.join(arguments)} failed ({result.returncode}):\n{text}")
        return text

    def deploy_provider(
        self,
        stack_name: str = PROVIDER_STACK,
        parameters: Mapping[str, str] | None = None,
        build_dir: Path | None = None,
        source: Path | None = None,
        build: bool = True,
    ) -> Operation:
        """`sam build` then `sam deploy`, from the project's directory with samconfig.toml.

        Without `build_dir` these are exactly the README's commands (the build goes to
        .aws-sam/ as usual); with it, `--build-dir/--cache-dir` keep the repository clean and
        `sam deploy --template-file` takes the built template from there. `source` is the
        directory both run in (template.yaml, samconfig.toml, src/; the project's own by
        default): a copy with other code deploys another version of the provider. `build`
        False deploys what an earlier build_provider() left in `build_dir`.
        """
        source = source or self.root
        building = ["build"]
        deploy: list[str] = ["deploy", "--stack-name", stack_name, "--no-progressbar"]
        if build_dir is not None:
            building += ["--build-dir", str(build_dir / "build"), "--cache-dir", str(build_dir / "cache")]
            deploy += ["--template-file", str(build_dir / "build" / "template.yaml")]
            deploy += ["--config-file", str(source / "samconfig.toml")]
        if parameters:
            deploy += ["--parameter-overrides", *(f"{k}={v}" for k, v in parameters.items())]
        printed: list[str] = [self.sam(*building, cwd=source)] if build else []

        def start() -> None:
            printed.append(self.sam(*deploy, cwd=source))

        operation = self.run(stack_name, "deploy", start)
        operation.output_text = "".join(printed)
        return operation

    def build_provider(self, build_dir: Path, source: Path | None = None) -> str:
        """`sam build` alone (into `build_dir`), for a later deploy_provider(build=False)."""
        cache = ["--build-dir", str(build_dir / "build"), "--cache-dir", str(build_dir / "cache")]
        return self.sam("build", *cache, cwd=source or self.root)

    def provider_function_name(self, stack_name: str = PROVIDER_STACK) -> str:
        return self.outputs(stack_name)["FunctionName"]

    # ---- reading back ---------------------------------------------------------------------

    def _stack_id(self, stack_name: str) -> str | None:
        try:
            stacks = self.client("cloudformation").describe_stacks(StackName=stack_name)["Stacks"]
        except ClientError as e:
            if "does not exist" in str(e):
                return None
            raise
        live = [s for s in stacks if s["StackStatus"] != "DELETE_COMPLETE"]
        return str(live[0]["StackId"]) if live else None

    def _wait(self, stack_id: str) -> dict[str, Any]:
        cfn = self.client("cloudformation")
        deadline = time.monotonic() + OPERATION_TIMEOUT_S
        while True:
            stack: dict[str, Any] = cfn.describe_stacks(StackName=stack_id)["Stacks"][0]
            if not str(stack["StackStatus"]).endswith("_IN_PROGRESS"):
                return stack
            if time.monotonic() > deadline:
                raise MiniStackError(f"{stack_id} still {stack['StackStatus']} after {OPERATION_TIMEOUT_S} s")
            time.sleep(self.poll_s)

    def _all_events(self, stack_id: str) -> list[dict[str, Any]]:
        cfn = self.client("cloudformation")
        events: list[dict[str, Any]] = []
        kwargs: dict[str, Any] = {"StackName": stack_id}
        while True:
            page = cfn.describe_stack_events(**kwargs)
            events += page["StackEvents"]
            if not page.get("NextToken"):
                return events
            kwargs["NextToken"] = page["NextToken"]

    def _event_ids(self, stack_id: str) -> set[str]:
        return {str(e["EventId"]) for e in self._all_events(stack_id)}

    def _events(self, stack_id: str, seen: set[str]) -> list[StackEvent]:
        # DescribeStackEvents lists the newest first: reversed, the order they happened in
        fresh = [e for e in reversed(self._all_events(stack_id)) if str(e["EventId"]) not in seen]
        return [
            StackEvent(
                logical_id=str(e["LogicalResourceId"]),
                resource_type=str(e.get("ResourceType", "")),
                status=str(e["ResourceStatus"]),
                reason=str(e.get("ResourceStatusReason") or ""),
                physical_id=str(e.get("PhysicalResourceId") or ""),
            )
            for e in fresh
        ]


def _pair(records: list[dict[str, Any]]) -> list[CustomResourceRequest]:
    answers = {r["answer_key"]: r for r in records if r["kind"] == "answer"}
    paired = []
    for r in records:
        if r["kind"] == "request":
            answer = answers.get(r["answer_key"])
            paired.append(
                CustomResourceRequest(
                    event=r["event"],
                    answer=None if answer is None else answer["answer"],
                    sent_at=float(r.get("t", 0.0)),
                    answered_at=0.0 if answer is None else float(answer.get("t", 0.0)),
                )
            )
    return paired


def _template_body(template: Template) -> str:
    if isinstance(template, Path):
        return template.read_text()
    if isinstance(template, str):
        return template
    return json.dumps(template)


def _parameters(parameters: Mapping[str, str] | None) -> list[dict[str, str]]:
    return [{"ParameterKey": k, "ParameterValue": str(v)} for k, v in (parameters or {}).items()]


def cli_env(url: str, ecr_url: str, account: str = ACCOUNT, region: str = REGION) -> dict[str, str]:
    """What points the AWS CLI and boto3 at a running MiniStack (the ECR emulator for ECR,
    MiniStack for every other service): `./dev local env` prints it."""
    return {
        "AWS_ENDPOINT_URL": url,
        "AWS_ENDPOINT_URL_ECR": ecr_url,
        "AWS_ACCESS_KEY_ID": account,  # MiniStack takes the key id as the account
        "AWS_SECRET_ACCESS_KEY": "test",
        "AWS_DEFAULT_REGION": region,
        "AWS_REGION": region,
    }


def _base_env() -> dict[str, str]:
    """What every child starts from: no AWS settings or Python paths of the caller's."""
    keep = ("PATH", "HOME", "LANG", "LC_ALL", "SYSTEMROOT")
    return {k: v for k, v in os.environ.items() if k in keep}


def _end_group(process: subprocess.Popen[bytes]) -> None:
    if process.poll() is None:
        with contextlib.suppress(ProcessLookupError):
            os.killpg(process.pid, signal.SIGTERM)
        try:
            process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            os.killpg(process.pid, signal.SIGKILL)
            process.wait(timeout=10)
    # the group's other members (MiniStack's Lambda workers) go too, even if the leader is gone
    with contextlib.suppress(ProcessLookupError, PermissionError):
        os.killpg(process.pid, signal.SIGKILL)
    if process.stdout is not None:
        process.stdout.close()


def _tail(path: Path, lines: int = 40) -> str:
    try:
        return "\n".join(path.read_text(errors="replace").splitlines()[-lines:])
    except OSError:
        return ""
