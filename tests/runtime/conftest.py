"""The function under AWS's runtime interface client: one built package and one ECR emulator
server per session, containers started by `functions`, the emulator emptied before each test."""

from __future__ import annotations

import json
import threading
import uuid
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import pytest

from devkit.aws_lambda import environment, package
from devkit.aws_lambda.context import FUNCTION_ARN, FUNCTION_NAME
from devkit.aws_lambda.emulator_server import EmulatorServer
from devkit.aws_lambda.ric import RIC_VENV, InvocationResult, RuntimeContainer, ric_python
from devkit.cloudformation.receiver import Receiver

REGION = "us-east-1"
# Credentials the function is given, distinctive so that a log line carrying one is found.
CREDENTIALS = environment.Credentials(
    access_key_id="AKIARUNTIMETESTKEY42",
    secret_access_key="runtimeTestSecretAccessKey/0123456789+abcdefXYZ",
    session_token="IQoJb3JpZ2luX2VjEruntimeTestSessionToken/0123456789+abcdefghijklmnopqrstuvwxyz==",
)


@pytest.fixture(scope="session")
def task_root() -> Path:
    """The function package as src/Makefile builds it (cached by the content of src/)."""
    try:
        ric_python()
    except FileNotFoundError as error:
        pytest.fail(str(error))
    return package.build()


INVALID_TOKEN = (
    b"<ErrorResponse><Error><Type>Sender</Type><Code>InvalidClientTokenId</Code>"
    b"<Message>The security token included in the request is invalid.</Message></Error>"
    b"<RequestId>00000000-0000-0000-0000-000000000000</RequestId></ErrorResponse>"
)


@pytest.fixture(scope="session")
def cloudformation() -> Iterator[str]:
    """CloudFormation's endpoint for the function, on loopback: it refuses the tests' made-up
    credentials as AWS's would (403 InvalidClientTokenId), so that reading the stack fails at
    once, offline. (Left to AWS's real endpoint, the function reached beyond 127.0.0.1, and
    without a network retried until its deadline: two minutes for one test.)"""

    class Handler(BaseHTTPRequestHandler):
        def do_POST(self) -> None:
            self.rfile.read(int(self.headers.get("Content-Length") or 0))
            self.send_response(403)
            self.send_header("Content-Type", "text/xml")
            self.send_header("Content-Length", str(len(INVALID_TOKEN)))
            self.end_headers()
            self.wfile.write(INVALID_TOKEN)

        def log_message(self, format: str, *args: Any) -> None:  # quiet
            return

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    server.daemon_threads = True
    threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True).start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}"
    finally:
        server.shutdown()
        server.server_close()


@pytest.fixture(scope="session")
def ecr_server() -> Iterator[EmulatorServer]:
    with EmulatorServer() as server:
        yield server


@pytest.fixture(autouse=True)
def _empty_emulator(ecr_server: EmulatorServer) -> None:
    ecr_server.reset()


@pytest.fixture
def secret(ecr_server: EmulatorServer) -> Any:
    """Create a secret in the emulator's Secrets Manager; returns its ARN."""
    client = ecr_server.secrets_client()

    def make(name: str = "ecr-pullthroughcache/docker-hub") -> str:
        body = json.dumps({"username": "user", "accessToken": "token"})
        return str(client.create_secret(Name=name, SecretString=body)["ARN"])

    return make


