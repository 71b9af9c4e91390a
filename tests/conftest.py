"""Shared fixtures: the emulator, a real HTTP receiver, and `cfn`, which sends a request
through the real handler and checks every answer against the custom-resource protocol."""

from __future__ import annotations

import functools
import json
import os
import socket
from collections.abc import Iterator
from typing import Any

import pytest
from hypothesis import settings

# The property-based tests' examples: as many as each test asks for, 2,500 where it does not say;
# ./dev test --fast runs 500 of those (--hypothesis-profile fast), ./dev test and CI all of them.
settings.register_profile("thorough", max_examples=2500)
settings.register_profile("fast", max_examples=500)
settings.load_profile("thorough")

# Region and fake credentials before anything creates a boto3 client (the handler does at import),
# whatever the shell had: no test, and no tool a test starts, can use a real credential or profile.
# What the run was started with is kept: tests/integration gets it back when a real-account run
# is asked for (real_account_requested), and only there.
FAKE_AWS_ENVIRONMENT = {
    "AWS_DEFAULT_REGION": "us-east-1",
    "AWS_REGION": "us-east-1",
    "AWS_ACCESS_KEY_ID": "testing",
    "AWS_SECRET_ACCESS_KEY": "testing",
    "AWS_SESSION_TOKEN": "testing",
}
REMOVED_AWS_SETTINGS = ("AWS_ENDPOINT_URL", "AWS_PROFILE", "AWS_DEFAULT_PROFILE")
STARTED_WITH = {key: os.environ.get(key) for key in (*FAKE_AWS_ENVIRONMENT, *REMOVED_AWS_SETTINGS)}
os.environ.update(FAKE_AWS_ENVIRONMENT)
for _key in REMOVED_AWS_SETTINGS:
    os.environ.pop(_key, None)

from moto import mock_aws  # noqa: E402  (before the handler, so its client is patched)

import ecr_ptc_emulator  # noqa: E402
from devkit.aws_lambda.context import LambdaContext  # noqa: E402
from devkit.cloudformation.events import STACK_ID  # noqa: E402
from devkit.cloudformation.receiver import Receiver  # noqa: E402
from devkit.cloudformation.stack_api import StackApi  # noqa: E402
from handler.provider import Provider  # noqa: E402
from tests.helpers import client  # noqa: E402

MAX_BODY = 4096
_real_connect = socket.socket.connect


def _loopback_only(self: socket.socket, address: Any) -> Any:
    host = address[0] if isinstance(address, tuple) else address
    if isinstance(host, str) and not (host.startswith("127.") or host in ("localhost", "::1")):
        raise OSError(f"tests may not reach {host}: only 127.0.0.1")
    return _real_connect(self, address)


# A run against a real account (tests/integration) is asked for with both: the provider's stack
# (PTC_STACK_NAME) and `-m integration`, which selects nothing else. Then, and only for the tests
# marked `integration`, the network guard steps aside and `real_aws_environment` gives back the
# AWS settings the run was started with. Every other test, in every run, keeps both.
REAL_ACCOUNT_STACK = "PTC_STACK_NAME"
REAL_ACCOUNT_MARKER = "integration"


def real_account_requested(config: pytest.Config) -> bool:
    asked = str(config.getoption("markexpr", "") or "").strip()
    return bool(os.environ.get(REAL_ACCOUNT_STACK)) and asked == REAL_ACCOUNT_MARKER


def reaches_real_account(item: pytest.Item) -> bool:
    return item.get_closest_marker(REAL_ACCOUNT_MARKER) is not None and real_account_requested(item.config)


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    if real_account_requested(config):
        return
    how = (
        f"against a real account: set {REAL_ACCOUNT_STACK} to the provider's stack and AWS credentials, "
        f"and select only these tests with -m {REAL_ACCOUNT_MARKER} (tests/integration/test_real_account.py)"
    )
    for item in items:
        if item.get_closest_marker(REAL_ACCOUNT_MARKER) is not None:
            item.add_marker(pytest.mark.skip(reason=how))


@pytest.fixture(autouse=True)
def _no_network_beyond_loopback(request: pytest.FixtureRequest, monkeypatch: pytest.MonkeyPatch) -> None:
    if reaches_real_account(request.node):
        return
    monkeypatch.setattr(socket.socket, "connect", _loopback_only)


@pytest.fixture(scope="module")
def real_aws_environment(request: pytest.FixtureRequest) -> Iterator[None]:
    """The AWS settings (profile, credentials, Region, endpoint) the run was started with, for the
    tests of a real-account run; they go back to the fake ones when the module is done."""
    if not real_account_requested(request.config):
        pytest.skip(f"a real-account run needs {REAL_ACCOUNT_STACK} and -m {REAL_ACCOUNT_MARKER}")
    with pytest.MonkeyPatch.context() as patch:
        for key, value in STARTED_WITH.items():
            if value is None:
                patch.delenv(key, raising=False)
            else:
                patch.setenv(key, value)
        yield


