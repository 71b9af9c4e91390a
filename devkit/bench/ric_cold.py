"""Cold starts as Lambda runs them: the built package started by AWS's runtime interface client
(devkit/aws_lambda/ric.py, `python -m awslambdaric <handler>` from .venv-ric, the package as
the task root, the managed runtime's environment with the template's logging), fed one Create
by the project's Runtime API on 127.0.0.1.

Each cold start is a new process (a new RuntimeContainer). Timed on one clock
(time.monotonic(), system-wide on Linux): from the spawn to the runtime asking for work
(init), to the answer's arrival at the ResponseURL receiver (the PUT CloudFormation waits
for), and to the runtime's POST /response (the invocation's end). The floor is
devkit/bench/floor_function.py run the same way from the same package: a bare boto3 function
that makes the same one call and PUTs a minimal answer.

The import profile runs the same containers with PYTHONPROFILEIMPORTTIME=1 (what
`python -X importtime` sets), its lines read from the process's stderr.
"""

from __future__ import annotations

import shutil
import subprocess
from collections.abc import Callable
from pathlib import Path
from typing import Any

from devkit.aws_lambda import environment
from devkit.aws_lambda.context import FUNCTION_ARN
from devkit.aws_lambda.ric import RIC_VENV, InvocationResult, RuntimeContainer, ric_python

Json = dict[str, Any]
FLOOR_SOURCE = Path(__file__).with_name("floor_function.py")
FLOOR_MODULE = "bench_floor"
FLOOR_HANDLER = f"{FLOOR_MODULE}.lambda_handler"
FUNCTION_NAME = "ecr-ptc-bench"


def add_floor(task_root: Path, compiled: bool = True) -> Path:
    """Put the floor function into a package (one of the bench's own copies) as bench_floor.py,
    compiled as src/Makefile compiles the rest of it (unless the package has no .pyc)."""
    target = task_root / f"{FLOOR_MODULE}.py"
    shutil.copyfile(FLOOR_SOURCE, target)
    if compiled:
        command = [str(ric_python()), "-m", "compileall", "-q", "--invalidation-mode", "unchecked-hash"]
        subprocess.run([*command, str(target)], check=True)
    return task_root


def peak_rss_mb(pid: int) -> float:
    """A live process's peak RSS (VmHWM), in MB; NaN when it cannot be read."""
    try:
        for line in Path(f"/proc/{pid}/status").read_text().splitlines():
            if line.startswith("VmHWM:"):
                return int(line.split()[1]) / 1024
    except OSError:
        pass
    return float("nan")


class ColdStarts:
    """Containers of one package and handler under the runtime client, against the emulator.

    `arrival(url)` gives the time.monotonic() at which the receiver got the answer PUT to `url`
    (None if none came).
    """

    def __init__(self, ecr_url: str, arrival: Callable[[str], float | None]) -> None:
        self.ecr_url = ecr_url
        self.arrival = arrival
        self.config = environment.function_config()

    def environment(self, task_root: Path, extra: dict[str, str] | None = None) -> dict[str, str]:
        return environment.runtime_environment(
            self.config,
            task_root=task_root,
            function_name=FUNCTION_NAME,
            region="us-east-1",
            credentials=environment.Credentials("testing", "testing", "testing"),
            runtime_bin=RIC_VENV / "bin",
            extra={"AWS_ENDPOINT_URL_ECR": self.ecr_url, **(extra or {})},
        )

    def container(
        self, task_root: Path, handler: str, extra: dict[str, str] | None = None
    ) -> RuntimeContainer:
        env = self.environment(task_root, extra)
        # no link to the ResponseURL: the answer's own time is what is measured
        return RuntimeContainer(
            task_root, env, handler, float(self.config.timeout_s), FUNCTION_ARN, response_latency_s=None
        )

    def handler(self, floor: bool) -> str:
        return FLOOR_HANDLER if floor else self.config.handler

    def cold(self, task_root: Path, floor: bool, events: list[Json]) -> Json:
        """One cold start: a new process serves `events` (each with its own ResponseURL) in
        turn; the first is timed. Returns the timings (seconds) and the process's peak RSS."""
        with self.container(task_root, self.handler(floor)) as container:
            first = container.invoke(events[0])
            self._check(first, events[0])
            peak_first = peak_rss_mb(first.pid)
            for event in events[1:]:
                self._check(container.invoke(event), event)
            peak_all = peak_rss_mb(first.pid)
        arrived = self.arrival(events[0]["ResponseURL"])
        assert arrived is not None  # _check saw the answer
        return {
            "init": first.init_s,
            "put": arrived - first.spawned_at,
            "response": first.answered_at - first.spawned_at,
            "request": first.duration_s,
            "peak_first": peak_first,
            "peak_all": peak_all,
        }

    def import_profile(self, task_root: Path, floor: bool, event: Json) -> str:
        """The `-X importtime` lines of one cold start (its stderr while it started)."""
        extra = {"PYTHONPROFILEIMPORTTIME": "1"}
        with self.container(task_root, self.handler(floor), extra) as container:
            result = container.invoke(event)
            self._check(result, event)
        return "\n".join(r.text for r in [*result.init_logs, *result.logs] if r.source == "stderr")

    def module_body(self, task_root: Path, floor: bool) -> str:
        """`python -X importtime -c 'import <module>'` of the handler's module (or the floor's)
        in the runtime's environment, without the runtime client: its importtime lines, whose
        line for the module itself gives its body's own (self) time. (Under the runtime client
        the module is imported through importlib, which importtime does not time.)"""
        module = self.handler(floor).rsplit(".", 1)[0]
        done = subprocess.run(
            [str(ric_python()), "-X", "importtime", "-c", f"import {module}"],
            cwd=task_root,
            env=self.environment(task_root),  # `-c`: the working directory (the task root) is on sys.path
            stdout=subprocess.DEVNULL,
            stderr=subprocess.PIPE,
            text=True,
            check=True,
        )
        return done.stderr

    def _check(self, result: InvocationResult, event: Json) -> None:
        if result.status != "response" or self.arrival(event["ResponseURL"]) is None:
            logs = "\n".join(r.text for r in [*result.init_logs, *result.logs])[-3000:]
            raise RuntimeError(
                f"a cold start under the runtime client did not answer ({result.status}): "
                f"{result.body[:500]!r}\n{logs}"
            )
