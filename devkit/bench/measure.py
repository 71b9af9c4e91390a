"""./dev bench: what the provider costs, measured against the floor, written to docs/benchmark.md.

The ECR emulator runs as its own server process on 127.0.0.1 (``python -m
ecr_ptc_emulator.server``; boto3 reaches it through AWS_ENDPOINT_URL), so neither side of a
comparison pays for importing the emulator. Answers go to a real HTTP receiver in this process
(devkit.cloudformation.receiver), which notes when each arrives. Measured, each against its floor:

- cold start as Lambda runs it (devkit/bench/ric_cold.py): the package src/Makefile makes (as
  `sam build` runs it: devkit/aws_lambda/package.py), started by AWS's runtime interface
  client and answering a first Create, against a bare
  boto3 function (devkit/bench/floor_function.py) that makes the same one call and answers,
  run the same way from the same package; the same from the package without .pyc and with all
  of botocore's models; and the import profile of both (PYTHONPROFILEIMPORTTIME=1);
- warm latency per request type through the real handler in one long-lived process, against
  the bare boto3 calls each request needs;
- ECR calls per request type (the emulator's call log), on success and on error paths, and the
  CloudFormation calls of the paths that read the stack (devkit.cloudformation.stack_api);
- the time to answer a Delete, and an answer over TLS;
- a 50-rule stack created, rotated and deleted by concurrent handler processes against an
  emulator throttled to a fixed rate, against the floor that rate sets;
- one consumer stack created, updated and deleted on MiniStack, against the same stack
  without the custom resource (devkit/bench/stack_ops.py);
- peak memory of the handler process, and the size of the built package.

The handler is reached through `Provider` alone (the one place that knows handler.app).

    python -m devkit.bench.measure [--quick] [--out docs/benchmark.md]   (./dev bench)
"""

from __future__ import annotations

import argparse
import contextlib
import datetime
import http.client
import json
import multiprocessing
import os
import platform
import shutil
import ssl
import subprocess
import sys
import tempfile
import time
import urllib.request
import uuid
import zipfile
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

from devkit.bench import health
from devkit.bench.stats import KINDS, MIN_CALLS, PHASE_KINDS, median

ROOT = Path(__file__).resolve().parents[2]
SRC = ROOT / "src"
HUB_URL, GHCR_URL = "registry-1.docker.io", "ghcr.io"
WARMUP = 3  # rounds of every request type before the timed ones
# how many of each: cold starts per side, import profiles per side, warm rounds per request
# type, scale runs, rounds on MiniStack (--quick: fewer, and only the lean package's cold start)
RUNS = {"cold": 15, "profile": 7, "warm": 25, "scale": 3, "stacks": 7}
QUICK = {"cold": 3, "profile": 3, "warm": 8, "scale": 1, "stacks": 2}
RULES, RATE, WORKERS = 50, 10.0, 10  # the scale test: rules, ECR calls/s admitted, processes
FAILED_CREATE_ID = "ecr-ptc:create-failed:0000"  # the id a failed Create answers: names no rule

Json = dict[str, Any]
Props = dict[str, str]

# A typical SUCCESS answer (what the handler PUTs for a Create), for timing a bare PUT.
ANSWER = json.dumps(
    {
        "Status": "SUCCESS",
        "Reason": "",
        "PhysicalResourceId": "h-create-0",
        "StackId": "arn:aws:cloudformation:us-east-1:123456789012:stack/demo-stack/"
        "1b2c3d4e-0000-0000-0000-00000000abcd",
        "RequestId": "5a1e0c6e-0001-4000-8000-000000000001",
        "LogicalResourceId": "Cache",
        "NoEcho": False,
        "Data": {
            "EcrRepositoryPrefix": "h-create-0",
            "UpstreamRegistryUrl": HUB_URL,
            "UpstreamRegistry": "docker-hub",
            "UpstreamRepositoryPrefix": "",
            "CredentialArn": "arn:aws:secretsmanager:us-east-1:123456789012:secret:"
            "ecr-pullthroughcache/bench-a-AbCdEf",
            "CustomRoleArn": "",
            "RegistryId": "123456789012",
            "CreatedAt": "2026-11-27T09:46:00.123000+00:00",
        },
    },
    separators=(",", ":"),
).encode()


# -- shared by the bench and its worker processes (stdlib only at module level) ----------------


def ecr_calls(emulator: str) -> list[str]:
    """Every pull-through cache call the emulator received, in order (operation names)."""
    with urllib.request.urlopen(f"{emulator}/_ecr_ptc/calls", timeout=30) as answer:
        return [str(call[0]) for call in json.loads(answer.read())]


class Provider:
    """The handler as the bench's worker processes use it: the one place that knows handler.app.
    Its provider is built as handler.app builds its own, with a CloudFormation client that tells
    whether it was made (on first use) and takes the stand-in answers of
    devkit.cloudformation.stack_api (DescribeStacks, ListStackResources)."""

    def __init__(self) -> None:
        import boto3

        from handler import app, wiring
        from handler.provider import build_provider

        self._made: list[Any] = []

        def cloudformation() -> Any:
            self._made.append(wiring.cloudformation_client())
            return self._made[-1]

        app.provider = build_provider(boto3.client("ecr", config=wiring.CLIENT_CONFIG), cloudformation)
        self._provider = app.provider
        self.lambda_handler = app.lambda_handler
        self.client_config = wiring.CLIENT_CONFIG

    def made_cloudformation_client(self) -> bool:
        return bool(self._made)

    def cloudformation_client(self) -> Any:
        return self._provider.cloudformation()[0]


