"""Server mode: moto's ThreadedMotoServer with the operations and the fault control routes."""

import json
import os
import signal
import subprocess
import sys
import urllib.error
import urllib.request
from collections.abc import Iterator
from typing import Any

import boto3
import pytest

from ecr_ptc_emulator.server import start
from tests.emulator.emulator_support import NO_RETRIES, REGION


def http(url: str, body: dict[str, Any] | None = None) -> Any:
    data = None if body is None else json.dumps(body).encode()
    with urllib.request.urlopen(urllib.request.Request(url, data=data), timeout=10) as r:
        return json.loads(r.read() or b"null")


@pytest.fixture
def server_url() -> Iterator[str]:
    server, url = start(0)
    try:
        with urllib.request.urlopen(urllib.request.Request(f"{url}/moto-api/reset", data=b"")):
            pass
        yield url
    finally:
        server.stop()


def test_server_mode(server_url: str) -> None:
    assert server_url.startswith("http://127.0.0.1:")
    assert not server_url.endswith(":0")
    ecr = boto3.client("ecr", region_name=REGION, endpoint_url=server_url, config=NO_RETRIES)
    ecr.create_pull_through_cache_rule(ecrRepositoryPrefix="ecr-public", upstreamRegistryUrl="public.ecr.aws")
    [rule] = ecr.describe_pull_through_cache_rules()["pullThroughCacheRules"]
    assert rule["upstreamRegistry"] == "ecr-public"

    assert http(
        f"{server_url}/_ecr_ptc/faults",
        {
            "action": "fail",
            "operation": "DeletePullThroughCacheRule",
            "code": "ServerException",
            "status": 500,
            "region": REGION,
        },
    ) == {"ok": True}
    with pytest.raises(ecr.exceptions.ServerException):
        ecr.delete_pull_through_cache_rule(ecrRepositoryPrefix="ecr-public")
    with pytest.raises(ecr.exceptions.PullThroughCacheRuleAlreadyExistsException):
        ecr.create_pull_through_cache_rule(
            ecrRepositoryPrefix="ecr-public", upstreamRegistryUrl="public.ecr.aws"
        )

    calls = http(f"{server_url}/_ecr_ptc/calls?region={REGION}")
    assert [c[0] for c in calls] == [
        "CreatePullThroughCacheRule",
        "DescribePullThroughCacheRules",
        "DeletePullThroughCacheRule",
        "CreatePullThroughCacheRule",
    ]
    rules = http(f"{server_url}/_ecr_ptc/rules")
    assert rules["ecr-public"]["createdAt"] == rule["createdAt"].isoformat()

    http(f"{server_url}/_ecr_ptc/faults", {"action": "validation_result", "is_valid": False})
    assert ecr.validate_pull_through_cache_rule(ecrRepositoryPrefix="ecr-public")["isValid"] is False
    http(f"{server_url}/_ecr_ptc/faults", {"action": "clear"})
    assert ecr.validate_pull_through_cache_rule(ecrRepositoryPrefix="ecr-public")["isValid"] is True
    one = {"action": "validation_result", "is_valid": False, "failure": "401", "prefix": "ecr-public"}
    http(f"{server_url}/_ecr_ptc/faults", one)
    assert ecr.validate_pull_through_cache_rule(ecrRepositoryPrefix="ecr-public")["failure"] == "401"
    http(f"{server_url}/_ecr_ptc/faults", {"action": "clear"})

    with pytest.raises(urllib.error.HTTPError) as e:
        http(f"{server_url}/_ecr_ptc/faults", {"action": "explode"})
    assert e.value.code == 400
    assert "unknown action" in json.loads(e.value.read())["error"]
    e.value.close()


