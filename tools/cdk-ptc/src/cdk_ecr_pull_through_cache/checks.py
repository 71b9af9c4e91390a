"""The construct's properties checked at synth time with the provider's own rules.

The checks are the provider's own (its contract, ecr_ptc_contract, which the provider runs
too): what the provider would refuse at deploy time is refused here, with the same sentence,
said in the construct's words: each CloudFormation property name becomes the keyword argument
the user wrote (`UpstreamRegistryUrl 'ghcr.io/myorg'` becomes `upstream_registry_url='ghcr.io/myorg'`),
and a template's idiom the Python type that stands for it (`!Ref MySecret`: an ISecret). The
sentences themselves stay the contract's: nothing here copies one.
A value a token stands for (a parameter, an attribute, an import) is not known at synth time:
it counts as given and nothing is said about it or about what depends on it, as in the lint
rule.
"""

from __future__ import annotations

import dataclasses
import re
from collections.abc import Callable, Mapping, Sequence

from ecr_ptc_contract import NAMES, Problem, check, python_name, warnings
from ecr_ptc_contract.wording import quoted

__all__ = ["IDIOMS", "KEYWORDS", "InvalidPullThroughCacheRule", "in_keywords", "left_to_ecr", "problems"]

# The keyword argument of PullThroughCacheRule that gives each CloudFormation property.
KEYWORDS = {name: python_name(name) for name in ("ServiceToken", *NAMES)}
# What the provider's sentences show of a template, and what stands for it in a CDK app.
IDIOMS = {"!Ref MySecret": "an ISecret", "!GetAtt MyRole.Arn": "an IRole"}
# A property's name (not inside a longer word), with the space before a quoted value (or before
# the placeholder in_keywords puts in place of a value the user wrote), or its "'s".
_KEPT = "\0"
_NAME = re.compile(r"\b(" + "|".join(KEYWORDS) + r")\b( (?='|" + _KEPT + r")|'s\b)?")


class InvalidPullThroughCacheRule(ValueError):
    """The properties of a PullThroughCacheRule break the provider's contract; `problems` holds
    one sentence per mistake, each naming the property, the value and the fix."""

    def __init__(self, path: str, found: Sequence[Problem]) -> None:  # found: in_keywords already
        self.path = path
        self.problems = [p.message for p in found]
        if len(self.problems) == 1:
            text = self.problems[0]
        else:
            text = f"{len(self.problems)} problems: " + " ".join(
                f"({n}) {p}" for n, p in enumerate(self.problems, 1)
            )
        super().__init__(f"PullThroughCacheRule {path}: {text}")


def problems(properties: Mapping[str, object], is_token: Callable[[object], bool]) -> list[Problem]:
    """The provider's problems with `properties` (CloudFormation names, values as the template
    will hold them; None: not set), the values for which `is_token` is true left unknown; each
    said in_keywords."""
    literal, computed = _split(properties, is_token)
    return [_said(p, literal) for p in check(literal, computed)]


def left_to_ecr(properties: Mapping[str, object], is_token: Callable[[object], bool]) -> list[Problem]:
    """What the provider leaves to ECR in `properties` (as for `problems`): an upstream host or
    UpstreamRegistry this version does not know. A warning: ECR accepts or refuses it."""
    literal, computed = _split(properties, is_token)
    return [_said(p, literal) for p in warnings(literal, computed)]


def in_keywords(message: str, values: Sequence[str] = ()) -> str:
    """The provider's `message` as the construct says it: `Name 'value'` as `keyword='value'`,
    any other `Name` as `keyword=` (`Name's` as `keyword's`), and IDIOMS replaced. The user's
    `values`, where the message quotes them, are left exactly as written."""
    kept: dict[str, str] = {}
    for n, value in enumerate(sorted({quoted(v) for v in values}, key=len, reverse=True)):
        kept[f"{_KEPT}{n}{_KEPT}"] = value
        message = message.replace(value, f"{_KEPT}{n}{_KEPT}")

    def keyword(match: re.Match[str]) -> str:
        return KEYWORDS[match[1]] + ("'s" if match[2] == "'s" else "=")

    message = _NAME.sub(keyword, message)
    for idiom, said in IDIOMS.items():
        message = message.replace(idiom, said)
    for placeholder, value in kept.items():
        message = message.replace(placeholder, value)
    return message


def _said(problem: Problem, literal: Mapping[str, object]) -> Problem:
    values = [v for v in literal.values() if isinstance(v, str)]
    return dataclasses.replace(problem, message=in_keywords(problem.message, values))


def _split(
    properties: Mapping[str, object], is_token: Callable[[object], bool]
) -> tuple[dict[str, object], set[str]]:
    literal = {k: v for k, v in properties.items() if v is not None and not is_token(v)}
    computed = {k for k, v in properties.items() if v is not None and is_token(v)}
    return literal, computed