def response_url(port: int) -> str:
    """A fresh ResponseURL on the bench's receiver (shaped as Receiver.url's, devkit.cloudformation)."""
    token = uuid.uuid4().hex
    return (
        f"http://127.0.0.1:{port}/cloudformation-responses/{token}"
        f"?X-Amz-Algorithm=AWS4-HMAC-SHA256&X-Amz-Signature=sig{token}"
    )


def hub(prefix: str, credential: str) -> Props:
    return {"EcrRepositoryPrefix": prefix, "UpstreamRegistryUrl": HUB_URL, "CredentialArn": credential}


def ghcr(prefix: str, credential: str) -> Props:
    return {"EcrRepositoryPrefix": prefix, "UpstreamRegistryUrl": GHCR_URL, "CredentialArn": credential}


def api(properties: Props) -> Props:
    """CreatePullThroughCacheRule's parameters for these properties."""
    return {
        "ecrRepositoryPrefix": properties["EcrRepositoryPrefix"],
        "upstreamRegistryUrl": properties["UpstreamRegistryUrl"],
        "credentialArn": properties["CredentialArn"],
    }


def event(
    kind: str,
    properties: Props,
    physical_id: str | None = None,
    old: Props | None = None,
    logical: str = "Cache",
) -> Json:
    from devkit.cloudformation.events import request

    return request(kind, properties, physical_id, old, logical_id=logical)


def peak_rss_mb() -> float:
    """This process's peak RSS: /proc's VmHWM. (ru_maxrss is carried across exec on Linux, so a
    fresh interpreter reports its parent's peak when that was higher.)"""
    from devkit.bench.ric_cold import peak_rss_mb as of_process

    return of_process(os.getpid())


def _quiet_stdout() -> None:
    """The handler logs JSON to stdout (CloudWatch, in Lambda): /dev/null here."""
    os.dup2(os.open(os.devnull, os.O_WRONLY), 1)


# -- warm latency, API calls and error paths: one long-lived handler process -------------------


@dataclass
class Sample:
    kind: str
    side: str  # "handler", "bare" (the boto3 calls alone) or "put" (a bare answer PUT)
    elapsed: float
    started: float = 0.0  # time.monotonic(), system-wide on Linux: joined with the answer's arrival
    url: str = ""
    ops: list[str] = field(default_factory=list)


@dataclass
class Case:
    """An error or special path: what it sets up, and what the lifecycle prescribes for it."""

    name: str
    calls: int | None  # None: as many as the deadline allows
    status: str
    request: Json
    setup: list[Props] = field(default_factory=list)
    fault: Json | None = None
    # what CloudFormation's record says of the request's stack, for the paths that read it:
    # its status, and its resources' physical ids by logical id (devkit.cloudformation.stack_api)
    stack: str = "CREATE_IN_PROGRESS"
    resources: dict[str, str] = field(default_factory=dict)
    cfn_calls: int = 0  # the CloudFormation calls the lifecycle prescribes


