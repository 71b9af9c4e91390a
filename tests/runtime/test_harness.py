"""The harness itself, on a function of its own (a few lines in a temporary task root) run by
the real awslambdaric: the Runtime API's protocol, warm and cold starts, the kill at the
deadline, errors, init errors, the split of log records between invocations, the
environment read from template.yaml, and the event rewriting of ./dev invoke."""

from __future__ import annotations

import http.client
import json
import os
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from devkit.aws_lambda import environment
from devkit.aws_lambda.context import FUNCTION_ARN
from devkit.aws_lambda.local_invoke import move_to_account, use_secrets
from devkit.aws_lambda.log_capture import FrameDecoder, LineDecoder, decode_frame_type
from devkit.aws_lambda.ric import RIC_VENV, RuntimeContainer, ric_python
from devkit.aws_lambda.runtime_api import Invocation, RuntimeApi
from devkit.cloudformation.receiver import Receiver
from tests.runtime.conftest import CREDENTIALS

STUB = """
import http.client, logging, os, threading, urllib.parse
log = logging.getLogger("stub")
print("importing the stub")
if os.environ.get("STUB_BREAK_IMPORT"):
    raise ImportError("the stub was told not to load")
answering = []

def answer(url, sent):
    parts = urllib.parse.urlsplit(url)
    connection = http.client.HTTPConnection(parts.netloc, timeout=10)
    connection.request("PUT", parts.path + "?" + parts.query, body=b"{}", headers={"Content-Type": ""})
    sent.set()
    connection.getresponse().read()
    connection.close()

def lambda_handler(event, context):
    log.warning("invocation %s", event["n"])
    print("printed by", event["n"])
    if event.get("raise"):
        raise ValueError("the stub raised")
    if event.get("block"):
        threading.Event().wait()  # never returns: only the deadline ends it
    if event.get("answer"):  # on a thread of its own; the function returns once it is sent, or
        sent = threading.Event()  # with "wait", once S3 replied
        answering.append(threading.Thread(target=answer, args=(event["ResponseURL"], sent)))
        answering[-1].start()
        sent.wait()
    if event.get("wait"):
        for thread in answering:
            thread.join()
    return {
        "n": event["n"],
        "pid": os.getpid(),
        "request_id": context.aws_request_id,
        "arn": context.invoked_function_arn,
        "left_ms": context.get_remaining_time_in_millis(),
        "memory": context.memory_limit_in_mb,
        "trace": os.environ.get("_X_AMZN_TRACE_ID", ""),
        "cwd": os.getcwd(),
        "telemetry_fd_left_in_env": "_LAMBDA_TELEMETRY_LOG_FD" in os.environ,
    }
"""


@pytest.fixture(scope="module")
def stub_root(tmp_path_factory: pytest.TempPathFactory) -> Path:
    root = tmp_path_factory.mktemp("stub-task-root")
    (root / "handler").mkdir()
    (root / "handler" / "__init__.py").write_text("")
    (root / "handler" / "app.py").write_text(STUB)
    return root


def stub_container(root: Path, latency_s: float = 0.02, **extra: str) -> RuntimeContainer:
    try:
        python = ric_python()
    except FileNotFoundError as error:
        pytest.fail(str(error))
    config = environment.function_config()
    env = environment.runtime_environment(
        config,
        task_root=root,
        function_name="stub",
        region="us-east-1",
        credentials=CREDENTIALS,
        runtime_bin=RIC_VENV / "bin",
        extra=extra,
    )
    return RuntimeContainer(
        root, env, config.handler, 30.0, FUNCTION_ARN, python=python, response_latency_s=latency_s
    )


@pytest.fixture(scope="module")
def stub(stub_root: Path) -> Iterator[RuntimeContainer]:
    with stub_container(stub_root) as container:
        yield container


def texts(records: list[Any]) -> list[str]:
    return [r.text for r in records]


def test_a_warm_container_serves_invocations_in_one_process(stub: RuntimeContainer) -> None:
    first = stub.invoke({"n": 1})
    second = stub.invoke({"n": 2})
    assert (first.status, second.status) == ("response", "response")
    assert first.answer()["pid"] == second.answer()["pid"] == first.pid == second.pid
    assert second.cold is False
    # the context is made from the /next headers
    assert first.answer()["request_id"] == first.request_id != second.request_id
    assert first.answer()["arn"] == FUNCTION_ARN
    assert 0 < first.answer()["left_ms"] <= 30_000
    assert first.answer()["memory"] == "256"  # awslambdaric passes the variable on as a string
    assert first.answer()["trace"].startswith("Root=1-")
    assert first.answer()["cwd"] == str(stub.task_root)
    assert first.answer()["telemetry_fd_left_in_env"] is False  # awslambdaric takes it out


