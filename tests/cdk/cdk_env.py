"""The AWS CDK for the tests, from its own virtualenv (.venv-cdk, requirements-cdk.txt).

aws-cdk-lib is about 430 MB: it lives in .venv-cdk, not in .venv. `use()` puts .venv-cdk's
site-packages after this interpreter's own on sys.path (both are CPython 3.13), so the tests
import the real aws_cdk while everything else (pytest, boto3, the devkit) stays .venv's.
requirements-cdk.txt pins every distribution the two share to .venv's version;
`disagreements()` lists any that differ, and a test fails on them.
"""

from __future__ import annotations

import os
import shutil
import sys
from importlib import metadata
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
CDK_VENV = ROOT / ".venv-cdk"
SITE_PACKAGES = CDK_VENV / "lib" / f"python{sys.version_info[0]}.{sys.version_info[1]}" / "site-packages"
PYTHON = CDK_VENV / "bin" / "python"
PACKAGE = ROOT / "tools" / "cdk-ptc"
CONTRACT_SOURCE = ROOT / "src"  # ecr_ptc_contract, the construct's one dependency of this project
# jsii (1.142) warns on every start that Node 20 is past its end of life; it runs on it.
QUIET_NODE = {"JSII_SILENCE_WARNING_END_OF_LIFE_NODE_VERSION": "20"}


class CdkMissing(RuntimeError):
    pass


def use() -> None:
    """Make `aws_cdk`, `constructs`, the construct package and the contract importable here."""
    if not SITE_PACKAGES.is_dir():
        raise CdkMissing(
            f"{SITE_PACKAGES} is missing: the CDK lives in .venv-cdk. Run ./dev test (it creates "
            "it from requirements-cdk.txt)."
        )
    if shutil.which("node") is None:
        raise CdkMissing("node is not on PATH: the AWS CDK (jsii) runs Node.js (20 or newer).")
    for key, value in QUIET_NODE.items():
        os.environ.setdefault(key, value)
    if str(SITE_PACKAGES) not in sys.path:
        sys.path.append(str(SITE_PACKAGES))
    for source in (str(CONTRACT_SOURCE), str(PACKAGE / "src")):
        if source not in sys.path:
            sys.path.append(source)


def disagreements() -> list[str]:
    """Distributions in both .venv-cdk and this interpreter's environment at other versions."""
    cdk = {d.metadata["Name"].lower(): d.version for d in metadata.distributions(path=[str(SITE_PACKAGES)])}
    here_path = [p for p in sys.path if p != str(SITE_PACKAGES)]
    here = {d.metadata["Name"].lower(): d.version for d in metadata.distributions(path=here_path)}
    return sorted(
        f"{name}: {version} in .venv-cdk, {here[name]} here"
        for name, version in cdk.items()
        if name in here and here[name] != version and name != "pip"
    )