def error_cases(a: str, b: str) -> list[Case]:
    p, q = "e-rule", "e-other"
    bad = {"EcrRepositoryPrefix": "Not A Prefix!", "UpstreamRegistryUrl": HUB_URL}
    once = {"action": "fail", "operation": "CreatePullThroughCacheRule", "code": "ThrottlingException"}
    lost = {"action": "lose_response", "how": "5xx"}  # the call takes effect, then answers 500
    adopt = {"AdoptExisting": "true"}
    validate = {"ValidateCredentials": "true"}
    rolling_back, updating = "UPDATE_ROLLBACK_IN_PROGRESS", "UPDATE_IN_PROGRESS"
    return [
        Case(
            "Create, rule already exists (not adopted)",
            2,
            "FAILED",
            event("Create", hub(p, a)),
            [hub(p, a)],
            cfn_calls=1,
        ),
        Case(
            "Create, AdoptExisting, the rule matches",
            2,
            "SUCCESS",
            event("Create", hub(p, a) | adopt),
            [hub(p, a)],
            cfn_calls=1,
        ),
        Case(
            "Create, AdoptExisting, credential differs (updated in place)",
            3,
            "SUCCESS",
            event("Create", hub(p, b) | adopt),
            [hub(p, a)],
            cfn_calls=1,
        ),
        Case(
            "Create, AdoptExisting, upstream differs (refused)",
            2,
            "FAILED",
            event("Create", ghcr(p, a) | adopt),
            [hub(p, a)],
            cfn_calls=1,
        ),
        Case("Create, invalid properties", 0, "FAILED", event("Create", bad)),
        Case("Create, throttled once, then success", 2, "SUCCESS", event("Create", hub(p, a)), fault=once),
        Case(
            "Create, ECR 503 once (outcome unknown: read back, nothing made), then success",
            3,
            "SUCCESS",
            event("Create", hub(p, a)),
            fault=once | {"code": "ServiceUnavailableException", "status": 503},
        ),
        Case(
            "Create, the response lost after ECR made the rule (read back: this request's own)",
            2,
            "SUCCESS",
            event("Create", hub(p, a)),
            fault=lost | {"operation": "CreatePullThroughCacheRule"},
        ),
        Case(
            "Create, the secret not yet visible to 2 calls",
            3,
            "SUCCESS",
            event("Create", hub(p, a)),
            fault={"action": "hide_secret_for", "calls": 2},
        ),
        Case(
            "Create, ValidateCredentials, upstream reachable",
            2,
            "SUCCESS",
            event("Create", hub(p, a) | validate),
        ),
        Case(
            "Create, ValidateCredentials, upstream unreachable (rule removed)",
            3,
            "FAILED",
            event("Create", hub(p, a) | validate),
            fault={"action": "validation_result", "is_valid": False, "failure": "401 from upstream"},
        ),
        Case(
            "Update in place, the rule missing from ECR (created again)",
            2,
            "SUCCESS",
            event("Update", hub(p, b), p, hub(p, a)),
        ),
        Case(
            "Update in place, the response lost after ECR updated the rule (read back)",
            3,
            "SUCCESS",
            event("Update", hub(p, b), p, hub(p, a)),
            [hub(p, a)],
            lost | {"operation": "UpdatePullThroughCacheRule"},
        ),
        Case(
            "Same-prefix replacement, create refused, old rule put back",
            4,
            "FAILED",
            event("Update", ghcr(p, a), p, hub(p, a)),
            [hub(p, a)],
            once | {"code": "LimitExceededException"},
        ),
        Case(
            "Rollback of that replacement (ECR holds the old rule again: no write)",
            1,
            "SUCCESS",
            event("Update", hub(p, a), p, ghcr(p, a)),
            [hub(p, a)],
        ),
        Case(
            "Rollback Update to the old prefix, whose rule still exists as asked",
            2,
            "SUCCESS",
            event("Update", hub(p, a), q, hub(q, a)),
            [hub(p, a), hub(q, a)],
            stack=rolling_back,
            resources={"Cache": q},
            cfn_calls=2,
        ),
        Case(
            "Forward Update to a prefix whose identical rule is another owner's (refused)",
            2,
            "FAILED",
            event("Update", hub(p, a), q, hub(q, a)),
            [hub(p, a), hub(q, a)],
            stack=updating,
            resources={"Cache": q},
            cfn_calls=2,
        ),
        Case(
            "Update, old properties invalid (ECR read first)",
            2,
            "SUCCESS",
            event("Update", hub(p, b), p, bad),
            [hub(p, a)],
        ),
        Case("Delete, the rule already gone", 1, "SUCCESS", event("Delete", hub(p, a), p)),
        Case(
            "Delete, the response lost after ECR deleted the rule (read back)",
            2,
            "SUCCESS",
            event("Delete", hub(p, a), p),
            [hub(p, a)],
            lost | {"operation": "DeletePullThroughCacheRule"},
        ),
        Case(
            "Delete after a failed Create (its id names no rule)",
            0,
            "SUCCESS",
            event("Delete", hub(p, a), FAILED_CREATE_ID),
        ),
        Case("Delete, invalid properties", 1, "SUCCESS", event("Delete", bad, p), [hub(p, a)]),
        Case(
            "Create, throttled on every call, ServiceTimeout 10 s (gives up before the answer is due)",
            None,
            "FAILED",
            event("Create", hub(p, a) | {"ServiceTimeout": "10"}),
            fault=once | {"times": -1},
        ),
    ]