def test_each_invocation_gets_the_records_written_while_it_ran(stub: RuntimeContainer) -> None:
    stub.close()  # start cold, to see the init records too
    first = stub.invoke({"n": 10})
    second = stub.invoke({"n": 11})
    assert first.cold and texts(first.init_logs) == ["importing the stub"]
    assert second.init_logs == []
    for result, n in ((first, 10), (second, 11)):
        telemetry = [r for r in result.logs if r.source == "telemetry"]
        assert [r.source for r in result.logs].count("stdout") == 1
        assert [r.text for r in result.logs if r.source == "stdout"] == [f"printed by {n}"]
        assert len(telemetry) == 1 and (telemetry[0].format, telemetry[0].level) == ("json", "WARN")
        line = json.loads(telemetry[0].text)
        assert line["message"] == f"invocation {n}" and line["requestId"] == result.request_id
        assert line["logger"] == "stub" and line["level"] == "WARNING"


def test_an_unhandled_exception_is_posted_to_error_and_the_process_goes_on(stub: RuntimeContainer) -> None:
    before = stub.invoke({"n": 20})
    failed = stub.invoke({"n": 21, "raise": True})
    after = stub.invoke({"n": 22})
    assert failed.status == "error"
    error = failed.answer()
    assert (error["errorType"], error["errorMessage"]) == ("ValueError", "the stub raised")
    assert error["requestId"] == failed.request_id and error["stackTrace"]
    logged = [json.loads(r.text) for r in failed.logs if r.source == "telemetry" and r.level == "ERROR"]
    assert [line["errorType"] for line in logged] == ["ValueError"]
    assert before.pid == failed.pid == after.pid and after.status == "response"


def test_the_process_is_killed_at_the_deadline_and_the_next_invocation_is_cold(
    stub: RuntimeContainer,
) -> None:
    warm = stub.invoke({"n": 30})
    blocked = stub.invoke({"n": 31, "block": True}, timeout_s=1.0)
    assert blocked.status == "timeout" and blocked.body == b""
    assert texts([r for r in blocked.logs if r.source == "stdout"]) == ["printed by 31"]
    with pytest.raises(ProcessLookupError):
        os.kill(blocked.pid, 0)  # gone
    after = stub.invoke({"n": 32})
    assert after.status == "response" and after.cold and after.pid != warm.pid
    assert texts(after.init_logs) == ["importing the stub"]


def process_state(pid: int) -> str:
    """R, S, T (stopped) ... as /proc/<pid>/stat gives it."""
    return Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0]


def test_an_idle_sandbox_is_frozen_and_an_answer_on_its_way_then_is_reported(
    stub_root: Path, receiver: Receiver
) -> None:
    """Lambda freezes the environment once the function returned and no event is queued: the
    process stops, and its traffic to the ResponseURL (0.2 s away here) is held. An answer sent
    by a thread that was still at it is reported; the next event thaws it and it goes on; a
    sandbox retired while frozen loses it."""
    waited_url, early_url, retired_url = receiver.url(), receiver.url(), receiver.url()
    with stub_container(stub_root, latency_s=0.2) as container:
        waited = container.invoke({"n": 50, "ResponseURL": waited_url, "answer": True, "wait": True})
        early = container.invoke({"n": 51, "ResponseURL": early_url, "answer": True})
        assert process_state(early.pid) == "T"  # frozen
        assert receiver.raw(early_url) == []  # held in the frozen sandbox
        thawed = container.invoke({"n": 52, "wait": True})  # thaws it; waits for that answer
        retired = container.invoke({"n": 53, "ResponseURL": retired_url, "answer": True})
    assert waited.in_flight_at_return == 0 and len(receiver.raw(waited_url)) == 1
    assert early.in_flight_at_return == 1
    assert thawed.in_flight_at_return == 0 and len(receiver.raw(early_url)) == 1
    assert retired.in_flight_at_return == 1
    assert receiver.raw(retired_url) == []  # retired while frozen: it never left


def test_a_handler_that_cannot_load_is_an_init_error(stub_root: Path) -> None:
    with stub_container(stub_root, STUB_BREAK_IMPORT="1") as broken:
        result = broken.invoke({"n": 40})
        again = broken.invoke({"n": 41})
    assert result.status == again.status == "init_error"
    assert result.error_type == "Runtime.ImportModuleError"
    assert "the stub was told not to load" in result.answer()["errorMessage"]
    assert result.pid != again.pid  # each invocation tries a new process, as Lambda does
    assert "importing the stub" in texts(result.init_logs)


