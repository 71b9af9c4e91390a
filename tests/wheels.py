"""The project's own distributions (tools/contract, tools/cfn-lint-ptc, tools/cdk-ptc) built as
wheels and installed into a directory, as a user who installs them from a clone would: built
from a copy of their sources (the tree stays clean) with the setuptools their pyproject.toml
pins, no build isolation, no index, no network. The builder is the tests' own interpreter
(.venv: requirements-dev.txt pins that setuptools, beside a packaging new enough for license
expressions). Also where their sources are, for a subprocess that imports them without
installing them."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import zipfile
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
TOOLS = ROOT / "tools"
CONTRACT_SOURCE = ROOT / "src" / "ecr_ptc_contract"  # tools/contract builds its wheel from here
# The distribution each tool directory builds, as its wheel's file name spells it.
DISTRIBUTIONS = {
    "contract": "ecr_pull_through_cache_contract",
    "cfn-lint-ptc": "cfn_lint_ptc",
    "cdk-ptc": "cdk_ecr_pull_through_cache",
}
_IGNORED = shutil.ignore_patterns("__pycache__", "build", "*.egg-info")
BUILDER = Path(sys.executable)  # .venv's, which has setuptools (and twine) pinned


def source_path(*tools: str) -> str:
    """A PYTHONPATH that imports the contract and the named tool packages from their sources
    (the contract's directory, src/, also holds the Lambda's handler)."""
    return os.pathsep.join([str(CONTRACT_SOURCE.parent), *(str(TOOLS / t / "src") for t in tools)])


def build(tool: str, out: Path) -> Path:
    """The wheel of tools/<tool>, built into `out` (its LICENSE link copied as the file)."""
    tree = out / f"source-{tool}"
    shutil.copytree(TOOLS / tool, tree / "tools" / tool, ignore=_IGNORED)
    if tool == "contract":  # its package-dir is ../../src/ecr_ptc_contract
        shutil.copytree(CONTRACT_SOURCE, tree / "src" / CONTRACT_SOURCE.name, ignore=_IGNORED)
    args: list[str | Path] = [BUILDER, "-m", "pip", "wheel", "--no-deps", "--no-build-isolation"]
    args.append("--no-index")
    result = _run([*args, "-w", out, tree / "tools" / tool], out)
    assert result.returncode == 0, shown(result)
    (wheel,) = out.glob(f"{DISTRIBUTIONS[tool]}-*.whl")
    return wheel


def install(python: Path, wheels: list[Path], target: Path) -> None:
    """Install the wheels (their dependencies not) into `target`, for a PYTHONPATH."""
    result = _run(
        [python, "-m", "pip", "install", "--no-deps", "--no-index", "--target", target, *wheels],
        target.parent,
    )
    assert result.returncode == 0, shown(result)


def requirements(wheel: Path) -> list[str]:
    """The wheel's Requires-Dist lines."""
    with zipfile.ZipFile(wheel) as archive:
        (metadata,) = [n for n in archive.namelist() if n.endswith(".dist-info/METADATA")]
        text = archive.read(metadata).decode("utf-8")
    return [line.split(": ", 1)[1] for line in text.splitlines() if line.startswith("Requires-Dist: ")]


def names(wheel: Path) -> set[str]:
    with zipfile.ZipFile(wheel) as archive:
        return set(archive.namelist())


def _run(args: list[str | Path], cwd: Path) -> subprocess.CompletedProcess[str]:
    env = {k: v for k, v in os.environ.items() if k != "PYTHONPATH"}
    return subprocess.run(  # noqa: PLW1510 -- callers assert on returncode with the output
        [str(a) for a in args], cwd=cwd, env=env, capture_output=True, text=True, timeout=600
    )


def shown(result: subprocess.CompletedProcess[str]) -> str:
    return f"exit {result.returncode}\n--- stdout\n{result.stdout}\n--- stderr\n{result.stderr}"
