"""The construct's properties checked at synth time with the provider's own rules.

The checks are the provider's own (its contract, ecr_ptc_contract, which the provider runs
too): what the provider would refuse at deploy time is refused here, with the same sentence.
A value a token stands for (a parameter, an attribute, an import) is not known at synth time:
it counts as given and nothing is said about it or about what depends on it, as in the lint
rule.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence

from ecr_ptc_contract import Problem, check, warnings

__all__ = ["InvalidPullThroughCacheRule", "left_to_ecr", "problems"]


class InvalidPullThroughCacheRule(ValueError):
    """The properties of a PullThroughCacheRule break the provider's contract; `problems` holds
    one sentence per mistake, each naming the property, the value and the fix."""

    def __init__(self, path: str, found: Sequence[Problem]) -> None:
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
    will hold them; None: not set), the values for which `is_token` is true left unknown."""
    return check(*_split(properties, is_token))


def left_to_ecr(properties: Mapping[str, object], is_token: Callable[[object], bool]) -> list[Problem]:
    """What the provider leaves to ECR in `properties` (as for `problems`): an upstream host or
    UpstreamRegistry this version does not know. A warning: ECR accepts or refuses it."""
    return warnings(*_split(properties, is_token))


def _split(
    properties: Mapping[str, object], is_token: Callable[[object], bool]
) -> tuple[dict[str, object], set[str]]:
    literal = {k: v for k, v in properties.items() if v is not None and not is_token(v)}
    computed = {k for k, v in properties.items() if v is not None and is_token(v)}
    return literal, computed
