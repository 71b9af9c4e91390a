"""The function run as Lambda runs it: the built package, started by AWS's runtime interface
client (`python -m awslambdaric handler.app.lambda_handler`, from .venv-ric), fed by this
project's Runtime API (runtime_api.py) on 127.0.0.1.

A `RuntimeContainer` is one function instance. Its first invocation starts a process (a cold
start: the handler module is imported); later ones reuse it (warm) for as long as it lives.
The two moments Lambda takes the process away are kept as Lambda keeps them:

- when the function has returned and the runtime asks for its next event with none queued,
  the process (its whole group) is stopped with SIGSTOP, and its traffic to the ResponseURL,
  which runs through a `ResponseLink` with a small latency, is held; the next event thaws
  both (SIGCONT). A sandbox closed while frozen is retired: what the link held is lost. Each
  result says how many answers were still on their way when the function returned.
- at an invocation's deadline a process still working is killed with SIGKILL, and the next
  invocation starts a new process (cold again). So does one after the process exited or
  failed to start (an init error).

Each invocation's result holds the runtime's answer (/response or /error) and every log
record written while it ran: the telemetry frames of awslambdaric's root log handler, and the
stdout/stderr lines (Powertools' logger writes to stdout). The records of a process's start
(importing the handler) are the first invocation's `init_logs`. Records are split between
invocations where the runtime is idle (when it asks for its next invocation, or is dead), not
by time.
"""

from __future__ import annotations

import contextlib
import json
import os
import signal
import subprocess
import threading
import time
import uuid
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from types import TracebackType
from typing import Any

from devkit.aws_lambda.log_capture import LogCapture, LogRecord
from devkit.aws_lambda.runtime_api import Invocation, RuntimeApi
from devkit.aws_lambda.sandbox_link import ResponseLink

ROOT = Path(__file__).resolve().parents[2]
RIC_VENV = ROOT / ".venv-ric"
STALL_S = 120.0  # a runtime that neither asks for work nor answers for this long is broken


def ric_python() -> Path:
    """The Python 3.13 of .venv-ric, where awslambdaric is installed."""
    python = RIC_VENV / "bin" / "python"
    if not python.exists():
        raise FileNotFoundError(
            f"{python} is missing: ./dev test or ./dev invoke creates .venv-ric (requirements-ric.txt)"
        )
    return python


@dataclass
class InvocationResult:
    request_id: str
    # "response" (the handler returned), "error" (it raised), "timeout" (killed at the
    # deadline), "exited" (the process ended without answering), "init_error" (the handler
    # could not be loaded: /init/error)
    status: str
    body: bytes  # what the runtime posted (/response, /error or /init/error)
    logs: list[LogRecord]
    cold: bool
    pid: int
    init_logs: list[LogRecord] = field(default_factory=list)
    error_type: str = ""  # /init/error's Lambda-Runtime-Function-Error-Type
    init_s: float = 0.0  # a cold start's init: from the spawn to the runtime asking for work
    duration_s: float = 0.0  # from the runtime receiving the event to its answer (or the kill)
    # time.monotonic() (system-wide on Linux) of the process's spawn (a cold start's only) and of
    # the answer's arrival at the Runtime API (0.0: none), for timing against other clocks
    spawned_at: float = 0.0
    answered_at: float = 0.0
    # exchanges with the ResponseURL still on their way when the function returned (Lambda froze
    # them with the environment: CloudFormation gets them late, or never)
    in_flight_at_return: int = 0

    def answer(self) -> Any:
        """The posted body as JSON (None when there is none)."""
        return json.loads(self.body) if self.body else None


