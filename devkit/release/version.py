"""`./dev version [X.Y.Z]`: show the provider's version in every place it is written, or set it.

The provider, its contract and the lint and CDK packages are one release with one version. It
lives in src/ecr_ptc_contract/version.py (the Lambda and both packages read it from there);
these files must hold it as a literal too (SAR metadata takes no intrinsic functions, the
pyproject.toml files are read by the build tools, with the lint and CDK packages' pins on the
contract, the README by people), so one command rewrites them all and the tests fail when
any of them disagrees.
Setting a version also opens its CHANGELOG.md section: the Unreleased entries move under
`## [X.Y.Z] - <today>`.
"""

from __future__ import annotations

import argparse
import datetime
import re
import sys
from dataclasses import dataclass
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]

# https://semver.org's grammar, without build metadata (SAR rejects '+').
SEMVER = re.compile(
    r"(0|[1-9]\d*)\.(0|[1-9]\d*)\.(0|[1-9]\d*)"
    r"(-(0|[1-9]\d*|\d*[a-zA-Z-][0-9a-zA-Z-]*)(\.(0|[1-9]\d*|\d*[a-zA-Z-][0-9a-zA-Z-]*))*)?"
)


@dataclass(frozen=True)
class Place:
    """One literal copy of the version: a file and a pattern whose group `v` is the version
    (`what`: which of a file's copies, when it holds more than one)."""

    path: str
    pattern: str
    what: str = ""

    @property
    def name(self) -> str:
        return f"{self.path} ({self.what})" if self.what else self.path

    def regex(self) -> re.Pattern[str]:
        return re.compile(self.pattern, re.MULTILINE)


_PROJECT_VERSION = r'^version = "(?P<v>[^"]+)"$'
_CONTRACT_PIN = r'"ecr-pull-through-cache-contract==(?P<v>[^"]+)"'
PLACES = (
    Place("src/ecr_ptc_contract/version.py", r'^VERSION = "(?P<v>[^"]+)"$'),
    Place("template.yaml", r"^    SemanticVersion: (?P<v>\S+)$"),
    Place("pyproject.toml", _PROJECT_VERSION),
    Place("tools/contract/pyproject.toml", _PROJECT_VERSION),
    Place("tools/cfn-lint-ptc/pyproject.toml", _PROJECT_VERSION),
    Place("tools/cfn-lint-ptc/pyproject.toml", _CONTRACT_PIN, "its pin on the contract"),
    Place("tools/cdk-ptc/pyproject.toml", _PROJECT_VERSION),
    Place("tools/cdk-ptc/pyproject.toml", _CONTRACT_PIN, "its pin on the contract"),
    Place("README.md", r"^\*\*Version (?P<v>[^*\s]+)\*\*"),
    Place("examples/sar-consumer.yaml", r"^    Default: (?P<v>\S+)  # the provider's SemanticVersion$"),
)
CHANGELOG = "CHANGELOG.md"
UNRELEASED = "## [Unreleased]"


def found(root: Path) -> dict[str, str | None]:
    """place's name -> the version written there (None when the pattern does not match once)."""
    versions: dict[str, str | None] = {}
    for place in PLACES:
        matches = place.regex().findall((root / place.path).read_text(encoding="utf-8"))
        versions[place.name] = matches[0] if len(matches) == 1 else None
    return versions


def set_version(root: Path, version: str, today: datetime.date) -> list[str]:
    """Write `version` into every place (and open its changelog section); the files changed."""
    if not SEMVER.fullmatch(version):
        raise ValueError(f"{version!r} is not a semantic version (X.Y.Z, e.g. 1.2.0)")
    changed: list[str] = []
    for place in PLACES:
        path = root / place.path
        text = path.read_text(encoding="utf-8")
        new, count = place.regex().subn(lambda m: _swap(m, version), text)
        if count != 1:
            raise ValueError(f"{place.path}: expected one match of {place.pattern!r}, found {count}")
        if new != text:
            path.write_text(new, encoding="utf-8")
            if place.path not in changed:
                changed.append(place.path)
    if _open_release(root / CHANGELOG, version, today):
        changed.append(CHANGELOG)
    return changed


def _swap(match: re.Match[str], version: str) -> str:
    start, end = match.span("v")
    whole = match.group(0)
    offset = match.start(0)
    return whole[: start - offset] + version + whole[end - offset :]


def _open_release(path: Path, version: str, today: datetime.date) -> bool:
    text = path.read_text(encoding="utf-8")
    if f"## [{version}]" in text:
        return False
    if UNRELEASED not in text:
        raise ValueError(f"{path.name} has no '{UNRELEASED}' section")
    heading = f"{UNRELEASED}\n\n## [{version}] - {today.isoformat()}"
    path.write_text(text.replace(UNRELEASED, heading, 1), encoding="utf-8")
    return True


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="./dev version", description=__doc__.split("\n\n")[0])
    parser.add_argument("version", nargs="?", help="the new version, X.Y.Z (omit to show the current one)")
    args = parser.parse_args(argv)
    if args.version:
        try:
            changed = set_version(ROOT, args.version, datetime.datetime.now(datetime.UTC).date())
        except ValueError as error:
            print(f"error: {error}", file=sys.stderr)
            return 2
        print(f"version {args.version}: updated {', '.join(changed) or 'nothing (already set)'}")
    versions = found(ROOT)
    for name, version in versions.items():
        print(f"{version or '(not found)':>12}  {name}")
    if len(set(versions.values())) != 1 or None in versions.values():
        print("error: the places disagree; run ./dev version X.Y.Z", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
