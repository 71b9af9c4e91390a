"""Where `./dev local` keeps what it started: one directory, .local-stack/ in the repository
(gitignored; ECR_PTC_LOCAL_DIR names another, as the tests do), holding

- supervisor.pid: the supervisor's process id, written as soon as it is started;
- state.json: once the stack is ready, its endpoints, MiniStack's working directory, the
  process groups the supervisor owns and the provider's outputs;
- supervisor.log: what the supervisor printed; ministack/ and sam/: MiniStack's working
  directory and the provider's build.

A pid file whose process is not the supervisor any more (it died, or the id was reused) is
stale: clean() ends what is left of its process groups and removes the directory.
"""

from __future__ import annotations

import contextlib
import json
import os
import shutil
import signal
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from devkit.cloudformation.ministack import ACCOUNT, REGION, ROOT, cli_env

SUPERVISOR_MODULE = "devkit.local.supervisor"


def directory() -> Path:
    return Path(os.environ.get("ECR_PTC_LOCAL_DIR") or ROOT / ".local-stack").resolve()


@dataclass
class Running:
    """A local stack that is ready: what state.json holds."""

    supervisor: int
    url: str
    ecr_url: str
    workdir: str
    groups: list[int] = field(default_factory=list)
    outputs: dict[str, str] = field(default_factory=dict)
    account: str = ACCOUNT
    region: str = REGION

    def env(self) -> dict[str, str]:
        """What points the AWS CLI and boto3 at it (the ECR emulator for ECR, MiniStack else)."""
        return cli_env(self.url, self.ecr_url, self.account, self.region)


def pid_file(where: Path) -> Path:
    return where / "supervisor.pid"


def state_file(where: Path) -> Path:
    return where / "state.json"


def write(where: Path, running: Running) -> None:
    temporary = where / "state.json.new"
    temporary.write_text(json.dumps(running.__dict__, indent=2))
    temporary.replace(state_file(where))  # readers never see half a file


def supervisor_pid(where: Path) -> int | None:
    """The supervisor's pid if its pid file names a live supervisor of this directory."""
    try:
        pid = int(pid_file(where).read_text())
    except (OSError, ValueError):
        return None
    return pid if is_supervisor(pid, where) else None


def is_supervisor(pid: int, where: Path) -> bool:
    try:
        command = Path(f"/proc/{pid}/cmdline").read_bytes().split(b"\0")
        status = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0]
    except OSError:
        return False
    return status != "Z" and SUPERVISOR_MODULE.encode() in command and str(where).encode() in command


def ready(where: Path) -> Running | None:
    """The running stack, if its supervisor lives and has written state.json."""
    if supervisor_pid(where) is None:
        return None
    try:
        data: dict[str, Any] = json.loads(state_file(where).read_text())
    except (OSError, ValueError):
        return None
    return Running(**data)


def leftovers(where: Path) -> bool:
    """Whether `where` holds what a dead supervisor left."""
    return where.exists() and supervisor_pid(where) is None


def clean(where: Path) -> None:
    """End what is left of the recorded process groups (a dead supervisor's children end by
    themselves, PR_SET_PDEATHSIG; MiniStack's Lambda workers may linger) and remove the state."""
    with contextlib.suppress(OSError, ValueError):
        for group in json.loads(state_file(where).read_text()).get("groups", []):
            with contextlib.suppress(ProcessLookupError, PermissionError):
                os.killpg(int(group), signal.SIGKILL)
    shutil.rmtree(where, ignore_errors=True)
