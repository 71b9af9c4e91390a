"""The process that owns a local stack: `python -m devkit.local.supervisor DIRECTORY`.

Started detached (a session of its own) by `./dev local start`. In its main thread, which lives
as long as the stack (MiniStack's children die when the thread that started them exits,
PR_SET_PDEATHSIG), it starts MiniStack and the ECR emulator with their working directory in
DIRECTORY, deploys the provider from template.yaml with `sam build` and `sam deploy` (the build
in DIRECTORY/sam), writes DIRECTORY/state.json, prints one JSON line on its stdout (the
provider's deploy, or the error) and closes it. Then it waits for SIGTERM (`./dev local stop`)
and stops everything, MiniStack's Lambda workers included, and removes DIRECTORY.
"""

from __future__ import annotations

import json
import os
import shutil
import signal
import sys
import traceback
from pathlib import Path
from types import FrameType

from devkit.cloudformation.ministack import PROVIDER_STACK, MiniStack
from devkit.local import state


def _exit(signum: int, frame: FrameType | None) -> None:
    raise SystemExit(0)


def _tell(message: dict[str, object]) -> None:
    """The one line `./dev local start` waits for; then stdout goes nowhere (it has exited)."""
    sys.stdout.write(json.dumps(message) + "\n")
    sys.stdout.flush()
    devnull = os.open(os.devnull, os.O_WRONLY)
    os.dup2(devnull, 1)
    os.close(devnull)


def main() -> None:
    where = Path(sys.argv[1])
    signal.signal(signal.SIGTERM, _exit)
    signal.signal(signal.SIGINT, _exit)
    ms = MiniStack()
    told = False
    try:
        ms.start(under=where)
        provider = ms.deploy_provider(build_dir=where / "sam")
        if provider.status != "CREATE_COMPLETE":
            raise RuntimeError(f"the provider's stack ended {provider.status}:\n{provider.output_text}")
        groups = [os.getpid(), *(p.pid for p in ms._processes)]
        assert ms.workdir is not None
        running = state.Running(os.getpid(), ms.url, ms.ecr_url, str(ms.workdir), groups, provider.outputs)
        state.write(where, running)
        _tell({"status": provider.status, "seconds": round(provider.seconds, 1), "stack": PROVIDER_STACK})
        told = True
        while True:
            signal.pause()
    except BaseException as error:
        if not told:
            text = "".join(traceback.format_exception_only(error)).strip()
            _tell({"error": text})
            traceback.print_exc()
        if not isinstance(error, SystemExit):
            raise
    finally:
        ms.stop()
        shutil.rmtree(where, ignore_errors=True)


if __name__ == "__main__":
    main()
