"""The checks: every problem with a resource's properties, one per mistake, each naming the
property, the value and what to write instead (a value of the wrong type is not also reported
missing), and what the properties leave to ECR (an upstream this version does not know: ECR
adds upstreams between releases, so it goes to ECR as written and ECR decides).

The provider refuses what `check` finds; the cfn-lint rule and the CDK construct report the
same sentences before deploy. Values that intrinsic functions (or CDK tokens) compute are
named in `computed`: they count as given, and nothing is said about them.
"""

from __future__ import annotations

import difflib
from collections.abc import Collection, Mapping, Sequence
from typing import Any

from .arn_checks import credential_problems, role_problem, service_token_location
from .examination import Examination
from .prefix_checks import prefix_problem
from .properties import BY_NAME, CLOUDFORMATION_OWNED, NAMES, PROPERTIES, Property
from .shapes import ROOT, SECRET_NAME_PREFIX
from .upstream_checks import URL, kind_problem, upstream_kinds
from .upstreams import REQUIRES_CREDENTIAL
from .wording import QUOTE_MAX, Problem, json_kind, quoted, shown

__all__ = ["check", "examine", "warnings"]


def check(properties: Mapping[str, Any], computed: Collection[str] = ()) -> list[Problem]:
    """Every problem with `properties`, one per mistake. The values of the properties named in
    `computed` are not known (intrinsic functions compute them at deploy time): they count as
    given, and nothing is said of them or of what depends on them."""
    return examine(properties, computed).problems


def warnings(properties: Mapping[str, Any], computed: Collection[str] = ()) -> list[Problem]:
    """What `properties` leave to ECR that this version cannot check: an upstream host or
    UpstreamRegistry it does not know. Nothing stops the deploy; ECR accepts or refuses them."""
    return examine(properties, computed).warnings


def examine(properties: Mapping[str, Any], computed: Collection[str] = ()) -> Examination:
    """The problems and warnings of `properties` (as `check` and `warnings`), with the values
    read: what the provider parses when there is no problem."""
    values = Examination()
    found = _unknown_names([*properties, *(c for c in computed if c not in properties)])
    for prop in PROPERTIES:
        if prop.name in computed:
            values.unknown.add(prop.name)
            continue
        if prop.name not in properties:
            if prop.required:
                found.append(Problem(f"{prop.name} is required and missing.", None))
            continue
        raw = properties[prop.name]
        if raw not in (None, ""):
            values.literal.add(prop.name)
        problem = _read(prop, raw, values)
        if problem is not None:
            values.unknown.add(prop.name)
            found.append(problem)
    location = None if "ServiceToken" in computed else service_token_location(properties)
    found += _check_values(values, location)
    values.problems = found
    return values


def _unknown_names(names: Sequence[Any]) -> list[Problem]:
    found = []
    listed = False
    for name in names:
        if name in NAMES or name in CLOUDFORMATION_OWNED:
            continue
        text = str(name)
        candidates = (*NAMES, *CLOUDFORMATION_OWNED)
        by_case = [k for k in candidates if k.lower() == text.lower()]
        close = by_case or difflib.get_close_matches(text[:QUOTE_MAX], candidates, n=1, cutoff=0.6)
        if close:
            found.append(Problem(f"Unknown property {quoted(text)}: did you mean '{close[0]}'?", text))
        elif not listed:
            listed = True
            found.append(
                Problem(
                    f"Unknown property {quoted(text)}: the properties are {', '.join(NAMES)}, and "
                    f"CloudFormation's {' and '.join(CLOUDFORMATION_OWNED)}.",
                    text,
                )
            )
        else:
            found.append(Problem(f"Unknown property {quoted(text)}: remove it.", text))
    return found


def _read(prop: Property, raw: Any, values: Examination) -> Problem | None:
    """Store a valid value in `values`, or say what is wrong with its type or spacing."""
    name = prop.name
    if prop.boolean:
        if raw is None:
            return None
        if isinstance(raw, bool):
            values.flags[name] = raw
            return None
        if isinstance(raw, str) and raw.isascii() and raw.lower() in ("true", "false", ""):
            values.flags[name] = raw.lower() == "true"
            return None
        return Problem(f"{name} must be 'true' or 'false', not {shown(raw)}.", name)
    if raw is None or raw == "":
        return Problem(f"{name} is empty; it is required.", name) if prop.required else None
    if not isinstance(raw, str):
        return Problem(f"{name} must be a string, not {json_kind(raw)} {shown(raw)}.", name)
    if not raw.strip():
        need = "it is required" if prop.required else "leave it out or give a value"
        return Problem(f"{name} {quoted(raw)} is only spaces; {need}.", name)
    if raw != raw.strip():
        return Problem(
            f"{name} {quoted(raw)} has leading or trailing spaces: write {quoted(raw.strip())}.", name
        )
    values.known[name] = raw
    return None


def _check_values(values: Examination, location: tuple[str, str] | None) -> list[Problem]:
    found: list[Problem] = []

    def report(problem: Problem | None, name: str) -> None:
        if problem is not None:
            found.append(problem)
            values.set_aside(name)

    prefix = values.known.get("EcrRepositoryPrefix")
    if prefix is not None:
        report(prefix_problem(BY_NAME["EcrRepositoryPrefix"], prefix), "EcrRepositoryPrefix")

    if "UpstreamRegistry" in values.known:
        report(kind_problem(values.known["UpstreamRegistry"]), "UpstreamRegistry")
    kinds = upstream_kinds(values, found)
    kind = kinds[0] if len(kinds) == 1 else None

    for prop in PROPERTIES:  # the ECR-only properties, given for another kind: any value is wrong
        if prop.only_for and kinds and prop.only_for not in kinds and prop.name in values.literal:
            found.append(
                Problem(
                    f"{prop.name} is only for ECR upstreams ({prop.only_for}); this upstream is "
                    f"{' or '.join(kinds)}: "
                    f"remove {prop.name}.",
                    prop.name,
                )
            )
            values.set_aside(prop.name)

    upstream_prefix = values.known.get("UpstreamRepositoryPrefix")
    if upstream_prefix is not None:
        name = "UpstreamRepositoryPrefix"
        report(prefix_problem(BY_NAME[name], upstream_prefix), name)
    upstream_prefix = values.known.get("UpstreamRepositoryPrefix")
    if values.known.get("EcrRepositoryPrefix") == ROOT and upstream_prefix not in (None, ROOT):
        found.append(
            Problem(
                "UpstreamRepositoryPrefix cannot be set when EcrRepositoryPrefix is ROOT (a ROOT rule "
                "caches the whole upstream registry): set a specific EcrRepositoryPrefix, or remove "
                "UpstreamRepositoryPrefix.",
                "UpstreamRepositoryPrefix",
            )
        )

    credential = values.known.get("CredentialArn")
    if credential is not None:
        found += credential_problems(credential, location)
    elif kind in REQUIRES_CREDENTIAL and not values.given("CredentialArn"):
        url = values.known.get(URL)
        upstream = f" ({quoted(url)})" if url else ""
        found.append(
            Problem(
                f"CredentialArn is required for {kind} upstreams{upstream}: store the registry's "
                f"username and accessToken in a Secrets Manager secret named "
                f"'{SECRET_NAME_PREFIX}<name>' and pass its ARN (e.g. !Ref MySecret).",
                "CredentialArn",
            )
        )

    role = values.known.get("CustomRoleArn")
    if role is not None:
        report(role_problem(role), "CustomRoleArn")
    return found