class WarmWorker:
    """Runs in its own process: imports handler.app once and serves every request with it."""

    def __init__(self, port: int, emulator: str, secrets: list[str]) -> None:
        import boto3

        self.provider = Provider()
        self.port = port
        self.emulator = emulator
        # the bare calls: a client of their own, with the handler's configuration
        self.bare: Any = boto3.client("ecr", config=self.provider.client_config)
        self.a, self.b = secrets

    def create(self, properties: Props) -> None:
        self.bare.create_pull_through_cache_rule(**api(properties))

    def describe(self, prefix: str) -> None:
        self.bare.describe_pull_through_cache_rules(ecrRepositoryPrefixes=[prefix])

    def remove(self, *prefixes: str) -> None:
        from botocore.exceptions import ClientError

        for prefix in prefixes:
            with contextlib.suppress(ClientError):
                self.bare.delete_pull_through_cache_rule(ecrRepositoryPrefix=prefix)

    def invoke(self, kind: str, request: Json, url: str = "") -> Sample:
        from devkit.aws_lambda.context import LambdaContext

        url, context = url or response_url(self.port), LambdaContext()
        seen = len(ecr_calls(self.emulator))
        started, t0 = time.monotonic(), time.perf_counter()
        self.provider.lambda_handler({**request, "ResponseURL": url}, context)
        elapsed = time.perf_counter() - t0
        return Sample(kind, "handler", elapsed, started, url, ecr_calls(self.emulator)[seen:])

    def timed(self, kind: str, side: str, calls: Callable[[], object]) -> Sample:
        ecr_calls(self.emulator)  # as before a handler request (where it counts the calls): a level field
        t0 = time.perf_counter()
        calls()
        return Sample(kind, side, time.perf_counter() - t0)

    def bare_put(self) -> None:
        """Answering alone: one PUT of a typical answer, on a fresh connection as the handler's."""
        parts = urlsplit(response_url(self.port))
        connection = http.client.HTTPConnection(parts.netloc, timeout=5)
        connection.request("PUT", f"{parts.path}?{parts.query}", body=ANSWER, headers={"Content-Type": ""})
        connection.getresponse().read()
        connection.close()

    def round(self, kind: str, i: int) -> list[Sample]:
        """One request of this kind through the handler, its bare calls (on a rule of their own)
        and a bare answer PUT."""
        h, w = f"h-{kind}-{i}", f"b-{kind}-{i}"
        if kind != "create":
            self.create(hub(h, self.a))
            self.create(hub(w, self.a))
        request, calls = self.request_and_calls(kind, h, w)
        if i % 2:  # alternate which side goes first
            samples = [self.timed(kind, "bare", calls), self.invoke(kind, request)]
        else:
            samples = [self.invoke(kind, request), self.timed(kind, "bare", calls)]
        self.remove(h, w, f"{h}-n", f"{w}-n")
        return [*samples, self.timed(kind, "put", self.bare_put)]

    def request_and_calls(self, kind: str, h: str, w: str) -> tuple[Json, Callable[[], object]]:
        """The request for rule `h`, and the bare calls it needs, made on rule `w`."""
        a, b, bare = self.a, self.b, self.bare

        # An Update reads the rule first (OldResourceProperties are what the template asked
        # last time, not what ECR holds): its bare calls do too.
        def update() -> None:
            self.describe(w)
            bare.update_pull_through_cache_rule(ecrRepositoryPrefix=w, credentialArn=b)

        def same() -> None:
            self.describe(w)
            bare.delete_pull_through_cache_rule(ecrRepositoryPrefix=w)
            self.create(ghcr(w, a))

        choices: dict[str, tuple[Json, Callable[[], object]]] = {
            "create": (event("Create", hub(h, a)), lambda: self.create(hub(w, a))),
            "update": (event("Update", hub(h, b), h, hub(h, a)), update),
            "replace": (
                event("Update", hub(f"{h}-n", a), h, hub(h, a)),
                lambda: self.create(hub(f"{w}-n", a)),
            ),
            "same": (event("Update", ghcr(h, a), h, hub(h, a)), same),
            "delete": (
                event("Delete", hub(h, a), h),
                lambda: bare.delete_pull_through_cache_rule(ecrRepositoryPrefix=w),
            ),
            # only ValidateCredentials is added, "false" (its default): the read, no write
            "noop": (
                event("Update", hub(h, a) | {"ValidateCredentials": "false"}, h, hub(h, a)),
                lambda: self.describe(w),
            ),
        }
        return choices[kind]

    def tls_rounds(self, port: int, rounds: int) -> list[Sample]:
        """The answer over TLS, as to S3: the Delete of a failed Create's id (no ECR call, only
        the answer) through the handler, against a bare PUT on a fresh TLS connection with a
        context made once."""
        context = ssl.create_default_context()
        samples = []
        for i in range(WARMUP + rounds):
            token = uuid.uuid4().hex
            path = f"/cloudformation-responses/{token}?X-Amz-Signature=sig{token}"
            request = event("Delete", hub("t-rule", self.a), FAILED_CREATE_ID)

            def bare(path: str = path) -> None:
                connection = http.client.HTTPSConnection(f"127.0.0.1:{port}", timeout=5, context=context)
                connection.request("PUT", path + "-bare", body=ANSWER, headers={"Content-Type": ""})
                connection.getresponse().read()
                connection.close()

            pair = [
                self.invoke("tls", request, f"https://127.0.0.1:{port}{path}"),
                self.timed("tls", "put", bare),
            ]
            if i >= WARMUP:
                samples.extend(pair)
        made: list[float] = []
        for _ in range(9):
            t0 = time.perf_counter()
            ssl.create_default_context()
            made.append(time.perf_counter() - t0)
        samples.append(Sample("tls", "context", median(made)))
        return samples

    def error_paths(self) -> list[Json]:
        """Each error case through the handler; CloudFormation's record (DescribeStacks,
        ListStackResources) answered by devkit.cloudformation.stack_api from the case's stack."""
        from devkit.cloudformation.stack_api import CUSTOM_TYPE, StackApi

        stacks = StackApi().install(self.provider.cloudformation_client())
        results = []
        for case in error_cases(self.a, self.b):
            self.remove("e-rule", "e-other")
            for properties in case.setup:
                self.create(properties)
            stacks.stacks.clear()
            view = stacks.add(str(case.request["StackId"]), case.stack)
            view.resources = {k: (CUSTOM_TYPE, v) for k, v in case.resources.items()}
            if case.fault is not None:
                self.fault(**case.fault)
            seen = len(stacks.calls)
            sample = self.invoke("error", case.request)
            self.fault(action="clear")
            results.append(
                {
                    "name": case.name,
                    "expected_calls": case.calls,
                    "expected_status": case.status,
                    "expected_cfn": case.cfn_calls,
                    "ops": sample.ops,
                    "cfn": stacks.calls[seen:],
                    "url": sample.url,
                    "elapsed": sample.elapsed,
                }
            )
        self.remove("e-rule", "e-other")
        stacks.uninstall()
        return results

    def fault(self, **arguments: Any) -> None:
        request = urllib.request.Request(
            f"{self.emulator}/_ecr_ptc/faults", data=json.dumps(arguments).encode(), method="POST"
        )
        with urllib.request.urlopen(request, timeout=30) as answer:
            answer.read()