class Functions:
    """Containers of the built function, one per configuration, kept warm for the session.

    `get()` gives the container of a configuration (LogLevel, Region, ECR endpoint): a test
    that leaves it running lets the next test of that configuration reuse it warm.
    `fresh()` gives one of the test's own (closed by the caller: use it in a `with`).
    """

    def __init__(self, task_root: Path, server: EmulatorServer, cloudformation: str) -> None:
        self.task_root = task_root
        self.server = server
        self.cloudformation = cloudformation
        self._kept: dict[tuple[str, str | None, str | None], RuntimeContainer] = {}

    def get(
        self, log_level: str = "INFO", region: str | None = REGION, ecr_endpoint: str | None = None
    ) -> RuntimeContainer:
        key = (log_level, region, ecr_endpoint)
        if key not in self._kept:
            self._kept[key] = self.fresh(log_level, region, ecr_endpoint)
        return self._kept[key]

    def fresh(
        self,
        log_level: str = "INFO",
        region: str | None = REGION,
        ecr_endpoint: str | None = None,
        response_latency_s: float = 0.02,
        on_answer_sent: Callable[[], None] | None = None,
    ) -> RuntimeContainer:
        config = environment.function_config({"LogLevel": log_level})
        env = environment.runtime_environment(
            config,
            task_root=self.task_root,
            function_name=FUNCTION_NAME,
            region=region,
            credentials=CREDENTIALS,
            runtime_bin=RIC_VENV / "bin",
            extra={
                "AWS_ENDPOINT_URL_ECR": ecr_endpoint or self.server.url,
                "AWS_ENDPOINT_URL_CLOUDFORMATION": self.cloudformation,
            },
        )
        return RuntimeContainer(
            self.task_root,
            env,
            config.handler,
            float(config.timeout_s),
            FUNCTION_ARN,
            response_latency_s=response_latency_s,
            on_answer_sent=on_answer_sent,
        )

    def close(self) -> None:
        for container in self._kept.values():
            container.close()


@pytest.fixture(scope="session")
def functions(task_root: Path, ecr_server: EmulatorServer, cloudformation: str) -> Iterator[Functions]:
    pool = Functions(task_root, ecr_server, cloudformation)
    yield pool
    pool.close()


@dataclass
class Outcome:
    """One invocation: what the runtime saw, and what CloudFormation received."""

    event: dict[str, Any]
    result: InvocationResult
    answers: list[dict[str, Any]]  # the bodies PUT to the event's ResponseURL, in order

    @property
    def answer(self) -> dict[str, Any]:
        assert len(self.answers) == 1, f"expected exactly one answer, got {len(self.answers)}"
        return self.answers[0]


def invoke(
    container: RuntimeContainer,
    event: dict[str, Any],
    receiver: Receiver,
    timeout_s: float | None = None,
    url: str | None = None,
) -> Outcome:
    """Invoke with a fresh ResponseURL on `receiver` (or `url`); the answers it got. Whatever
    the test is about, the function must not return with its answer still on the way (Lambda
    freezes the environment then: devkit.aws_lambda.ric)."""
    url = url or receiver.url()
    sent = {**event, "ResponseURL": url}
    result = container.invoke(sent, timeout_s=timeout_s)
    assert result.in_flight_at_return == 0, "the function returned with its answer still on the way"
    answers = receiver.answers(url) if url.startswith(f"http://127.0.0.1:{receiver.port}/") else []
    return Outcome(sent, result, answers)


def fresh_ids(event: dict[str, Any]) -> dict[str, Any]:
    """The event with a RequestId of its own (a warm container remembers answers by it)."""
    return {**event, "RequestId": str(uuid.uuid4())}


LOG_LEVELS = ("DEBUG", "INFO", "WARNING", "ERROR")


@dataclass
class EventRun:
    """events/ in order through one container at one LogLevel."""

    log_level: str
    outcomes: dict[str, Outcome]  # by file name
    rules_after: dict[str, set[str]]  # the prefixes the registry held after each file


@pytest.fixture(scope="session")
def event_runs(
    functions: Functions, ecr_server: EmulatorServer, receiver: Receiver
) -> Callable[[str], EventRun]:
    """`event_runs(level)`: every file of events/, as it is (its secrets created in the
    emulator first), through a container of its own at that LogLevel; run once a session."""
    from devkit.aws_lambda.local_invoke import use_secrets
    from devkit.cloudformation import events

    runs: dict[str, EventRun] = {}

    def run(level: str) -> EventRun:
        if level not in runs:
            ecr_server.reset()
            client = ecr_server.secrets_client()
            created: dict[str, str] = {}

            def arn(name: str) -> str:
                if name not in created:
                    body = json.dumps({"username": "user", "accessToken": "token"})
                    created[name] = str(client.create_secret(Name=name, SecretString=body)["ARN"])
                return created[name]

            outcomes, rules_after = {}, {}
            with functions.fresh(level) as container:
                for name in events.names():
                    event = events.load(name)
                    use_secrets(event, arn)
                    outcomes[name] = invoke(container, event, receiver)
                    rules_after[name] = set(ecr_server.rules())
            runs[level] = EventRun(level, outcomes, rules_after)
        return runs[level]

    return run
