"""Children that die with the process that started them.

    python -m devkit.cloudformation.lifeline MODULE [ARGS...]

runs MODULE as __main__ (as `python -m MODULE ARGS` would) after asking Linux to send this
process SIGTERM when its parent dies (prctl PR_SET_PDEATHSIG), so a demo or a test run that is
killed before it can call stop() leaves no emulator behind. The parent's pid comes in
ECR_PTC_PARENT_PID: if the parent is already gone, the child exits at once. MiniStack's
launcher (ministack_recorder.py) does the same for MiniStack.
"""

from __future__ import annotations

import contextlib
import ctypes
import os
import runpy
import signal
import sys

PR_SET_PDEATHSIG = 1


def die_with_parent() -> None:
    with contextlib.suppress(OSError, AttributeError):
        ctypes.CDLL(None, use_errno=True).prctl(PR_SET_PDEATHSIG, int(signal.SIGTERM))
    parent = os.environ.get("ECR_PTC_PARENT_PID")
    if parent and os.getppid() != int(parent):
        sys.exit(1)  # the parent died before the request above took effect


def main() -> None:
    die_with_parent()
    module, *arguments = sys.argv[1:]
    sys.argv = [module, *arguments]
    runpy.run_module(module, run_name="__main__", alter_sys=True)


if __name__ == "__main__":
    main()