def test_upstreams_route_teaches_the_server(server_url: str) -> None:
    ecr = boto3.client("ecr", region_name=REGION, endpoint_url=server_url, config=NO_RETRIES)
    with pytest.raises(ecr.exceptions.UnsupportedUpstreamRegistryException):
        ecr.create_pull_through_cache_rule(
            ecrRepositoryPrefix="acme", upstreamRegistryUrl="registry.acme.example"
        )

    body = {"kind": "acme", "host": "registry.acme.example", "needs_credential": True, "region": REGION}
    assert http(f"{server_url}/_ecr_ptc/upstreams", body) == {"ok": True}
    with pytest.raises(ecr.exceptions.UnsupportedUpstreamRegistryException) as e:
        ecr.create_pull_through_cache_rule(
            ecrRepositoryPrefix="acme", upstreamRegistryUrl="registry.acme.example"
        )
    assert "requires authentication" in e.value.response["Error"]["Message"]
    http(f"{server_url}/_ecr_ptc/upstreams", {"kind": "acme", "host": "registry.acme.example"})
    out = ecr.create_pull_through_cache_rule(
        ecrRepositoryPrefix="acme", upstreamRegistryUrl="registry.acme.example", upstreamRegistry="acme"
    )
    assert out["upstreamRegistry"] == "acme"
    assert http(f"{server_url}/_ecr_ptc/rules")["acme"]["upstreamRegistry"] == "acme"

    west = boto3.client("ecr", region_name="eu-west-1", endpoint_url=server_url, config=NO_RETRIES)
    with pytest.raises(west.exceptions.ValidationException):
        west.create_pull_through_cache_rule(
            ecrRepositoryPrefix="acme", upstreamRegistryUrl="registry.acme.example", upstreamRegistry="acme"
        )

    for bad in ({"kind": "quay", "host": "quay.example"}, {"host": "registry.acme.example"}, {"colour": 1}):
        with pytest.raises(urllib.error.HTTPError) as e:
            http(f"{server_url}/_ecr_ptc/upstreams", bad)
        assert e.value.code == 400
        e.value.close()

    with urllib.request.urlopen(urllib.request.Request(f"{server_url}/moto-api/reset", data=b"")):
        pass
    with pytest.raises(ecr.exceptions.UnsupportedUpstreamRegistryException):
        ecr.create_pull_through_cache_rule(
            ecrRepositoryPrefix="acme", upstreamRegistryUrl="registry.acme.example"
        )


def test_command_line() -> None:
    env = {**os.environ, "PYTHONPATH": os.pathsep.join(sys.path)}
    with subprocess.Popen(
        [sys.executable, "-m", "ecr_ptc_emulator.server", "--port", "0"],
        stdout=subprocess.PIPE,
        stderr=subprocess.DEVNULL,
        text=True,
        env=env,
    ) as proc:
        try:
            assert proc.stdout is not None
            line = proc.stdout.readline()
            assert line.startswith("ECR emulator listening on http://127.0.0.1:")
            url = line.rsplit(" ", 1)[1].strip()
            assert http(f"{url}/_ecr_ptc/rules") == {}
        finally:
            proc.send_signal(signal.SIGINT)
            assert proc.wait(timeout=30) == 0


def test_a_lost_response_holds_the_connection_in_server_mode(server_url: str) -> None:
    """Over HTTP, a lost response is a connection held past the client's read timeout: the
    client raises ReadTimeoutError while the rule was made."""
    from botocore.config import Config
    from botocore.exceptions import ReadTimeoutError

    http(
        f"{server_url}/_ecr_ptc/faults",
        {"action": "lose_response", "operation": None, "how": "timeout", "hang_s": 2},
    )
    ecr = boto3.client(
        "ecr", region_name=REGION, endpoint_url=server_url, config=NO_RETRIES.merge(Config(read_timeout=0.5))
    )

    with pytest.raises(ReadTimeoutError):
        ecr.create_pull_through_cache_rule(ecrRepositoryPrefix="k8s", upstreamRegistryUrl="registry.k8s.io")

    assert set(http(f"{server_url}/_ecr_ptc/rules")) == {"k8s"}
