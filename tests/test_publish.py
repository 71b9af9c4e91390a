"""Ready to publish: the three distributions under tools/ (the contract, the cfn-lint rule, the
CDK construct) build as wheels whose metadata PyPI takes as it is: the name, the provider's
version, the license (an SPDX expression and the repository's LICENSE file in the wheel), the
readme as the long description with its content type, the Python versions, the project URLs;
`twine check --strict` passes on each, and fails on a wheel whose metadata lacks one of them.

Built as a user who installs from a clone would (tests/wheels.py: the pinned setuptools, no
build isolation, no index), and checked with the pinned twine (requirements-dev.txt). No
network: twine check reads the files only.
"""

from __future__ import annotations

import email.parser
import email.policy
import re
import subprocess
import sys
import zipfile
from email.message import Message
from pathlib import Path

import pytest

from ecr_ptc_contract import VERSION
from tests import wheels

ROOT = Path(__file__).resolve().parents[1]
TOOLS = tuple(wheels.DISTRIBUTIONS)
NAMES = {
    "contract": "ecr-pull-through-cache-contract",
    "cfn-lint-ptc": "cfn-lint-ptc",
    "cdk-ptc": "cdk-ecr-pull-through-cache",
}
REPOSITORY = "https://github.com/ecr-ptc/ecr-pull-through-cache-provider"  # CHANGELOG's links
TESTED_ON = (3, 13)  # the Python the tests run on (and Lambda runs the provider on)


@pytest.fixture(scope="module")
def built(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    out = tmp_path_factory.mktemp("wheels")
    return {tool: wheels.build(tool, out) for tool in TOOLS}


def metadata(wheel: Path) -> Message:
    with zipfile.ZipFile(wheel) as archive:
        (name,) = [n for n in archive.namelist() if n.endswith(".dist-info/METADATA")]
        text = archive.read(name).decode("utf-8")
    return email.parser.Parser(policy=email.policy.compat32).parsestr(text)


def twine_check(*files: Path) -> subprocess.CompletedProcess[str]:
    twine = Path(sys.executable).parent / "twine"
    assert twine.exists(), f"{twine} is missing: ./dev test installs requirements-dev.txt (twine)"
    return subprocess.run(  # noqa: PLW1510 -- asserted by the callers, with the output
        [str(twine), "check", "--strict", *map(str, files)], capture_output=True, text=True, timeout=300
    )


@pytest.mark.tools
def test_twine_check_strict_passes_on_every_wheel(built: dict[str, Path]) -> None:
    result = twine_check(*built.values())
    assert result.returncode == 0, wheels.shown(result)
    assert result.stdout.count("PASSED") == len(TOOLS), result.stdout
    assert "WARNING" not in result.stdout + result.stderr, wheels.shown(result)


@pytest.mark.tools
@pytest.mark.parametrize("tool", TOOLS)
def test_the_wheel_states_name_version_license_readme_pythons_and_urls(
    built: dict[str, Path], tool: str
) -> None:
    found = metadata(built[tool])
    assert found["Name"] == NAMES[tool]
    assert found["Version"] == VERSION  # the provider's (src/ecr_ptc_contract/version.py)
    assert found["License-Expression"] == "Apache-2.0"
    assert found.get_all("License-File") == ["LICENSE"]
    with zipfile.ZipFile(built[tool]) as archive:
        licensed = archive.read(f"{built[tool].name.split('-')[0]}-{VERSION}.dist-info/licenses/LICENSE")
    assert licensed == (ROOT / "LICENSE").read_bytes()  # the repository's text, not a link's path
    assert found["Description-Content-Type"] == "text/markdown"
    readme = (ROOT / "tools" / tool / "README.md").read_text(encoding="utf-8")
    assert found.get_payload().strip() == readme.strip()
    assert found["Summary"] and len(found["Summary"]) <= 512


@pytest.mark.tools
@pytest.mark.parametrize("tool", TOOLS)
def test_the_python_classifiers_are_the_versions_requires_python_allows_up_to_the_tested_one(
    built: dict[str, Path], tool: str
) -> None:
    found = metadata(built[tool])
    lowest = re.fullmatch(r">=3\.(\d+)", found["Requires-Python"])
    assert lowest, found["Requires-Python"]
    classifiers = found.get_all("Classifier")
    minors = [
        c.rsplit(" :: ", 1)[1]
        for c in classifiers
        if re.fullmatch(r"Programming Language :: Python :: 3\.\d+", c)
    ]
    assert minors == [f"3.{m}" for m in range(int(lowest[1]), TESTED_ON[1] + 1)]
    assert "Programming Language :: Python :: 3 :: Only" in classifiers
    assert not [c for c in classifiers if c.startswith("License ::")]  # the expression says it


@pytest.mark.tools
@pytest.mark.parametrize("tool", TOOLS)
def test_the_project_urls_are_the_repositorys(built: dict[str, Path], tool: str) -> None:
    urls = dict(u.split(", ", 1) for u in metadata(built[tool]).get_all("Project-URL"))
    assert urls == {
        "Homepage": REPOSITORY,
        "Documentation": f"{REPOSITORY}/tree/main/tools/{tool}#readme",
        "Source": f"{REPOSITORY}/tree/main/tools/{tool}",
        "Changelog": f"{REPOSITORY}/blob/main/CHANGELOG.md",
        "Issues": f"{REPOSITORY}/issues",
    }


@pytest.mark.tools
def test_twine_check_strict_fails_on_a_wheel_without_the_readmes_content_type(
    built: dict[str, Path], tmp_path: Path
) -> None:
    """The check bites: the same wheel with one header less is refused."""
    original = built["cdk-ptc"]
    broken = tmp_path / original.name
    with zipfile.ZipFile(original) as source, zipfile.ZipFile(broken, "w") as target:
        for item in source.infolist():
            data = source.read(item)
            if item.filename.endswith(".dist-info/METADATA"):
                data = re.sub(rb"(?m)^Description-Content-Type: .*\n", b"", data)
            target.writestr(item, data)
    result = twine_check(broken)
    assert result.returncode != 0, wheels.shown(result)
    assert "long_description_content_type" in result.stdout + result.stderr, wheels.shown(result)