# -- the Runtime API's protocol, spoken directly ------------------------------------------------


def call(api: RuntimeApi, method: str, path: str, body: bytes = b"", **headers: str) -> tuple[int, Any, Any]:
    connection = http.client.HTTPConnection(api.address, timeout=10)
    connection.request(method, f"/2018-06-01/runtime{path}", body=body, headers=headers)
    response = connection.getresponse()
    data = response.read()
    connection.close()
    return response.status, dict(response.getheaders()), json.loads(data) if data else None


def test_the_runtime_api_answers_as_lambda_does() -> None:
    with RuntimeApi() as api:
        invocation = api.queue(
            Invocation(event=b'{"a": 1}', timeout_s=5, function_arn=FUNCTION_ARN, trace_id="t")
        )
        status, headers, event = call(api, "GET", "/invocation/next")
        assert (status, event) == (200, {"a": 1})
        assert headers["Lambda-Runtime-Aws-Request-Id"] == invocation.request_id
        assert headers["Lambda-Runtime-Invoked-Function-Arn"] == FUNCTION_ARN
        assert headers["Lambda-Runtime-Trace-Id"] == "t"
        assert int(headers["Lambda-Runtime-Deadline-Ms"]) == invocation.deadline_ms
        # out of turn: another /next, a result for another id
        assert call(api, "GET", "/invocation/next")[0] == 403
        status, _, error = call(api, "POST", "/invocation/not-this-one/response", b"{}")
        assert (status, error["errorType"]) == (400, "InvalidRequestID")
        status, _, accepted = call(api, "POST", f"/invocation/{invocation.request_id}/response", b'"ok"')
        assert (status, accepted) == (202, {"status": "OK"})
        assert (invocation.kind, invocation.body) == ("response", b'"ok"')
        status, _, error = call(api, "POST", f"/invocation/{invocation.request_id}/response", b'"again"')
        assert (status, error["errorType"]) == (403, "InvalidStateTransition")
        assert call(api, "POST", "/init/error", b"{}")[0] == 403  # only before the first /next
        assert api.results == [invocation]


def test_an_init_error_is_accepted_before_any_invocation() -> None:
    with RuntimeApi() as api:
        body = b'{"errorMessage": "x", "errorType": "Runtime.ImportModuleError"}'
        headers = {"Lambda-Runtime-Function-Error-Type": "Runtime.ImportModuleError"}
        assert call(api, "POST", "/init/error", body, **headers)[:1] == (202,)
        assert api.init_error is not None and api.init_error.error_type == "Runtime.ImportModuleError"


# -- the telemetry log framing ----------------------------------------------------------------


def frame(frame_type: int, message: bytes, timestamp: int = 1) -> bytes:
    return (
        frame_type.to_bytes(4, "big")
        + len(message).to_bytes(4, "big")
        + timestamp.to_bytes(8, "big")
        + message
    )


def test_frames_are_decoded_whatever_the_pieces() -> None:
    data = frame(0xA55A000E, b'{"a": 1}\n', 7) + frame(0xA55A0017, b"line one\nline two")
    decoder = FrameDecoder()
    got = [record for byte in data for record in decoder.feed(bytes([byte]))]
    assert [(r.text, r.format, r.level, r.timestamp_us) for r in got] == [
        ('{"a": 1}', "json", "INFO", 7),
        ("line one\nline two", "text", "ERROR", 1),  # one frame, one record
    ]
    assert decoder.pending == 0


@pytest.mark.parametrize(
    ("frame_type", "expected"),
    [
        (0xA55A0002, ("json", "")),
        (0xA55A000A, ("json", "DEBUG")),
        (0xA55A0012, ("json", "WARN")),
        (0xA55A001A, ("json", "FATAL")),
        (0xA55A0003, ("text", "")),
        (0xA55A0013, ("text", "WARN")),
    ],
)
def test_frame_types(frame_type: int, expected: tuple[str, str]) -> None:
    assert decode_frame_type(frame_type) == expected


@pytest.mark.parametrize("frame_type", [0xA55A0000, 0xA55A0004, 0x12345678])
def test_anything_else_is_not_a_frame(frame_type: int) -> None:
    with pytest.raises(ValueError):
        decode_frame_type(frame_type)