@pytest.fixture
def emulator() -> Iterator[None]:
    """moto's ECR with pull-through cache rules, and moto's Secrets Manager; empty each test."""
    with mock_aws():
        ecr_ptc_emulator.install()
        yield


@pytest.fixture(scope="session")
def receiver() -> Iterator[Receiver]:
    with Receiver() as server:
        yield server


@pytest.fixture
def pauses(emulator: None, monkeypatch: pytest.MonkeyPatch) -> list[float]:
    """The handler's retry pauses, recorded instead of slept: handler.app.lambda_handler serves
    with a provider of the test's own (a fresh container: nothing remembered, no start-up time to
    count), built as handler.app builds it, pausing on this list."""
    from handler import app, response, wiring
    from handler.provider import build_provider

    recorded: list[float] = []
    built = build_provider(
        client("ecr", wiring.CLIENT_CONFIG),
        lambda: client("cloudformation", wiring.CLIENT_CONFIG),
        send=functools.partial(response.put, sleep=recorded.append),
        sleep=recorded.append,
    )
    monkeypatch.setattr(app, "provider", built)
    return recorded


@pytest.fixture
def provider(pauses: list[float]) -> Provider:
    """The test's own provider (see `pauses`)."""
    from handler import app

    return app.provider


@pytest.fixture
def secret(emulator: None) -> Any:
    """Create a Secrets Manager secret ECR may read; returns its ARN."""
    secrets = client("secretsmanager")

    def make(name: str = "ecr-pullthroughcache/docker-hub") -> str:
        body = json.dumps({"username": "user", "accessToken": "token"})
        return str(secrets.create_secret(Name=name, SecretString=body)["ARN"])

    return make


class Cfn:
    """Sends requests through handler.app.lambda_handler the way CloudFormation does."""

    def __init__(self, receiver: Receiver, provider: Provider) -> None:
        self.receiver = receiver
        self.provider = provider

    def new_container(self) -> None:
        """The next request goes to another container: one that remembers no answer (the same
        clients, answer transport and clock)."""
        from handler import app
        from handler.provider import build_provider

        old = self.provider
        self.provider = build_provider(
            old.ecr_client, lambda: old.cloudformation()[0], old.answers.send, old.retry_policy.sleep
        )
        app.provider = self.provider  # the provider fixture puts the module's own back

    def send(
        self, event: dict[str, Any], context: LambdaContext | None = None, url: str | None = None
    ) -> dict[str, Any]:
        """Invoke once; assert exactly one protocol-valid answer; return it."""
        from handler.app import lambda_handler

        url = url or self.receiver.url()
        lambda_handler({**event, "ResponseURL": url}, context or LambdaContext())
        raw = self.receiver.raw(url)
        assert len(raw) == 1, f"expected exactly one answer, got {len(raw)}"
        assert len(raw[0]["raw"]) < MAX_BODY
        answer: dict[str, Any] = json.loads(raw[0]["raw"])
        check_protocol(event, answer)
        return answer


def check_protocol(event: dict[str, Any], answer: dict[str, Any]) -> None:
    assert answer["Status"] in ("SUCCESS", "FAILED")
    assert isinstance(answer["PhysicalResourceId"], str) and answer["PhysicalResourceId"]
    assert len(answer["PhysicalResourceId"].encode("utf-8", "surrogatepass")) <= 1024
    for key in ("StackId", "RequestId", "LogicalResourceId"):
        assert answer[key] == event[key]
    if answer["Status"] == "FAILED":
        assert answer["Reason"]
    assert all(isinstance(v, str) for v in answer.get("Data", {}).values())


@pytest.fixture
def stack_api(provider: Provider) -> Iterator[StackApi]:
    """CloudFormation's record of the events' stack (devkit STACK_ID), as the provider reads it:
    a forward update in progress with no other resources, unless a test says otherwise."""
    api = StackApi()
    api.add(STACK_ID, "UPDATE_IN_PROGRESS")
    api.install(provider.cloudformation()[0])
    yield api
    api.uninstall()


@pytest.fixture
def cfn(receiver: Receiver, provider: Provider, stack_api: StackApi) -> Cfn:
    return Cfn(receiver, provider)


# Each test's layer (unit, handler, runtime, stacks, tools, simulator, integration), which
# ./dev test --fast and ./dev test -m LAYER select by: the table and its checks, tests/layers.py.
pytest_plugins = ("tests.layers",)
