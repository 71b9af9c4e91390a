"""What examining a resource's properties found: the problems, what is left to ECR, and the
values as read so far (valid and known, computed or already reported, given as a literal)."""

from __future__ import annotations

from dataclasses import dataclass, field

from .wording import Problem


@dataclass
class Examination:
    """The problems and warnings found, and what each property's value turned out to be."""

    problems: list[Problem] = field(default_factory=list)  # what the provider refuses
    warnings: list[Problem] = field(default_factory=list)  # left to ECR (an upstream it does not know)
    known: dict[str, str] = field(default_factory=dict)  # valid and set
    flags: dict[str, bool] = field(default_factory=dict)  # the boolean properties, as read
    unknown: set[str] = field(default_factory=set)  # given, but computed or already reported
    literal: set[str] = field(default_factory=set)  # given as a literal, valid or not, and not empty

    def given(self, name: str) -> bool:
        return name in self.known or name in self.unknown

    def set_aside(self, name: str) -> None:
        """`name`'s value was reported: nothing that depends on it is said."""
        self.known.pop(name, None)
        self.unknown.add(name)