def test_lines_are_split_and_the_last_one_kept_until_the_end() -> None:
    decoder = LineDecoder("stdout")
    assert [r.text for r in decoder.feed(b"one\ntw")] == ["one"]
    assert [r.text for r in decoder.feed(b"o\nthree")] == ["two"]
    assert [r.text for r in decoder.flush()] == ["three"]


# -- the environment ------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("log_level", "lambda_level"),
    [("DEBUG", "DEBUG"), ("INFO", "INFO"), ("WARNING", "WARN"), ("ERROR", "ERROR")],
)
def test_the_environment_follows_template_yaml(log_level: str, lambda_level: str, monkeypatch: Any) -> None:
    monkeypatch.setenv("SOMETHING_OF_THE_CALLER", "x")
    config = environment.function_config({"LogLevel": log_level})
    assert (config.handler, config.runtime, config.timeout_s, config.memory_mb) == (
        "handler.app.lambda_handler",
        "python3.13",
        120,
        256,
    )
    env = environment.runtime_environment(
        config,
        task_root=Path("/task"),
        function_name="fn",
        region="eu-west-1",
        credentials=CREDENTIALS,
        runtime_bin=Path("/rt/bin"),
    )
    assert env["AWS_LAMBDA_LOG_FORMAT"] == "JSON"
    assert env["AWS_LAMBDA_LOG_LEVEL"] == lambda_level
    assert env["POWERTOOLS_LOG_LEVEL"] == env["LOG_LEVEL"] == log_level
    assert env["POWERTOOLS_SERVICE_NAME"] == "ecr-pull-through-cache-provider"
    assert env["AWS_REGION"] == env["AWS_DEFAULT_REGION"] == "eu-west-1"
    assert env["AWS_EXECUTION_ENV"] == "AWS_Lambda_python3.13"
    assert env["_HANDLER"] == "handler.app.lambda_handler" and env["LAMBDA_TASK_ROOT"] == "/task"
    assert env["AWS_LAMBDA_FUNCTION_MEMORY_SIZE"] == "256"
    assert env["AWS_LAMBDA_LOG_GROUP_NAME"] == "/aws/lambda/fn"
    assert env["AWS_SESSION_TOKEN"] == CREDENTIALS.session_token
    assert "SOMETHING_OF_THE_CALLER" not in env and "HOME" not in env


def test_an_unknown_log_level_is_refused() -> None:
    with pytest.raises(ValueError, match="LogLevel"):
        environment.function_config({"LogLevel": "VERBOSE"})


def test_no_region_leaves_both_variables_out() -> None:
    env = environment.runtime_environment(
        environment.function_config(),
        task_root=Path("/task"),
        function_name="fn",
        region=None,
        credentials=CREDENTIALS,
        runtime_bin=Path("/rt/bin"),
    )
    assert "AWS_REGION" not in env and "AWS_DEFAULT_REGION" not in env


# -- ./dev invoke's event rewriting (the --real-account path is never run in tests) -----------


def test_events_move_to_the_callers_account_and_region() -> None:
    from devkit.cloudformation import events

    event = events.load("03-replacement.json")
    role = "arn:aws:iam::444455556666:role/upstream"
    event["ResourceProperties"]["CustomRoleArn"] = role
    move_to_account(event, "999988887777", "eu-central-1")
    properties, old = event["ResourceProperties"], event["OldResourceProperties"]
    assert properties["ServiceToken"] == (
        "arn:aws:lambda:eu-central-1:999988887777:function:ecr-ptc-provider-ProviderFunction-480E3DCC4AE7E"
    )
    assert properties["CredentialArn"].startswith("arn:aws:secretsmanager:eu-central-1:999988887777:secret:")
    assert old["CredentialArn"].startswith("arn:aws:secretsmanager:eu-central-1:999988887777:secret:")
    assert event["StackId"].startswith("arn:aws:cloudformation:eu-central-1:999988887777:stack/demo-stack/")
    assert properties["CustomRoleArn"] == role  # IAM: another account's role stays as it is


def test_secret_arns_are_replaced_by_name() -> None:
    secret = "arn:aws:secretsmanager:us-east-1:123456789012:secret:ecr-pullthroughcache/hub-Ab12Cd"
    event = {
        "ResourceProperties": {"CredentialArn": secret},
        "OldResourceProperties": {"CredentialArn": "not an arn"},
    }
    asked: list[str] = []
    use_secrets(event, lambda name: asked.append(name) or f"real:{name}")
    assert asked == ["ecr-pullthroughcache/hub"]
    assert event["ResourceProperties"]["CredentialArn"] == "real:ecr-pullthroughcache/hub"
    assert event["OldResourceProperties"]["CredentialArn"] == "not an arn"