def warm_worker(
    conn: Any, port: int, emulator: str, secrets: list[str], iterations: int, tls_port: int, bundle: str
) -> None:
    _quiet_stdout()
    os.environ["SSL_CERT_FILE"] = bundle  # the system's CA bundle and the TLS receiver's CA
    worker = WarmWorker(port, emulator, secrets)
    samples: list[Sample] = []
    for i in range(WARMUP + iterations):
        for kind in KINDS:
            done = worker.round(kind, i)
            if i >= WARMUP:
                samples.extend(done)
    samples.extend(worker.tls_rounds(tls_port, iterations))
    cfn_client_made = worker.provider.made_cloudformation_client()  # by the success paths
    errors = worker.error_paths()
    conn.send(
        {
            "samples": [vars(s) for s in samples],
            "errors": errors,
            "cfn_client_made": cfn_client_made,
            "peak_mb": peak_rss_mb(),
        }
    )
    conn.close()


# -- an HTTPS receiver: CloudFormation's ResponseURL is an S3 URL, over TLS -------------------


def tls_receiver(directory: Path) -> tuple[Any, str]:
    """A receiver on https://127.0.0.1 with a throwaway self-signed certificate, and a CA bundle:
    the system's plus that certificate. With SSL_CERT_FILE pointing at the bundle, a default TLS
    context trusts the receiver and costs what it costs against S3."""
    import ipaddress

    from cryptography import x509
    from cryptography.hazmat.primitives import hashes, serialization
    from cryptography.hazmat.primitives.asymmetric import ec
    from cryptography.x509.oid import ExtendedKeyUsageOID, NameOID

    from devkit.cloudformation.receiver import Receiver

    now, key = datetime.datetime.now(datetime.UTC), ec.generate_private_key(ec.SECP256R1())
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "127.0.0.1")])
    cert = (
        x509.CertificateBuilder()
        .subject_name(name)
        .issuer_name(name)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - datetime.timedelta(minutes=5))
        .not_valid_after(now + datetime.timedelta(days=1))
        .add_extension(
            x509.SubjectAlternativeName([x509.IPAddress(ipaddress.ip_address("127.0.0.1"))]), False
        )
        .add_extension(x509.BasicConstraints(ca=False, path_length=None), critical=True)
        .add_extension(x509.ExtendedKeyUsage([ExtendedKeyUsageOID.SERVER_AUTH]), critical=False)
        .add_extension(x509.SubjectKeyIdentifier.from_public_key(key.public_key()), critical=False)
        .sign(key, hashes.SHA256())
    ).public_bytes(serialization.Encoding.PEM)
    pem = directory / "tls.pem"
    pem.write_bytes(
        cert
        + key.private_bytes(
            serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
        )
    )
    context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    context.load_cert_chain(pem)
    system, bundle = ssl.get_default_verify_paths().cafile, directory / "ca-bundle.pem"
    bundle.write_bytes((Path(system).read_bytes() if system and Path(system).is_file() else b"") + cert)
    return Receiver(tls=context), str(bundle)


# -- the scale test: concurrent handler processes ---------------------------------------------


def scale_worker(tasks: Any, results: Any, port: int) -> None:
    """One Lambda execution environment: takes requests off the queue, one at a time."""
    _quiet_stdout()
    from devkit.aws_lambda.context import LambdaContext

    provider = Provider()
    results.put({"ready": os.getpid()})
    while (request := tasks.get()) is not None:
        url = response_url(port)
        t0 = time.perf_counter()
        provider.lambda_handler({**request, "ResponseURL": url}, LambdaContext())
        results.put({"url": url, "elapsed": time.perf_counter() - t0, "finished": time.monotonic()})
    results.put({"peak_mb": peak_rss_mb()})


# -- the import profile ------------------------------------------------------------------------


def parse_importtime(text: str) -> list[tuple[int, int, int, str]]:
    """(self µs, cumulative µs, depth, module) per line of ``-X importtime`` output."""
    rows = []
    for line in text.splitlines():
        if not line.startswith("import time:") or "self [us]" in line:
            continue
        self_us, cumulative_us, name = line.removeprefix("import time:").split("|")
        depth = (len(name) - len(name.lstrip(" ")) - 1) // 2
        rows.append((int(self_us), int(cumulative_us), depth, name.strip()))
    return rows


# -- the bench ---------------------------------------------------------------------------------


