"""The fenced code blocks of the project's Markdown (README.md, docs/*.md, the lint package's
README), with where each one is: for the tests that lint or deploy what the docs show."""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
DOCUMENTS = [
    ROOT / "README.md",
    *sorted((ROOT / "docs").glob("*.md")),
    ROOT / "tools" / "cfn-lint-ptc" / "README.md",
]
FENCE = re.compile(r"^(?P<indent> *)```(?P<language>[\w-]*)\s*$")
HEADING = re.compile(r"^(#+) (.+?)\s*$")


@dataclass(frozen=True)
class Snippet:
    path: Path
    line: int  # of the snippet's first line (after the opening fence), 1-based
    language: str
    heading: str  # the nearest heading above it, e.g. "Syntax > YAML"
    text: str

    @property
    def where(self) -> str:
        return f"{self.path.relative_to(ROOT)}:{self.line} ({self.heading})"


def code_blocks(path: Path) -> list[Snippet]:
    """Every fenced block of a Markdown file, indented ones (in list items) included, their
    indentation removed."""
    found: list[Snippet] = []
    headings: list[str] = []
    lines = path.read_text(encoding="utf-8").splitlines()
    number = 0
    while number < len(lines):
        line = lines[number]
        if heading := HEADING.match(line):
            level = len(heading[1])
            headings = [*headings[: level - 1], heading[2]]
        fence = FENCE.match(line)
        if fence is None:
            number += 1
            continue
        indent = len(fence["indent"])
        body: list[str] = []
        number += 1
        start = number + 1
        while number < len(lines) and lines[number].strip() != "```":
            body.append(lines[number][indent:])
            number += 1
        number += 1
        found.append(
            Snippet(path, start, fence["language"], " > ".join(headings[1:]) or "-", "\n".join(body) + "\n")
        )
    return found


def yaml_snippets() -> list[Snippet]:
    return [s for path in DOCUMENTS for s in code_blocks(path) if s.language == "yaml"]


def snippet_under(path: Path, heading: str, starts_with: str) -> Snippet:
    """The one YAML snippet of `path` under `heading` whose text starts with `starts_with`."""
    (found,) = [
        s
        for s in code_blocks(path)
        if s.language == "yaml" and s.heading.endswith(heading) and s.text.startswith(starts_with)
    ]
    return found
