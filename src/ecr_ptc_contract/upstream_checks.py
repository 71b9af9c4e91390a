"""What is wrong with the upstream a rule names (UpstreamRegistryUrl and UpstreamRegistry, alone
and together), and what of it this version does not know and leaves to ECR, with a warning."""

from __future__ import annotations

import difflib
import re
from collections.abc import Collection

from .examination import Examination
from .hosts import (
    a_kind,
    host_problem,
    infer_upstream_registry,
    is_host_name,
    meant_host,
    unknown_to_this_version,
)
from .properties import BY_NAME
from .shapes import HOST_MAX, KIND_MAX, KIND_PATTERN
from .upstreams import MISTAKE_NOTES, SUPPORTED_URLS, UPSTREAM_REGISTRIES
from .wording import QUOTE_MAX, Problem, joined, quoted, too_long

__all__ = ["kind_problem", "upstream_kinds"]

URL = "UpstreamRegistryUrl"


def kind_problem(registry: str) -> Problem | None:
    """Why `registry` cannot be an UpstreamRegistry, known to this version or not, or None."""
    if re.fullmatch(KIND_PATTERN, registry) and len(registry) <= KIND_MAX:
        return None
    return Problem(
        f"UpstreamRegistry {quoted(registry)} is not an upstream kind: {_meant_kind(registry)}kinds are "
        f"at most {KIND_MAX} lowercase letters and digits, in words joined by '-' (this version knows "
        f"{', '.join(UPSTREAM_REGISTRIES)}); or leave it out to let ECR infer it from the URL.",
        "UpstreamRegistry",
    )


def _meant_kind(value: str) -> str:
    """ "did you mean '<kind>'? " for the known kind closest to `value`, or ""."""
    close = difflib.get_close_matches(value[:QUOTE_MAX].lower(), UPSTREAM_REGISTRIES, n=1, cutoff=0.5)
    return f"did you mean '{close[0]}'? " if close else ""


def _left_to_ecr(name: str, value: str) -> Problem:
    """The warning for a value this version does not know (`name`: UpstreamRegistryUrl or
    UpstreamRegistry)."""
    if name == URL:
        said = f"{URL} {quoted(value)} is not an upstream this provider version knows (it knows "
        said += f"{SUPPORTED_URLS})"
    else:
        said = (
            f"{name} {quoted(value)} is not a kind this provider version knows ({_meant_kind(value)}it "
            f"knows {', '.join(UPSTREAM_REGISTRIES)})"
        )
    return Problem(f"{said}: it goes to ECR as written, and ECR accepts or refuses it at deploy time.", name)


def upstream_kinds(values: Examination, found: list[Problem]) -> tuple[str, ...]:
    """The upstream kinds this version knows that the rule may be for (one, or two when
    UpstreamRegistry and the URL disagree; none when neither is known), after checking the URL
    against them: an UpstreamRegistry given must be the kind of a URL this version knows, and
    a URL the host this version knows for an UpstreamRegistry given. What this version does not
    know is left to ECR, with a warning."""
    registry = values.known.get("UpstreamRegistry")
    url = values.known.get(URL)
    if url is None:
        if registry is not None and registry not in UPSTREAM_REGISTRIES:
            values.warnings.append(_left_to_ecr("UpstreamRegistry", registry))
            return ()
        return (registry,) if registry else ()
    host, faults = meant_host(url)
    kinds: tuple[str, ...] = (registry,) if registry else ()
    if len(url) > HOST_MAX and not is_host_name(host):
        fix = "write the upstream registry's host name alone"
        problem: Problem | None = too_long(BY_NAME[URL], url, fix)
    elif not is_host_name(host):
        problem = Problem(
            f"{URL} {quoted(url)} is not a host name: write the upstream registry's host name alone "
            f"(ECR caches {SUPPORTED_URLS}).",
            URL,
        )
    else:
        inferred = infer_upstream_registry(host)
        wrong_host = None
        if registry is not None and inferred is not None and inferred != registry:
            found.append(
                Problem(
                    f"UpstreamRegistry {quoted(registry)} does not match {URL} {quoted(url)}, which is "
                    f"{a_kind(inferred)} upstream: set UpstreamRegistry to '{inferred}' or leave it out.",
                    "UpstreamRegistry",
                )
            )
            values.known.pop("UpstreamRegistry")
            values.unknown.add("UpstreamRegistry")
            kinds = (registry, inferred)  # which of the two is meant is not known
        else:
            wrong_host = host_problem(host, registry)
            kind = registry or inferred
            kinds = (kind,) if kind else ()
        if wrong_host is not None:
            problem = Problem(f"{URL} {quoted(url)} {wrong_host}.", URL)
        elif faults:
            problem = _url_shape_problem(url, host, faults)
        else:
            problem = None
            if registry is None or "UpstreamRegistry" in values.known:  # no mismatch said
                unknown = unknown_to_this_version(url, registry)
                values.warnings += [_left_to_ecr(name, value) for name, value in unknown]
    kinds = tuple(k for k in kinds if k in UPSTREAM_REGISTRIES)
    if problem is not None:
        found.append(problem)
        values.known.pop(URL)
        values.unknown.add(URL)
    return kinds


def _url_shape_problem(url: str, host: str, faults: Collection[str]) -> Problem:
    """The URL means `host`, but carries more, or is a common mistake for it (faults:
    'scheme', 'path', 'port', 'capitals', 'mistake')."""
    parts = [f for f in ("scheme", "path", "port") if f in faults]
    has = [f"a {f}" for f in parts] + (["capital letters"] if "capitals" in faults else [])
    write = f"write '{host}'"
    if has:
        drop = f"drop the {parts[0]}" if len(parts) == 1 else "drop them" if parts else ""
        fix = f"{drop}, {write}" if drop else write
        why = (
            " (ECR stores the URL as it is sent, and later updates compare it exactly)"
            if "capitals" in faults and not parts
            else ""
        )
        return Problem(f"{URL} {quoted(url)} has {joined(has)}: {fix}{why}.", URL)
    note = MISTAKE_NOTES.get(url.lower())
    because = f" ({note})" if note else ""
    return Problem(f"{URL} {quoted(url)} is not the host ECR pulls from{because}: {write}.", URL)