class Bench:
    def __init__(self, quick: bool) -> None:
        self.runs = QUICK if quick else RUNS
        self.python = sys.executable
        self.tmp = Path(tempfile.mkdtemp(prefix="ecr-ptc-bench-"))
        self.results: Json = {"machine": machine(), "quick": quick}
        self.built = Path()
        self.secrets: list[str] = []
        self.ecr: Any = None
        self.emulator: Any = None
        self.receiver: Any = None
        self.tls: Any = None

    @staticmethod
    def say(text: str) -> None:
        print(f"==> {text}", file=sys.stderr, flush=True)

    def run(self) -> Json:
        from devkit.aws_lambda import package
        from devkit.aws_lambda.emulator_server import EmulatorServer
        from devkit.cloudformation.receiver import Receiver

        started = time.monotonic()
        # this process's environment, and its children's: fake credentials, the template's
        # logging, nothing of the caller's AWS, Python or Powertools settings
        for name in [k for k in os.environ if k.startswith(("AWS_", "PYTHON", "POWERTOOLS_"))]:
            del os.environ[name]
        os.environ.update(
            AWS_ACCESS_KEY_ID="testing",
            AWS_SECRET_ACCESS_KEY="testing",
            AWS_SESSION_TOKEN="testing",
            AWS_DEFAULT_REGION="us-east-1",
            AWS_REGION="us-east-1",
            POWERTOOLS_SERVICE_NAME="ecr-pull-through-cache-provider",
            POWERTOOLS_LOG_LEVEL="INFO",
            LOG_LEVEL="INFO",
            PYTHONPATH=f"{SRC}:{ROOT}",
            PYTHONDONTWRITEBYTECODE="1",  # Lambda's /var/task is read-only: no .pyc is ever cached
        )
        try:
            self.say("package: src/Makefile's build-ProviderFunction, as sam build runs it")
            self.built = package.build()
            self.tls, bundle = tls_receiver(self.tmp)
            with EmulatorServer() as self.emulator, Receiver() as self.receiver, self.tls:
                os.environ["AWS_ENDPOINT_URL"] = self.emulator.url  # this process's clients, the workers'
                self.start_clients()
                self.say(f"emulator at {self.emulator.url}, receiver on 127.0.0.1:{self.receiver.port}")
                self.cold_start()
                self.import_profile()
                self.warm(bundle)
                self.scale()
            self.package()
            self.stack_operations()
            self.say("health check: 500 stacks, 50 rules (devkit/bench/health.py)")
            self.results["health"] = health.measure(3 if self.results["quick"] else 5)
        finally:
            shutil.rmtree(self.tmp, ignore_errors=True)
        self.results["duration_s"] = time.monotonic() - started
        return self.results

    def start_clients(self) -> None:
        """This process's ECR client, and two secrets."""
        import boto3

        self.ecr = boto3.client("ecr")
        secrets: Any = boto3.client("secretsmanager")
        body = json.dumps({"username": "bench", "accessToken": "bench"})
        self.secrets = [
            str(secrets.create_secret(Name=f"ecr-pullthroughcache/bench-{n}", SecretString=body)["ARN"])
            for n in ("a", "b")
        ]

    def arrival(self, url: str) -> float | None:
        """When the receiver got the (first) answer PUT to `url` (time.monotonic())."""
        return next((float(r["at"]) for r in self.receiver.raw(url)), None)

    def check_answers(self, requests: list[Json], where: str) -> None:
        answers = [self.receiver.answers(r["ResponseURL"]) for r in requests]
        if any(len(x) != 1 or x[0]["Status"] != "SUCCESS" for x in answers):
            raise RuntimeError(f"{where}: unexpected answers {answers}")

    # cold start ---------------------------------------------------------------------------------

    def cold_starts(self) -> Any:
        from devkit.bench.ric_cold import ColdStarts

        return ColdStarts(self.emulator.url, self.arrival)

    def create_event(self, prefix: str) -> Json:
        return event("Create", hub(prefix, self.secrets[0])) | {"ResponseURL": self.receiver.url()}

    def cold_create(self, cold: Any, package: Path, floor: bool, prefix: str) -> Json:
        """One cold start answering a Create (checked), its rule removed after."""
        create = self.create_event(prefix)
        timings: Json = cold.cold(package, floor, [create])
        self.check_answers([create], prefix)
        self.ecr.delete_pull_through_cache_rule(ecrRepositoryPrefix=prefix)
        return timings

    def cold_start(self) -> None:
        """The built package's first Create under the runtime client, against the floor function
        in the same package: alternating, a new process each."""
        from devkit.bench.ric_cold import add_floor

        runs = self.runs["cold"]
        self.say(f"cold start under the runtime interface client: {runs} new processes per side")
        built = add_floor(self.package_copy(self.built, "ric-built"))
        cold = self.cold_starts()
        sides: dict[str, list[Json]] = {"handler": [], "floor": []}
        for i in range(runs):
            for side in ("handler", "floor") if i % 2 == 0 else ("floor", "handler"):
                sides[side].append(self.cold_create(cold, built, side == "floor", f"cold-{side}-{i}"))
        # the memory peak over a rule's whole life, in processes of their own
        sides["lifecycle"] = []
        for i in range(3):
            lifecycle = self.lifecycle(f"life-{i}")
            sides["lifecycle"].append(cold.cold(built, False, lifecycle))
            self.check_answers(lifecycle, f"lifecycle run {i}")
        self.results["cold"] = sides
        if not self.results["quick"]:
            self.cold_start_built(runs // 2)

    def package_copy(self, package: Path, name: str) -> Path:
        """A copy of a package in the bench's temp dir, for the floor function to join (the
        package itself stays as built, for its size)."""
        copy = self.tmp / name
        if not copy.is_dir():
            shutil.copytree(package, copy)
        return copy

    def lifecycle(self, prefix: str) -> list[Json]:
        """A Create first (timed), then the rest of a rule's life (for the memory peak)."""
        a, b = self.secrets
        n = f"{prefix}-n"
        requests = [
            event("Create", hub(prefix, a)),
            event("Update", hub(prefix, b), prefix, hub(prefix, a)),
            event("Update", hub(n, b), prefix, hub(prefix, b)),
            event("Update", ghcr(n, b), n, hub(n, b)),
            event("Update", ghcr(n, b) | {"AdoptExisting": "true"}, n, ghcr(n, b)),
            event("Delete", ghcr(n, b), n),
            event("Delete", hub(prefix, b), prefix),
        ]
        return [{**r, "ResponseURL": self.receiver.url()} for r in requests]

    def cold_start_built(self, runs: int) -> None:
        """The same comparison from two other packages: the same one without .pyc (what SAM's
        default Python builder makes) and the same pins with all of botocore's models (the
        package before the lean build), each with the floor function of its own."""
        from devkit.bench.ric_cold import add_floor

        built = self.tmp / "ric-built"  # cold_start's copy, the floor function in it
        stripped = self.tmp / "ric-stripped"
        shutil.copytree(built, stripped, ignore=shutil.ignore_patterns("__pycache__", "*.pyc"))
        packages = {"built": built, "stripped": add_floor(stripped, compiled=False)}
        packages["full"] = add_floor(self.package_copy(self.build_full(), "ric-full"))
        self.say(
            f"cold start from other packages: {runs} runs each of the handler and the floor, "
            "as built, without .pyc, and with all of botocore's models"
        )
        cold = self.cold_starts()
        variants: dict[str, list[Json]] = {}
        for i in range(runs):
            order = list(packages)
            for name in order[i % 3 :] + order[: i % 3]:
                for side in ("handler", "floor") if i % 2 == 0 else ("floor", "handler"):
                    key, prefix = (name if side == "handler" else f"{name}_floor"), f"cold-{name}-{side}-{i}"
                    timings = self.cold_create(cold, packages[name], side == "floor", prefix)
                    variants.setdefault(key, []).append(timings)
        self.results["cold_built"] = variants

    def import_profile(self) -> None:
        """`-X importtime` of the cold starts above (the lean package under the runtime
        client), handler and floor alternating."""
        runs = self.runs["profile"]
        self.say(f"import profile: PYTHONPROFILEIMPORTTIME=1 under the runtime client, {runs} runs per side")
        built, cold = self.tmp / "ric-built", self.cold_starts()
        profiles: dict[str, list[list[tuple[int, int, int, str]]]] = {"handler": [], "floor": []}
        bodies: dict[str, list[list[tuple[int, int, int, str]]]] = {"handler": [], "floor": []}
        for i in range(runs):
            for side in ("handler", "floor") if i % 2 == 0 else ("floor", "handler"):
                create = self.create_event(f"profile-{side}-{i}")
                text = cold.import_profile(built, side == "floor", create)
                profiles[side].append(parse_importtime(text))
                self.check_answers([create], f"import profile {side} {i}")
                self.ecr.delete_pull_through_cache_rule(ecrRepositoryPrefix=f"profile-{side}-{i}")
                bodies[side].append(parse_importtime(cold.module_body(built, side == "floor")))
        self.results["imports"] = profiles
        self.results["module_bodies"] = bodies

    # warm ---------------------------------------------------------------------------------------

    def warm(self, bundle: str) -> None:
        iterations = self.runs["warm"]
        self.say(
            f"warm latency: {iterations} rounds of each request type in one process, then the error paths"
        )
        context = multiprocessing.get_context("spawn")
        parent, child = context.Pipe()
        port = self.receiver.port
        worker = context.Process(
            target=warm_worker,
            args=(child, port, self.emulator.url, self.secrets, iterations, self.tls.port, bundle),
            daemon=True,  # never outlives the bench, whatever happens to it
        )
        worker.start()
        result = parent.recv()
        worker.join()
        for sample in [*result["samples"], *result["errors"]]:
            if sample["url"].startswith("https:"):
                if len(self.tls.answers(sample["url"])) != 1:
                    raise RuntimeError(f"{sample}: {len(self.tls.answers(sample['url']))} answers over TLS")
                continue
            if not sample["url"]:
                continue
            answers = self.receiver.answers(sample["url"])
            if len(answers) != 1:
                raise RuntimeError(f"{sample}: {len(answers)} answers")
            sample["status"] = answers[0]["Status"]
            if sample.get("started"):
                sample["answered_after"] = self.arrival(sample["url"]) - sample["started"]
        self.results["warm"] = result | {"iterations": iterations}

    # scale --------------------------------------------------------------------------------------

    def scale(self) -> None:
        runs = self.runs["scale"]
        self.say(
            f"scale: {RULES} rules, {WORKERS} handler processes, ECR throttled to {RATE:g} calls/s, "
            f"{runs} run(s)"
        )
        for prefix in self.emulator.rules():
            self.ecr.delete_pull_through_cache_rule(ecrRepositoryPrefix=prefix)
        a, b = self.secrets
        names = [(f"scale-{n:02d}", f"Rule{n:02d}") for n in range(RULES)]
        phases = {
            "create": [event("Create", hub(p, a), logical=r) for p, r in names],
            "rotate": [event("Update", hub(p, b), p, hub(p, a), logical=r) for p, r in names],
            "delete": [event("Delete", hub(p, b), p, logical=r) for p, r in names],
        }
        self.results["scale"] = {
            "rules": RULES,
            "needed": {phase: RULES * MIN_CALLS[kind] for phase, kind in PHASE_KINDS.items()},
            "rate": RATE,
            "workers": WORKERS,
            "runs": [self.scale_run(phases, b) for _ in range(runs)],
        }

    def scale_run(self, phases: dict[str, list[Json]], rotated: str) -> Json:
        context = multiprocessing.get_context("spawn")
        tasks, results = context.Queue(), context.Queue()
        processes = [
            context.Process(target=scale_worker, args=(tasks, results, self.receiver.port), daemon=True)
            for _ in range(WORKERS)
        ]
        for process in processes:
            process.start()
        for _ in processes:  # each has imported the handler: the cold starts are not timed here
            results.get(timeout=120)
        self.emulator.fault(action="throttle", rate_per_second=RATE, burst=1)
        run: Json = {}
        for phase, requests in phases.items():
            seen = len(self.emulator.calls())
            time.sleep(1.0 / RATE)  # the bucket full (one token) at the start of each phase
            t0 = time.monotonic()
            for request in requests:
                tasks.put(request)
            done = [results.get(timeout=600) for _ in requests]
            elapsed = max(d["finished"] for d in done) - t0
            calls = len(self.emulator.calls()) - seen
            answers = [self.receiver.answers(d["url"]) for d in done]
            failed = [x for x in answers if len(x) != 1 or x[0]["Status"] != "SUCCESS"]
            held = self.emulator.rules()
            expected = 0 if phase == "delete" else len(requests)
            run[phase] = {
                "elapsed": elapsed,
                "calls": calls,
                "failed": len(failed),
                "reasons": sorted({x[0].get("Reason", "") if x else "no answer" for x in failed}),
                "rules_after": len(held),
                "rules_ok": len(held) == expected
                and (phase != "rotate" or all(r.get("credentialArn") == rotated for r in held.values())),
                "latency_p50": median([d["elapsed"] for d in done]),
                "latency_max": max(d["elapsed"] for d in done),
            }
        self.emulator.fault(action="clear")
        for _ in processes:
            tasks.put(None)
        run["peak_mb"] = max(results.get(timeout=60)["peak_mb"] for _ in processes)
        for process in processes:
            process.join(timeout=30)
        for prefix in self.emulator.rules():
            self.ecr.delete_pull_through_cache_rule(ecrRepositoryPrefix=prefix)
        return run

    # package ------------------------------------------------------------------------------------

    def build_full(self) -> Path:
        """The package as src/Makefile made it before the lean build: the same pins and .pyc,
        with all of botocore's models, boto3's resource data and the rest."""
        function = self.tmp / "build-full"
        if function.is_dir():
            return function
        self.say("package with all of botocore's models: pip install -t + compileall")
        subprocess.run(
            [
                *(self.python, "-m", "pip", "install", "--disable-pip-version-check", "-q", "--no-compile"),
                *("--only-binary=:all:", "--platform", "manylinux2014_aarch64", "--implementation", "cp"),
                *("--python-version", "3.13", "-r", str(SRC / "requirements.txt"), "-t", str(function)),
            ],
            check=True,
        )
        for code in ("handler", "ecr_ptc_contract"):  # what src/Makefile copies beside the pins
            shutil.copytree(SRC / code, function / code, ignore=shutil.ignore_patterns("__pycache__"))
        subprocess.run(
            [
                *(self.python, "-m", "compileall", "-q", "-j", "0"),
                *("--invalidation-mode", "unchecked-hash", str(function)),
            ],
            check=True,
        )
        return function

    def package(self) -> None:
        self.results["package"] = self.sizes(self.built) | {"full": self.sizes(self.build_full())}

    def sizes(self, built: Path) -> Json:
        files = [p for p in built.rglob("*") if p.is_file()]
        archive = self.tmp / f"{built.name}.zip"
        with zipfile.ZipFile(archive, "w", zipfile.ZIP_DEFLATED) as zipped:
            for path in sorted(files):
                zipped.write(path, path.relative_to(built))
        parts: dict[str, int] = {}
        for path in files:
            top = path.relative_to(built).parts[0]
            parts[top] = parts.get(top, 0) + path.stat().st_size
        return {
            "unzipped": sum(parts.values()),
            "zipped": archive.stat().st_size,
            "largest": sorted(((size, name) for name, size in parts.items()), reverse=True)[:5],
            "pyc": sum(1 for p in files if p.suffix == ".pyc"),
        }

    def stack_operations(self) -> None:
        from devkit.bench import stack_ops

        self.results["stacks"] = stack_ops.measure(self.runs["stacks"], self.say)


def machine() -> Json:
    model = "unknown"
    with contextlib.suppress(OSError):
        model = next(
            (
                line.split(":", 1)[1].strip()
                for line in Path("/proc/cpuinfo").read_text().splitlines()
                if line.startswith("model name")
            ),
            model,
        )
    return {
        "cpu": model,
        "cores": len(os.sched_getaffinity(0)),
        "load": os.getloadavg(),
        "python": f"{platform.python_implementation()} {platform.python_version()}",
        "platform": platform.platform(),
        "date": datetime.datetime.now(datetime.UTC).strftime("%Y-%m-%d %H:%M UTC"),
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n", 1)[0])
    parser.add_argument(
        "--quick", action="store_true", help="fewer runs of everything; only the lean package's cold start"
    )
    parser.add_argument("--out", type=Path, default=ROOT / "docs" / "benchmark.md")
    args = parser.parse_args()
    from devkit.bench.report import report

    text = report(Bench(args.quick).run())
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(text)
    print(text)
    print(f"\n==> written to {args.out}", file=sys.stderr)


if __name__ == "__main__":
    main()