class _Sandbox:
    """One runtime process, its Runtime API, its log capture and its link to the ResponseURL."""

    def __init__(
        self, python: Path, handler: str, task_root: Path, env: dict[str, str], link: ResponseLink | None
    ) -> None:
        self._cond = threading.Condition()
        self._windows: dict[int, list[LogRecord]] = {}  # n -> records before the n-th GET /next
        self._in_flight: dict[int, int] = {}  # n -> exchanges on the way at the n-th GET /next
        self.link = link
        self.frozen = False
        self.exited = False
        self._ended = False
        self.api = RuntimeApi(on_next=self._at_next, on_change=self._notify).start()
        telemetry_r, telemetry_w = os.pipe()
        self.started_at = time.monotonic()
        self.init_s = 0.0  # from the spawn to its first request for an invocation
        self.process = subprocess.Popen(
            [str(python), "-m", "awslambdaric", handler],
            cwd=task_root,
            env={
                **env,
                "AWS_LAMBDA_RUNTIME_API": self.api.address,
                "_LAMBDA_TELEMETRY_LOG_FD": str(telemetry_w),
            },
            stdin=subprocess.DEVNULL,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            pass_fds=(telemetry_w,),
            start_new_session=True,  # its own process group: a kill takes any children too
        )
        os.close(telemetry_w)
        assert self.process.stdout is not None and self.process.stderr is not None
        self.capture = LogCapture(
            os.dup(self.process.stdout.fileno()), os.dup(self.process.stderr.fileno()), telemetry_r
        )
        self.process.stdout.close()
        self.process.stderr.close()
        self.served = 0  # invocations handed to this process
        threading.Thread(target=self._watch, name=f"sandbox-{self.process.pid}", daemon=True).start()

    def _notify(self) -> None:
        with self._cond:
            self._cond.notify_all()

    def _at_next(self, number: int) -> None:
        records = self.capture.drain()  # the runtime is idle: all it wrote is in the pipes
        if number == 1:
            self.init_s = time.monotonic() - self.started_at
        in_flight = self._freeze() if number > 1 and not self.api.pending() else 0
        with self._cond:
            self._windows[number] = records
            self._in_flight[number] = in_flight
            self._cond.notify_all()

    def _freeze(self) -> int:
        """No event is queued: Lambda freezes the environment. What was still on its way."""
        in_flight = self.link.freeze() if self.link is not None else 0
        with contextlib.suppress(ProcessLookupError):
            os.killpg(self.process.pid, signal.SIGSTOP)
            _until_stopped(self.process.pid)
        self.frozen = True
        return in_flight

    def thaw(self) -> None:
        if self.frozen:
            with contextlib.suppress(ProcessLookupError):
                os.killpg(self.process.pid, signal.SIGCONT)
            self.frozen = False
        if self.link is not None:
            self.link.thaw()

    def _watch(self) -> None:
        self.process.wait()
        with self._cond:
            self.exited = True
            self._cond.notify_all()

    def run(self, invocation: Invocation) -> InvocationResult:
        cold = self.served == 0
        self.served += 1
        number = self.served
        self.thaw()
        self.api.queue(invocation)
        status = self._wait_for_answer(invocation)
        ended_at = invocation.answered_at or time.monotonic()
        if status in ("response", "error"):
            with self._cond:  # its records end where the runtime asks for the next invocation
                while number + 1 not in self._windows and not self.exited:
                    self._cond.wait(STALL_S)
        if status == "timeout":
            self.kill()
        if status == "timeout" or self.exited:
            self._end()
        init_error = self.api.init_error if status == "init_error" else None
        return InvocationResult(
            request_id=invocation.request_id,
            status=status,
            body=init_error.body if init_error else invocation.body,
            logs=[] if init_error else self._windows.get(number + 1, []),
            cold=cold,
            pid=self.process.pid,
            init_logs=self._windows.get(1, []) if cold else [],
            error_type=init_error.error_type if init_error else "",
            init_s=self.init_s if cold else 0.0,
            duration_s=ended_at - invocation.received_at if invocation.received_at else 0.0,
            spawned_at=self.started_at if cold else 0.0,
            answered_at=invocation.answered_at,
            in_flight_at_return=self._in_flight.get(number + 1, 0),
        )

    def _end(self) -> None:
        """The process is gone (or being killed): collect the rest of its output; what its link
        to the ResponseURL held is lost with it."""
        self._ended = True
        if self.link is not None:
            self.link.retire()
        self.process.wait()
        rest = self.capture.finish()
        self.api.close()
        with self._cond:
            self.exited = True
            window = 1 if 1 not in self._windows else max(self._windows) + 1
            self._windows[window] = rest

    def _wait_for_answer(self, invocation: Invocation) -> str:
        with self._cond:
            while True:
                if invocation.answered.is_set():
                    return "error" if invocation.kind == "error" else "response"
                if self.exited:
                    reported = self.api.init_error is not None and not invocation.received.is_set()
                    return "init_error" if reported else "exited"
                if invocation.received.is_set():
                    left = invocation.received_at + invocation.timeout_s - time.monotonic()
                    if left <= 0:
                        return "timeout"
                    self._cond.wait(left)
                elif not self._cond.wait(STALL_S):
                    raise RuntimeError(f"the runtime (pid {self.process.pid}) never asked for an invocation")

    def kill(self) -> None:
        with contextlib.suppress(ProcessLookupError):
            os.killpg(self.process.pid, signal.SIGKILL)

    def close(self) -> None:
        if not self._ended:
            self.kill()
            self._end()

    @property
    def alive(self) -> bool:
        return not (self.exited or self._ended)


