"""The function package, built as `sam build` builds it, cached by the content of src/.

template.yaml builds ProviderFunction with `BuildMethod: makefile`: `sam build` copies CodeUri
(src/) into a scratch directory and runs `make build-ProviderFunction` there with
ARTIFACTS_DIR set to the function's build directory. `build()` runs that same make target
the same way (so the package is byte for byte what src/Makefile makes), without needing the
sam CLI: tests/test_template.py runs the real `sam build` on the template. The result is kept
in .aws-sam/runtime/<hash of src/>, so repeated runs reuse it until src/ changes.
"""

from __future__ import annotations

import hashlib
import os
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
SRC = ROOT / "src"
CACHE = ROOT / ".aws-sam" / "runtime"
TARGET = "build-ProviderFunction"
_COMPILED = (".pyc", ".pyo")


def source_hash(src: Path = SRC) -> str:
    """sha256 of every file of src/ (paths and contents), compiled files left out."""
    digest = hashlib.sha256()
    for path in sorted(p for p in src.rglob("*") if p.is_file()):
        relative = path.relative_to(src).as_posix()
        if "__pycache__" in path.parts or relative.endswith(_COMPILED):
            continue
        digest.update(relative.encode() + b"\0" + path.read_bytes() + b"\0")
    return digest.hexdigest()[:16]


def build(src: Path = SRC, cache: Path = CACHE, quiet: bool = True) -> Path:
    """The built package (the task root), building it first unless the cache has it."""
    key = source_hash(src)
    built = cache / key
    if (built / "handler" / "app.py").is_file():
        return built
    make = shutil.which("make")
    if make is None:
        raise RuntimeError("make is required to build the function package (sam build runs src/Makefile)")
    cache.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory(prefix=f"{key}.", dir=cache) as work:
        scratch, artifacts = Path(work) / "source", Path(work) / "artifacts"
        shutil.copytree(src, scratch, ignore=shutil.ignore_patterns("__pycache__", "*.pyc"))
        artifacts.mkdir()
        command = [make, "--makefile", str(scratch / "Makefile"), TARGET]
        if sys.version_info[:2] == (3, 13):
            command.append(f"PYTHON={sys.executable}")  # else the Makefile's python3.13 on PATH
        done = subprocess.run(
            command,
            cwd=scratch,
            env={**os.environ, "ARTIFACTS_DIR": str(artifacts)},
            capture_output=quiet,
            text=True,
            check=False,
        )
        if done.returncode != 0:
            raise RuntimeError(f"make {TARGET} failed ({done.returncode}):\n{done.stdout}\n{done.stderr}")
        try:
            artifacts.rename(built)
        except OSError:
            if not (built / "handler" / "app.py").is_file():  # not a concurrent build that won
                raise
    for old in cache.iterdir():  # keep only the package of today's src/
        if old.is_dir() and old.name != key and "." not in old.name:
            shutil.rmtree(old, ignore_errors=True)
    return built