class RuntimeContainer:
    """One function instance; see the module's docstring.

    `env` is the process's whole environment (environment.runtime_environment), less
    AWS_LAMBDA_RUNTIME_API and _LAMBDA_TELEMETRY_LOG_FD, which each process gets its own of.
    `response_latency_s` is the link's latency to the ResponseURL each way (None: no link, the
    function reaches the URL directly; the benchmark times the answer itself); `on_answer_sent`
    is called whenever the function opens a connection to its ResponseURL.
    """

    def __init__(
        self,
        task_root: Path,
        env: dict[str, str],
        handler: str,
        timeout_s: float,
        function_arn: str,
        python: Path | None = None,
        response_latency_s: float | None = 0.02,
        on_answer_sent: Callable[[], None] | None = None,
    ) -> None:
        self.task_root = task_root
        self.response_latency_s = response_latency_s
        self.on_answer_sent = on_answer_sent
        self.env = env
        self.handler = handler
        self.timeout_s = timeout_s
        self.function_arn = function_arn
        self.python = python or ric_python()
        self._sandbox: _Sandbox | None = None
        self.processes = 0  # processes started (cold starts)

    def invoke(
        self,
        event: Any,
        timeout_s: float | None = None,
        request_id: str | None = None,
        raw: bytes | None = None,
    ) -> InvocationResult:
        """Run one invocation with `event` (JSON-encoded, or `raw` bytes as they are)."""
        if self._sandbox is None or not self._sandbox.alive:
            if self._sandbox is not None:
                self._sandbox.close()
            link = (
                None
                if self.response_latency_s is None
                else ResponseLink(self.response_latency_s, self.on_answer_sent)
            )
            self._sandbox = _Sandbox(self.python, self.handler, self.task_root, self.env, link)
            self.processes += 1
        link = self._sandbox.link
        if link is not None and isinstance(event, dict) and isinstance(event.get("ResponseURL"), str):
            event = {**event, "ResponseURL": link.route(event["ResponseURL"])}
        invocation = Invocation(
            event=raw if raw is not None else json.dumps(event).encode(),
            timeout_s=self.timeout_s if timeout_s is None else timeout_s,
            request_id=request_id or str(uuid.uuid4()),
            function_arn=self.function_arn,
            trace_id=f"Root=1-{int(time.time()):08x}-{uuid.uuid4().hex[:24]};Parent={uuid.uuid4().hex[:16]};Sampled=0",
        )
        return self._sandbox.run(invocation)

    def close(self) -> None:
        if self._sandbox is not None:
            self._sandbox.close()
            self._sandbox = None

    def __enter__(self) -> RuntimeContainer:
        return self

    def __exit__(
        self, kind: type[BaseException] | None, error: BaseException | None, tb: TracebackType | None
    ) -> None:
        self.close()


def _until_stopped(pid: int) -> None:
    """Until the kernel reports the process stopped, every thread of it (a signal is delivered
    when the kernel gets to it, not when it is sent: on a busy machine the process ran on for a
    moment after SIGSTOP), or ended. WNOWAIT leaves its state for process.wait() to collect."""
    with contextlib.suppress(ChildProcessError):  # ended, and collected by then
        os.waitid(os.P_PID, pid, os.WSTOPPED | os.WEXITED | os.WNOWAIT)
